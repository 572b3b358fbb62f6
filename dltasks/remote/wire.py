"""The JSON wire format shared by ``dltasks serve`` and the HTTP client.

DataFrames travel as ``{"columns", "dtypes", "data", "index"}`` (rows as lists, datetimes
as epoch nanoseconds so they come back exact); entities as plain dicts with epoch-second
timestamps.  Nothing here imports FastAPI or requests.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"item_id": [1, 2], "label": ["cat", None]})
>>> wire = frame_to_wire(df)
>>> wire["columns"], wire["data"]
(['item_id', 'label'], [[1, 'cat'], [2, None]])
>>> frame_from_wire(wire).equals(df)
True
"""
from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np
import pandas as pd

from dltasks.entities import Annotation, Item, User
from dltasks.filters import Filters
from dltasks.timeutil import from_epoch

__all__ = [
    "frame_to_wire",
    "frame_from_wire",
    "jsonable",
    "item_to_wire",
    "item_from_wire",
    "annotation_to_wire",
    "annotation_from_wire",
    "user_to_wire",
    "user_from_wire",
    "task_to_wire",
    "task_fields_from_wire",
    "epoch",
]

_TASK_TIMES = ("due_date", "created_at", "modified_at")


def epoch(value: _dt.datetime | None) -> float | None:
    """A datetime as epoch seconds (``None`` stays ``None``)."""
    return None if value is None else value.timestamp()


def jsonable(value: Any) -> Any:
    """One value as plain JSON data (NaN/NaT → None, numpy scalars → Python, timestamps → ISO).

    >>> jsonable(float("nan")) is None, jsonable(np.int64(3)), jsonable({"a": [np.float64(1.5)]})
    (True, 3, {'a': [1.5]})
    """
    if value is None or isinstance(value, (str, bool)):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp, _dt.datetime, _dt.date)):
        return None if pd.isna(value) else value.isoformat()
    return str(value)


def _column_to_wire(col: pd.Series) -> list[Any]:
    kind = col.dtype.kind
    if kind == "M":
        ns = col.to_numpy(dtype="datetime64[ns]").astype("int64")
        return [None if m else int(v) for v, m in zip(ns.tolist(), col.isna().tolist())]
    if kind in "iub" and isinstance(col.dtype, np.dtype):  # numpy ints and bools: no missing values
        return col.tolist()
    if kind == "f":
        return [None if v != v or v in (math.inf, -math.inf) else v for v in col.tolist()]
    return [jsonable(v) for v in col.astype(object).tolist()]


def _column_from_wire(values: list[Any], dtype: str) -> pd.Series:
    if dtype.startswith("datetime64"):
        nat = np.iinfo(np.int64).min  # numpy's NaT
        ns = np.array([nat if v is None else v for v in values], dtype="int64").view("datetime64[ns]")
        col = pd.Series(ns)
        if "UTC" in dtype:
            col = col.dt.tz_localize("UTC")
        try:
            return col.astype(dtype)  # type: ignore[call-overload]
        except (TypeError, ValueError):  # pragma: no cover - exotic units
            return col
    if dtype == "object":
        return pd.Series(values, dtype=object)
    try:
        return pd.Series(values, dtype=dtype)
    except (TypeError, ValueError):
        return pd.Series(values)


def frame_to_wire(data: pd.DataFrame | pd.Series) -> dict[str, Any]:
    """A DataFrame (or Series) as JSON data that :func:`frame_from_wire` turns back into it."""
    series_name: Any = None
    is_series = isinstance(data, pd.Series)
    if isinstance(data, pd.Series):
        series_name = data.name
        frame = data.to_frame(name="__series__" if data.name is None else data.name)
    else:
        frame = data
    cols = [_column_to_wire(frame.iloc[:, i]) for i in range(frame.shape[1])]
    out: dict[str, Any] = {
        "columns": [jsonable(c) for c in frame.columns],
        "dtypes": [str(t) for t in frame.dtypes],
        "data": [list(row) for row in zip(*cols)] if cols else [[] for _ in range(len(frame))],
        "index": None,
    }
    idx = frame.index
    if not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1):
        out["index"] = {"name": jsonable(idx.name), "dtype": str(idx.dtype),
                        "values": _column_to_wire(idx.to_series(index=None))}
    if is_series:
        out["series"] = {"name": jsonable(series_name)}
    return out


def frame_from_wire(data: dict[str, Any]) -> Any:
    """Rebuild the DataFrame (or Series) :func:`frame_to_wire` encoded, with its dtypes."""
    columns = list(data["columns"])
    rows = data["data"]
    dtypes = data.get("dtypes") or ["object"] * len(columns)
    n = len(rows)
    frame = pd.DataFrame({i: _column_from_wire([r[i] for r in rows], dtypes[i]) for i in range(len(columns))},
                         index=pd.RangeIndex(n))
    frame.columns = pd.Index(columns, dtype=object) if not columns else columns
    index = data.get("index")
    if index is not None:
        frame.index = pd.Index(_column_from_wire(index["values"], index["dtype"]), name=index["name"])
    if "series" in data:
        series = frame.iloc[:, 0]
        series.name = data["series"]["name"]
        return series
    return frame


# -- entities --------------------------------------------------------------------------------
def item_to_wire(item: Item) -> dict[str, Any]:
    """An :class:`~dltasks.entities.Item` as JSON data."""
    return {"id": item.id, "dataset_id": item.dataset_id, "name": item.name, "dir": item.dir,
            "filename": item.filename, "path": item.path, "mime": item.mime, "size": item.size,
            "metadata": item.metadata, "created_at": epoch(item.created_at),
            "annotations_count": item.annotations_count}


def item_from_wire(data: dict[str, Any], repo: Any) -> Item:
    """An :class:`~dltasks.entities.Item` bound to ``repo`` (the remote items repository)."""
    return Item(id=data["id"], dataset_id=data["dataset_id"], name=data["name"], dir=data["dir"],
                filename=data["filename"], path=data["path"], mime=data["mime"], size=data["size"],
                metadata=dict(data["metadata"]), created_at=from_epoch(data["created_at"]),
                annotations_count=data.get("annotations_count", 0), _repo=repo)


def annotation_to_wire(ann: Annotation) -> dict[str, Any]:
    """An :class:`~dltasks.entities.Annotation` as JSON data."""
    return {"id": ann.id, "item_id": ann.item_id, "label": ann.label, "author": ann.author,
            "task_id": ann.task_id, "created_at": epoch(ann.created_at)}


def annotation_from_wire(data: dict[str, Any], repo: Any) -> Annotation:
    """An :class:`~dltasks.entities.Annotation` bound to ``repo``."""
    return Annotation(id=data["id"], item_id=data["item_id"], label=data["label"], author=data["author"],
                      task_id=data["task_id"], created_at=from_epoch(data["created_at"]), _repo=repo)


def user_to_wire(user: User) -> dict[str, Any]:
    """A :class:`~dltasks.entities.User` as JSON data."""
    return {"id": user.id, "name": user.name, "created_at": epoch(user.created_at)}


def user_from_wire(data: dict[str, Any]) -> User:
    """A :class:`~dltasks.entities.User` from JSON data."""
    return User(id=data["id"], name=data["name"], created_at=from_epoch(data["created_at"]))


def task_to_wire(task: Any) -> dict[str, Any]:
    """A :class:`~dltasks.tasks.Task` as JSON data (every field; times as epoch seconds)."""
    return {
        "id": task.id, "dataset_id": task.dataset_id, "name": task.name, "type": task.type,
        "parent_task_id": task.parent_task_id, "due_date": epoch(task.due_date), "status": task.status,
        "priority": task.priority, "worker_strategy": task.worker_strategy,
        "workers_per_input": task.workers_per_input, "weights": dict(task.weights),
        "assignee_ids": list(task.assignee_ids), "review_strategy": task.review_strategy,
        "reviewer_ids": list(task.reviewer_ids), "approval_threshold": task.approval_threshold,
        "labels": list(task.labels), "available_actions": [dict(a) for a in task.available_actions],
        "filters": task.filters.to_json() if task.filters is not None else None,
        "metadata": dict(task.metadata), "seed": task.seed,
        "created_at": epoch(task.created_at), "modified_at": epoch(task.modified_at),
    }


def task_fields_from_wire(data: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :class:`~dltasks.tasks.Task` from :func:`task_to_wire` data."""
    fields = dict(data)
    for key in _TASK_TIMES:
        fields[key] = from_epoch(fields[key])
    f = fields.get("filters")
    fields["filters"] = Filters.from_json(f) if f is not None else None
    fields["weights"] = {k: float(v) for k, v in (fields.get("weights") or {}).items()}
    return fields
