"""The JSON wire format shared by ``dltasks serve`` and the HTTP client, driven by type hints.

:func:`to_wire` and :func:`from_wire` turn a value of a backend operation's parameter or
result type into JSON data and back: records (dataclasses) as dicts of their public fields,
datetimes as epoch seconds, DataFrames as ``{"columns", "dtypes", "data", "index"}`` (rows as
lists, datetimes as epoch nanoseconds so they come back exact), filters as
``Filters.to_json()``, import frames as the frame the user gave.  Nothing here imports
FastAPI or requests.  A result frame travels to a client that asks for it as an Arrow IPC
stream instead (:mod:`dltasks.backends.columnar`: same dtypes, a fraction of the cost).

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

import dataclasses
import datetime as _dt
import functools
import math
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Union

import numpy as np
import pandas as pd

from dltasks.domain.annotations import AnnotationRows
from dltasks.domain.filters import Filters
from dltasks.domain.items import ItemEdit, ItemRows, check_item_edit
from dltasks.timeutil import from_epoch

__all__ = ["frame_to_wire", "frame_from_wire", "jsonable", "epoch", "to_wire", "from_wire", "Codec", "CODECS",
           "plain_type"]


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
            return col.astype(dtype)
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
    if len(dtypes) != len(columns):
        raise ValueError(f"{len(dtypes)} dtypes for {len(columns)} columns")
    bad = next((i for i, row in enumerate(rows) if len(row) != len(columns)), None)
    if bad is not None:
        raise ValueError(f"row {bad} has {len(rows[bad])} values for {len(columns)} columns")
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


# -- values by type --------------------------------------------------------------------------
@dataclass(frozen=True)
class Codec:
    """How values of one class travel: ``encode`` to JSON data, ``decode`` back."""

    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


#: Classes with a wire form of their own (everything else by its type hint's shape).
CODECS: dict[type, Codec] = {
    Filters: Codec(lambda f: f.to_json(), Filters.from_json),
    pd.DataFrame: Codec(frame_to_wire, frame_from_wire),
    pd.Series: Codec(frame_to_wire, frame_from_wire),
    # import frames travel as the frame the user gave; the receiver checks it again (its Rule)
    ItemRows: Codec(lambda rows: frame_to_wire(rows.source), frame_from_wire),
    AnnotationRows: Codec(lambda rows: frame_to_wire(rows.source), frame_from_wire),
    ItemEdit: Codec(lambda e: {"name": e.name, "dir": e.dir, "metadata": jsonable(e.metadata)},
                    lambda d: check_item_edit(d.get("name"), d.get("dir"), d.get("metadata"))),
}


def plain_type(hint: Any) -> tuple[Any, bool]:
    """``hint`` without ``Annotated`` and ``Optional``, and whether it admitted ``None``.

    >>> plain_type(Annotated[Union[int, None], "x"])
    (<class 'int'>, True)
    """
    if typing.get_origin(hint) is Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else Union[tuple(args)]), True
    return hint, False


@functools.lru_cache(maxsize=None)
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.init and not f.name.startswith("_"))


@functools.lru_cache(maxsize=None)
def _shape(hint: Any) -> tuple[str, Any]:
    """How values of ``hint`` travel: ``("list", item)``, ``("dict", item)``, ``("datetime", None)``,
    ``("codec", Codec)``, ``("record", class)``, ``("float", None)`` or ``("plain", None)``."""
    tp, _ = plain_type(hint)
    origin = typing.get_origin(tp)
    if origin is list:
        return "list", (typing.get_args(tp) or (Any,))[0]
    if origin is dict:
        return "dict", (typing.get_args(tp) or (str, Any))[-1]
    if tp is _dt.datetime:
        return "datetime", None
    if isinstance(tp, type) and tp in CODECS:
        return "codec", CODECS[tp]
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return "record", tp
    return ("float" if tp is float else "plain"), None


def to_wire(value: Any, hint: Any) -> Any:
    """``value`` (of type ``hint``) as JSON data.

    >>> import datetime as dt
    >>> to_wire({"a": [dt.datetime(1970, 1, 2, tzinfo=dt.timezone.utc)]}, dict[str, list[dt.datetime]])
    {'a': [86400.0]}
    """
    if value is None:
        return None
    kind, arg = _shape(hint)
    if kind == "list":
        return [to_wire(v, arg) for v in value]
    if kind == "dict":
        return {str(k): to_wire(v, arg) for k, v in value.items()}
    if kind == "datetime":
        return value.timestamp()
    if kind == "codec":
        return arg.encode(value)
    if kind == "record":
        return {name: to_wire(getattr(value, name), h) for name, h in _field_hints(arg)}
    return jsonable(value)


def from_wire(data: Any, hint: Any) -> Any:
    """JSON data as a value of type ``hint`` (the inverse of :func:`to_wire`).

    >>> from dltasks.domain.records import User
    >>> from_wire({"id": "ann", "name": None, "created_at": 0.0}, User)
    User(id='ann', name=None, created_at=datetime.datetime(1970, 1, 1, 0, 0, tzinfo=datetime.timezone.utc))
    """
    if data is None:
        return None
    kind, arg = _shape(hint)
    if kind == "list":
        return [from_wire(v, arg) for v in data]
    if kind == "dict":
        return {k: from_wire(v, arg) for k, v in data.items()}
    if kind == "datetime":
        return from_epoch(data)
    if kind == "codec":
        return arg.decode(data)
    if kind == "record":
        return arg(**{name: from_wire(data[name], h) for name, h in _field_hints(arg) if name in data})
    if kind == "float" and isinstance(data, int):
        return float(data)
    return data
