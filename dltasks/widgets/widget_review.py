"""ReviewWidget: a reviewer's queue of items awaiting review, workers' labels side by side."""
from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as W
import pandas as pd
import traitlets as T

from dltasks.errors import DltasksError
from dltasks.widgets._common import TABLE_CSS, html_table, message
from dltasks.widgets.widget_item import ItemView

__all__ = ["ReviewWidget"]


class ReviewWidget(W.VBox):
    """Approve or reject the items of ``task`` awaiting review, as reviewer ``user_id``.

    Shows the item under review with each worker's label, and the next items of the queue
    as one table (a column per worker).  *Approve* / *Reject* are one
    ``task.review(item_id, user_id, approve)`` each; a rejected item goes back to its
    workers.  ``on_submit(callback)`` calls ``callback(item_id, approved, status)``.
    """

    item_id = T.Int(-1, help="the item under review (-1 when the queue is empty)")
    reviewed = T.Int(0, help="items reviewed in this widget")

    def __init__(self, task: Any, user_id: str, page_size: int = 10, **kwargs: Any) -> None:
        self.task, self.user_id, self.page_size = task, user_id, page_size
        self.dataset = task.dataset
        self.queue: list[int] = []
        self.votes = pd.DataFrame(columns=["item_id", "worker", "label"])
        self._callbacks = W.CallbackDispatcher()
        self.view = ItemView()
        self.item_labels = W.HTML()
        self.approve_button = W.Button(description="Approve", icon="check", button_style="success",
                                       layout=W.Layout(width="110px"))
        self.reject_button = W.Button(description="Reject", icon="times", button_style="danger",
                                      layout=W.Layout(width="110px"))
        self.approve_button.on_click(lambda _b: self.approve())
        self.reject_button.on_click(lambda _b: self.reject())
        self.reload_button = W.Button(description="Reload queue", icon="refresh", layout=W.Layout(width="130px"))
        self.reload_button.on_click(lambda _b: self.reload())
        self.counter = W.HTML()
        self.note = W.HTML()
        self.queue_table = W.HTML()
        head = W.HTML(f"<b>Review — {html.escape(task.name)}</b> <span class='dlt-muted'>as "
                      f"{html.escape(user_id)}</span>")
        super().__init__([W.HBox([head, self.reload_button, self.counter]), W.HBox([self.view, self.item_labels]),
                          W.HBox([self.approve_button, self.reject_button, self.note]),
                          W.HTML("<b>Queue</b>"), self.queue_table], **kwargs)
        self.add_class("dlt-review")
        self.reload()

    # -- public ---------------------------------------------------------------------------
    def on_submit(self, callback: Callable[[int, bool, str], Any], remove: bool = False) -> None:
        """Call ``callback(item_id, approved, status)`` after each review."""
        self._callbacks.register_callback(callback, remove=remove)

    def reload(self) -> None:
        """Read the items awaiting review and their labels again."""
        try:
            items = self.task.items_df()
            self.votes = self.task.labels_df()
        except DltasksError as err:
            self.note.value = message("error", str(err))
            return
        self.queue = items.loc[items["status"] == "awaiting_review", "item_id"].astype(int).tolist()
        if self.user_id not in self.task.reviewer_ids:
            self.note.value = message("error", f"{self.user_id} is not a reviewer of this task")
        self._show_next()

    def approve(self) -> str | None:
        """Approve the item shown."""
        return self._review(True)

    def reject(self) -> str | None:
        """Reject the item shown (it goes back to its workers)."""
        return self._review(False)

    # -- internals ------------------------------------------------------------------------
    def _review(self, approve: bool) -> str | None:
        iid = self.item_id
        if iid < 0:
            return None
        try:
            status = self.task.review(iid, self.user_id, approve=approve)
        except DltasksError as err:
            self.note.value = message("error", str(err))
            return None
        self.queue.remove(iid)
        self.reviewed += 1
        self.note.value = message("ok", f"#{iid} {'approved' if approve else 'rejected'}")
        self._show_next()
        self._callbacks(iid, approve, status)
        return status

    def _side_by_side(self, item_ids: list[int]) -> pd.DataFrame:
        v = self.votes[self.votes["item_id"].isin(item_ids)]
        table = v.pivot_table(index="item_id", columns="worker", values="label", aggfunc="first")
        table = table.reindex(item_ids)
        table.columns.name = None
        return table

    def _show_next(self) -> None:
        n = len(self.queue)
        self.counter.value = (f"<span style='padding-left:8px'>{n:,} awaiting review · {self.reviewed} reviewed "
                              f"here</span>")
        if not n:
            self.item_id = -1
            self.view.clear("No items awaiting review.")
            self.item_labels.value = ""
        else:
            self.item_id = self.queue[0]
            self.view.show_item(self.dataset, self.item_id)
            mine = self.votes[self.votes["item_id"] == self.item_id].set_index("worker")[["label"]]
            self.item_labels.value = TABLE_CSS + "<b>Labels given</b>" + html_table(mine, empty="no labels")
        self.approve_button.disabled = self.reject_button.disabled = self.item_id < 0
        page = self.queue[1:1 + self.page_size]
        self.queue_table.value = TABLE_CSS + html_table(self._side_by_side(page), empty="nothing else queued")
