"""Checking a task's options, once, for create and for update (a full overwrite).

Every bad value raises a ``ValidationError`` naming the field before anything is written.
:func:`build_spec` takes the options as ``dataset.tasks.create`` does and returns a
:class:`TaskSpec`; :func:`recheck` checks a spec again (the server does, on a decoded body).

Examples
--------
>>> spec = build_spec(task_name="t", assignee_ids=["a", "b"], workers_per_input=2, seed=1, due_date=0)
>>> spec.worker_strategy, spec.workers_per_input, spec.weights
('partitioned', 2, {'a': 1.0, 'b': 1.0})
>>> recheck(spec) == spec
True
"""
from __future__ import annotations

import datetime as _dt
import math
import random
from dataclasses import dataclass
from typing import Annotated, Any, Sequence, Union

import numpy as np

from dltasks import jsonutil
from dltasks.domain.checks import MAX_NAME, Rule, check_label, check_name, check_user_id, check_whole
from dltasks.domain.shapes import ANNOTATION_TYPES
from dltasks.domain.workflow import PRIORITIES, REVIEW_STRATEGIES, TASK_STATUSES, WORKER_STRATEGIES, check_actions
from dltasks.domain.values import MAX_METADATA_BYTES
from dltasks.domain.visibility import MAX_PATH, MAX_SHOWN_KEYS, check_show_metadata
from dltasks.errors import ValidationError
from dltasks.timeutil import from_epoch, now, to_epoch

__all__ = ["TaskSpec", "build_spec", "recheck", "options_of", "replan_needed", "rederive_needed",
           "check_has_items", "check_type_change", "is_overdue", "DEFAULT_DUE_DAYS", "PLAN_FIELDS", "STATUS_FIELDS"]

DEFAULT_DUE_DAYS = 7
#: The largest workers_per_input or approval threshold.
MAX_COUNT = 10_000
#: The largest weight.
MAX_WEIGHT = 1e12
#: The largest seed.
MAX_SEED = 2**63 - 1

_Ids = Annotated[list[str], Rule(max_length=10_000, item_max_length=MAX_NAME)]
_Short = Annotated[str, Rule(max_length=32)]


@dataclass(kw_only=True)
class TaskSpec:
    """A task's options after checking: what the tasks table stores (a task record adds ids and times)."""

    name: Annotated[str, Rule(max_length=MAX_NAME)]
    type: _Short
    due_date: _dt.datetime
    status: _Short
    priority: _Short
    worker_strategy: _Short
    workers_per_input: Annotated[int, Rule(ge=1, le=MAX_COUNT)]
    weights: dict[str, float]
    assignee_ids: _Ids
    review_strategy: _Short
    reviewer_ids: _Ids
    approval_threshold: Annotated[Union[int, None], Rule(ge=1, le=MAX_COUNT)]
    labels: Annotated[list[str], Rule(max_length=10_000, item_max_length=MAX_NAME)]
    available_actions: Annotated[list[dict[str, str]], Rule(max_length=100)]
    metadata: dict[str, Any]
    seed: Annotated[int, Rule(ge=0, le=MAX_SEED)]
    #: The ``metadata['user']`` keys workers and reviewers see (``None``: all but the hidden ones,
    #: :data:`dltasks.domain.visibility.HIDDEN_METADATA`).
    show_metadata: Annotated[Union[list[str], None], Rule(max_length=MAX_SHOWN_KEYS, item_max_length=MAX_PATH)] = None
    #: What each worker gives an item: one of :data:`dltasks.domain.shapes.ANNOTATION_TYPES`.
    annotation_type: _Short = "class"
    #: The IoU two shapes need to be matched (box and polygon tasks), in (0, 1].
    iou_threshold: float = 0.5
    #: What a shape (or a multi_class label) fewer than ``approval_threshold`` workers gave does:
    #: ``"outvoted"``, it is dropped once that many workers answered without it; ``"review"``, the
    #: item is approved only when every shape anybody gave is in a consensus cluster.
    unmatched: _Short = "outvoted"
    #: About this share of each worker's queue is gold items (known answers), in [0, 0.5].
    gold_rate: float = 0.0
    #: A worker whose gold accuracy is below this after ``min_gold_n`` gold answers is flagged
    #: (``None``: nobody is): their unworked items go to the others, their labels leave consensus.
    min_gold_accuracy: Union[float, None] = None
    min_gold_n: Annotated[int, Rule(ge=1, le=MAX_COUNT)] = 3
    #: ``worker_strategy="dynamic"``: an item without consensus gets one more worker, up to this many
    #: (it starts with ``workers_per_input``, the minimum).
    max_workers: Annotated[Union[int, None], Rule(ge=1, le=MAX_COUNT)] = None
    #: A qualification task a worker must pass before getting this task's items.
    qualification_task_id: Annotated[Union[str, None], Rule(max_length=64)] = None
    #: A qualification task's pass mark: the share of its gold items answered right.
    pass_accuracy: Union[float, None] = None
    #: The order a worker's queue is served in: ``"item"`` (item order), ``"uncertainty"`` (lowest
    #: model prediction margin first, :meth:`Task.import_predictions`).
    order: _Short = "item"


#: Changing any of these re-plans the items nobody has worked on.
PLAN_FIELDS = ("assignee_ids", "worker_strategy", "workers_per_input", "weights", "max_workers")
#: Changing any of these re-derives every item's status.
STATUS_FIELDS = PLAN_FIELDS + ("review_strategy", "approval_threshold", "iou_threshold", "unmatched",
                                "min_gold_accuracy", "min_gold_n")
#: How agreement is decided among shapes (and multi_class labels): a task option.
UNMATCHED = ("outvoted", "review")
#: The orders a worker's queue can be served in.
QUEUE_ORDERS = ("item", "uncertainty")
#: The largest share of a worker's queue that may be gold.
MAX_GOLD_RATE = 0.5


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


def _fraction(value: Any, fld: str) -> float:
    """A number in (0, 1]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 < float(value) <= 1:
        raise ValidationError("must be a number above 0 and at most 1", fld, value)
    return float(value)


def _whole(value: Any, fld: str, low: int = 1, high: int = MAX_COUNT) -> int:
    return check_whole(value, fld, low, high)


def _share(value: Any, fld: str, high: float = 1.0) -> float:
    """A number from 0 to ``high``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 <= float(value) <= high:
        raise ValidationError(f"must be a number from 0 to {high:g}", fld, value)
    return float(value)


def _quality(ttype: str, workers: list[str], gold_rate: Any, min_gold_accuracy: Any, min_gold_n: Any,
             qualification_task_id: Any, pass_accuracy: Any) -> dict[str, Any]:
    """The gold, flagging and qualification options, checked together."""
    rate = _share(gold_rate, "gold_rate", MAX_GOLD_RATE)
    low = None if min_gold_accuracy is None else _fraction(min_gold_accuracy, "min_gold_accuracy")
    n = _whole(min_gold_n, "min_gold_n")
    qual = None
    if qualification_task_id is not None:
        qual = getattr(qualification_task_id, "id", qualification_task_id)
        if not isinstance(qual, str) or not qual.strip() or len(qual) > 64:
            raise ValidationError("must be a qualification task (or its id)", "qualification", qualification_task_id)
        if ttype == "qualification":
            raise ValidationError("a qualification task cannot need another one", "qualification", qual)
    if ttype == "qualification":
        if pass_accuracy is None:
            raise ValidationError("a qualification task needs a pass mark", "pass_accuracy", None)
        if rate:
            raise ValidationError("a qualification task's items are all gold: no gold_rate", "gold_rate", rate)
        return {"gold_rate": 0.0, "min_gold_accuracy": None, "min_gold_n": n, "qualification_task_id": None,
                "pass_accuracy": _fraction(pass_accuracy, "pass_accuracy")}
    if pass_accuracy is not None:
        raise ValidationError("only applies to a qualification task (create_qualification_task)", "pass_accuracy",
                              pass_accuracy)
    return {"gold_rate": rate, "min_gold_accuracy": low, "min_gold_n": n, "qualification_task_id": qual,
            "pass_accuracy": None}


def _dynamic(strategy: str, k: int, min_workers: Any, max_workers: Any, workers: list[str], review: str
             ) -> tuple[int, int | None]:
    """``workers_per_input`` (the minimum, for dynamic overlap) and ``max_workers``, checked."""
    if strategy != "dynamic":
        for value, fld in ((min_workers, "min_workers"), (max_workers, "max_workers")):
            if value is not None:
                raise ValidationError('only applies to worker_strategy="dynamic"', fld, value)
        return k, None
    low = k if min_workers is None else _whole(min_workers, "min_workers")
    if workers and low > len(workers):
        raise ValidationError(f"cannot exceed the number of assignees ({len(workers)})", "min_workers", low)
    high = _whole(max_workers if max_workers is not None else max(low, min(5, len(workers) or low)), "max_workers")
    if high < low:
        raise ValidationError(f"cannot be below min_workers ({low})", "max_workers", high)
    if workers and high > len(workers):
        raise ValidationError(f"cannot exceed the number of assignees ({len(workers)})", "max_workers", high)
    if review != "consensus":
        raise ValidationError('dynamic overlap adds a worker when there is no consensus: use '
                              'review_strategy="consensus"', "review_strategy", review)
    return low, high


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
        raise ValidationError("names someone who is not an assignee", fld, unknown[0], key=unknown[0])
    missing = [u for u in workers if u not in weights]
    if missing:
        raise ValidationError("gives no weight for an assignee", fld, missing[0], key=missing[0])
    out: dict[str, float] = {}
    for u in workers:
        w = weights[u]
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, float, np.integer, np.floating)) \
                or not math.isfinite(float(w)) or w < 0 or float(w) > MAX_WEIGHT:
            raise ValidationError(f"the weight of {u!r} must be a finite number from 0 to {MAX_WEIGHT:g}", fld, w,
                                  key=u)
        out[u] = float(w)
    if workers and sum(out.values()) <= 0:
        raise ValidationError("all weights are zero", fld, weights)
    return out


def build_spec(*, task_name: Any, due_date: Any = None, assignee_ids: Any = None, workload: Any = None,
               worker_strategy: Any = None, workers_per_input: Any = 1, weights: Any = None,
               review_strategy: Any = "none", reviewer_ids: Any = None, approval_threshold: Any = None,
               labels: Any = None, available_actions: Any = None, priority: Any = "medium",
               metadata: Any = None, task_type: Any = "annotation", seed: Any = None,
               status: Any = "in_progress", show_metadata: Any = None, annotation_type: Any = "class",
               iou_threshold: Any = 0.5, unmatched: Any = "outvoted", gold_rate: Any = 0.0,
               min_gold_accuracy: Any = None, min_gold_n: Any = 3, min_workers: Any = None, max_workers: Any = None,
               qualification_task_id: Any = None, pass_accuracy: Any = None, order: Any = "item",
               default_labels: Sequence[str] = ()) -> TaskSpec:
    """Check every option; return the :class:`TaskSpec` to store.

    >>> spec = build_spec(task_name="t", assignee_ids=list("abcd"), worker_strategy="dynamic", min_workers=2,
    ...                   max_workers=4, review_strategy="consensus", reviewer_ids=["r"], approval_threshold=2)
    >>> spec.workers_per_input, spec.max_workers
    (2, 4)
    >>> build_spec(task_name="t", gold_rate=0.9)
    Traceback (most recent call last):
    dltasks.errors.ValidationError: gold_rate: must be a number from 0 to 0.5 (got 0.9)
    """
    name = check_name(task_name, "task_name")
    ttype = _choice(task_type, ("annotation", "qa", "qualification"), "task_type")
    due = now() + DEFAULT_DUE_DAYS * 86400 if due_date is None else to_epoch(due_date, "due_date")
    if workload is not None and assignee_ids is None and hasattr(workload, "to_weights"):
        assignee_ids = list(workload.to_weights())
    workers = _ids(assignee_ids, "assignee_ids")
    strategy = "partitioned" if worker_strategy is None else _choice(worker_strategy, WORKER_STRATEGIES, "worker_strategy")
    if ttype == "qualification":  # every worker answers every gold item
        strategy = "full"
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
    k, most = _dynamic(strategy, k, min_workers, max_workers, workers, review)
    reviewers = _ids(reviewer_ids, "reviewer_ids")
    if review in ("manual", "consensus") and not reviewers:
        raise ValidationError(f"the {review} review strategy needs reviewer_ids", "reviewer_ids", reviewer_ids)
    threshold = None
    if review == "consensus":
        if approval_threshold is None:
            raise ValidationError("the consensus review strategy needs an approval threshold",
                                  "approval_threshold", None)
        threshold = _whole(approval_threshold, "approval_threshold")
        if threshold > (most or k):
            raise ValidationError(f"cannot exceed {'max_workers' if most else 'workers_per_input'} ({most or k}): "
                                  "no item would get that many votes", "approval_threshold", threshold)
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
    jsonutil.dumps(meta, "metadata", max_bytes=MAX_METADATA_BYTES)
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
    seed = _whole(seed, "seed", low=0, high=MAX_SEED)
    return TaskSpec(
        name=name, type=ttype, due_date=from_epoch(due), assignee_ids=workers, worker_strategy=strategy,
        workers_per_input=k, weights=wts, review_strategy=review, reviewer_ids=reviewers,
        approval_threshold=threshold, labels=lbls, available_actions=check_actions(available_actions, ttype),
        priority=_choice(priority, PRIORITIES, "priority"), metadata=meta, seed=seed,
        status=_choice(status, TASK_STATUSES, "status"),
        show_metadata=check_show_metadata(show_metadata, "show_metadata"),
        annotation_type=_choice(annotation_type, ANNOTATION_TYPES, "annotation_type"),
        iou_threshold=_fraction(iou_threshold, "iou_threshold"), unmatched=_choice(unmatched, UNMATCHED, "unmatched"),
        max_workers=most, order=_choice(order, QUEUE_ORDERS, "order"),
        **_quality(ttype, workers, gold_rate, min_gold_accuracy, min_gold_n, qualification_task_id, pass_accuracy),
    )


def options_of(spec: TaskSpec) -> dict[str, Any]:
    """The :func:`build_spec` options that give ``spec`` back (a task record's too: ``task.update()``)."""
    return {"task_name": spec.name, "task_type": spec.type, "due_date": spec.due_date, "status": spec.status,
            "priority": spec.priority, "assignee_ids": list(spec.assignee_ids),
            "worker_strategy": spec.worker_strategy, "workers_per_input": spec.workers_per_input,
            "weights": dict(spec.weights) if spec.worker_strategy != "full" else None,
            "review_strategy": spec.review_strategy, "reviewer_ids": list(spec.reviewer_ids),
            "approval_threshold": spec.approval_threshold, "labels": list(spec.labels),
            "available_actions": [dict(a) for a in spec.available_actions], "metadata": spec.metadata,
            "seed": spec.seed,
            "show_metadata": spec.show_metadata,  # checked (and copied) by build_spec
            "annotation_type": spec.annotation_type, "iou_threshold": spec.iou_threshold, "unmatched": spec.unmatched,
            "gold_rate": spec.gold_rate, "min_gold_accuracy": spec.min_gold_accuracy, "min_gold_n": spec.min_gold_n,
            "max_workers": spec.max_workers, "qualification_task_id": spec.qualification_task_id,
            "pass_accuracy": spec.pass_accuracy, "order": spec.order}


def recheck(spec: Any, field: str = "spec") -> TaskSpec:
    """Check a spec again (e.g. one decoded from a request body); return it as build_spec makes it."""
    if not isinstance(spec, TaskSpec):
        raise ValidationError("must be a TaskSpec from build_spec", field, type(spec).__name__)
    return build_spec(**options_of(spec))


def replan_needed(old: TaskSpec, new: TaskSpec) -> bool:
    """Whether an overwrite changes who may get the items nobody has worked on."""
    return any(getattr(old, k) != getattr(new, k) for k in PLAN_FIELDS)


def rederive_needed(old: TaskSpec, new: TaskSpec) -> bool:
    """Whether an overwrite changes how item statuses are derived."""
    return any(getattr(old, k) != getattr(new, k) for k in STATUS_FIELDS)


def check_type_change(old: TaskSpec, new: TaskSpec, answered: bool) -> None:
    """A task's annotation type changes only before anybody answered (answers of one type stay one type).

    >>> a = build_spec(task_name="t", seed=1, due_date=0)
    >>> check_type_change(a, build_spec(task_name="t", seed=1, due_date=0, annotation_type="box"), answered=True)
    Traceback (most recent call last):
    dltasks.errors.ValidationError: annotation_type: cannot change from 'class' once workers have answered: create a new task (got 'box')
    """
    if answered and new.annotation_type != old.annotation_type:
        raise ValidationError(f"cannot change from {old.annotation_type!r} once workers have answered: create a "
                              "new task", "annotation_type", new.annotation_type)


def check_has_items(n_items: int, spec: TaskSpec, field: str, value: Any) -> None:
    """A task with assignees must have items to give them (``field``/``value``: what chose the items)."""
    if n_items == 0 and spec.assignee_ids:
        raise ValidationError("selects no items, so the assignees would get nothing to do", field, value)


def is_overdue(due_date: _dt.datetime, status: str) -> bool:
    """A task is overdue when its due date has passed and it is not finished."""
    return status == "in_progress" and due_date.timestamp() < now()
