"""PartitionView: who got how many items of a task, against their share, and how far they are."""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import pandas as pd

from dltasks.errors import DltasksError
from dltasks.plots import plot_partition
from dltasks.widgets._common import TABLE_CSS, LiveView, chart, fmt_share, html_table, message, show_figure

__all__ = ["PartitionView"]

_COLUMNS = ["assigned", "target", "target_share", "actual_share", "done", "percent"]


class PartitionView(LiveView):
    """Per-assignee table (assigned, target share, actual share, done, percent) and bar chart.

    Built from one SDK call, ``task.partition()``.  The chart (target vs. assigned items) is
    redrawn only when the split changes, not when work is done.  Refreshes when the Refresh
    button is pressed, when :meth:`refresh` is called, and (with ``auto_refresh``, while a
    refresh is quick) after a labelling or review widget of this kernel submits work on the task.
    """

    def __init__(self, task: Any, auto_refresh: bool = True, charts: bool = True, **kwargs: Any) -> None:
        self.summary = pd.DataFrame(columns=_COLUMNS)
        self.title = W.HTML()
        self.table = W.HTML()
        self.partition_chart = chart()
        self.charts = charts
        self._drawn: tuple[Any, ...] | None = None
        body = W.HBox([self.table, *([self.partition_chart] if charts else [])],
                      layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        head = W.HBox()
        super().__init__(task, [head, body], **kwargs)
        head.children = [self.title, self.refresh_button, self.status]
        self.add_class("dlt-partition-view")
        self.auto_refresh = auto_refresh
        self.refresh()

    def _redraw(self) -> bool:
        try:
            summary = self.task.partition()
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return False
        self.summary = summary
        t = self.task
        mode = ("every assignee labels every item" if t.worker_strategy == "full"
                else f"partitioned, {t.workers_per_input} worker{'s' if t.workers_per_input > 1 else ''} per item")
        self.title.value = (f"<b>{html.escape(t.name)}</b> <span class='dlt-muted'>— {mode}, "
                            f"{int(summary['assigned'].sum()):,} assignments</span>")
        self.table.value = TABLE_CSS + html_table(
            summary[_COLUMNS], formats={"target_share": fmt_share, "actual_share": fmt_share,
                                        "percent": lambda v: f"{v:.1f}%", "target": lambda v: f"{v:,.1f}"})
        split = (tuple(summary.index), tuple(summary["assigned"]), tuple(summary["target"]))
        if self.charts and len(summary) and split != self._drawn:
            show_figure(self.partition_chart, plot_partition(summary, figsize=(5.5, 0.3 * len(summary) + 1.6)))
            self._drawn = split
        return True
