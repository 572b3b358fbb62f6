"""ConsensusView: where a task's items stand, how much the workers agree, and who agrees least."""
from __future__ import annotations

import html
import math
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets as T

from dltasks.consensus import STATUSES, encode_votes
from dltasks.errors import DltasksError
from dltasks.plots import plot_consensus_status
from dltasks.widgets._common import TABLE_CSS, LiveView, chart, fmt_share, html_table, message, show_figure

__all__ = ["ConsensusView"]

#: Status filter of the items table, (label shown, value): all, each consensus status, and ties.
STATUS_FILTERS = ([("all", "all")]
                  + [("approved by consensus" if s == "approved" else s.replace("_", " "), s) for s in STATUSES]
                  + [("tied", "tied")])


def _figure(value: float, kind: str) -> str:
    if value != value:
        return "—"
    return fmt_share(value) if kind == "share" else f"{value:.3f}"


class ConsensusView(LiveView):
    """Consensus of a task: status chart, agreement figures, per-worker agreement, items by status.

    Shows ``task.consensus()``, ``task.agreement()`` and ``task.worker_quality()``: each
    worker's agreement with the majority label (with ``skill=True`` also the Dawid-Skene
    skill, slower on big tasks).  The task's labels are read once per refresh
    (``task.labels_df()``), encoded once (:func:`dltasks.consensus.encode_votes`) and passed to
    the three analyses as ``labels=``.  The items table
    shows one page (``page_size`` rows) of the items with at least one label, filtered by
    consensus status (:data:`dltasks.consensus.STATUSES`) or to the tied items.
    """

    page = T.Int(1, help="page of the items table (from 1)")
    status_filter = T.Unicode("all", help="'all', 'tied' or one of dltasks.consensus.STATUSES")

    def __init__(self, task: Any, page_size: int = 20, auto_refresh: bool = True, skill: bool = False,
                 **kwargs: Any) -> None:
        self.page_size, self.skill = page_size, skill
        self._drawn: tuple[Any, ...] | None = None
        self.consensus = pd.DataFrame(columns=["label", "votes", "n_labels", "agreement", "tie", "status"])
        self.agreement = pd.Series(dtype=float)
        self.workers = pd.DataFrame()
        self.title = W.HTML()
        self.figures = W.HTML()
        self.status_chart = chart()
        self.worker_table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%"))
        self.filter_box = W.Dropdown(options=STATUS_FILTERS, value="all", description="Show",
                                     layout=W.Layout(width="280px"))
        self.prev_button = W.Button(icon="chevron-left", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next_button = W.Button(icon="chevron-right", tooltip="next page", layout=W.Layout(width="40px"))
        self.page_label = W.HTML()
        self.items_table = W.HTML()
        nav = W.HBox([self.filter_box, self.prev_button, self.page_label, self.next_button])
        left = W.VBox([self.figures, self.status_chart])
        right = W.VBox([W.HTML("<b>Agreement per worker</b> <span class='dlt-muted'>(with the majority "
                               "label)</span>"), self.worker_table], layout=W.Layout(margin="0 0 0 16px"))
        head = W.HBox()
        super().__init__(task, [head, W.HBox([left, right]), W.HTML("<b>Items</b>"), nav, self.items_table], **kwargs)
        head.children = [self.title, self.refresh_button, self.status]
        self.add_class("dlt-consensus-view")
        self.prev_button.on_click(lambda _b: self._go(-1))
        self.next_button.on_click(lambda _b: self._go(+1))
        self.filter_box.observe(lambda c: setattr(self, "status_filter", c["new"]), "value")
        self.auto_refresh = auto_refresh
        self.refresh()

    # -- public ---------------------------------------------------------------------------
    def _redraw(self) -> bool:
        try:
            labels = encode_votes(self.task.labels_df())  # one read, one encoding, three analyses
            self.consensus = self.task.consensus(labels=labels)
            self.agreement = self.task.agreement(labels=labels)
            self.workers = self.task.worker_quality(labels=labels, skill=self.skill)
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return False
        t, a = self.task, self.agreement
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
        counts = tuple(self.consensus["status"].value_counts(sort=False).items())
        if counts != self._drawn:
            show_figure(self.status_chart, plot_consensus_status(self.consensus, figsize=(5.5, 3.2)))
            self._drawn = counts
        shown = self.workers.rename(columns={"n_labels": "labels", "n_compared": "compared",
                                             "agreement_with_consensus": "agreement"})
        self.worker_table.value = TABLE_CSS + html_table(
            shown, formats={"agreement": fmt_share, "skill": fmt_share}, empty="no labels yet")
        self._draw_items()
        return True

    def selected(self) -> pd.DataFrame:
        """The consensus rows the status filter selects (all pages)."""
        c, f = self.consensus, self.status_filter
        if f == "all":
            return c
        if f == "tied":
            return c[c["tie"].astype(bool)]
        return c[c["status"] == f]

    @property
    def pages(self) -> int:
        """How many pages the filtered items table has."""
        return max(1, math.ceil(len(self.selected()) / self.page_size))

    # -- internals ------------------------------------------------------------------------
    @T.observe("status_filter")
    def _filter_changed(self, change: Any) -> None:
        self.filter_box.value = change["new"]
        self.page = 1
        self._draw_items()

    @T.observe("page")
    def _page_changed(self, _change: Any) -> None:
        self._draw_items()

    def _go(self, step: int) -> None:
        self.page = min(max(1, self.page + step), self.pages)

    def _draw_items(self) -> None:
        rows = self.selected()
        pages = max(1, math.ceil(len(rows) / self.page_size))
        if self.page > pages:
            self.page = pages  # redraws through the observer
            return
        start = (self.page - 1) * self.page_size
        shown = rows.iloc[start:start + self.page_size].copy()
        shown["status"] = shown["status"].astype(str).str.replace("_", " ")
        self.items_table.value = TABLE_CSS + html_table(
            shown, formats={"agreement": fmt_share, "tie": lambda v: "tie" if v else ""},
            empty="no items with this status")
        self.page_label.value = (f"<span style='padding:0 8px'>page {self.page} of {pages} "
                                 f"<span class='dlt-muted'>({len(rows):,} items)</span></span>")
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= pages
