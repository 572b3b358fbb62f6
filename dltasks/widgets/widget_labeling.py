"""LabelingWidget: one person works through their pending items of a task, with the keyboard."""
from __future__ import annotations

import html
from typing import Any

from dltasks.widgets.work_queue import Binding, Done, WorkQueueWidget

__all__ = ["LabelingWidget"]


class LabelingWidget(WorkQueueWidget):
    """Label ``user_id``'s pending items of ``task`` one at a time, at the speed of the keyboard.

    Shows the item (a fixed-size picture or its text), a button per label with its key (1-9),
    *Skip* (``s``: the item goes to the end of the queue) and *Undo* (``u``), then the
    item's metadata that the task shows its workers (:meth:`Task.visible_metadata
    <dltasks.tasks.Task.visible_metadata>`: never ``truth``, ``gold``… unless asked).
    Keys work when the widget has the focus or the pointer: no box to click first.

    Each label is one ``task.submit(item_id, user_id, label)`` for the item that was on
    screen when the key was pressed; the browser shows the next item at once.  Nothing is
    overwritten: an item that already has this worker's label (written in another kernel,
    say) is refused by the store, and the widget moves on and says so.  The queue is read
    again while you work, so items finished elsewhere leave it.  *Undo* withdraws the last
    label (``task.retract``) and shows that item again, or brings a skipped item back.

    >>> import dltasks as dl, pandas as pd
    >>> store = dl.connect("sqlite://")
    >>> ds = store.datasets.create("notes", labels=["good", "bad"])
    >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.txt", "b.txt"], "user.text": ["fine", "awful"]}))
    >>> task = ds.tasks.create("triage", assignee_ids=["ann"])
    >>> w = LabelingWidget(task, "ann")
    >>> w.item_id, w.press("2"), w.item_id
    (1, 'a.txt (#1): bad (completed)', 2)
    >>> task.labels_df()[["item_id", "worker", "label"]].values.tolist()
    [[1, 'ann', 'bad']]
    """

    def __init__(self, task: Any, user_id: str, **kwargs: Any) -> None:
        #: The status the last label left its item in (None before any).
        self.last_status: str | None = None
        super().__init__(task, user_id, heading=task.name, subheading=f"labelling as {user_id}",
                         css_class="dlt-labeling", empty_text=f"No pending items for {user_id}: all done.",
                         **kwargs)

    # -- the keys ---------------------------------------------------------------------------
    def bindings(self) -> list[Binding]:
        """1-9 for the task's labels (a tenth label gets a button without a key), s, u."""
        labels = [Binding(str(i + 1) if i < 9 else "", "label", label, label)
                  for i, label in enumerate(self.task.labels)]
        return [*labels, Binding("s", "skip", None, "Skip"),
                Binding("u", "undo", None, "Undo", on_item=False)]

    def label(self, label: str) -> str | None:
        """Submit ``label`` for the item on screen; return the item's new status (None if refused)."""
        self.last_status = None
        self.act("label", self.item_id, label)
        return self.last_status

    def skip(self) -> str:
        """Put the item on screen at the end of the queue; return the note shown."""
        return self.act("skip", self.item_id)

    def undo(self) -> str:
        """Take back the last label (withdrawn from the task) or skip; return the note shown."""
        return self.act("undo")

    # -- the store ----------------------------------------------------------------------------
    def read_queue(self) -> tuple[list[int], int, int]:
        """The worker's pending items in item order (on a pool task: open items not yet done)."""
        mine = self.task.assignments_df(user_id=self.user_id, role="worker")
        pending_mine = mine["status"] == "pending"
        if self.task.assignee_ids:
            pending = mine.loc[pending_mine, "item_id"].astype(int).tolist()
            return pending, int((~pending_mine).sum()), len(mine)
        items = self.task.statuses_df()  # a pool task: anyone may claim an open item
        finished = set(mine.loc[~pending_mine, "item_id"].astype(int))
        open_ = items.loc[items["status"].isin(["pending", "awaiting_consensus"]), "item_id"].astype(int)
        return [i for i in open_.tolist() if i not in finished], len(finished), len(items)

    def read_window(self, limit: int) -> tuple[list[int], bool] | None:
        """The head of the worker's pending queue, read from the index (None on a pool task)."""
        if not self.task.assignee_ids:
            return None
        head = self.task.assignments_df(user_id=self.user_id, status="pending", role="worker", limit=limit)
        return head["item_id"].astype(int).tolist(), len(head) < limit

    def details(self, item: Any) -> list[tuple[str, dict[str, Any]]]:
        """The item's metadata the task shows its workers."""
        return [("Metadata", dict(self.task.visible_metadata(item)))]

    def perform(self, action: str, item_id: int, label: str | None) -> str:
        """A label is one ``task.submit`` (never a replacement); a skip moves the item to the end."""
        name = self._name(item_id)
        if action == "skip":
            if len(self.queue) < 2:
                return "nothing else to go to"
            self.queue.remove(item_id)
            self.queue.append(item_id)
            self.history.append(("skip", item_id, None))
            return f"skipped {name}"
        assert label is not None
        status = self.task.submit(item_id, self.user_id, label)
        self.last_status = status
        raise Done(f"{name}: {label} ({status.replace('_', ' ')})", undo=label)

    def take_back(self, action: str, item_id: int, what: Any) -> str:
        """Withdraw a label (``task.retract``), or bring a skipped item back to the front."""
        name = self._name(item_id)
        if action == "skip":
            return f"back to {name}"
        status = self.task.retract(item_id, self.user_id)
        self.done -= 1
        return (f"{name}: your label {html.unescape(str(what))!r} is withdrawn ({status.replace('_', ' ')}); "
                f"label it again, or skip")
