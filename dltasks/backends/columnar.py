"""Frames as Arrow IPC streams: the columnar wire form of ``dltasks serve``'s frame reads.

A client that sends ``Accept: application/vnd.apache.arrow.stream`` gets an operation's
DataFrame (or Series) as one Arrow IPC stream instead of the JSON envelope: column by column,
without a Python object per value where the column's dtype has an Arrow form.  JSON stays the
answer for everyone else (curl, the Clarifai-shaped routes).

The dtype contract: every column comes back with the pandas dtype it had (named in the
stream's schema metadata, key ``dltasks``, with the column names, the index and the read's
``next_offset``), and with its values:

=====================================  ==================================================
pandas dtype                           travels as
=====================================  ==================================================
int, uint, bool, float (numpy)         the Arrow type of that width; NaN and ±inf stay
datetime64 (with or without a zone)    Arrow timestamp of its unit and zone; NaT is null
extension dtypes (``str``, ``Int64``,  Arrow's form of the extension array; ``pd.NA`` and
``boolean``, ``Float64``, …)           the ``str`` dtype's NaN are null
object, every value one of str, int,   that Arrow type, missing values null; they come back
float or bool (or missing)             as the column's one missing marker (None or NaN)
object, anything else (dicts, lists,   each value as JSON text (NaN → null), as the JSON
mixed types)                           wire sends it
=====================================  ==================================================

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"item_id": [1, 2], "label": ["cat", None], "seconds": [1.5, float("nan")]})
>>> body = frame_to_arrow(df, next_offset=2)
>>> back, meta = frame_from_arrow(body)
>>> back.equals(df), meta["next_offset"]
(True, 2)
>>> accepted_arrow("application/vnd.apache.arrow.stream, application/json;q=0.5"), accepted_arrow("*/*")
({}, None)
"""
from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from dltasks.backends.wire import jsonable

__all__ = ["ARROW", "frame_to_arrow", "frame_from_arrow", "accepted_arrow", "compression_for", "client_accept",
           "is_frame_type"]

#: The media type of an Arrow IPC stream (what a client puts in ``Accept``).
ARROW = "application/vnd.apache.arrow.stream"
#: The schema metadata key under which a stream carries the frame's dtypes, names and page.
META_KEY = b"dltasks"
_INDEX_FIELD = "__index__"
_PLAIN_TYPES: dict[type, pa.DataType] = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}


def accepted_arrow(accept: str | None) -> dict[str, str] | None:
    """The parameters of an ``Accept`` header's Arrow entry, if it asks for Arrow streams (with a
    quality above 0); ``None`` if it does not (``*/*`` does not: curl gets JSON).

    >>> accepted_arrow("application/vnd.apache.arrow.stream;codec=zstd, application/json;q=0.5")
    {'codec': 'zstd'}
    >>> accepted_arrow("application/vnd.apache.arrow.stream;q=0"), accepted_arrow("*/*"), accepted_arrow(None)
    (None, None, None)
    """
    for part in (accept or "").split(","):
        media, *pairs = (p.strip() for p in part.split(";"))
        if media.lower() != ARROW:
            continue
        params = {k.strip().lower(): v.strip().strip('"') for k, _, v in (p.partition("=") for p in pairs)}
        try:
            wanted = float(params.pop("q", "1")) > 0
        except ValueError:
            wanted = False
        return params if wanted else None
    return None


def compression_for(params: dict[str, str]) -> str | None:
    """The buffer compression to answer with: the ``codec`` the client named (``zstd`` or ``lz4``)
    if this pyarrow has it, else none (plain streams are what every Arrow reader reads).

    >>> compression_for({"codec": "zstd"}), compression_for({}), compression_for({"codec": "rar"})
    ('zstd', None, None)
    """
    codec = params.get("codec", "").lower()
    return codec if codec in ("zstd", "lz4") and pa.Codec.is_available(codec) else None


def client_accept() -> str:
    """What this client's frame reads send in ``Accept``: Arrow (zstd-compressed buffers, when this
    pyarrow reads them), else JSON from a server without Arrow.

    >>> client_accept()
    'application/vnd.apache.arrow.stream;codec=zstd, application/json;q=0.5'
    """
    codec = ";codec=zstd" if pa.Codec.is_available("zstd") else ""
    return f"{ARROW}{codec}, application/json;q=0.5"


def is_frame_type(hint: Any) -> bool:
    """Whether an operation's result type is a frame (what may travel as an Arrow stream).

    >>> is_frame_type(pd.DataFrame), is_frame_type(pd.Series), is_frame_type(list[int])
    (True, True, False)
    """
    return hint is pd.DataFrame or hint is pd.Series


# -- encoding ------------------------------------------------------------------------------------
def _missing_marker(gaps: np.ndarray) -> tuple[bool, Any]:
    """The one marker of an object column's missing values: ``(True, None)``, ``(True, "nan")``,
    or ``(False, None)`` when they differ (None beside NaN, ``pd.NA``, NaT)."""
    if all(v is None for v in gaps):
        return True, None
    if all(isinstance(v, float) for v in gaps):  # NaN (pd.isna found them)
        return True, "nan"
    return False, None


def _object_column(values: np.ndarray) -> tuple[Any, dict[str, Any]]:
    """An object column: one plain Python type as that Arrow type, anything else as JSON text."""
    missing = pd.isna(values)
    one_marker, na = _missing_marker(values[missing]) if missing.any() else (True, None)
    kinds = {type(v) for v in (values[~missing] if missing.any() else values)}
    if one_marker and len(kinds) <= 1 and kinds <= _PLAIN_TYPES.keys():
        arrow_type = _PLAIN_TYPES[next(iter(kinds))] if kinds else pa.null()
        try:
            return pa.array(values, type=arrow_type, from_pandas=True), {"kind": "object", "na": na}
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # an int past 64 bits
            pass
    text = [json.dumps(jsonable(v), ensure_ascii=False, allow_nan=False) for v in values.tolist()]
    return pa.array(text, type=pa.string()), {"kind": "json"}


def _encode_column(col: pd.Series) -> tuple[Any, dict[str, Any]]:
    """One column as an Arrow array and how to read it back (its pandas dtype, its kind)."""
    dtype = col.dtype
    spec: dict[str, Any] = {"dtype": str(dtype), "kind": "arrow"}
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
        return pa.array(col.to_numpy()), spec  # numpy input: NaN stays NaN
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        array, how = _object_column(col.to_numpy())
        return array, {**spec, **how}
    try:  # datetimes (NaT → null) and extension arrays, by Arrow's own conversion
        return pa.array(col, from_pandas=True), spec
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        array, how = _object_column(col.astype(object).to_numpy())
        return array, {**spec, **how}


def frame_to_arrow(data: pd.DataFrame | pd.Series, compression: str | None = None, **meta: Any) -> bytes:
    """A DataFrame (or Series) as an Arrow IPC stream; ``meta`` (JSON data) rides in its metadata.

    ``compression`` (``"zstd"``, ``"lz4"``) compresses the stream's buffers (Arrow IPC's own
    compression: a reader decompresses them by itself, if it has the codec).

    >>> s = pd.Series([3, 1], index=pd.Index(["done", "pending"], name="status"), name="count")
    >>> back, _ = frame_from_arrow(frame_to_arrow(s))
    >>> back.equals(s), back.name, back.index.name
    (True, 'count', 'status')
    """
    if isinstance(data, pd.Series):
        frame = data.to_frame(name="__series__" if data.name is None else data.name)
    else:
        frame = data
    arrays, specs, names = [], [], []
    for i in range(frame.shape[1]):
        array, spec = _encode_column(frame.iloc[:, i])
        arrays.append(array)
        specs.append(spec)
        names.append(str(frame.columns[i]))
    header: dict[str, Any] = {"columns": [jsonable(c) for c in frame.columns], "specs": specs,
                              "rows": len(frame), "index": None, **{k: jsonable(v) for k, v in meta.items()}}
    idx = frame.index
    if not (isinstance(idx, pd.RangeIndex) and idx.start == 0 and idx.step == 1):
        array, spec = _encode_column(idx.to_series(index=None))
        arrays.append(array)
        names.append(_INDEX_FIELD)
        header["index"] = {"name": jsonable(idx.name), "spec": spec}
    if isinstance(data, pd.Series):
        header["series"] = {"name": jsonable(data.name)}
    schema_meta = {META_KEY: json.dumps(header, ensure_ascii=False, allow_nan=False).encode()}
    table = pa.Table.from_arrays(arrays, names=names, metadata=schema_meta) if arrays else \
        pa.Table.from_batches([], schema=pa.schema([], metadata=schema_meta))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression=compression)) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


# -- decoding ------------------------------------------------------------------------------------
def _decode_column(array: pa.ChunkedArray, spec: dict[str, Any]) -> pd.Series:
    """A column as :func:`_encode_column` sent it, with its pandas dtype."""
    kind, dtype_name = spec["kind"], spec["dtype"]
    if kind == "json":
        return pd.Series([json.loads(v) for v in array.to_pylist()], dtype=object)
    if kind == "object":
        values = (array.to_numpy(zero_copy_only=False) if pa.types.is_string(array.type)
                  else np.array(array.to_pylist() + [None], dtype=object)[:-1])  # stays 1-D, no inference
        if spec.get("na") == "nan" and array.null_count:
            values[pd.isna(values)] = math.nan
        return pd.Series(values, dtype=object)
    dtype = pd.api.types.pandas_dtype(dtype_name)
    if isinstance(dtype, np.dtype) and dtype.kind in "iufb":
        return pd.Series(np.array(array.to_numpy(), dtype=dtype))  # a copy: writable, owned by pandas
    from_arrow = getattr(dtype, "__from_arrow__", None)
    if from_arrow is not None and not isinstance(dtype, pd.DatetimeTZDtype):
        return pd.Series(from_arrow(array), dtype=dtype)
    col = array.to_pandas()
    return col if str(col.dtype) == dtype_name else col.astype(dtype)


def frame_from_arrow(body: bytes) -> tuple[Any, dict[str, Any]]:
    """The DataFrame (or Series) :func:`frame_to_arrow` encoded, and its metadata.

    Raises ``ValueError`` for a stream without dltasks metadata, or whose metadata does not
    match its columns.
    """
    table = pa.ipc.open_stream(body).read_all()
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise ValueError("an Arrow stream without dltasks metadata")
    header = json.loads(raw)
    columns, specs, index = header["columns"], header["specs"], header.get("index")
    if len(columns) != len(specs) or table.num_columns != len(specs) + (index is not None):
        raise ValueError(f"{table.num_columns} Arrow columns for {len(columns)} named columns")
    n = int(header.get("rows", table.num_rows))
    frame = pd.DataFrame({i: _decode_column(table.column(i), specs[i]) for i in range(len(specs))},
                         index=pd.RangeIndex(n))
    frame.columns = pd.Index(columns, dtype=object) if not columns else columns
    if index is not None:
        frame.index = pd.Index(_decode_column(table.column(len(specs)), index["spec"]), name=index["name"])
    if "series" in header:
        series = frame.iloc[:, 0]
        series.name = header["series"]["name"]
        return series, header
    return frame, header
