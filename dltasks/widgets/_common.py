"""Pieces every dltasks widget shares: HTML tables, figures as PNG, field errors, views that refresh
after work (through :mod:`dltasks.work_events`).

Nothing here touches the store; these helpers only turn DataFrames and figures into
something a widget can show.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
import time
from typing import Any, Callable, Iterable, Mapping

import ipywidgets as W
import pandas as pd
import traitlets as T
from matplotlib.figure import Figure

from dltasks.work_events import work_events

__all__ = ["html_table", "figure_png", "chart", "show_figure", "FieldError", "message", "store_of",
           "LiveView", "fmt_share", "progress_bar_html", "TABLE_CSS"]

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
    "</style>"
)


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
