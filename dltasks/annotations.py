"""Annotations: labels on items, by hand, by import or inside a task."""
from __future__ import annotations

import builtins

from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from dltasks.entities import Annotation, Item
from dltasks.errors import NotFoundError, ValidationError
from dltasks.store import schema as S
from dltasks.timeutil import from_epoch, now

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.datasets import Dataset
    from dltasks.store import Store

__all__ = ["Annotations", "ItemAnnotations", "check_label"]


def check_label(label: Any, field: str = "label") -> str:
    """A label is a non-empty string of at most 255 characters."""
    if not isinstance(label, str) or not label.strip() or len(label) > 255:
        raise ValidationError("must be a non-empty string (at most 255 characters)", field, label)
    return label.strip()


def _author(author: Any) -> str:
    if author is None:
        return "import"
    if not isinstance(author, str) or not author.strip():
        raise ValidationError("must be a user id, 'import' or 'model'", "author", author)
    return author.strip()


class Annotations:
    """Repository of one dataset's annotations (``dataset.annotations``)."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._store, self._dataset, self._db = store, dataset, store.db

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one annotation per row (``item_id``, ``label``, optional ``author``), all or nothing."""
        if not isinstance(df, pd.DataFrame):
            raise ValidationError("must be a pandas DataFrame", "df", type(df).__name__)
        for col in ("item_id", "label"):
            if col not in df.columns:
                raise ValidationError(f"the frame needs an '{col}' column", "df", list(df.columns))
        labels = df["label"]
        bad = labels.isna() | (labels.astype(str).str.strip() == "")
        if bad.any():
            raise ValidationError("every row needs a label", "label", labels[bad].iloc[0])
        authors = df["author"].fillna("import").astype(str) if "author" in df.columns else None
        ids = pd.to_numeric(df["item_id"], errors="coerce")
        if ids.isna().any():
            raise ValidationError("item ids are whole numbers", "item_id", df["item_id"][ids.isna()].iloc[0])
        ids = ids.astype("int64")
        n, t = len(df), now()
        with self._db.atomic() as conn:
            known = set(conn.execute(sa.select(S.items.c.id).where(
                S.items.c.dataset_id == self._dataset.id, S.items.c.id.in_(ids.unique().tolist()))).scalars())
            missing = set(ids.unique().tolist()) - known
            if missing:
                raise NotFoundError(f"item_id {min(missing)} is not in dataset {self._dataset.name!r}")
            rows = zip(ids.tolist(), labels.astype(str).str.strip().tolist(),
                       authors.tolist() if authors is not None else ["import"] * n, [t] * n)
            self._db.insert_rows(conn, S.annotations, ("item_id", "label", "author", "created_at"), rows)
        return n

    def to_df(self, task_id: str | None = None) -> pd.DataFrame:
        """Every annotation of the dataset: id, item_id, label, author, task_id, created_at."""
        a, i = S.annotations, S.items
        q = (sa.select(a.c.id, a.c.item_id, a.c.label, a.c.author, a.c.task_id, a.c.created_at)
             .join(i, i.c.id == a.c.item_id).where(i.c.dataset_id == self._dataset.id).order_by(a.c.id))
        if task_id is not None:
            q = q.where(a.c.task_id == task_id)
        with self._db.read() as conn:
            res = conn.execute(q)
            df = pd.DataFrame(res.fetchall(), columns=list(res.keys()))
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        return df

    def get(self, annotation_id: int) -> Annotation:
        """One annotation by id."""
        a, i = S.annotations, S.items
        with self._db.read() as conn:
            r = conn.execute(sa.select(a).join(i, i.c.id == a.c.item_id).where(
                a.c.id == annotation_id, i.c.dataset_id == self._dataset.id)).mappings().first()
        if r is None:
            raise NotFoundError(f"annotation {annotation_id!r} is not in dataset {self._dataset.name!r}")
        return self._entity(r)

    def delete(self, annotation_id: int) -> bool:
        """Delete one annotation."""
        self.get(annotation_id)
        with self._db.atomic() as conn:
            return conn.execute(sa.delete(S.annotations).where(S.annotations.c.id == annotation_id)).rowcount == 1

    def _create(self, item_id: int, label: str, author: str | None, task_id: str | None = None) -> Annotation:
        row = {"item_id": item_id, "label": check_label(label), "author": _author(author),
               "task_id": task_id, "created_at": now()}
        with self._db.atomic() as conn:
            key = conn.execute(sa.insert(S.annotations).values(**row)).inserted_primary_key
            new_id = int(key[0]) if key is not None else 0
        return self.get(new_id)

    def _list(self, item_id: int) -> builtins.list[Annotation]:
        with self._db.read() as conn:
            rows = conn.execute(sa.select(S.annotations).where(S.annotations.c.item_id == item_id)
                                .order_by(S.annotations.c.id)).mappings().all()
        return [self._entity(r) for r in rows]

    def _update_annotation(self, ann: Annotation) -> Annotation:
        label = check_label(ann.label)
        with self._db.atomic() as conn:
            n = conn.execute(sa.update(S.annotations).where(S.annotations.c.id == ann.id).values(label=label)).rowcount
        if n == 0:
            raise NotFoundError(f"annotation {ann.id!r} does not exist")
        return self.get(ann.id)

    def _entity(self, r: Any) -> Annotation:
        return Annotation(id=r["id"], item_id=r["item_id"], label=r["label"], author=r["author"],
                          task_id=r["task_id"], created_at=from_epoch(r["created_at"]), _repo=self)


class ItemAnnotations:
    """One item's annotations (``item.annotations``)."""

    def __init__(self, store: Store, item: Item) -> None:
        self._item = item
        self._repo = store.datasets.get(dataset_id=item.dataset_id).annotations

    def create(self, label: str, author: str | None = None) -> Annotation:
        """Add a label to the item (author defaults to ``'import'``)."""
        return self._repo._create(self._item.id, label, author)

    def list(self) -> builtins.list[Annotation]:
        """The item's annotations, oldest first."""
        return self._repo._list(self._item.id)
