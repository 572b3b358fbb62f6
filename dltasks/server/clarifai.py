"""Clarifai task JSON ⇄ dltasks task options (pure: no web framework, no store).

Both field forms of Clarifai's API are read; when a body gives both, the newer wins:
``worker.workers`` over ``worker.users`` over ``worker.user_ids``; ``concepts`` over
``concept_ids``; ``review.users`` over ``review.user_ids``;
``consensus_strategy_info.approval_threshold_labelers`` over ``approval_threshold``.

Examples
--------
>>> body = {"type": "CONCEPTS_CLASSIFICATION", "name": "Annotate water",
...         "worker": {"strategy": "PARTITIONED", "users": [{"id": "a"}, {"id": "b"}],
...                    "partitioned_strategy_info": {"type": "WEIGHTED", "workers_per_input": 1,
...                                                  "weights": {"a": 90, "b": 10}}},
...         "concept_ids": ["water"], "input_source": {"type": "ALL_INPUTS"},
...         "review": {"strategy": "NONE"}}
>>> parsed = parse_task(body)
>>> parsed.options["assignee_ids"], parsed.options["weights"], parsed.options["labels"]
(['a', 'b'], {'a': 90.0, 'b': 10.0}, ['water'])
>>> parsed.paths["weights"]
'tasks[0].worker.partitioned_strategy_info.weights'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dltasks.errors import ValidationError

__all__ = ["ClarifaiTask", "parse_task", "task_to_clarifai", "rename_field", "TASK_TYPES", "TASK_STATUS_CODES"]

TASK_TYPES = ("CONCEPTS_CLASSIFICATION", "BOUNDING_BOX_DETECTION", "POLYGON_DETECTION", "TYPE_NOT_SET")
#: A Clarifai task type as a dltasks annotation type, and back (multi_class and text have no type of their own).
ANNOTATION_TYPE_OF = {"CONCEPTS_CLASSIFICATION": "class", "BOUNDING_BOX_DETECTION": "box",
                      "POLYGON_DETECTION": "polygon", "TYPE_NOT_SET": "class"}
CLARIFAI_TYPE_OF = {"class": "CONCEPTS_CLASSIFICATION", "multi_class": "CONCEPTS_CLASSIFICATION",
                    "box": "BOUNDING_BOX_DETECTION", "polygon": "POLYGON_DETECTION", "text": "TYPE_NOT_SET"}
WORKER_STRATEGIES = ("FULL", "PARTITIONED", "DYNAMIC", "WORKER_STRATEGY_NOT_SET")
PARTITION_TYPES = ("EVENLY", "WEIGHTED", "PARTITIONED_WORKER_STRATEGY_NOT_SET")
REVIEW_STRATEGIES = ("NONE", "MANUAL", "CONSENSUS", "REVIEW_STRATEGY_NOT_SET")
INPUT_SOURCES = ("ALL_INPUTS", "DATASET")
PRIORITIES = ("LOW", "MEDIUM", "HIGH", "TASK_PRIORITY_NOT_SET")

#: Clarifai task status codes (name, number, description) by dltasks task status.
TASK_STATUS_CODES = {
    "in_progress": ("TASK_IN_PROGRESS", 54001, "The task was created"),
    "done": ("TASK_DONE", 54002, "The task is completed"),
    "wont_do": ("TASK_WONT_DO", 54003, "The task is marked as abandoned"),
}
_STATUS_BY_CODE = {v[0]: k for k, v in TASK_STATUS_CODES.items()} | {v[1]: k for k, v in TASK_STATUS_CODES.items()}


@dataclass
class ClarifaiTask:
    """A Clarifai task body read into dltasks terms.

    ``options`` are keyword arguments of ``dataset.tasks.create``; ``source`` is
    ``("ALL_INPUTS", None)`` or ``("DATASET", id)``; ``paths`` maps each dltasks option
    name to the JSON path the body used for it (for error messages).
    """

    options: dict[str, Any]
    source: tuple[str, str | None]
    status: str | None
    clarifai: dict[str, Any]
    paths: dict[str, str] = field(default_factory=dict)


def _first(data: dict[str, Any], *names: str) -> tuple[str | None, Any]:
    for name in names:
        if data.get(name) is not None:
            return name, data[name]
    return None, None


def _user_ids(kind: str | None, values: Any) -> list[str]:
    if kind is None:
        return []
    if kind == "workers":
        return [w["user"]["id"] for w in values]
    if kind == "users":
        return [u["id"] for u in values]
    return list(values)


def _choice(value: Any, allowed: tuple[str, ...], path: str, default: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str) or value not in allowed:
        raise ValidationError(f"use one of {list(allowed)}", path, value)
    return value


def parse_task(data: dict[str, Any], where: str = "tasks[0]") -> ClarifaiTask:
    """Read one Clarifai task (a dict of JSON data) into dltasks task options."""
    paths: dict[str, str] = {"task_name": f"{where}.name", "metadata": f"{where}.metadata",
                             "priority": f"{where}.priority", "status": f"{where}.status.code",
                             "filters": f"{where}.input_source", "items": f"{where}.input_source"}
    ttype = _choice(data.get("type"), TASK_TYPES, f"{where}.type", "CONCEPTS_CLASSIFICATION")
    clarifai: dict[str, Any] = {"type": ttype}
    # -- workers ----------------------------------------------------------------------------
    worker = data.get("worker") or {}
    strategy = _choice(worker.get("strategy"), WORKER_STRATEGIES, f"{where}.worker.strategy", "WORKER_STRATEGY_NOT_SET")
    wkind, wvalues = _first(worker, "workers", "users", "user_ids")
    workers = _user_ids(wkind, wvalues)
    info = worker.get("partitioned_strategy_info") or {}
    ipath = f"{where}.worker.partitioned_strategy_info"
    paths.update(assignee_ids=f"{where}.worker.{wkind or 'workers'}", worker_strategy=f"{where}.worker.strategy",
                 workers_per_input=f"{ipath}.workers_per_input", weights=f"{ipath}.weights")
    options: dict[str, Any] = {"assignee_ids": workers, "annotation_type": ANNOTATION_TYPE_OF[ttype]}
    paths["annotation_type"] = f"{where}.type"
    if strategy == "FULL":
        options["worker_strategy"] = "full"
    else:
        options["worker_strategy"] = "partitioned"
        options["workers_per_input"] = info.get("workers_per_input") or 1
        weights = info.get("weights")
        ptype = _choice(info.get("type"), PARTITION_TYPES, f"{ipath}.type", "WEIGHTED" if weights else "EVENLY")
        if ptype == "WEIGHTED":
            if not weights:
                raise ValidationError("the WEIGHTED partition needs weights {user_id: weight}", f"{ipath}.weights",
                                      weights)
            options["weights"] = {str(k): float(v) for k, v in weights.items()}
        clarifai["partition_type"] = "WEIGHTED" if ptype == "WEIGHTED" else "EVENLY"
    clarifai["worker_strategy"] = strategy if strategy != "WORKER_STRATEGY_NOT_SET" else (
        "PARTITIONED" if workers else "FULL")
    # -- labels -----------------------------------------------------------------------------
    lkind, lvalues = _first(data, "concepts", "concept_ids")
    labels = [c["concept"]["id"] for c in lvalues] if lkind == "concepts" else list(lvalues or [])
    paths["labels"] = f"{where}.{lkind or 'concept_ids'}"
    options["labels"] = labels
    # -- review -----------------------------------------------------------------------------
    review = data.get("review") or {}
    rstrategy = _choice(review.get("strategy"), REVIEW_STRATEGIES, f"{where}.review.strategy", "NONE")
    rkind, rvalues = _first(review, "users", "user_ids")
    cinfo = review.get("consensus_strategy_info") or {}
    tkind, threshold = _first(cinfo, "approval_threshold_labelers", "approval_threshold")
    paths.update(review_strategy=f"{where}.review.strategy", reviewer_ids=f"{where}.review.{rkind or 'users'}",
                 approval_threshold=f"{where}.review.consensus_strategy_info.{tkind or 'approval_threshold'}")
    options["review_strategy"] = {"REVIEW_STRATEGY_NOT_SET": "none"}.get(rstrategy, rstrategy.lower())
    options["reviewer_ids"] = _user_ids(rkind, rvalues)
    if rstrategy == "CONSENSUS":
        options["approval_threshold"] = threshold
        _reach_threshold(options, threshold, clarifai)
        if strategy == "DYNAMIC":
            _dynamic_overlap(options, info, clarifai)
        if cinfo.get("approval_threshold_reviewers") is not None:
            clarifai["approval_threshold_reviewers"] = cinfo["approval_threshold_reviewers"]
    if rstrategy == "MANUAL" and review.get("manual_strategy_info") is not None:
        clarifai["manual_strategy_info"] = review["manual_strategy_info"]
    # -- the rest ---------------------------------------------------------------------------
    name = data.get("name")
    options["task_name"] = name if name is not None else (
        "Annotate " + ", ".join(labels) if labels else "Untitled task")
    if data.get("description") is not None:
        clarifai["description"] = data["description"]
    if data.get("sample_ms") is not None:
        clarifai["sample_ms"] = data["sample_ms"]
    priority = _choice(data.get("priority"), PRIORITIES, f"{where}.priority", "TASK_PRIORITY_NOT_SET")
    if priority != "TASK_PRIORITY_NOT_SET":
        options["priority"] = priority.lower()
    source = data.get("input_source") or {}
    stype = _choice(source.get("type"), INPUT_SOURCES, f"{where}.input_source.type", "ALL_INPUTS")
    if stype == "DATASET" and not source.get("id"):
        raise ValidationError("a DATASET input source needs the dataset's id", f"{where}.input_source.id",
                              source.get("id"))
    clarifai["input_source"] = stype
    meta = data.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        raise ValidationError("must be an object", f"{where}.metadata", meta)
    options["metadata"] = {**(meta or {}), "clarifai": clarifai}
    status = None
    code = (data.get("status") or {}).get("code")
    if code is not None:
        if code not in _STATUS_BY_CODE:
            raise ValidationError(f"use one of {[v[0] for v in TASK_STATUS_CODES.values()]}",
                                  f"{where}.status.code", code)
        status = _STATUS_BY_CODE[code]
    return ClarifaiTask(options=options, source=(stype, source.get("id") if stype == "DATASET" else None),
                        status=status, clarifai=clarifai, paths=paths)


def _dynamic_overlap(options: dict[str, Any], info: dict[str, Any], clarifai: dict[str, Any]) -> None:
    """Clarifai's DYNAMIC strategy with consensus review is dltasks' dynamic overlap.

    Each input starts with ``workers_per_input`` workers (raised to the threshold); without
    consensus one more worker is added, up to ``max_workers`` (the body's, else two more than
    the start, at most the number of workers).  The response says so under ``dltasks``.  Without
    consensus review there is nothing to decide "more" by: DYNAMIC stays a fixed partition.
    """
    start = options["workers_per_input"]
    workers = options["assignee_ids"]
    most = info.get("max_workers")
    if most is None:
        most = max(start, min(start + 2, len(workers))) if workers else start + 2
    options.update(worker_strategy="dynamic", min_workers=start, max_workers=most)
    options.pop("workers_per_input")
    clarifai["dynamic_overlap"] = {"min_workers": start, "max_workers": most}


def _reach_threshold(options: dict[str, Any], threshold: Any, clarifai: dict[str, Any]) -> None:
    """Give each input at least ``threshold`` workers, so a consensus can be reached.

    Clarifai's own examples pair ``workers_per_input: 1`` with ``approval_threshold: 2``;
    dltasks refuses a threshold no item could reach, so the partition is widened to the
    threshold (when there are enough workers) and the response says so under ``dltasks``.
    """
    k = options.get("workers_per_input")
    workers = options["assignee_ids"]
    if (options["worker_strategy"] == "partitioned" and isinstance(threshold, int) and isinstance(k, int)
            and k < threshold and (not workers or threshold <= len(workers))):
        options["workers_per_input"] = threshold
        clarifai["workers_per_input_raised_from"] = k


def rename_field(exc: ValidationError, paths: dict[str, str]) -> ValidationError:
    """The same error with its dltasks field name replaced by the body's JSON path."""
    new = paths.get(exc.field or "", exc.field)
    if new == exc.field:
        return exc
    text = str(exc)
    if exc.field and text.startswith(exc.field + ": "):
        text = f"{new}: {text[len(exc.field) + 2:]}"
    out = ValidationError(exc.message, new)
    out.value = exc.value
    out.args = (text,)
    return out


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def task_to_clarifai(task: Any, app_id: str | None = None, user_id: str | None = None) -> dict[str, Any]:
    """A dltasks :class:`~dltasks.tasks.Task` as Clarifai task JSON (both field forms).

    dltasks facts Clarifai's task has no field for (dataset, due date, priority, task
    type) are under ``"dltasks"``.
    """
    meta = dict(task.metadata)
    cl = meta.pop("clarifai", None) or {}
    workers = list(task.assignee_ids)
    worker: dict[str, Any] = {
        "strategy": cl.get("worker_strategy") or task.worker_strategy.upper(),
        "user_ids": workers, "users": [{"id": u} for u in workers], "workers": [{"user": {"id": u}} for u in workers],
    }
    if task.worker_strategy in ("partitioned", "dynamic"):
        weights = {u: _number(task.weights.get(u, 1.0)) for u in workers}
        even = len(set(weights.values())) <= 1
        worker["partitioned_strategy_info"] = {
            "type": cl.get("partition_type") or ("EVENLY" if even else "WEIGHTED"),
            "workers_per_input": task.workers_per_input, "weights": weights}
        if task.worker_strategy == "dynamic":
            worker["partitioned_strategy_info"]["max_workers"] = task.max_workers
    reviewers = list(task.reviewer_ids)
    review: dict[str, Any] = {"strategy": task.review_strategy.upper(), "user_ids": reviewers,
                              "users": [{"id": u} for u in reviewers]}
    if task.review_strategy == "consensus":
        review["consensus_strategy_info"] = {"approval_threshold": task.approval_threshold,
                                             "approval_threshold_labelers": task.approval_threshold}
        if "approval_threshold_reviewers" in cl:
            review["consensus_strategy_info"]["approval_threshold_reviewers"] = cl["approval_threshold_reviewers"]
    if task.review_strategy == "manual":
        review["manual_strategy_info"] = cl.get("manual_strategy_info") or {"sample_percentage": 1}
    source = ({"type": "DATASET", "id": task.dataset_id} if cl.get("input_source", "DATASET") == "DATASET"
              else {"type": "ALL_INPUTS"})
    code, number, text = TASK_STATUS_CODES.get(task.status, (task.status.upper(), 0, task.status))
    ttype = str(cl.get("type", ""))
    if ANNOTATION_TYPE_OF.get(ttype) != task.annotation_type:  # the type it was created with, while it still fits
        ttype = CLARIFAI_TYPE_OF[task.annotation_type]
    out: dict[str, Any] = {
        "id": task.id, "type": ttype, "name": task.name,
        "description": cl.get("description", ""), "worker": worker, "concept_ids": list(task.labels),
        "concepts": [{"concept": {"id": label}} for label in task.labels], "input_source": source,
        "sample_ms": cl.get("sample_ms", 0), "review": review, "status": {"code": code, "description": text},
        "created_at": _iso(task.created_at), "modified_at": _iso(task.modified_at),
        "priority": task.priority.upper(), "metadata": meta,
        "dltasks": {"dataset_id": task.dataset_id, "due_date": _iso(task.due_date), "task_type": task.type,
                    "annotation_type": task.annotation_type,
                    "parent_task_id": task.parent_task_id, "overdue": task.overdue},
    }
    if "workers_per_input_raised_from" in cl:
        out["dltasks"]["note"] = (f"workers_per_input raised from {cl['workers_per_input_raised_from']} to "
                                  f"{task.workers_per_input} so that approval_threshold "
                                  f"{task.approval_threshold} can be reached")
    if app_id is not None:
        out["app_id"] = app_id
    if user_id is not None:
        out["user_id"] = user_id
    return out
