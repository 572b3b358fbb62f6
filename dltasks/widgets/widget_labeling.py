"""LabelingWidget: one person works through their pending items of a task."""
from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as W
import traitlets as T

from dltasks.errors import DltasksError
from dltasks.widgets._common import message
from dltasks.widgets.widget_item import ItemView

__all__ = ["LabelingWidget"]


class LabelingWidget(W.VBox):
    """Label ``user_id``'s pending items of ``task`` one at a time.

    Shows the next pending item (picture, text and metadata), a button per label of the
    task, *Skip* (the item goes to the end of the queue), *Undo* and the user's progress.
    Each label is one ``task.submit(item_id, user_id, label)``.  *Undo* takes back the last
    step: a label is withdrawn with one ``task.retract(item_id, user_id)`` (the label is gone
    from the task, the assignment is pending again and the item is shown again, first in
    the queue); a skip just brings the skipped item back to the front.  With the keyboard:
    click the shortcut box, then press 1-9 for the labels, ``s`` to skip and ``u`` to undo.

    The queue is read with one ``task.assignments_df(user_id=user_id, role="worker")``: the user's pending
    worker assignments, in item order (on a task without assignees, the open items the user
    has not finished).

    ``on_submit(callback)`` calls ``callback(item_id, label, status)`` after each label;
    ``on_undo(callback)`` calls ``callback(item_id, status)`` after each label withdrawn.
    """

    item_id = T.Int(-1, help="the item shown (-1 when the queue is empty)")
    done = T.Int(0, help="the user's items labelled (or otherwise finished) in the task")
    total = T.Int(0, help="the user's items in the task")

    def __init__(self, task: Any, user_id: str, **kwargs: Any) -> None:
        self.task, self.user_id = task, user_id
        self.dataset = task.dataset
        self.queue: list[int] = []
        #: Steps Undo takes back, last first: ("label", item_id, label) or ("skip", item_id, "").
        self.history: list[tuple[str, int, str]] = []
        self._callbacks = W.CallbackDispatcher()
        self._undo_callbacks = W.CallbackDispatcher()
        self.view = ItemView()
        self.buttons = [W.Button(description=f"{i + 1} · {label}" if i < 9 else label, tooltip=label,
                                 layout=W.Layout(width="auto", min_width="90px"))
                        for i, label in enumerate(task.labels)]
        for button, label in zip(self.buttons, task.labels):
            button.on_click(lambda _b, label=label: self.label(label))
        self.skip_button = W.Button(description="Skip", icon="forward", layout=W.Layout(width="90px"))
        self.undo_button = W.Button(description="Undo", icon="undo", tooltip="withdraw your last label (or skip)",
                                    layout=W.Layout(width="90px"))
        self.skip_button.on_click(lambda _b: self.skip())
        self.undo_button.on_click(lambda _b: self.undo())
        self.shortcuts = W.Text(placeholder="click here, then press 1-9 to label, s to skip, u to undo",
                                continuous_update=True, layout=W.Layout(width="420px"))
        self.shortcuts.observe(self._key, "value")
        self.bar = W.IntProgress(min=0, max=1, layout=W.Layout(width="240px"))
        self.counter = W.HTML()
        self.note = W.HTML()
        head = W.HTML(f"<b>{html.escape(task.name)}</b> <span class='dlt-muted'>— labelling as "
                      f"{html.escape(user_id)}</span>")
        super().__init__([head, W.HBox([self.bar, self.counter]), self.view,
                          W.HBox([*self.buttons, self.skip_button, self.undo_button]), self.shortcuts, self.note],
                         **kwargs)
        self.add_class("dlt-labeling")
        self.reload()

    # -- public ---------------------------------------------------------------------------
    def on_submit(self, callback: Callable[[int, str, str], Any], remove: bool = False) -> None:
        """Call ``callback(item_id, label, status)`` after each label is submitted."""
        self._callbacks.register_callback(callback, remove=remove)

    def on_undo(self, callback: Callable[[int, str], Any], remove: bool = False) -> None:
        """Call ``callback(item_id, status)`` after Undo withdraws a label."""
        self._undo_callbacks.register_callback(callback, remove=remove)

    def reload(self) -> None:
        """Read the user's queue from the task again (pending items, in item order)."""
        try:
            if not self.task.assignee_ids:  # a pool task: anyone may claim an item
                self._load_pool()
            else:
                mine = self.task.assignments_df(user_id=self.user_id, role="worker")
                self.queue = mine.loc[mine["status"] == "pending", "item_id"].astype(int).tolist()
                self.total = len(mine)
                self.done = self.total - len(self.queue)
        except DltasksError as err:
            self.note.value = message("error", str(err))
            return
        self.history.clear()
        self._show_next()

    def label(self, label: str) -> str | None:
        """Submit ``label`` for the item shown; return the item's new status (None on error)."""
        iid = self.item_id
        if iid < 0:
            return None
        try:
            status = self.task.submit(iid, self.user_id, label)
        except DltasksError as err:
            self.note.value = message("error", str(err))
            return None
        self.done += 1
        self.queue.remove(iid)
        self.history.append(("label", iid, label))
        self.note.value = message("ok", f"#{iid}: {label} ({status.replace('_', ' ')})")
        self._show_next()
        self._callbacks(iid, label, status)
        return status

    def skip(self) -> None:
        """Put the item shown at the end of the queue."""
        iid = self.item_id
        if iid < 0 or len(self.queue) < 2:
            self.note.value = message("muted", "nothing else to go to")
            return
        self.queue.remove(iid)
        self.queue.append(iid)
        self.history.append(("skip", iid, ""))
        self.note.value = message("muted", f"skipped #{iid}")
        self._show_next()

    def undo(self) -> str | None:
        """Take back the last label (withdrawn from the task) or skip; show that item again.

        Returns the item's status after a label is withdrawn, None otherwise.
        """
        if not self.history:
            self.note.value = message("muted", "nothing to undo")
            return None
        action, iid, label = self.history.pop()
        status = None
        if action == "label":
            try:
                status = self.task.retract(iid, self.user_id)
            except DltasksError as err:
                self.note.value = message("error", f"could not withdraw your label on #{iid}: {err}")
                self._show_next()
                return None
            self.done -= 1
        if iid in self.queue:
            self.queue.remove(iid)
        self.queue.insert(0, iid)
        self._show_next()
        if status is None:
            self.note.value = message("muted", f"back to #{iid}")
            return None
        self.note.value = message("muted", f"#{iid}: your label {label!r} is withdrawn "
                                           f"({status.replace('_', ' ')}); label it again, or Skip")
        self._undo_callbacks(iid, status)
        return status

    # -- internals ------------------------------------------------------------------------
    def _load_pool(self) -> None:
        items = self.task.items_df()
        mine = self.task.assignments_df(user_id=self.user_id, role="worker")
        finished = set(mine.loc[mine["status"] != "pending", "item_id"].astype(int))
        open_ = items[items["status"].isin(["pending", "awaiting_consensus"])]["item_id"].astype(int)
        self.queue = [i for i in open_.tolist() if i not in finished]
        self.total, self.done = len(items), len(finished)

    def _show_next(self) -> None:
        self.bar.max, self.bar.value = max(self.total, 1), self.done
        pct = 100 * self.done / self.total if self.total else 0
        self.counter.value = f"<span style='padding-left:8px'>{self.done} / {self.total} done ({pct:.0f}%)</span>"
        if not self.queue:
            self.item_id = -1
            self.view.clear(f"No pending items for {self.user_id}: all done.")
        else:
            self.item_id = self.queue[0]
            self.view.show_item(self.dataset, self.item_id)
        for button in [*self.buttons, self.skip_button]:
            button.disabled = self.item_id < 0
        self.undo_button.disabled = not self.history

    def _key(self, change: Any) -> None:
        keys = change["new"]
        if not keys:
            return
        self.shortcuts.value = ""
        for key in keys:
            if key.isdigit() and 1 <= int(key) <= min(9, len(self.task.labels)):
                self.label(self.task.labels[int(key) - 1])
            elif key.lower() == "s":
                self.skip()
            elif key.lower() == "u":
                self.undo()
