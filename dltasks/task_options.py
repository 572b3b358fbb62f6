"""Checking a task's options, once, for create and for update (a full overwrite).

Every bad value raises a ``ValidationError`` naming the field before anything is written.
"""
from __future__ import annotations

import datetime as _dt
import random
from dataclasses import dataclass, field
from typing import Any, Sequence

from dltasks import jsonutil
from dltasks.annotations import check_label
from dltasks.errors import ValidationError
from dltasks.timeutil import now, to_epoch
from dltasks.users import check_user_id
from dltasks.workflow import PRIORITIES, REVIEW_STRATEGIES, TASK_STATUSES, WORKER_STRATEGIES, check_actions

__all__ = ["TaskSpec", "build_spec", "DEFAULT_DUE_DAYS"]

DEFAULT_DUE_DAYS = 7


@dataclass
class TaskSpec:
    """A task's options after checking (what the tasks table stores)."""

    name: str
    task_type: str
    due_date: float
    assignee_ids: list[str]
    worker_strategy: str
    workers_per_input: int
    weights: dict[str, float]
    review_strategy: str
    reviewer_ids: list[str]
    approval_threshold: int | None
    labels: list[str]
    available_actions: list[dict[str, str]]
    priority: str
    metadata: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    status: str = "in_progress"


def _choice(value: Any, allowed: Sequence[str], fld: str) -> str:
    name = getattr(value, "value", value)
    if not isinstance(name, str) or name.strip().lower() not in allowed:
        raise ValidationError(f"use one of {list(allowed)}", fld, value)
    return name.strip().lower()


def _ids(values: Any, fld: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    ids = [check_user_id(v, fld) for v in values]
    dup = [u for i, u in enumerate(ids) if u in ids[:i]]
    if dup:
        raise ValidationError("lists a user twice", fld, dup[0])
    return ids


def _whole(value: Any, fld: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"must be a whole number >= {low}", fld, value)
    return value


def _weights(weights: Any, workload: Any, workers: list[str]) -> dict[str, float]:
    if weights is not None and workload is not None:
        raise ValidationError("give weights or workload, not both", "workload", workload)
    if workload is not None:
        weights = workload.to_weights() if hasattr(workload, "to_weights") else workload
        fld = "workload"
    else:
        fld = "weights"
    if weights is None:
        return {u: 1.0 for u in workers}
    if not isinstance(weights, dict):
        raise ValidationError("must be a dict {assignee_id: weight}", fld, weights)
    unknown = [u for u in weights if u not in workers]
    if unknown:
        raise ValidationError("names someone who is not an assignee", fld, unknown[0])
    missing = [u for u in workers if u not in weights]
    if missing:
        raise ValidationError("gives no weight for an assignee", fld, missing[0])
    out: dict[str, float] = {}
    for u in workers:
        w = weights[u]
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not w == w or w < 0 or w == float("inf"):
            raise ValidationError(f"the weight of {u!r} must be a finite number >= 0", fld, w)
        out[u] = float(w)
    if workers and sum(out.values()) <= 0:
        raise ValidationError("all weights are zero", fld, weights)
    return out


def build_spec(*, task_name: Any, due_date: Any = None, assignee_ids: Any = None, workload: Any = None,
               worker_strategy: Any = None, workers_per_input: Any = 1, weights: Any = None,
               review_strategy: Any = "none", reviewer_ids: Any = None, approval_threshold: Any = None,
               labels: Any = None, available_actions: Any = None, priority: Any = "medium",
               metadata: Any = None, task_type: Any = "annotation", seed: Any = None,
               status: Any = "in_progress", default_labels: Sequence[str] = ()) -> TaskSpec:
    """Check every option; return the :class:`TaskSpec` to store."""
    if not isinstance(task_name, str) or not task_name.strip() or len(task_name) > 255:
        raise ValidationError("must be a non-empty string (at most 255 characters)", "task_name", task_name)
    ttype = _choice(task_type, ("annotation", "qa"), "task_type")
    due = now() + DEFAULT_DUE_DAYS * 86400 if due_date is None else to_epoch(due_date, "due_date")
    if workload is not None and assignee_ids is None and hasattr(workload, "to_weights"):
        assignee_ids = list(workload.to_weights())
    workers = _ids(assignee_ids, "assignee_ids")
    strategy = "partitioned" if worker_strategy is None else _choice(worker_strategy, WORKER_STRATEGIES, "worker_strategy")
    k = _whole(workers_per_input, "workers_per_input")
    if strategy == "full":
        if weights is not None or workload is not None:
            raise ValidationError("weights only apply to the partitioned strategy", "weights", weights or workload)
        k = max(1, len(workers))
        wts = {u: 1.0 for u in workers}
    else:
        if workers and k > len(workers):
            raise ValidationError(f"cannot exceed the number of assignees ({len(workers)})", "workers_per_input", k)
        wts = _weights(weights, workload, workers)
    review = _choice(review_strategy, REVIEW_STRATEGIES, "review_strategy")
    reviewers = _ids(reviewer_ids, "reviewer_ids")
    if review in ("manual", "consensus") and not reviewers:
        raise ValidationError(f"the {review} review strategy needs reviewer_ids", "reviewer_ids", reviewer_ids)
    threshold = None
    if review == "consensus":
        if approval_threshold is None:
            raise ValidationError("the consensus review strategy needs an approval threshold",
                                  "approval_threshold", None)
        threshold = _whole(approval_threshold, "approval_threshold")
        if threshold > k:
            raise ValidationError(f"cannot exceed workers_per_input ({k}): no item would get that many votes",
                                  "approval_threshold", threshold)
    elif approval_threshold is not None:
        raise ValidationError("only applies to the consensus review strategy", "approval_threshold", approval_threshold)
    if labels is None:
        lbls = list(default_labels)
    else:
        if isinstance(labels, str):
            labels = [labels]
        lbls = list(dict.fromkeys(check_label(lbl, "labels") for lbl in labels))
    meta = {} if metadata is None else metadata
    if not isinstance(meta, dict):
        raise ValidationError("must be a dict", "metadata", meta)
    jsonutil.check_jsonable(meta, "metadata")
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    seed = _whole(seed, "seed", low=0)
    return TaskSpec(
        name=task_name.strip(), task_type=ttype, due_date=due, assignee_ids=workers, worker_strategy=strategy,
        workers_per_input=k, weights=wts, review_strategy=review, reviewer_ids=reviewers,
        approval_threshold=threshold, labels=lbls, available_actions=check_actions(available_actions, ttype),
        priority=_choice(priority, PRIORITIES, "priority"), metadata=meta, seed=seed,
        status=_choice(status, TASK_STATUSES, "status"),
    )


def is_overdue(due_date: _dt.datetime, status: str) -> bool:
    """A task is overdue when its due date has passed and it is not finished."""
    return status == "in_progress" and due_date.timestamp() < now()
