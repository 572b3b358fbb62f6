"""What every part of the SQL backend shares: the database, new ids, dataset and user rows.

>>> len(new_id())
24
"""
from __future__ import annotations

import uuid
from typing import Any, Iterable

import sqlalchemy as sa

from dltasks import jsonutil
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.engine import Database
from dltasks.backends.sql.filters import where_clause
from dltasks.domain.filters import Filters
from dltasks.domain.records import DatasetRecord
from dltasks.errors import NotFoundError
from dltasks.timeutil import from_epoch, now

__all__ = ["SqlPart", "new_id", "dataset_record", "insert_missing_users", "found", "CHUNK"]

#: Values bound in one ``IN (…)``: databases cap the parameters of one statement (SQLite: 250 000 here).
CHUNK = 10_000


def found(conn: sa.Connection, column: sa.Column[Any], values: Iterable[Any], *where: Any) -> list[Any]:
    """The ``values`` present in ``column`` (rows matching ``where``), asked in chunks: any number of values."""
    values = list(values)
    out: list[Any] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start:start + CHUNK]
        out += conn.execute(sa.select(column).where(column.in_(chunk), *where)).scalars().all()
    return out


def new_id() -> str:
    """A new 24-hex-digit id (the shape Dataloop ids have)."""
    return uuid.uuid4().hex[:24]


def dataset_record(row: Any) -> DatasetRecord:
    """A dataset row as a record."""
    return DatasetRecord(id=row["id"], name=row["name"], labels=list(jsonutil.loads(row["labels"], [])),
                         created_at=from_epoch(row["created_at"]))


def insert_missing_users(conn: sa.Connection, user_ids: Iterable[str]) -> None:
    """Register every user id not yet in the users table."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return
    known = set(found(conn, S.users.c.id, ids))
    fresh = [{"id": u, "name": None, "created_at": now()} for u in ids if u not in known]
    if fresh:
        conn.execute(sa.insert(S.users), fresh)


class SqlPart:
    """Base of the SQL backend's parts (datasets, items, tasks, work): they share ``db``."""

    db: Database

    def _dataset(self, conn: sa.Connection, dataset_id: str) -> DatasetRecord:
        """The dataset's record; ``NotFoundError`` if there is none."""
        row = conn.execute(sa.select(S.datasets).where(S.datasets.c.id == dataset_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no dataset with id {dataset_id!r}")
        return dataset_record(row)

    def _items_where(self, dataset_id: str, filters: Filters | None) -> sa.ColumnElement[bool]:
        """The condition selecting the dataset's items that ``filters`` match (all of them for ``None``)."""
        base = S.items.c.dataset_id == dataset_id
        if filters is None:
            return base
        return sa.and_(base, where_clause(filters, S.items, S.annotations, self.db.dialect))
