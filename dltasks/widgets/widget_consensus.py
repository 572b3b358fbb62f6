"""ConsensusView: where a task's items stand, how much the workers agree, and who agrees least."""
from __future__ import annotations

import html
import math
import os
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets as T

from dltasks.consensus import encode_votes, worker_agreement
from dltasks.domain.filters import Filters
from dltasks.errors import DltasksError
from dltasks.plots import plot_item_status
from dltasks.widgets._common import (TABLE_CSS, LiveView, RowPicker, chart, fmt_share, html_table, message,
                                     short_id, show_figure, status_order, thumbnail_html)

__all__ = ["ConsensusView", "vote_share_text", "label_text"]

#: Height of an item row (a 48-px thumbnail and its padding).
_ITEM_ROW_PX = 56
_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp",
                  "image/bmp": "bmp"}


def _figure(value: float, kind: str) -> str:
    if value != value:
        return "—"
    return fmt_share(value) if kind == "share" else f"{value:.3f}"


def vote_share_text(votes: Any, n_labels: Any) -> str:
    """An item's agreement as shown: the top label's share of the votes, "—" below two votes.

    A single vote agrees with nothing: it is not 100 % agreement.

    >>> vote_share_text(2, 3), vote_share_text(1, 1), vote_share_text(0, 0)
    ('66.7%', '—', '—')
    """
    n = 0 if n_labels is None or n_labels != n_labels else int(n_labels)
    return "—" if n < 2 else fmt_share(float(votes) / n)


def label_text(label: Any, tie: Any, n_labels: Any) -> str:
    """An item's label as shown: the top label, "tie" when two labels share the top, "—" with no votes.

    >>> label_text("cat", False, 2), label_text(None, True, 2), label_text(None, False, 0)
    ('cat', 'tie', '—')
    """
    if n_labels is None or n_labels != n_labels or int(n_labels) == 0:
        return "—"
    if bool(tie) and (label is None or label != label):
        return "tie"
    return "—" if label is None or label != label else str(label)


def _status_text(status: Any) -> str:
    return str(status).replace("_", " ")


def _honest_workers(votes: Any, consensus: pd.DataFrame) -> pd.DataFrame:
    """Each worker's agreement with the majority label, on items with two votes or more and no tie.

    An item labelled by one worker only says nothing about that worker: it is not compared
    (so a task with one worker shows "—", not 100 %).
    """
    decided = consensus["label"].where(consensus["n_labels"] >= 2)
    return worker_agreement(votes, consensus=decided)


class ConsensusView(LiveView):
    """Consensus of a task: the items by status, agreement figures, per-worker agreement, the items.

    Item statuses are the store's (``task.status_counts()`` and the task's items, as
    ``task.items_df()`` reads them): pending, awaiting consensus, awaiting review, approved,
    rejected and any other status an item is in.  The task's labels are read once per refresh
    (``task.labels_df()``), encoded once (:func:`dltasks.consensus.encode_votes`) and passed to
    ``task.consensus()`` (top label, votes, ties) and ``task.agreement()``; each worker's
    agreement with the majority counts items with two votes or more only (``skill=True`` adds
    the Dawid-Skene skill, slower on big tasks).

    The items table shows one page (``page_size`` rows): each item's thumbnail and file name
    (the id short and muted), status, label ("tie" for a tie), votes and agreement ("—" below
    two votes).  Click an item's name to see it with its votes under the table.
    """

    page = T.Int(1, help="page of the items table (from 1)")
    status_filter = T.Unicode("all", help="'all', 'tied' or an item status")
    item = T.Int(-1, help="id of the item shown under the table (-1: none)")

    def __init__(self, task: Any, page_size: int = 20, auto_refresh: bool = True, skill: bool = False,
                 **kwargs: Any) -> None:
        self.page_size, self.skill = page_size, skill
        self._drawn: tuple[Any, ...] | None = None
        self._statuses: pd.DataFrame | None = None   # every item's status, read when a filter needs it
        self._dataset: Any = None
        self.labels = pd.DataFrame(columns=["item_id", "worker", "label"])
        self.consensus = pd.DataFrame(columns=["label", "votes", "n_labels", "agreement", "tie", "status"])
        self.agreement = pd.Series(dtype=float)
        self.workers = pd.DataFrame()
        self.counts = pd.Series(dtype="int64")
        self.page_rows = pd.DataFrame()
        self.title = W.HTML()
        self.figures = W.HTML(layout=W.Layout(margin="0 16px 8px 0"))
        self.status_chart = chart(margin="0 0 8px 0")
        self.worker_table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%"))
        workers = W.VBox([W.HTML("<b>Agreement per worker</b> <span class='dlt-muted'>(with the majority "
                                 "label, on items with 2+ votes)</span>"), self.worker_table],
                         layout=W.Layout(margin="0 16px 8px 0"))
        self.filter_box = W.Dropdown(options=[("all", "all")], value="all", description="Show",
                                     layout=W.Layout(width="300px"))
        self.prev_button = W.Button(icon="chevron-left", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next_button = W.Button(icon="chevron-right", tooltip="next page", layout=W.Layout(width="40px"))
        self.page_label = W.HTML()
        self.picker = RowPicker("item", width="190px", row_px=_ITEM_ROW_PX)
        self.items_table = self.picker.beside(W.HTML(layout=W.Layout(margin="0", overflow="auto")))
        self.detail_title = W.HTML()
        self.picture = W.Image(layout=W.Layout(width="200px", height="200px", object_fit="contain"))
        self.votes_table = W.HTML(layout=W.Layout(margin="0 0 0 12px"))
        self.detail = W.VBox([self.detail_title, W.HBox([self.picture, self.votes_table])],
                             layout=W.Layout(border="1px solid #d9dee5", padding="6px", margin="8px 0 0 0",
                                             align_self="flex-start"))
        self.detail.add_class("dlt-item-detail")
        nav = W.HBox([self.filter_box, self.prev_button, self.page_label, self.next_button])
        top = W.HBox([self.figures, workers, self.status_chart],
                     layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        head = W.HBox()
        items = W.HBox([self.picker, self.items_table], layout=W.Layout(max_width="100%", overflow="auto"))
        super().__init__(task, [head, top, W.HTML("<b>Items</b>"), nav, items, self.detail], **kwargs)
        head.children = [self.title, self.refresh_button, self.status]
        self.add_class("dlt-consensus-view")
        self.prev_button.on_click(lambda _b: self._go(-1))
        self.next_button.on_click(lambda _b: self._go(+1))
        self.filter_box.observe(self._filter_chosen, "value")
        self.picker.observe(lambda c: setattr(self, "item", -1 if c["new"] is None else int(c["new"])), "value")
        self.auto_refresh = auto_refresh
        self._listing = False
        self._draw_detail()
        self.refresh()

    # -- public ---------------------------------------------------------------------------
    def _redraw(self) -> bool:
        try:
            labels = self.task.labels_df()
            votes = encode_votes(labels)  # one read, one encoding, every analysis
            consensus = self.task.consensus(labels=votes)
            agreement = self.task.agreement(labels=votes)
            workers = _honest_workers(votes, consensus)
            if self.skill:
                workers["skill"] = self.task.worker_quality(labels=votes, skill=True)["skill"]
            counts = self.task.status_counts()
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return False
        self.labels, self.consensus, self.agreement, self.workers = labels, consensus, agreement, workers
        order = status_order(self.task.review_strategy, counts.index)
        self.counts = counts.reindex(order, fill_value=0).astype("int64")
        self._statuses = None
        t, a = self.task, agreement
        rule = (f"approved at {t.approval_threshold} of {t.workers_per_input} votes" if t.approval_threshold
                else f"majority of {t.workers_per_input} votes")
        self.title.value = f"<b>Consensus — {html.escape(t.name)}</b> <span class='dlt-muted'>({rule})</span>"
        self.figures.value = TABLE_CSS + html_table(pd.DataFrame({"value": [
            _figure(a.get("percent_agreement", math.nan), "share"),
            _figure(a.get("fleiss_kappa", math.nan), "num"),
            _figure(a.get("krippendorff_alpha", math.nan), "num"),
            f"{int(a.get('n_items', 0)):,}", f"{int(a.get('n_workers', 0)):,}", f"{int(a.get('n_labels', 0)):,}",
        ]}, index=pd.Index(["percent agreement", "Fleiss' kappa", "Krippendorff's alpha", "items labelled",
                            "workers", "labels"], name="agreement")))
        drawn = tuple(self.counts.items())
        if drawn != self._drawn:
            show_figure(self.status_chart, plot_item_status(self.counts, figsize=(4.6, 2.9)))
            self._drawn = drawn
        shown = workers.rename(columns={"n_labels": "labels", "n_compared": "compared",
                                        "agreement_with_consensus": "agreement"})
        self.worker_table.value = TABLE_CSS + html_table(
            shown, formats={"agreement": lambda v: "—" if v != v else fmt_share(v), "skill": fmt_share},
            empty="no labels yet")
        self._list_filters()
        self._draw_items()
        if self.item >= 0:
            self._draw_detail()
        return True

    def selected(self) -> pd.DataFrame:
        """The items the status filter selects (all pages): status, reviewer label and the votes.

        Indexed by item_id; ``label`` is the top label (NaN for a tie or no votes), ``votes``
        its votes, ``n_labels`` all votes, ``tie`` whether two labels share the top.
        """
        return self._with_votes(self._filtered(self._all_statuses()))

    @property
    def pages(self) -> int:
        """How many pages the filtered items table has."""
        return max(1, math.ceil(self._n_selected() / self.page_size))

    # -- internals ------------------------------------------------------------------------
    def _task_items(self, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The store's status of the task's items (``task.statuses_df()``, which ``items_df()`` reads), by item."""
        frame = self.task.statuses_df(offset, limit)
        return frame.set_index("item_id")

    def _all_statuses(self) -> pd.DataFrame:
        if self._statuses is None:
            self._statuses = self._task_items()
        return self._statuses

    def _filtered(self, items: pd.DataFrame) -> pd.DataFrame:
        f = self.status_filter
        if f == "all":
            return items
        if f == "tied":
            tied = self.consensus.index[self.consensus["tie"].to_numpy(dtype=bool)]
            return items[items.index.isin(tied)]
        return items[items["status"] == f]

    def _n_selected(self) -> int:
        f = self.status_filter
        if f == "all":
            return int(self.counts.sum())
        if f == "tied":
            return len(self._filtered(self._all_statuses()))
        return int(self.counts.get(f, 0))

    def _with_votes(self, items: pd.DataFrame) -> pd.DataFrame:
        out = items.copy()
        c = self.consensus.reindex(out.index)
        out["label"] = c["label"]
        out["votes"] = c["votes"].fillna(0).astype("int64")
        out["n_labels"] = c["n_labels"].fillna(0).astype("int64")
        out["tie"] = c["tie"].fillna(False).astype(bool)
        return out

    def _list_filters(self) -> None:
        options = [(f"all ({int(self.counts.sum()):,})", "all")]
        options += [(f"{_status_text(s)} ({int(n):,})", s) for s, n in self.counts.items()]
        options.append((f"tied ({int(self.consensus['tie'].sum()):,})", "tied"))
        keep = self.status_filter if self.status_filter in [v for _, v in options] else "all"
        self._listing = True
        try:
            self.filter_box.options = options
            self.filter_box.value = keep
        finally:
            self._listing = False
        if keep != self.status_filter:
            self.status_filter = keep

    def _filter_chosen(self, change: Any) -> None:
        if not self._listing and change["new"] is not None:
            self.status_filter = change["new"]

    @T.observe("status_filter")
    def _filter_changed(self, change: Any) -> None:
        if self.filter_box.value != change["new"] and change["new"] in [v for _, v in self.filter_box.options]:
            self.filter_box.value = change["new"]
        if self.page != 1:
            self.page = 1  # redraws through the observer
            return
        self._draw_items()

    @T.observe("page")
    def _page_changed(self, _change: Any) -> None:
        self._draw_items()

    @T.observe("item")
    def _item_changed(self, change: Any) -> None:
        self.picker.value = None if change["new"] < 0 else change["new"]
        self._draw_detail()

    def _go(self, step: int) -> None:
        self.page = min(max(1, self.page + step), self.pages)

    def _page_items(self, start: int) -> pd.DataFrame:
        if self.status_filter == "all":   # one page read: no need for every item's status
            return self._task_items(start, self.page_size)
        return self._filtered(self._all_statuses()).iloc[start:start + self.page_size]

    def _files(self, ids: list[int]) -> pd.DataFrame:
        """Name, path and type of the items on the page (one read)."""
        if not ids:
            return pd.DataFrame(columns=["name", "path", "mime"])
        if self._dataset is None:
            self._dataset = self.task.dataset
        query = Filters()
        query.add(field="id", values=ids, operator="in")
        return self._dataset.items.to_df(filters=query, metadata="none").set_index("id")

    def _draw_items(self) -> None:
        pages = self.pages
        if self.page > pages:
            self.page = pages  # redraws through the observer
            return
        try:
            rows = self._with_votes(self._page_items((self.page - 1) * self.page_size))
            files = self._files([int(i) for i in rows.index]).reindex(rows.index)
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return
        self.page_rows = rows.assign(name=files["name"].fillna("").astype(str))
        reviewed = rows["label"] if "reviewer_label" not in rows else rows["reviewer_label"]
        thumbs = [thumbnail_html(p if isinstance(p, str) else None, m if isinstance(m, str) else None)
                  for p, m in zip(files["path"], files["mime"])]
        table = pd.DataFrame({
            "": [f"{t}" if t else "" for t in thumbs],
            "id": [f'<span class="dlt-id">#{short_id(i)}</span>' for i in rows.index],
            "status": [_status_text(s) for s in rows["status"]],
            "label": [label_text(lab, tie, n) for lab, tie, n in zip(reviewed, rows["tie"], rows["n_labels"])],
            "votes": [f"{v} of {n}" if n else "—" for v, n in zip(rows["votes"], rows["n_labels"])],
            "agreement": [vote_share_text(v, n) for v, n in zip(rows["votes"], rows["n_labels"])],
        })
        self.items_table.value = TABLE_CSS + self.picker.table_css() + html_table(
            table, raw=["", "id"], index=False, empty="no items with this status")
        names = self.page_rows["name"].where(self.page_rows["name"] != "", [f"item {i}" for i in rows.index])
        self.picker.set_rows([(str(n), int(i)) for i, n in names.items()],
                             [f"{n} (#{i}): show it with its votes" for i, n in names.items()])
        n = self._n_selected()
        self.page_label.value = (f"<span style='padding:0 8px'>page {self.page} of {pages} "
                                 f"<span class='dlt-muted'>({n:,} items)</span></span>")
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= pages

    def _draw_detail(self) -> None:
        """The item picked, with its votes (hidden when none is picked)."""
        iid = self.item
        if iid < 0:
            self.detail.layout.display = "none"
            return
        self.detail.layout.display = None
        try:
            item = (self.task.dataset if self._dataset is None else self._dataset).items.get(item_id=iid)
            status = (self.page_rows.loc[iid, "status"] if iid in self.page_rows.index
                      else self._all_statuses().loc[iid, "status"])
        except (DltasksError, KeyError) as err:
            self.detail_title.value = message("error", str(err))
            return
        votes = self.labels[self.labels["item_id"].to_numpy() == iid]
        self.detail_title.value = (f"<b>{html.escape(item.filename or item.name)}</b> "
                                   f"<span class='dlt-id'>#{iid}</span> · {html.escape(_status_text(status))}")
        mime = item.mime or ""
        if mime in _IMAGE_FORMATS and item.path and item.path.startswith(("http://", "https://")):
            self.picture.format, self.picture.value = "url", item.path.encode()
            self.picture.layout.display = None
        elif mime in _IMAGE_FORMATS and item.path and os.path.isfile(item.path):
            with open(item.path, "rb") as fh:
                self.picture.format, self.picture.value = _IMAGE_FORMATS[mime], fh.read()
            self.picture.layout.display = None
        else:
            self.picture.layout.display = "none"
        frame = pd.DataFrame({"label": votes["label"].astype(str).to_numpy()},
                             index=pd.Index(votes["worker"].astype(str).to_numpy(), name="worker"))
        self.votes_table.value = TABLE_CSS + html_table(frame, empty="no votes yet")

