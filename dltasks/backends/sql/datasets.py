"""Datasets and users in SQL: create, get, list, delete, label sets.

>>> from dltasks.backends.sql import SqlBackend
>>> backend = SqlBackend("sqlite://")
>>> backend.create_dataset("faces", ["Adult"]).name
'faces'
>>> backend.add_labels(backend.list_datasets()[0].id, ["Child", "Adult"])
['Adult', 'Child']
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dltasks import jsonutil
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.catalog import touch_catalog
from dltasks.backends.sql.common import SqlPart, dataset_record, insert_missing_users, new_id
from dltasks.domain.records import DatasetRecord, User
from dltasks.errors import ConflictError, NotFoundError
from dltasks.timeutil import from_epoch, now

__all__ = ["DatasetsSql"]


def _user(row: sa.RowMapping) -> User:
    return User(id=row["id"], name=row["name"], created_at=from_epoch(row["created_at"]))


class DatasetsSql(SqlPart):
    """The dataset and user operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    # -- datasets -----------------------------------------------------------------------------
    def create_dataset(self, name: str, labels: list[str]) -> DatasetRecord:
        """Create a dataset; ``ConflictError`` if the name is taken."""
        with self.db.atomic() as conn:
            touch_catalog(conn)
            if conn.execute(sa.select(S.datasets.c.id).where(S.datasets.c.name == name)).first():
                raise ConflictError(f"a dataset named {name!r} already exists")
            did = new_id()
            conn.execute(sa.insert(S.datasets).values(id=did, name=name, labels=jsonutil.dumps(list(labels)),
                                                      created_at=now()))
            return self._dataset(conn, did)

    def get_dataset(self, dataset_id: str) -> DatasetRecord:
        """One dataset by id; ``NotFoundError`` if there is none."""
        with self.db.read() as conn:
            return self._dataset(conn, dataset_id)

    def list_datasets(self, name: str | None = None) -> list[DatasetRecord]:
        """Every dataset by name (only the one named ``name``, if given: ``NotFoundError`` if none)."""
        q = sa.select(S.datasets).order_by(S.datasets.c.name)
        if name is not None:
            q = q.where(S.datasets.c.name == name)
        with self.db.read() as conn:
            rows = conn.execute(q).mappings().all()
        if name is not None and not rows:
            raise NotFoundError(f"no dataset named {name!r}")
        return [dataset_record(r) for r in rows]

    def datasets_frame(self) -> pd.DataFrame:
        """Every dataset with its item count: id, name, items_count, created_at."""
        d, i = S.datasets, S.items
        q = (sa.select(d.c.id, d.c.name, sa.func.count(i.c.id).label("items_count"), d.c.created_at)
             .outerjoin(i, i.c.dataset_id == d.c.id).group_by(d.c.id, d.c.name, d.c.created_at).order_by(d.c.name))
        with self.db.read() as conn:
            res = conn.execute(q)
            df = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        return df

    def delete_dataset(self, dataset_id: str) -> bool:
        """Delete a dataset with its items, annotations and tasks."""
        with self.db.atomic() as conn:
            touch_catalog(conn)
            self._dataset(conn, dataset_id)
            return bool(conn.execute(sa.delete(S.datasets).where(S.datasets.c.id == dataset_id)).rowcount == 1)

    def add_labels(self, dataset_id: str, labels: list[str]) -> list[str]:
        """Add labels to a dataset's label set (repeats ignored); return the new set."""
        with self.db.atomic() as conn:
            current = self._dataset(conn, dataset_id).labels
            merged = list(dict.fromkeys(current + list(labels)))
            conn.execute(sa.update(S.datasets).where(S.datasets.c.id == dataset_id)
                         .values(labels=jsonutil.dumps(merged)))
        return merged

    # -- users ---------------------------------------------------------------------------------
    def create_user(self, user_id: str, name: str | None = None) -> User:
        """Register a user; ``ConflictError`` if the id is taken."""
        with self.db.atomic() as conn:
            if conn.execute(sa.select(S.users.c.id).where(S.users.c.id == user_id)).first():
                raise ConflictError(f"user {user_id!r} already exists")
            conn.execute(sa.insert(S.users).values(id=user_id, name=name, created_at=now()))
        return self.get_user(user_id)

    def ensure_users(self, user_ids: list[str]) -> list[str]:
        """Register every id not yet known; return the ids."""
        with self.db.atomic() as conn:
            insert_missing_users(conn, user_ids)
        return list(user_ids)

    def get_user(self, user_id: str) -> User:
        """One user by id."""
        with self.db.read() as conn:
            row = conn.execute(sa.select(S.users).where(S.users.c.id == user_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"user {user_id!r} does not exist")
        return _user(row)

    def list_users(self) -> list[User]:
        """Every user, by id."""
        with self.db.read() as conn:
            rows = conn.execute(sa.select(S.users).order_by(S.users.c.id)).mappings().all()
        return [_user(r) for r in rows]
