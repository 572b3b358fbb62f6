"""Pieces every dltasks widget shares: HTML tables, figures as PNG, field errors, views that refresh
after work (through :mod:`dltasks.work_events`).

Nothing here touches the store; these helpers only turn DataFrames and figures into
something a widget can show.
"""
from __future__ import annotations

import base64
import datetime as _dt
import functools
import html
import io
import os
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

import ipywidgets as W
import pandas as pd
import traitlets as T
from matplotlib.figure import Figure

from dltasks.widgets.item_card import IMAGE_FORMATS, is_url
from dltasks.work_events import work_events

__all__ = ["html_table", "figure_png", "chart", "show_figure", "FieldError", "message", "store_of",
           "LiveView", "fmt_share", "progress_bar_html", "TABLE_CSS", "short_id", "people_html", "thumbnail_html",
           "status_order", "RowPicker", "ROW_PX"]

#: One stylesheet for every table dltasks draws (scoped by the ``dlt-table`` class).
TABLE_CSS = (
    "<style>"
    ".dlt-table{overflow-x:auto;max-width:100%}"
    ".dlt-table table{border-collapse:collapse;font-size:13px;font-family:var(--jp-ui-font-family,sans-serif)}"
    ".dlt-table th{background:#eef2f7;text-align:left;padding:3px 10px;border-bottom:1px solid #c8d0da;"
    "white-space:nowrap}"
    ".dlt-table td{padding:3px 10px;border-bottom:1px solid #e6e9ee;white-space:nowrap}"
    ".dlt-table td.num,.dlt-table th.num{text-align:right}"
    ".dlt-table tr.total td{font-weight:bold;border-top:1px solid #8a96a6}"
    ".dlt-overdue{color:#b3261e;font-weight:bold}"
    ".dlt-error{color:#b3261e}"
    ".dlt-ok{color:#2e7d32}"
    ".dlt-muted{color:#6b7280}"
    ".dlt-id{color:#6b7280;font-size:11px;font-family:var(--jp-code-font-family,monospace)}"
    ".dlt-thumb{width:48px;height:48px;object-fit:contain;vertical-align:middle;background:#f3f5f8}"
    "</style>"
)

#: Height of a table row that a :class:`RowPicker` sits beside (px).
ROW_PX = 32


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def html_table(df: pd.DataFrame, *, raw: Iterable[str] = (), formats: Mapping[str, Callable[[Any], str]] | None = None,
               index: bool = True, total_row: str | None = None, empty: str = "nothing to show") -> str:
    """One HTML ``<table>`` for a whole frame (never a widget per row).

    Cells are escaped except in the ``raw`` columns (already HTML); ``formats`` maps a
    column to a function giving its cell text; numbers are right-aligned.  The row whose
    index is ``total_row`` is drawn bold.

    >>> table = html_table(pd.DataFrame({"n": [1, 2]}, index=pd.Index(["a", "<b>"], name="who")))
    >>> table.count("<tr>"), '<td class="num">2</td>' in table, "<td>&lt;b&gt;</td>" in table
    (3, True, True)
    """
    if df.empty and not len(df.columns):
        return f'<div class="dlt-table dlt-muted">{html.escape(empty)}</div>'
    raw_cols, formats = set(raw), dict(formats or {})
    numeric = {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c]) and c not in raw_cols
               and not pd.api.types.is_bool_dtype(df[c])}
    head = ["<tr>"]
    if index:
        head.append(f"<th>{html.escape(str(df.index.name or ''))}</th>")
    head += [f'<th{" class=num" if c in numeric else ""}>{html.escape(str(c).replace("_", " "))}</th>'
             for c in df.columns]
    head.append("</tr>")
    cols = []
    for c in df.columns:
        values = df[c].tolist()
        if c in formats:
            cols.append([formats[c](v) for v in values])
        elif c in raw_cols:
            cols.append(["" if v is None else str(v) for v in values])
        else:
            cols.append([_cell(v) for v in values])
    rows = []
    keys = df.index.tolist()
    attrs = [f'<td{" class=num" if c in numeric else ""}>' for c in df.columns]
    for i, key in enumerate(keys):
        cls = ' class="total"' if total_row is not None and key == total_row else ""
        cells = "".join(a + col[i] + "</td>" for a, col in zip(attrs, cols))
        lead = f"<td>{html.escape(str(key))}</td>" if index else ""
        rows.append(f"<tr{cls}>{lead}{cells}</tr>")
    if not rows:
        span = len(df.columns) + (1 if index else 0)
        rows.append(f'<tr><td colspan="{span}" class="dlt-muted">{html.escape(empty)}</td></tr>')
    return ('<div class="dlt-table"><table><thead>' + "".join(head).replace("<th class=num>", '<th class="num">')
            + "</thead><tbody>" + "".join(rows).replace("<td class=num>", '<td class="num">')
            + "</tbody></table></div>")


def fmt_share(value: Any) -> str:
    """A share 0..1 as a percent with one decimal (blank for NaN)."""
    if value is None or value != value:
        return ""
    return f"{100 * float(value):.1f}%"


def progress_bar_html(percent: float, width: int = 110, title: str = "") -> str:
    """A small CSS progress bar with its percent (plain HTML, no widget); ``title`` shows on hover."""
    pct = 0.0 if percent != percent else max(0.0, min(100.0, float(percent)))
    hover = f' title="{html.escape(title)}"' if title else ""
    return (f'<div style="display:flex;align-items:center;gap:6px"{hover}>'
            f'<div style="width:{width}px;height:9px;background:#e3e8ef;border-radius:4px;overflow:hidden">'
            f'<div style="width:{pct:.1f}%;height:100%;background:#2f6fad"></div></div>'
            f'<span>{pct:.0f}%</span></div>')


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a matplotlib Figure (built with the object API) to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def chart(**layout: Any) -> W.Image:
    """An empty Image widget that charts are drawn into (``show_figure``)."""
    return W.Image(format="png", layout=W.Layout(**({"max_width": "100%"} | layout)))


def show_figure(image: W.Image, fig: Figure, dpi: int = 80) -> None:
    """Put a figure into an Image widget as PNG (works without a kernel, unlike display())."""
    image.value = figure_png(fig, dpi=dpi)


class FieldError(W.HTML):
    """A red message shown next to the form field a ``ValidationError`` names."""

    def show(self, text: str) -> None:
        """Show ``text`` (escaped)."""
        self.value = f'<span class="dlt-error">&#9888; {html.escape(text)}</span>' if text else ""

    def clear(self) -> None:
        """Hide the message."""
        self.value = ""

    @property
    def text(self) -> str:
        """The message shown, as plain text ('' when none)."""
        if not self.value:
            return ""
        inner = self.value.split("&#9888; ", 1)[-1].rsplit("</span>", 1)[0]
        return html.unescape(inner)


def message(kind: str, text: str) -> str:
    """``kind`` is ok / error / muted: a one-line HTML status message."""
    return f'<span class="dlt-{kind}">{html.escape(text)}</span>'


def store_of(dataset: Any) -> Any:
    """The store a dataset belongs to (``dataset.store``)."""
    store = getattr(dataset, "store", None)
    if store is None:
        raise TypeError("expected a dltasks Dataset bound to a store")
    return store




def short_id(value: Any, n: int = 8) -> str:
    """An id cut to its first ``n`` characters (how ids are shown: short and secondary).

    >>> short_id("5560e9d1a6f24c0c9b1f3e0a"), short_id(42)
    ('5560e9d1', '42')
    """
    return str(value)[:n]


def people_html(ids: Sequence[str], shown: int = 2) -> str:
    """Assignees abbreviated (``ann, bob +3``: the part before ``@``), the full list on hover.

    >>> people_html(["ann@x.org", "bob@x.org", "cy@x.org"])
    '<span title="ann@x.org, bob@x.org, cy@x.org">ann, bob +1</span>'
    >>> people_html([])
    ''
    """
    if not ids:
        return ""
    names = [str(u).split("@", 1)[0] or str(u) for u in ids]
    text = ", ".join(names[:shown]) + (f" +{len(ids) - shown}" if len(ids) > shown else "")
    return f'<span title="{html.escape(", ".join(map(str, ids)))}">{html.escape(text)}</span>'


#: Image items PIL can shrink to a thumbnail: the work widgets' image types but SVG.
_THUMB_MIME = set(IMAGE_FORMATS) - {"image/svg+xml"}


@functools.lru_cache(maxsize=512)
def _thumbnail_bytes(path: str, mtime: float, size: int, px: int) -> bytes:
    """A JPEG of at most ``px`` x ``px`` pixels of the picture at ``path`` (cached by path, time and size)."""
    from PIL import Image

    with Image.open(path) as img:
        img.draft("RGB", (px, px))  # JPEG: decode at a reduced scale, much faster on big photos
        img.thumbnail((px, px))
        out = io.BytesIO()
        img.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


def thumbnail_html(path: str | None, mime: str | None, px: int = 48) -> str:
    """A small ``<img>`` of an image item: a ``data:`` URL made from the local file (shrunk to
    twice ``px`` for sharp screens), the URL itself for http(s) items, ``''`` otherwise.

    Read only for the rows a page shows; unreadable files give ``''``.

    >>> thumbnail_html("https://example.com/a.png", "image/png")
    '<img class="dlt-thumb" src="https://example.com/a.png" alt="" loading="lazy">'
    >>> thumbnail_html("/no/such/file.png", "image/png"), thumbnail_html(None, "text/plain")
    ('', '')
    """
    if not path or (mime or "") not in _THUMB_MIME:
        return ""
    if is_url(path):
        return f'<img class="dlt-thumb" src="{html.escape(path)}" alt="" loading="lazy">'
    try:
        stat = os.stat(path)
        data = _thumbnail_bytes(path, stat.st_mtime, stat.st_size, 2 * px)
    except Exception:  # noqa: BLE001 - a missing or broken file shows no thumbnail, never an error
        return ""
    return f'<img class="dlt-thumb" src="data:image/jpeg;base64,{base64.b64encode(data).decode()}" alt="">'


#: The statuses an item passes through, by review strategy, in the order of the work flow.
_FLOW = {"consensus": ("pending", "awaiting_consensus", "awaiting_review", "approved", "rejected"),
         "manual": ("pending", "awaiting_review", "approved", "rejected"),
         "none": ("pending", "completed")}


def status_order(review_strategy: str, present: Iterable[str] = ()) -> list[str]:
    """The item statuses a task's views list: its work flow's (zeros included), then any other found.

    >>> status_order("manual", ["approved", "discarded"])
    ['pending', 'awaiting_review', 'approved', 'rejected', 'discarded']
    """
    flow = list(_FLOW.get(review_strategy, _FLOW["none"]))
    return flow + sorted({str(s) for s in present} - set(flow))


class LiveView(W.VBox):
    """Base of the views of one task: a Refresh button, a status line, refreshes after work.

    After work is written on the task in this process (by a labelling or review widget, or by
    ``task.submit`` and friends in code) the view refreshes itself when its last
    refresh took at most ``refresh_budget`` seconds (so labelling stays quick on a big task);
    otherwise it only says it is out of date.  Subclasses implement ``_redraw()``, returning
    False when it showed an error instead.
    """

    auto_refresh = T.Bool(True, help="refresh after work is written on the task in this process")
    refresh_budget = T.Float(1.0, help="refresh automatically only while a refresh takes at most this (s)")
    updated = T.Unicode("", help="when the view last read the task (HH:MM:SS)")
    stale = T.Bool(False, help="work was submitted since the last refresh")

    def __init__(self, task: Any, children: list[W.Widget], **kwargs: Any) -> None:
        self.task = task
        self.last_refresh_seconds = 0.0
        self.refresh_button = W.Button(description="Refresh", icon="refresh", layout=W.Layout(width="100px"))
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.status = W.HTML()
        super().__init__(children, **kwargs)
        work_events.subscribe(task.id, self)

    def refresh(self) -> None:
        """Read the task again and redraw."""
        self.status.value = message("muted", "reading the task…")
        start = time.perf_counter()
        if not self._redraw():
            return
        self.last_refresh_seconds = time.perf_counter() - start
        self.updated, self.stale = _dt.datetime.now().strftime("%H:%M:%S"), False
        self.status.value = message("muted", f"updated {self.updated}")

    def work_changed(self) -> None:
        """Work was written on the task (called through :data:`dltasks.work_events.work_events`)."""
        if not self.auto_refresh:
            return
        if self.last_refresh_seconds <= self.refresh_budget:
            self.refresh()
            return
        self.stale = True
        self.status.value = message("muted", f"new work since {self.updated}: press Refresh "
                                             f"(a refresh takes about {self.last_refresh_seconds:.0f} s)")

    def _redraw(self) -> bool:  # pragma: no cover - every view implements it
        raise NotImplementedError



class RowPicker(W.VBox):
    """A column of buttons beside an HTML table, one per row, aligned with the rows: clicking
    one sets :attr:`value` (the row's key).  One widget, whatever the number of rows.

    The table must be drawn with :meth:`table_css` (rows of :data:`ROW_PX` pixels, or ``row_px``)
    into an HTML widget marked by :meth:`beside`.

    >>> picker = RowPicker("task")
    >>> picker.set_rows([("alpha", "t1"), ("beta", "t2")])
    >>> picker.buttons.value = "t2"          # what a click on "beta" does
    >>> picker.value
    't2'
    """

    value = T.Any(None, allow_none=True, help="key of the row picked (None: none)")

    def __init__(self, header: str, width: str = "200px", row_px: int = ROW_PX, **kwargs: Any) -> None:
        self.row_px = row_px
        self.head = W.HTML(f'<div class="dlt-rowpick-head">{html.escape(header)}</div>', layout=W.Layout(margin="0"))
        self.buttons = W.ToggleButtons(options=[], value=None, layout=W.Layout(margin="0", width=width),
                                       style={"button_width": width})
        self.style_sheet = W.HTML(self._css(width), layout=W.Layout(margin="0", height="0px"))
        super().__init__([self.style_sheet, self.head, self.buttons], layout=W.Layout(margin="0", flex="0 0 auto"),
                         **kwargs)
        self.add_class("dlt-rowpick")
        self.add_class(f"dlt-rowpick-{row_px}")
        self._setting = False
        self.buttons.observe(self._clicked, "value")

    def set_rows(self, rows: Sequence[tuple[str, Any]], tooltips: Sequence[str] = ()) -> None:
        """Show one button per ``(label, key)``; the picked key stays picked while it is listed."""
        self._setting = True
        try:
            self.buttons.options = list(rows)
            self.buttons.tooltips = list(tooltips)
            keys = [k for _, k in rows]
            self.buttons.value = self.value if self.value in keys else None
        finally:
            self._setting = False

    @property
    def options(self) -> list[tuple[str, Any]]:
        """The rows listed, as ``(label, key)`` pairs."""
        return list(self.buttons.options)

    def beside(self, table: W.HTML) -> W.HTML:
        """Mark ``table`` (an HTML widget drawn with :meth:`table_css`) as the table these buttons sit beside."""
        table.add_class("dlt-rows")
        table.add_class(f"dlt-rows-{self.row_px}")
        return table

    def table_css(self) -> str:
        """CSS that gives the rows of the table beside this picker its rows' height (scoped by that height)."""
        h = self.row_px
        return (f"<style>.dlt-rows-{h} table td,.dlt-rows-{h} table th{{height:{h}px;padding-top:0;"
                f"padding-bottom:0;box-sizing:border-box;border-bottom:none}}"
                f".dlt-rows-{h} table tbody tr:nth-child(even) td{{background:#f6f8fa}}</style>")

    def _css(self, width: str) -> str:
        h = self.row_px
        p = f".dlt-rowpick-{h}"
        return ("<style>"
                f"{p} .widget-toggle-buttons{{margin:0}}"
                f"{p} .widget-toggle-buttons>div{{display:flex;flex-direction:column}}"
                f"{p} .widget-toggle-buttons button{{height:{h}px;margin:0;border:none;border-radius:0;"
                "box-shadow:none;background:transparent;color:#1a5fb4;text-align:left;padding:0 10px;"
                "overflow:hidden;text-overflow:ellipsis;white-space:nowrap;"
                "font-size:13px;font-family:var(--jp-ui-font-family,sans-serif)}"
                f"{p} .widget-toggle-buttons button:nth-child(even){{background:#f6f8fa}}"
                f"{p} .widget-toggle-buttons button:hover{{text-decoration:underline}}"
                f"{p} .widget-toggle-buttons button.mod-active{{background:#dce8f5;font-weight:bold}}"
                f"{p} .dlt-rowpick-head{{height:{h}px;line-height:{h}px;background:#eef2f7;padding:0 10px;"
                "font-weight:bold;font-size:13px;font-family:var(--jp-ui-font-family,sans-serif);"
                "box-sizing:border-box}"
                "</style>")

    def _clicked(self, change: Any) -> None:
        if not self._setting:
            self.value = change["new"]

    @T.observe("value")
    def _value_changed(self, change: Any) -> None:
        keys = [k for _, k in self.buttons.options]
        self._setting = True
        try:
            self.buttons.value = change["new"] if change["new"] in keys else None
        finally:
            self._setting = False
