"""Read a task's labels as one packed integer per vote: the fast path behind ``labels_df``.

Fetching a million ``(item_id, author, label)`` rows through the DB-API driver builds three
million Python objects (about 1.4 s on SQLite).  Workers and labels are few, so the database
can encode them itself: each vote becomes ``(item_id * n_workers + worker) * n_labels +
label``, where ``worker`` and ``label`` are positions in sorted dictionaries the caller
supplies (``CASE`` expressions), and one aggregate (``group_concat`` on SQLite,
``string_agg`` on PostgreSQL) returns them all as one space-separated string that numpy
parses in C.  The frame is then decoded with integer arithmetic.

The read is exact or it is refused: :func:`read_packed_labels` returns ``None`` when a
vote's worker or label is not in the dictionaries, when the dictionaries are too big for a
``CASE`` per row to pay off, when the dialect has no string aggregate, or when the string
would be too long for the database.  :func:`read_task_labels` first tries the task's own
assignees and labels, then the values actually stored; ``None`` from it means "read rows
the ordinary way".
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dltasks.backends.sql import schema as S

__all__ = ["read_task_labels", "read_packed_labels", "pack_votes", "split_packed", "unpack_votes",
           "MAX_DICTIONARY"]

#: Above this many workers or labels a ``CASE`` per row costs more than it saves.
MAX_DICTIONARY = 64


def pack_votes(item_ids: np.ndarray, worker_codes: np.ndarray, label_codes: np.ndarray,
               n_workers: int, n_labels: int) -> np.ndarray:
    """The packed form of votes: ``(item_id * n_workers + worker) * n_labels + label`` (int64).

    >>> pack_votes(np.array([7]), np.array([1]), np.array([2]), n_workers=3, n_labels=4).tolist()
    [90]
    """
    packed = np.asarray(item_ids, dtype=np.int64) * n_workers + worker_codes
    return packed * n_labels + label_codes


def split_packed(packed: np.ndarray, n_workers: int, n_labels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The item ids, worker codes and label codes in packed votes (the inverse of :func:`pack_votes`).

    >>> [a.tolist() for a in split_packed(np.array([90]), n_workers=3, n_labels=4)]
    [[7], [1], [2]]
    """
    rest, label = np.divmod(packed, n_labels)
    item_id, worker = np.divmod(rest, n_workers)
    return item_id, worker, label


def unpack_votes(packed: np.ndarray, workers: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    """Decode packed votes (see :func:`pack_votes`) into ``item_id, worker, label`` rows.

    The dictionaries are ``workers`` and ``labels``; the packing used one code more for each
    ("not in the dictionary"), which the caller refuses before decoding.

    >>> unpack_votes(np.array([90]), ["ann", "bob"], ["cat", "dog", "owl"]).to_dict("records")
    [{'item_id': 7, 'worker': 'bob', 'label': 'owl'}]
    """
    return _votes_frame(*split_packed(packed, len(workers) + 1, len(labels) + 1), workers, labels)


def _votes_frame(item_id: np.ndarray, worker: np.ndarray, label: np.ndarray, workers: Sequence[str],
                 labels: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({"item_id": item_id, "worker": _take(workers, worker), "label": _take(labels, label)})


def _take(values: Sequence[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values[codes]`` in pandas' default string dtype, built from the few values, not per row."""
    return pd.Series(list(values)).array.take(codes)


def _aggregate(dialect: str, expr: sa.ColumnElement[int]) -> sa.ColumnElement[str] | None:
    if dialect == "sqlite":
        return sa.func.group_concat(expr, " ")
    if dialect == "postgresql":
        return sa.func.string_agg(sa.cast(expr, sa.Text), " ")
    return None


def read_packed_labels(conn: sa.Connection, task_id: str, workers: Sequence[str],
                       labels: Sequence[str]) -> pd.DataFrame | None:
    """A task's votes as ``item_id, worker, label`` sorted by item, worker, label, or ``None``.

    ``workers`` and ``labels`` are the values expected in the task (its assignees and
    labels); any other value found makes this return ``None``.
    """
    workers, labels = sorted(set(workers)), sorted(set(labels))
    if not workers or not labels or len(workers) > MAX_DICTIONARY or len(labels) > MAX_DICTIONARY:
        return None
    a = S.annotations
    n_workers, n_labels = len(workers) + 1, len(labels) + 1  # the last code: "unknown"
    worker_code = sa.case({w: i for i, w in enumerate(workers)}, value=a.c.author, else_=len(workers))
    label_code = sa.case({v: i for i, v in enumerate(labels)}, value=a.c.label, else_=len(labels))
    item_id_64 = sa.cast(a.c.item_id, sa.BigInteger)  # PostgreSQL: item_id is int4, the product is not
    packed = (item_id_64 * n_workers + worker_code) * n_labels + label_code
    aggregate = _aggregate(conn.dialect.name, packed)
    if aggregate is None:
        return None
    query = sa.select(sa.func.count(), aggregate).where(a.c.task_id == task_id)
    try:
        with conn.begin_nested():  # a failure leaves the caller's transaction usable
            count, text = conn.execute(query).one()
    except sa.exc.DBAPIError:  # "string or blob too big": too many votes for one string
        return None
    if not count:
        return unpack_votes(np.zeros(0, dtype=np.int64), workers, labels)
    values = np.fromstring(text, dtype=np.int64, sep=" ")
    if len(values) != count:
        return None
    # item, then worker, then label (the sorted dictionaries keep string order).  Rows come in
    # the vote index's order, already sorted on SQLite; a stable (Timsort) sort checks that in
    # one pass and sorts what a collation ordered otherwise (PostgreSQL).
    values.sort(kind="stable")
    item_id, worker, label = split_packed(values, n_workers, n_labels)
    if (worker == len(workers)).any() or (label == len(labels)).any():
        return None
    return _votes_frame(item_id, worker, label, workers, labels)


def read_task_labels(conn: sa.Connection, task_id: str, workers: Sequence[str],
                     labels: Sequence[str]) -> pd.DataFrame | None:
    """A task's votes through the packed read, or ``None`` when that read cannot be exact.

    Tries the expected ``workers`` and ``labels`` (the task's assignees and labels: no extra
    scan), then the distinct workers and labels stored for the task (a pool task, a worker
    removed after labelling, a task without a label list).
    """
    frame = read_packed_labels(conn, task_id, workers, labels)
    if frame is not None:
        return frame
    a = S.annotations
    pairs = conn.execute(sa.select(a.c.author, a.c.label).where(a.c.task_id == task_id).distinct()).all()
    if not pairs:
        return None
    return read_packed_labels(conn, task_id, [w for w, _ in pairs], [v for _, v in pairs])
