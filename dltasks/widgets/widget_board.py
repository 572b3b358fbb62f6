"""TaskBoard: every task of a store on one page-at-a-time HTML table."""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets as T

from dltasks.errors import DltasksError
from dltasks.domain.workflow import COMPLETED
from dltasks.widgets._common import TABLE_CSS, html_table, message, progress_bar_html
from dltasks.widgets.widget_consensus import ConsensusView
from dltasks.widgets.widget_partition import PartitionView

__all__ = ["TaskBoard"]

_STATUSES = [("any status", ""), ("in progress", "in_progress"), ("done", "done"), ("won't do", "wont_do")]


def _people(ids: list[str], shown: int = 3) -> str:
    text = ", ".join(ids[:shown])
    return text + (f" +{len(ids) - shown}" if len(ids) > shown else "")


def _finished(counts: pd.Series) -> float:
    """Percent of a task's items in a final status (completed, approved, discarded)."""
    total = int(counts.sum())
    return 100.0 * int(counts.reindex([*COMPLETED, "discarded"]).fillna(0).sum()) / total if total else 0.0


def _breakdown(counts: pd.Series) -> str:
    return ", ".join(f"{int(n):,} {str(status).replace('_', ' ')}" for status, n in counts.items())


def _due(task: Any) -> str:
    text = html.escape(task.due_date.strftime("%Y-%m-%d %H:%M UTC"))
    return f'<span class="dlt-overdue" title="overdue">{text} &#9888; overdue</span>' if task.overdue else text


class TaskBoard(W.VBox):
    """Every task of the store: type, dataset, due date (overdue marked), priority, assignees
    and progress, one page at a time, filtered by assignee and status.

    Progress is the share of a task's items in a final status (completed, approved or
    discarded), from ``task.status_counts()``; hovering the bar shows the breakdown.

    The page is one HTML table (never a widget per row).  Pick a task in *Open* to see its
    :class:`PartitionView` and :class:`ConsensusView` under the table.
    """

    page = T.Int(1, help="page shown (from 1)")
    assignee = T.Unicode("", help="only tasks this user works on ('' for everyone)")
    task_status = T.Unicode("", help="only tasks with this status ('' for any)")
    selected = T.Unicode("", help="id of the task opened below the table ('' for none)")

    def __init__(self, store: Any, per_page: int = 25, **kwargs: Any) -> None:
        self.store, self.per_page = store, per_page
        self.tasks: list[Any] = []
        self.frame = pd.DataFrame()
        self.total = 0
        users = [("everyone", "")] + [(u.id, u.id) for u in store.users.list()]
        self.assignee_box = W.Dropdown(options=users, description="Assignee", layout=W.Layout(width="260px"))
        self.status_box = W.Dropdown(options=_STATUSES, description="Status", layout=W.Layout(width="220px"))
        self.prev_button = W.Button(icon="chevron-left", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next_button = W.Button(icon="chevron-right", tooltip="next page", layout=W.Layout(width="40px"))
        self.page_label = W.HTML()
        self.table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%"))
        self.open_box = W.Dropdown(description="Open", options=[("—", "")], layout=W.Layout(width="420px"))
        self.status = W.HTML()
        self.detail = W.VBox()
        bar = W.HBox([self.assignee_box, self.status_box, self.prev_button, self.page_label, self.next_button])
        super().__init__([bar, self.table, W.HBox([self.open_box, self.status]), self.detail], **kwargs)
        self.add_class("dlt-task-board")
        self.assignee_box.observe(lambda c: setattr(self, "assignee", c["new"]), "value")
        self.status_box.observe(lambda c: setattr(self, "task_status", c["new"]), "value")
        self.prev_button.on_click(lambda _b: self._go(-1))
        self.next_button.on_click(lambda _b: self._go(+1))
        self._listing = False  # True while refresh() fills the Open box: that is not a choice
        self.open_box.observe(self._open_chosen, "value")
        self.refresh()

    # -- public ---------------------------------------------------------------------------
    @property
    def pages(self) -> int:
        """How many pages the filtered board has."""
        return max(1, -(-self.total // self.per_page))

    def refresh(self) -> None:
        """Read the current page of tasks again and redraw the table."""
        try:
            page = self.store.tasks.list(page=self.page, per_page=self.per_page, worker_id=self.assignee or None,
                                         status=self.task_status or None)
            names = {d.id: d.name for d in self.store.datasets.list()}
            counts = [t.status_counts() for t in page]
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return
        self.tasks, self.total = list(page), page.total
        if self.page > self.pages:
            self.page = self.pages  # refreshes through the observer
            return
        self.frame = pd.DataFrame({
            "task": [t.name for t in page], "type": [t.type for t in page],
            "dataset": [names.get(t.dataset_id, t.dataset_id) for t in page],
            "due": [_due(t) for t in page], "priority": [t.priority for t in page],
            "status": [t.status.replace("_", " ") for t in page], "progress": [_finished(c) for c in counts],
            "assignees": [_people(t.assignee_ids) for t in page],
        }, index=pd.Index([t.id[:8] for t in page], name="id"))
        bars = [progress_bar_html(p, title=_breakdown(c)) for p, c in zip(self.frame["progress"], counts)]
        self.table.value = TABLE_CSS + html_table(self.frame.assign(progress=bars), raw=["due", "progress"],
                                                  empty="no tasks")
        self.page_label.value = (f"<span style='padding:0 8px'>page {self.page} of {self.pages} "
                                 f"<span class='dlt-muted'>({self.total:,} tasks)</span></span>")
        self.prev_button.disabled, self.next_button.disabled = self.page <= 1, self.page >= self.pages
        options = [("—", "")] + [(f"{t.name} ({t.id[:8]})", t.id) for t in page]
        self._listing = True
        try:
            self.open_box.options = options
            self.open_box.value = self.selected if any(t.id == self.selected for t in page) else ""
        finally:
            self._listing = False

    def show_task(self, task_id: str) -> None:
        """Show a task's partition and consensus views under the table."""
        self.selected = task_id

    # -- internals ------------------------------------------------------------------------
    @T.observe("page", "assignee", "task_status")
    def _filters_changed(self, change: Any) -> None:
        if change["name"] != "page" and self.page != 1:
            self.page = 1  # refreshes through this observer again
            return
        self.refresh()

    def _open_chosen(self, change: Any) -> None:
        if not self._listing:
            self.selected = change["new"]

    @T.observe("selected")
    def _selected_changed(self, change: Any) -> None:
        for old in self.detail.children:
            old.close()
        if not change["new"]:
            self.detail.children = []
            return
        try:
            task = self.store.tasks.get(change["new"])
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return
        tabs = W.Tab([PartitionView(task), ConsensusView(task)])
        tabs.titles = ("Partition", "Consensus")
        self.detail.children = [tabs]
        if self.open_box.value != task.id and task.id in [v for _, v in self.open_box.options]:
            self.open_box.value = task.id

    def _go(self, step: int) -> None:
        self.page = min(max(1, self.page + step), self.pages)
