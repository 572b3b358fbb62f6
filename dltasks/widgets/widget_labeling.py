"""LabelingWidget: one person works through their pending items of a task, with the keyboard
(and, on box and polygon tasks, the mouse)."""
from __future__ import annotations

import html
from typing import Any, Sequence

from dltasks.domain.shapes import Definition
from dltasks.errors import ValidationError
from dltasks.widgets.answer_tools import answer_from_browser, describe_answer, labelling_bindings, tool_of
from dltasks.widgets.suggestions import SUGGESTING_TYPES, ModelSuggestions
from dltasks.widgets.work_queue import Binding, Done, WorkQueueWidget

__all__ = ["LabelingWidget"]


class LabelingWidget(WorkQueueWidget):
    """Label ``user_id``'s pending items of ``task`` one at a time, at the speed of the keyboard.

    Shows the item (a fixed-size picture or its text), a button per label with its key (1-9),
    *Skip* (``s``: the item goes to the end of the queue) and *Undo* (``u``), then the
    item's metadata that the task shows its workers (:meth:`Task.visible_metadata
    <dltasks.tasks.Task.visible_metadata>`: never ``truth``, ``gold``… unless asked).
    Keys work when the widget has the focus or the pointer: no box to click first.

    Each label is one ``task.submit(item_id, user_id, label, seconds=...)`` for the item that
    was on screen when the key was pressed, with the seconds it was on screen before the key
    (measured in the browser while the tab is shown and the widget in view:
    ``task.labels_df()["seconds"]``); the browser shows the next item at once.  Nothing is
    overwritten: an item that already has this worker's label (written in another kernel,
    say) is refused by the store, and the widget moves on and says so.  The queue is read
    again while you work, so items finished elsewhere leave it.  *Undo* withdraws the last
    label (``task.retract``) and shows that item again, or brings a skipped item back.

    The task's ``annotation_type`` picks the tool on the card (the keys are on the buttons):

    * ``multi_class``: 1-9 toggle labels (shown pressed), Enter submits the set; none
      pressed is the answer "no label applies";
    * ``text``: type in the box (the widget's keys do not fire there), Enter submits
      (Shift+Enter: a new line), Escape leaves the box;
    * ``box``: drag on the picture to draw a box, drag a box to move it, its corners and
      edges to resize it; click a box to select it, Delete (or Backspace) deletes it;
      1-9 set the label of the selected box and of the next one drawn; Enter submits the
      item's boxes (none: "nothing here");
    * ``polygon``: click out the points, Enter (or a click on the first point) closes the
      polygon, Escape cancels it; then as for boxes.

    Shapes are sent in image pixels (the picture's natural size, whatever its size on
    screen).  Each answer is one ``task.submit(item_id, user_id, annotations=[...])``, which
    checks it: a refused answer (a box outside the image, say) is shown on the card, nothing
    is written and the item stays on screen with its shapes.  *Undo* withdraws the last
    answer and shows its item again with that answer to change.  In code: :meth:`answer`.

    ``show_predictions=True``: each card shows the model's suggestion for its item, from the
    task's predictions (``task.import_predictions``; ``model``: only that model's, None: all), read
    once per refresh of the queue (one ``task.predictions_df()``), with its score:

    * ``class``: the model's top label is marked on its button; Enter (*Accept suggestion*)
      answers with it, and any label's key still answers with that label;
    * ``multi_class``: the labels scored 0.5 or more
      (:data:`~dltasks.widgets.suggestions.MIN_SCORE`) start toggled on; toggle as usual, Enter
      submits what is toggled;
    * ``box``, ``polygon``, ``text``: no suggestion and nothing pre-selected (predictions are
      labels of whole items).

    A suggestion is never stored unless the worker confirms it with a key.  Gold items have no
    predictions (the store takes them for task items only), so on a task with gold a card
    without a suggestion may be a gold item.

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
    >>> boxes = ds.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    >>> w = LabelingWidget(boxes, "ann")
    >>> w.tool, w.answer([dl.Box(10, 10, 50, 40, label="good")]), w.answer([])
    ('box', 'completed', 'completed')
    >>> boxes.labels_df()[["item_id", "kind", "label", "left", "bottom"]].values.tolist()
    [[1, 'box', 'good', 10.0, 40.0], [2, 'none', None, nan, nan]]
    >>> _ = task.import_predictions(pd.DataFrame({"item_id": [1, 2], "label": ["good", "bad"],
    ...                                           "score": [0.9, 0.7]}))
    >>> w = LabelingWidget(task, "ann", show_predictions=True)
    >>> w.item_id, w.buffer[0]["suggestion"]["text"], len(task.labels_df())   # shown, not stored
    (2, 'bad (0.70)', 1)
    >>> w.press("Enter")
    "b.txt (#2): bad — the model's suggestion (completed)"
    >>> task.labels_df()[["item_id", "label"]].values.tolist()
    [[1, 'bad'], [2, 'bad']]
    """

    def __init__(self, task: Any, user_id: str, show_predictions: bool = False, model: str | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(show_predictions, bool):
            raise ValidationError("must be True or False", "show_predictions", show_predictions)
        if model is not None and (not isinstance(model, str) or not model):
            raise ValidationError("must be a model's name (or None: every model)", "model", model)
        #: The status the last label left its item in (None before any).
        self.last_status: str | None = None
        #: The task's annotation type, which picks the tool.
        self.annotation_type: str = task.annotation_type
        #: Cards show the model's suggestion (class and multi_class tasks).
        self.show_predictions = show_predictions and self.annotation_type in SUGGESTING_TYPES
        #: Whose predictions the cards show (None: every model's).
        self.model = model
        #: The suggestions of the last read of the task's predictions (None: not shown).
        self.suggestions: ModelSuggestions | None = None
        #: Answers withdrawn by Undo, shown again on their item's card to change: item -> JSON.
        self._drafts: dict[int, list[dict[str, Any]]] = {}
        tool = tool_of(self.annotation_type)
        super().__init__(task, user_id, heading=task.name, subheading=f"labelling as {user_id}",
                         css_class=f"dlt-labeling dlt-tool-{tool}", tool=tool,
                         empty_text=f"No pending items for {user_id}: all done.", **kwargs)

    # -- the keys ---------------------------------------------------------------------------
    def bindings(self) -> list[Binding]:
        """1-9 for the task's labels (a tenth label gets a button without a key), the tool's keys
        (Enter submits; on a class task with suggestions, Enter accepts the suggestion), s, u:
        :func:`~dltasks.widgets.answer_tools.labelling_bindings`."""
        return labelling_bindings(self.annotation_type, self.task.labels,
                                  suggest=self.show_predictions and self.annotation_type == "class")

    def label(self, label: str, seconds: float | None = None) -> str | None:
        """Submit ``label`` for the item on screen (``seconds``: its time on screen, if known); return the
        item's new status (None if refused)."""
        self.last_status = None
        self.act("label", self.item_id, label, seconds=seconds)
        return self.last_status

    def answer(self, annotations: Sequence[Definition | dict[str, Any]], seconds: float | None = None) -> str | None:
        """Submit a whole answer for the item on screen (what Enter sends from the browser's tool):
        definitions (``dl.Box`` …) or their JSON, and its time on screen if known; return the item's
        new status (None if refused).
        """
        self.last_status = None
        self.act("submit", self.item_id, annotations=list(annotations), seconds=seconds)
        return self.last_status

    def skip(self) -> str:
        """Put the item on screen at the end of the queue; return the note shown."""
        return self.act("skip", self.item_id)

    def undo(self) -> str:
        """Take back the last label (withdrawn from the task) or skip; return the note shown."""
        return self.act("undo")

    # -- the store ----------------------------------------------------------------------------
    def read_queue(self) -> tuple[list[int], int, int]:
        """The worker's pending items in the store's serving order (``task.queue``: gold items mixed
        in, lowest model margin first under ``order="uncertainty"``); on a pool task the open items
        not yet done, in item order.

        Done and total count the worker's gold items too (the worker cannot tell them apart); the
        items a worker cannot have yet (a qualification to pass first) are not in the total.
        With ``show_predictions``, the task's predictions are read too (:meth:`read_suggestions`).
        """
        self.read_suggestions()
        if self.task.assignee_ids:
            mine = self.task.assignments_df(user_id=self.user_id)
            answered = int((mine["role"].isin(["worker", "gold"]) & (mine["status"] != "pending")).sum())
            pending = self.task.queue(self.user_id)
            self._waiting_note(pending, mine)
            return pending, answered, answered + len(pending)
        mine = self.task.assignments_df(user_id=self.user_id, role="worker")
        pending_mine = mine["status"] == "pending"
        items = self.task.statuses_df()  # a pool task: anyone may claim an open item
        finished = set(mine.loc[~pending_mine, "item_id"].astype(int))
        open_ = items.loc[items["status"].isin(["pending", "awaiting_consensus"]), "item_id"].astype(int)
        return [i for i in open_.tolist() if i not in finished], len(finished), len(items)

    def read_window(self, limit: int) -> tuple[list[int], bool] | None:
        """The head of the worker's queue (``task.queue(user_id, limit=...)``) when it is in item order;
        None on a pool task, with gold items, a qualification or ``order="uncertainty"`` (the whole
        queue is read)."""
        t = self.task
        if not t.assignee_ids or t.gold_rate or t.type == "qualification" or t.order != "item" \
                or t.qualification_task_id:   # a qualification passed elsewhere opens the queue: read it all
            return None
        self.read_suggestions()
        head = t.queue(self.user_id, limit=limit)
        return head, len(head) < limit

    def _waiting_note(self, pending: list[int], mine: Any) -> None:
        """Say why the queue is empty while the worker still has items of the task (a qualification)."""
        waiting = int(((mine["role"] == "worker") & (mine["status"] == "pending")).sum())
        if not pending and waiting and self.task.qualification_task_id:
            self.empty_text = (f"{waiting:,} items wait for {self.user_id}: they open once the qualification "
                               f"task is passed.")
        else:
            self.empty_text = f"No pending items for {self.user_id}: all done."

    def read_suggestions(self) -> None:
        """Read the task's predictions (one ``task.predictions_df()``) into :attr:`suggestions`, when
        the cards show them; the cards made from now on show these."""
        if self.show_predictions:
            self.suggestions = ModelSuggestions(self.task.predictions_df(), self.annotation_type, self.model)

    def details(self, item: Any) -> list[tuple[str, dict[str, Any]]]:
        """The item's metadata the task shows its workers."""
        return [("Metadata", dict(self.task.visible_metadata(item)))]

    def extras(self, item: Any) -> dict[str, Any]:
        """An answer Undo withdrew from this item, for the browser's tool to show again, and the
        model's suggestion (``show_predictions``)."""
        out: dict[str, Any] = {}
        draft = self._drafts.get(int(item.id))
        if draft is not None:
            out["draft"] = draft
        suggestion = self.suggestions.get(int(item.id)) if self.suggestions is not None else None
        if suggestion is not None:
            out["suggestion"] = suggestion
        return out

    def suggestion(self, item_id: int) -> dict[str, Any] | None:
        """The model's suggestion on ``item_id``'s card (labels, scores, text), None when it shows none."""
        return self._card(item_id).get("suggestion") if self.show_predictions else None

    def perform(self, action: str, item_id: int, label: str | None, annotations: list[Any] | None = None,
                seconds: float | None = None) -> str:
        """A label or an answer is one ``task.submit`` (never a replacement), with its time on screen
        (``seconds``); a skip moves the item to the end."""
        name = self._name(item_id)
        if action == "skip":
            if len(self.queue) < 2:
                return "nothing else to go to"
            self.queue.remove(item_id)
            self.queue.append(item_id)
            self.history.append(("skip", item_id, None))
            return f"skipped {name}"
        if action == "submit":
            suggested = self.suggestion(item_id)
            if annotations is None and suggested is None and self.annotation_type == "class":
                return f"{name}: the model suggests no label here; press a label's key"
            if annotations is None and suggested is not None:   # Enter from code: the card as shown
                annotations = [{"kind": "class", "label": label} for label in suggested["labels"]]
            answer = answer_from_browser(annotations if annotations is not None else [])
            said = describe_answer(self.annotation_type, answer)
            if suggested is not None and sorted(str(d.label) for d in answer) == sorted(suggested["labels"]):
                said += " — the model's suggestion"
            if self.annotation_type == "class":
                label = _one_label(answer)
                status = self.task.submit(item_id, self.user_id, label, seconds=seconds)
                self.last_status = status
                raise Done(f"{name}: {said} ({status.replace('_', ' ')})", undo=label)
            status = self.task.submit(item_id, self.user_id, annotations=answer, seconds=seconds)
            self.last_status = status
            self._drafts.pop(item_id, None)
            raise Done(f"{name}: {said} ({status.replace('_', ' ')})", undo=[d.to_json() for d in answer])
        assert label is not None
        status = self.task.submit(item_id, self.user_id, label, seconds=seconds)
        self.last_status = status
        raise Done(f"{name}: {label} ({status.replace('_', ' ')})", undo=label)

    def take_back(self, action: str, item_id: int, what: Any) -> str:
        """Withdraw a label (``task.retract``), or bring a skipped item back to the front."""
        name = self._name(item_id)
        if action == "skip":
            return f"back to {name}"
        status = self.task.retract(item_id, self.user_id)
        self.done -= 1
        if action == "submit" and self.annotation_type != "class":   # class: a suggestion accepted is a label
            self._drafts[item_id] = what
            self._cards.pop(item_id, None)  # drawn again with the withdrawn answer
            said = describe_answer(self.annotation_type, answer_from_browser(what))
            return (f"{name}: your answer {said} is withdrawn ({status.replace('_', ' ')}); "
                    f"change it and press Enter, or skip")
        return (f"{name}: your label {html.unescape(str(what))!r} is withdrawn ({status.replace('_', ' ')}); "
                f"label it again, or skip")


def _one_label(answer: Sequence[Definition]) -> str:
    """The label of a class task's answer sent whole (a suggestion accepted): exactly one label.

    >>> from dltasks.domain.shapes import Classification
    >>> _one_label([Classification("cat")])
    'cat'
    >>> _one_label([])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: annotations: a class task takes one label (got [])
    """
    if len(answer) != 1 or answer[0].kind != "class" or not isinstance(answer[0].label, str):
        raise ValidationError("a class task takes one label", "annotations", [d.to_json() for d in answer])
    return answer[0].label
