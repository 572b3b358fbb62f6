"""Query results as DataFrames and arrays, straight from the driver's cursor (the bulk-read fast paths)."""
from __future__ import annotations

import gc
import itertools
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dltasks.backends.dtypes import column_of

__all__ = ["result_frame", "id_array", "records_frame", "paged"]


def paged(conn: sa.Connection, query: Any, offset: int, limit: int | None,
          read: Any = None) -> pd.DataFrame:
    """``query``'s rows, or with a ``limit`` the page of ``limit`` rows from ``offset`` on.

    A page says where the next one starts in ``frame.attrs["next_offset"]`` (``None`` after
    the last), read from one row more than the page.
    """
    read = read or records_frame
    if limit is None:
        return read(conn, query)
    frame = read(conn, query.offset(offset).limit(limit + 1))
    more = len(frame) > limit
    if more:
        frame = frame.iloc[:limit]
    frame.attrs["next_offset"] = offset + limit if more else None
    return frame


def records_frame(conn: sa.Connection, query: Any) -> pd.DataFrame:
    """Run a query of plain columns into a DataFrame (rows straight from the driver's cursor).

    ``DataFrame.from_records`` types each column as :func:`~dltasks.backends.dtypes.column_of` does.
    """
    res = conn.execute(query)
    columns = list(res.keys())
    rows = res.cursor.fetchall() if res.cursor is not None else []
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def result_frame(result: Any) -> pd.DataFrame:
    """A query result as a DataFrame, built column by column (lower peak memory than rows).

    The values come straight from the driver's cursor in chunks (SQLAlchemy ``Row``
    objects make ``pd.DataFrame(rows)`` several times slower); each column is typed by
    :func:`~dltasks.backends.dtypes.column_of` (as ``pd.DataFrame(rows)`` would infer it), the
    rule that joins a read's pages too (:func:`~dltasks.backends.dtypes.join_pages`).
    """
    names = list(result.keys())
    cursor = getattr(result, "cursor", None)
    fetch = cursor.fetchmany if cursor is not None else result.fetchmany
    columns: list[list[Any]] = [[] for _ in names]
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived row tuples would trigger full collections again and again
    try:
        while True:
            chunk = fetch(50_000)
            if not chunk:
                break
            for acc, values in zip(columns, zip(*chunk)):
                acc.extend(values)
    finally:
        if collecting:
            gc.enable()
    result.close()
    if not columns or not columns[0]:
        return pd.DataFrame([], columns=names)
    data = {}
    for name in names:
        data[name] = column_of(columns.pop(0), name=name)
    return pd.DataFrame(data)


def id_array(result: Any) -> np.ndarray:
    """The one integer column of ``result`` as an int64 array, read from the driver in chunks."""
    cursor = getattr(result, "cursor", None)
    fetch = cursor.fetchmany if cursor is not None else result.fetchmany
    parts = []
    collecting = gc.isenabled()
    gc.disable()  # a million 1-tuples would trigger full collections over and over
    try:
        while True:
            chunk = fetch(100_000)
            if not chunk:
                break
            parts.append(np.fromiter(itertools.chain.from_iterable(chunk), dtype=np.int64, count=len(chunk)))
    finally:
        if collecting:
            gc.enable()
    result.close()
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
