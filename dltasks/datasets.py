"""Datasets: named collections of items, with the label set their tasks offer."""
from __future__ import annotations

import builtins

import datetime as _dt
import uuid
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd
import sqlalchemy as sa

from dltasks import jsonutil
from dltasks.annotations import Annotations, check_label
from dltasks.errors import ConflictError, NotFoundError, ValidationError
from dltasks.items import Items
from dltasks.store import schema as S
from dltasks.timeutil import from_epoch, now

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.store import Store
    from dltasks.tasks import DatasetTasks

__all__ = ["Dataset", "Datasets", "new_id"]


def new_id() -> str:
    """A new 24-hex-digit id (the shape Dataloop ids have)."""
    return uuid.uuid4().hex[:24]


class Dataset:
    """A named collection of items (``dataset.items``, ``.annotations``, ``.tasks``)."""

    def __init__(self, store: Store, id: str, name: str, created_at: _dt.datetime) -> None:
        self._store = store
        self.id, self.name, self.created_at = id, name, created_at
        self.items = Items(store, self)
        self.annotations = Annotations(store, self)

    @property
    def store(self) -> Store:
        """The store this dataset lives in."""
        return self._store

    @property
    def tasks(self) -> DatasetTasks:
        """This dataset's tasks (``.create``, ``.create_qa_task``, ``.get``, ``.list``)."""
        from dltasks.tasks import DatasetTasks

        return DatasetTasks(self._store, self)

    @property
    def labels(self) -> builtins.list[str]:
        """The label set tasks of this dataset offer, in the order added."""
        with self._store.db.read() as conn:
            text = conn.execute(sa.select(S.datasets.c.labels).where(S.datasets.c.id == self.id)).scalar_one()
        return list(jsonutil.loads(text, []))

    def add_labels(self, labels: str | Iterable[str]) -> builtins.list[str]:
        """Add labels to the label set (duplicates ignored); return the new set."""
        new = [labels] if isinstance(labels, str) else list(labels)
        checked = [check_label(lbl, "labels") for lbl in new]
        with self._store.db.atomic() as conn:
            current = jsonutil.loads(conn.execute(sa.select(S.datasets.c.labels).where(
                S.datasets.c.id == self.id)).scalar_one(), [])
            merged = list(dict.fromkeys(current + checked))
            conn.execute(sa.update(S.datasets).where(S.datasets.c.id == self.id).values(labels=jsonutil.dumps(merged)))
        return merged

    def delete(self) -> bool:
        """Delete the dataset with its items, annotations and tasks."""
        return self._store.datasets.delete(dataset_id=self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Dataset(id={self.id!r}, name={self.name!r}, created_at={self.created_at.isoformat()!r})"


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise ValidationError("must be a non-empty string (at most 255 characters)", "name", name)
    return name.strip()


class Datasets:
    """Repository of datasets (``store.datasets``)."""

    def __init__(self, store: Store) -> None:
        self._store, self._db = store, store.db

    def create(self, name: str, labels: Iterable[str] | None = None) -> Dataset:
        """Create a dataset; ``ConflictError`` if the name is taken."""
        name = _check_name(name)
        checked = [check_label(lbl, "labels") for lbl in (labels or [])]
        with self._db.atomic() as conn:
            if conn.execute(sa.select(S.datasets.c.id).where(S.datasets.c.name == name)).first():
                raise ConflictError(f"a dataset named {name!r} already exists")
            did = new_id()
            conn.execute(sa.insert(S.datasets).values(id=did, name=name, labels=jsonutil.dumps(list(dict.fromkeys(checked))),
                                                      created_at=now()))
        return self.get(dataset_id=did)

    def get(self, name: str | None = None, dataset_id: str | None = None) -> Dataset:
        """One dataset by name or id; ``NotFoundError`` if there is none."""
        if name is None and dataset_id is None:
            raise ValidationError("give name or dataset_id", "name", None)
        t = S.datasets
        cond = t.c.id == dataset_id if dataset_id is not None else t.c.name == name
        with self._db.read() as conn:
            r = conn.execute(sa.select(t).where(cond)).mappings().first()
        if r is None:
            raise NotFoundError(f"no dataset {'with id ' + repr(dataset_id) if dataset_id else 'named ' + repr(name)}")
        return Dataset(self._store, r["id"], r["name"], from_epoch(r["created_at"]))

    def list(self) -> builtins.list[Dataset]:
        """Every dataset, by name."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(S.datasets).order_by(S.datasets.c.name)).mappings().all()
        return [Dataset(self._store, r["id"], r["name"], from_epoch(r["created_at"])) for r in rows]

    def to_df(self) -> pd.DataFrame:
        """Every dataset with its item count."""
        d, i = S.datasets, S.items
        q = (sa.select(d.c.id, d.c.name, sa.func.count(i.c.id).label("items_count"), d.c.created_at)
             .outerjoin(i, i.c.dataset_id == d.c.id).group_by(d.c.id, d.c.name, d.c.created_at).order_by(d.c.name))
        with self._db.read() as conn:
            res = conn.execute(q)
            df = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        return df

    def delete(self, name: str | None = None, dataset_id: str | None = None) -> bool:
        """Delete a dataset with everything in it."""
        ds = self.get(name=name, dataset_id=dataset_id)
        with self._db.atomic() as conn:
            return conn.execute(sa.delete(S.datasets).where(S.datasets.c.id == ds.id)).rowcount == 1
