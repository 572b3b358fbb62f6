"""Pure rules of the work flow: strategies, default actions, and an item's status in a task.

Examples
--------
>>> item_status("consensus", 2, n_assigned=3, votes={"cat": 2, "dog": 1}, n_done=3)
'approved'
>>> item_status("consensus", 2, n_assigned=3, votes={"cat": 1}, n_done=1)
'awaiting_consensus'
>>> item_status("consensus", 2, n_assigned=3, votes={"cat": 1, "dog": 1, "cow": 1}, n_done=3)
'awaiting_review'
>>> item_status("manual", None, n_assigned=1, votes={"cat": 1}, n_done=1)
'awaiting_review'
>>> item_status("none", None, n_assigned=2, votes={"cat": 1}, n_done=1)
'pending'
"""
from __future__ import annotations

from typing import Any, Mapping

from dltasks.domain.values import text_problem
from dltasks.errors import ConflictError, ValidationError

__all__ = [
    "WORKER_STRATEGIES",
    "REVIEW_STRATEGIES",
    "PRIORITIES",
    "TASK_STATUSES",
    "ITEM_STATUSES",
    "default_actions",
    "check_actions",
    "item_status",
    "consensus_reached",
    "derive_item_status",
    "check_label_in_task",
    "check_status_action",
    "check_not_decided",
    "check_no_label_yet",
    "check_reopenable",
    "check_generic_change",
    "check_review_label",
    "top_label",
]

WORKER_STRATEGIES = ("full", "partitioned", "dynamic")
REVIEW_STRATEGIES = ("none", "manual", "consensus")
PRIORITIES = ("low", "medium", "high")
TASK_STATUSES = ("in_progress", "done", "wont_do")
ITEM_STATUSES = ("pending", "awaiting_consensus", "awaiting_review", "completed", "approved", "rejected",
                 "discarded")
#: Statuses after which an item counts as "completed items" for a QA task.
COMPLETED = ("completed", "approved")

_DEFAULT_ACTIONS = {
    "annotation": [{"name": "completed", "display_name": "Completed", "color": "#2e7d32"},
                   {"name": "discard", "display_name": "Discard", "color": "#9e9e9e"}],
    "qa": [{"name": "approved", "display_name": "Approved", "color": "#2e7d32"},
           {"name": "discard", "display_name": "Discard", "color": "#9e9e9e"}],
    # a qualification task's items are all gold: a worker answers each, nothing else
    "qualification": [{"name": "completed", "display_name": "Completed", "color": "#2e7d32"}],
}


def default_actions(task_type: str) -> list[dict[str, str]]:
    """The statuses every task of ``task_type`` offers."""
    return [dict(a) for a in _DEFAULT_ACTIONS[task_type]]


def check_actions(actions: Any, task_type: str) -> list[dict[str, str]]:
    """Defaults plus custom statuses (names or ``{name, display_name, color}`` dicts)."""
    out = default_actions(task_type)
    if actions is None:
        return out
    if isinstance(actions, (str, dict)):
        actions = [actions]
    names = {a["name"] for a in out}
    for a in actions:
        if isinstance(a, str):
            a = {"name": a}
        if not isinstance(a, dict) or not isinstance(a.get("name"), str) or not a["name"].strip() \
                or any(not isinstance(a.get(k) or "", str) or len(a.get(k) or "") > 255 or text_problem(a.get(k) or "")
                       for k in ("name", "display_name", "color")):
            raise ValidationError("each action is a name or a dict with a 'name' (and optional 'display_name', "
                                  "'color'): strings of at most 255 characters", "available_actions", a)
        name = a["name"].strip()
        if name in ITEM_STATUSES and name not in names:
            raise ValidationError("this name is a built-in item status", "available_actions", name)
        if name in names:
            continue
        names.add(name)
        out.append({"name": name, "display_name": str(a.get("display_name") or name.replace("_", " ").title()),
                    "color": str(a.get("color") or "#1565c0")})
    return out


def check_label_in_task(label: str, task_labels: list[str]) -> None:
    """A label given in a task must be one of the task's labels (any label when it has none).

    >>> check_label_in_task("owl", ["cat", "dog"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: label: is not one of this task's labels ['cat', 'dog'] (got 'owl')
    """
    if task_labels and label not in task_labels:
        raise ValidationError(f"is not one of this task's labels {task_labels}", "label", label)


def check_review_label(approve: bool, label: str | None, task_labels: list[str]) -> None:
    """A reviewer's label corrects an approval: one of the task's labels, and never on a rejection.

    >>> check_review_label(True, "dog", ["cat", "dog"])
    >>> check_review_label(False, "dog", ["cat", "dog"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: label: a rejection takes no label (got 'dog')
    """
    if label is None:
        return
    if not approve:
        raise ValidationError("a rejection takes no label", "label", label)
    check_label_in_task(label, task_labels)


def top_label(votes: Mapping[str, int]) -> str | None:
    """The label most workers gave (``None`` when there are no votes or the top is a tie).

    >>> top_label({"cat": 2, "dog": 1}), top_label({"cat": 1, "dog": 1}), top_label({})
    ('cat', None, None)
    """
    if not votes:
        return None
    most = max(votes.values())
    tops = [label for label, n in votes.items() if n == most]
    return tops[0] if len(tops) == 1 else None


def check_status_action(status: str, actions: list[dict[str, str]]) -> str:
    """The assignment status stored for a worker's action (``completed`` is stored as ``done``).

    >>> check_status_action("completed", default_actions("annotation"))
    'done'
    """
    names = [a["name"] for a in actions]
    if status not in names:
        raise ValidationError(f"is not an action of this task ({names})", "status", status)
    return "done" if status == "completed" else status


def check_not_decided(status: str, item_id: int, decided_by: str) -> None:
    """Decided is decided: an approved item's labels and statuses change only after a reviewer reopens it.

    >>> check_not_decided("approved", 7, "rev@example.com")
    Traceback (most recent call last):
    dltasks.errors.ConflictError: item 7 was approved by rev@example.com: its labels cannot change now; a reviewer can reopen it (task.reopen(item_id, reviewer_id))
    """
    if status == "approved":
        raise ConflictError(f"item {item_id} was approved by {decided_by}: its labels cannot change now; a reviewer "
                            "can reopen it (task.reopen(item_id, reviewer_id))")


def check_no_label_yet(old_label: str | None, replace: bool, item_id: int, user_id: str) -> None:
    """Nothing is overwritten silently: a worker's second label on an item needs ``replace=True``.

    >>> check_no_label_yet("cat", False, 7, "ann")
    Traceback (most recent call last):
    dltasks.errors.ConflictError: ann already labelled item 7 as 'cat': pass replace=True to change the label
    """
    if old_label is not None and not replace:
        raise ConflictError(f"{user_id} already labelled item {item_id} as {old_label!r}: pass replace=True to "
                            "change the label")


def check_reopenable(status: str, item_id: int) -> None:
    """Only a decided item (approved or rejected) can be reopened.

    >>> check_reopenable("awaiting_review", 3)
    Traceback (most recent call last):
    dltasks.errors.ValidationError: item_id: is not approved or rejected (its status is 'awaiting_review'), so there is nothing to reopen (got 3)
    """
    if status not in ("approved", "rejected"):
        raise ValidationError(f"is not approved or rejected (its status is {status!r}), so there is nothing to "
                              "reopen", "item_id", item_id)


def check_generic_change(task_id: str | None, annotation_id: int) -> None:
    """A label given in a task changes only through the task's work (which checks it and re-derives the status).

    >>> check_generic_change("t1", 5)
    Traceback (most recent call last):
    dltasks.errors.ConflictError: annotation 5 is a label of task 't1': change it with task.submit(item_id, user_id, label, replace=True) or withdraw it with task.retract(item_id, user_id)
    """
    if task_id is not None:
        raise ConflictError(f"annotation {annotation_id} is a label of task {task_id!r}: change it with "
                            "task.submit(item_id, user_id, label, replace=True) or withdraw it with "
                            "task.retract(item_id, user_id)")


def consensus_reached(votes: Mapping[str, int], threshold: int) -> str | None:
    """The label with >= ``threshold`` votes when no other label also has that many."""
    over = [label for label, n in votes.items() if n >= threshold]
    return over[0] if len(over) == 1 else None


def item_status(review_strategy: str, threshold: int | None, n_assigned: int, votes: Mapping[str, int],
                n_done: int, agreed: bool | None = None) -> str:
    """An item's status in a task from its workers' progress and labels (before any review).

    ``agreed`` says whether the answers agree, for tasks whose answers are not one label
    (:func:`dltasks.agreement.agreed_items`); without it, one label must reach the threshold.
    """
    all_in = n_assigned > 0 and n_done >= n_assigned
    if review_strategy == "consensus":
        if agreed is None:
            agreed = threshold is not None and consensus_reached(votes, threshold) is not None
        if agreed:
            return "approved"
        if all_in:
            return "awaiting_review"
        return "awaiting_consensus" if n_done else "pending"
    if not all_in:
        return "pending"
    return "awaiting_review" if review_strategy == "manual" else "completed"


def derive_item_status(review_strategy: str, threshold: int | None, worker_statuses: list[str],
                       votes: Mapping[str, int], review_decision: str | None = None, agreed: bool | None = None
                       ) -> str:
    """An item's status from its worker assignment statuses, labels and any review decision.

    >>> derive_item_status("none", None, ["done", "pending"], {"cat": 1})
    'pending'
    >>> derive_item_status("manual", None, ["done"], {"cat": 1}, review_decision="rejected")
    'rejected'
    >>> derive_item_status("none", None, ["discard"], {})
    'discarded'
    """
    if review_decision in ("approved", "rejected"):
        return review_decision
    if review_decision == "reopened":  # a reviewer decides again: consensus does not re-approve it
        review_strategy = "manual"
    if "discard" in worker_statuses:
        return "discarded"
    if "approved" in worker_statuses:
        return "approved"
    custom = [s for s in worker_statuses if s not in ("pending", "done", "completed")]
    if custom:
        return custom[0]
    n_done = sum(s in ("done", "completed") for s in worker_statuses)
    return item_status(review_strategy, threshold, len(worker_statuses), votes, n_done, agreed)
