"""ReviewWidget: a reviewer's queue of items awaiting review, with the workers' labels, by keyboard."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from dltasks.widgets.answer_tools import (CONSENSUS_COLOUR, answers_by_worker, consensus_of, describe_answer,
                                          item_answers, overlay)
from dltasks.widgets.work_queue import Binding, Done, WorkQueueWidget

__all__ = ["ReviewWidget", "proposal"]

_log = logging.getLogger(__name__)


def proposal(labels: list[str]) -> tuple[str | None, str]:
    """The label most workers gave (None on a tie or without labels) and a sentence saying so.

    >>> proposal(["cat", "cat", "dog"])
    ('cat', 'cat: 2 of 3 workers')
    >>> proposal(["cat", "dog"])
    (None, 'a tie (cat, dog): choose the label with its key')
    >>> proposal([])
    (None, 'no labels yet')
    """
    if not labels:
        return None, "no labels yet"
    counts = Counter(labels).most_common()
    top = [label for label, n in counts if n == counts[0][1]]
    if len(top) > 1:
        return None, f"a tie ({', '.join(sorted(top))}): choose the label with its key"
    return top[0], f"{top[0]}: {counts[0][1]} of {len(labels)} workers"


class ReviewWidget(WorkQueueWidget):
    """Approve or reject the items of ``task`` awaiting review, as reviewer ``user_id``.

    Shows the item at the labeller's size with each worker's label and the label most of them
    gave.  Keys (shown on the buttons): ``a`` approves that label; ``1``-``9`` approve with
    that label instead (a correction, recorded as such: ``task.review(..., label=…)``);
    ``r`` rejects (the item goes back to its workers); ``u`` undoes the last decision
    (``task.reopen``: the item awaits review again).  Each decision concerns the item that
    was on screen when the key was pressed.

    On a task that is not a class task there is no correction label: ``a`` approves, ``r``
    rejects, ``u`` undoes, and the card shows each worker's answer.  On a box or polygon task
    the picture shows every worker's shapes, one colour per worker (the legend names them),
    and the consensus shapes dashed in black (``dltasks.agreement.consensus_shapes``: shapes
    matched by at least the task's ``approval_threshold`` workers at its ``iou_threshold``;
    a majority of the workers when the task has no threshold).

    >>> import dltasks as dl, pandas as pd
    >>> store = dl.connect("sqlite://")
    >>> ds = store.datasets.create("notes", labels=["good", "bad"])
    >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.txt"], "user.text": ["meh"]}))
    >>> task = ds.tasks.create("triage", assignee_ids=["ann"], review_strategy="manual",
    ...                        reviewer_ids=["rita"])
    >>> _ = task.submit(1, "ann", "good")
    >>> w = ReviewWidget(task, "rita")
    >>> w.press("2")
    'a.txt (#1): approved as bad (a correction: the workers said good)'
    >>> task.items_df()["label"].tolist()
    ['bad']
    """

    def __init__(self, task: Any, user_id: str, **kwargs: Any) -> None:
        #: Items decided in this widget.
        self.reviewed = 0
        #: The task's annotation type (a correction label applies to class tasks only).
        self.annotation_type: str = task.annotation_type
        self._proposals: dict[int, str | None] = {}
        super().__init__(task, user_id, heading=f"Review — {task.name}", subheading=f"as {user_id}",
                         css_class="dlt-review" + (" dlt-shapes" if self.annotation_type in ("box", "polygon") else ""),
                         empty_text="No items awaiting review.", **kwargs)
        if user_id not in task.reviewer_ids:
            self._note("error", f"{user_id} is not a reviewer of this task")

    def bindings(self) -> list[Binding]:
        """a (approve), 1-9 (approve as that label: class tasks only), r (reject), u (undo)."""
        corrections = [Binding(str(i + 1) if i < 9 else "", "correct", label, label)
                       for i, label in enumerate(self.task.labels) if self.annotation_type == "class"]
        return [Binding("a", "approve", None, "Approve", style="approve"), *corrections,
                Binding("r", "reject", None, "Reject", style="reject"),
                Binding("u", "undo", None, "Undo", on_item=False)]

    def approve(self) -> str:
        """Approve the item on screen as the workers labelled it; return the note shown."""
        return self.act("approve", self.item_id)

    def reject(self) -> str:
        """Reject the item on screen (it goes back to its workers); return the note shown."""
        return self.act("reject", self.item_id)

    def correct(self, label: str) -> str:
        """Approve the item on screen with ``label``; return the note shown."""
        return self.act("correct", self.item_id, label)

    def undo(self) -> str:
        """Take back the last decision made here; return the note shown."""
        return self.act("undo")

    # -- the store ------------------------------------------------------------------------------
    def read_queue(self) -> tuple[list[int], int, int]:
        """The items awaiting review, in item order."""
        items = self.task.statuses_df()
        waiting = items.loc[items["status"] == "awaiting_review", "item_id"].astype(int).tolist()
        return waiting, self.reviewed, len(waiting) + self.reviewed

    def details(self, item: Any) -> list[tuple[str, dict[str, Any]]]:
        """The workers' labels, the proposal, and the metadata the task shows."""
        if self.annotation_type != "class":
            by_worker = answers_by_worker(item_answers(self.dataset.annotations.of_item(int(item.id)), self.task.id))
            answers = {w: describe_answer(self.annotation_type, a) for w, a in by_worker.items()}
            return [("Answers given", answers), ("Metadata", dict(self.task.visible_metadata(item)))]
        votes = {a.author: a.label for a in self.dataset.annotations.of_item(int(item.id))
                 if a.task_id == self.task.id}
        label, sentence = proposal(list(votes.values()))
        self._proposals[int(item.id)] = label
        return [("Approve (a) gives", {"label": sentence}), ("Labels given", votes),
                ("Metadata", dict(self.task.visible_metadata(item)))]

    def extras(self, item: Any) -> dict[str, Any]:
        """On a box or polygon task: every worker's shapes and the consensus, drawn on the picture."""
        if self.annotation_type not in ("box", "polygon"):
            return {}
        answers = item_answers(self.dataset.annotations.of_item(int(item.id)), self.task.id)
        by_worker = answers_by_worker(answers)
        threshold = self.task.approval_threshold or len(by_worker) // 2 + 1
        try:
            consensus = consensus_of(answers, threshold, self.task.iou_threshold) if by_worker else []
        except Exception:  # the workers' shapes are still worth seeing: say so, draw them
            _log.exception("review: the consensus of item %s could not be computed", item.id)
            consensus = None
        shapes, legend = overlay(by_worker, consensus, threshold)
        if consensus is None:
            legend.append(["consensus", CONSENSUS_COLOUR, "not available"])
        return {"shapes": shapes, "legend": legend}

    def perform(self, action: str, item_id: int, label: str | None, annotations: list[Any] | None = None,
                seconds: float | None = None) -> str:
        """One ``task.review``: approve, approve with a label (a correction), or reject.  The time on
        screen (``seconds``) is kept in :attr:`timings` only: the store does not take it for reviews."""
        name = self._name(item_id)
        proposed = self._proposals.get(item_id)
        if self.annotation_type != "class" and action != "reject":
            self.task.review(item_id, self.user_id, approve=True)
            self.reviewed += 1
            raise Done(f"{name}: approved", undo=action)
        if action == "approve" and proposed is None:
            return f"{name}: the workers do not agree; choose the label with its key (1-9)"
        if action == "reject":
            self.task.review(item_id, self.user_id, approve=False)
            note = f"{name}: rejected (back to its workers)"
        elif action == "correct" and label != proposed:
            self.task.review(item_id, self.user_id, approve=True, label=label)
            note = f"{name}: approved as {label} (a correction: the workers said {proposed or 'no one label'})"
        else:
            self.task.review(item_id, self.user_id, approve=True)
            note = f"{name}: approved as {proposed}"
        self.reviewed += 1
        raise Done(note, undo=action)

    def take_back(self, action: str, item_id: int, what: Any) -> str:
        """A decision is taken back with ``task.reopen``: the item awaits review again."""
        status = self.task.reopen(item_id, self.user_id)
        self.reviewed -= 1
        return f"{self._name(item_id)}: your decision is taken back ({status.replace('_', ' ')})"

    def counter_text(self) -> str:
        """How many items wait, and how many were reviewed here."""
        return f"{len(self.queue):,} awaiting review · {self.reviewed} reviewed here"
