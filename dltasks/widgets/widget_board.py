"""TaskBoard: every task of a store on one page-at-a-time HTML table."""
from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets as T

from dltasks.errors import DltasksError
from dltasks.work_events import work_events
from dltasks.domain.workflow import COMPLETED
from dltasks.widgets._common import (TABLE_CSS, RowPicker, html_table, message, people_html, progress_bar_html, short_id,
                                     status_order)
from dltasks.widgets.widget_consensus import ConsensusView
from dltasks.widgets.widget_partition import PartitionView
from dltasks.widgets.widget_workers import WorkersView

__all__ = ["TaskBoard"]

_STATUSES = [("any status", ""), ("in progress", "in_progress"), ("done", "done"), ("won't do", "wont_do")]


def _finished(counts: pd.Series) -> float:
    """Percent of a task's items in a final status (completed, approved, discarded)."""
    total = int(counts.sum())
    return 100.0 * int(counts.reindex([*COMPLETED, "discarded"]).fillna(0).sum()) / total if total else 0.0


def _breakdown(counts: pd.Series, review_strategy: str) -> str:
    """Items per status in the order of the work flow, e.g. ``3 pending, 2 approved``."""
    ordered = counts.reindex(status_order(review_strategy, counts.index)).fillna(0)
    return ", ".join(f"{int(n):,} {str(status).replace('_', ' ')}" for status, n in ordered.items() if n)


def _due(task: Any) -> str:
    """The due day (the time on hover), marked when overdue."""
    day, full = task.due_date.strftime("%Y-%m-%d"), task.due_date.strftime("%Y-%m-%d %H:%M UTC")
    if task.overdue:
        return f'<span class="dlt-overdue" title="{full}: overdue">{day} &#9888;</span>'
    return f'<span title="{full}">{day}</span>'


class TaskBoard(W.VBox):
    """Every task of the store: type, dataset, due date (overdue marked), priority, assignees
    and progress, one page at a time, filtered by assignee and status.

    Progress is the share of a task's items in a final status (completed, approved or
    discarded), from ``task.status_counts()``; hovering the bar shows the breakdown.

    The page is one HTML table (never a widget per row) with the task names beside it as one
    column of buttons (:class:`~dltasks.widgets._common.RowPicker`): click a task's name to see
    its :class:`PartitionView`, :class:`ConsensusView` and :class:`WorkersView` (per worker:
    progress, median seconds per item, items per hour, who passed the qualification, who was
    flagged, throughput over time) under the table.  Ids are shown short
    and muted; assignees abbreviated (``ann, bob +3``), the full list on hover.
    """

    page = T.Int(1, help="page shown (from 1)")
    assignee = T.Unicode("", help="only tasks this user works on ('' for everyone)")
    task_status = T.Unicode("", help="only tasks with this status ('' for any)")
    selected = T.Unicode("", help="id of the task opened below the table ('' for none)")
    refresh_budget = T.Float(1.0, help="refresh after work only while a refresh takes at most this (s)")

    def __init__(self, store: Any, per_page: int = 25, **kwargs: Any) -> None:
        self.store, self.per_page = store, per_page
        self.tasks: list[Any] = []
        self.counts: dict[str, pd.Series] = {}
        self.last_refresh_seconds = 0.0
        self.frame = pd.DataFrame()
        self.total = 0
        users = [("everyone", "")] + [(u.id, u.id) for u in store.users.list()]
        self.assignee_box = W.Dropdown(options=users, description="Assignee", layout=W.Layout(width="260px"))
        self.status_box = W.Dropdown(options=_STATUSES, description="Status", layout=W.Layout(width="220px"))
        self.prev_button = W.Button(icon="chevron-left", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next_button = W.Button(icon="chevron-right", tooltip="next page", layout=W.Layout(width="40px"))
        self.page_label = W.HTML()
        self.open_box = RowPicker("task", width="200px")
        self.table = self.open_box.beside(W.HTML(layout=W.Layout(margin="0", overflow="auto")))
        self.status = W.HTML()
        self.detail = W.VBox()
        bar = W.HBox([self.assignee_box, self.status_box, self.prev_button, self.page_label, self.next_button])
        rows = W.HBox([self.open_box, self.table], layout=W.Layout(max_width="100%", overflow="auto"))
        super().__init__([bar, rows, self.status, self.detail], **kwargs)
        self.add_class("dlt-task-board")
        self.assignee_box.observe(lambda c: setattr(self, "assignee", c["new"]), "value")
        self.status_box.observe(lambda c: setattr(self, "task_status", c["new"]), "value")
        self.prev_button.on_click(lambda _b: self._go(-1))
        self.next_button.on_click(lambda _b: self._go(+1))
        self.open_box.observe(lambda c: setattr(self, "selected", c["new"] or ""), "value")
        self.refresh()

    # -- public ---------------------------------------------------------------------------
    @property
    def pages(self) -> int:
        """How many pages the filtered board has."""
        return max(1, -(-self.total // self.per_page))

    def refresh(self) -> None:
        """Read the current page of tasks again and redraw the table."""
        start = time.perf_counter()
        try:
            page = self.store.tasks.list(page=self.page, per_page=self.per_page, worker_id=self.assignee or None,
                                         status=self.task_status or None)
            names = {d.id: d.name for d in self.store.datasets.list()}
            counts = [t.status_counts() for t in page]
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return
        for old in self.tasks:
            work_events.unsubscribe(old.id, self)
        self.tasks, self.total = list(page), page.total
        for task in self.tasks:  # work on a task shown moves its progress: redraw (work_changed)
            work_events.subscribe(task.id, self)
        if self.page > self.pages:
            self.page = self.pages  # refreshes through the observer
            return
        self.frame = pd.DataFrame({
            "task": [t.name for t in page], "id": [short_id(t.id) for t in page], "type": [t.type for t in page],
            "dataset": [names.get(t.dataset_id, t.dataset_id) for t in page],
            "due": [_due(t) for t in page], "priority": [t.priority for t in page],
            "status": [t.status.replace("_", " ") for t in page], "progress": [_finished(c) for c in counts],
            "assignees": [people_html(t.assignee_ids) for t in page],
        })
        self.counts = {t.id: c for t, c in zip(page, counts)}
        bars = [progress_bar_html(p, width=70, title=_breakdown(c, t.review_strategy))
                for t, p, c in zip(page, self.frame["progress"], counts)]
        shown = self.frame.drop(columns="task").assign(
            id=[f'<span class="dlt-id">{i}</span>' for i in self.frame["id"]], progress=bars)
        self.table.value = TABLE_CSS + self.open_box.table_css() + html_table(
            shown, raw=["id", "due", "progress", "assignees"], index=False, empty="no tasks")
        self.page_label.value = (f"<span style='padding:0 8px'>page {self.page} of {self.pages} "
                                 f"<span class='dlt-muted'>({self.total:,} tasks)</span></span>")
        self.prev_button.disabled, self.next_button.disabled = self.page <= 1, self.page >= self.pages
        self.open_box.set_rows([(t.name, t.id) for t in page],
                               [f"{t.name} ({short_id(t.id)}): open it below" for t in page])
        self.last_refresh_seconds = time.perf_counter() - start
        self.status.value = ""

    def work_changed(self) -> None:
        """Work was written on a task of the page (:mod:`dltasks.work_events`): redraw while that is quick."""
        if self.last_refresh_seconds <= self.refresh_budget:
            self.refresh()
        else:
            self.status.value = message("muted", "new work since the board was drawn: press a page button or "
                                                 "change a filter to see it")

    def show_task(self, task_id: str) -> None:
        """Show a task's partition, consensus and workers views under the table."""
        self.selected = task_id

    # -- internals ------------------------------------------------------------------------
    @T.observe("page", "assignee", "task_status")
    def _filters_changed(self, change: Any) -> None:
        if change["name"] != "page" and self.page != 1:
            self.page = 1  # refreshes through this observer again
            return
        self.refresh()

    @T.observe("selected")
    def _selected_changed(self, change: Any) -> None:
        for old in self.detail.children:
            old.close()
        if not change["new"]:
            self.detail.children = []
            self.open_box.value = None
            return
        try:
            task = self.store.tasks.get(change["new"])
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return
        tabs = W.Tab([PartitionView(task), ConsensusView(task), WorkersView(task)])
        tabs.titles = ("Partition", "Consensus", "Workers")
        self.detail.children = [tabs]
        self.open_box.value = task.id

    def _go(self, step: int) -> None:
        self.page = min(max(1, self.page + step), self.pages)
