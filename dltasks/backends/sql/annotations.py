"""Annotations in SQL: labels on items, by hand, by import or inside a task.

>>> import pandas as pd
>>> from dltasks.backends.sql import SqlBackend
>>> from dltasks.domain.items import item_rows
>>> backend = SqlBackend("sqlite://")
>>> ds = backend.create_dataset("d", [])
>>> _ = backend.import_items(ds.id, item_rows(pd.DataFrame({"name": ["a.jpg"]})))
>>> backend.create_annotation(ds.id, 1, "cat", "ann").label
'cat'
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from dltasks.backends.sql import schema as S
from dltasks.backends.sql.common import SqlPart, found
from dltasks.backends.sql.frames import paged
from dltasks.domain.annotations import AnnotationRows
from dltasks.domain.records import Annotation
from dltasks.domain.workflow import check_generic_change
from dltasks.errors import NotFoundError
from dltasks.timeutil import from_epoch, now

__all__ = ["AnnotationsSql", "visible_to"]


def visible_to(viewer: str | None) -> sa.ColumnElement[bool]:
    """Which annotations ``viewer`` may read: labels outside tasks, their own, and every label of a
    task they review (``None``: an admin or a local store, who see everything).  Workers are blind
    to each other's votes."""
    a, m = S.annotations, S.task_members
    if viewer is None:
        return sa.true()
    reviews = sa.select(m.c.task_id).where(m.c.user_id == viewer, m.c.role == "reviewer")
    return sa.or_(a.c.task_id.is_(None), a.c.author == viewer, a.c.task_id.in_(reviews))


def _annotation(row: Any) -> Annotation:
    return Annotation(id=row["id"], item_id=row["item_id"], label=row["label"], author=row["author"],
                      task_id=row["task_id"], created_at=from_epoch(row["created_at"]))


class AnnotationsSql(SqlPart):
    """The annotation operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    def import_annotations(self, dataset_id: str, rows: AnnotationRows) -> int:
        """Insert one annotation per row, all or nothing; return how many."""
        unique = sorted(set(rows.item_ids))
        with self.db.atomic() as conn:
            name = self._dataset(conn, dataset_id).name
            known = set(found(conn, S.items.c.id, unique, S.items.c.dataset_id == dataset_id))
            missing = [i for i in unique if i not in known]
            if missing:
                raise NotFoundError(f"item_id {missing[0]} is not in dataset {name!r}")
            t = now()
            self.db.insert_rows(conn, S.annotations, ("item_id", "label", "author", "created_at"),
                                zip(rows.item_ids, rows.labels, rows.authors, [t] * len(rows)))
        return len(rows)

    def annotations_frame(self, dataset_id: str, task_id: str | None = None, viewer: str | None = None,
                          offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The dataset's annotations (one task's, if given) ``viewer`` may see: id, item_id, label, author,
        task_id, created_at."""
        a, i = S.annotations, S.items
        q = (sa.select(a.c.id, a.c.item_id, a.c.label, a.c.author, a.c.task_id, a.c.created_at)
             .join(i, i.c.id == a.c.item_id).where(i.c.dataset_id == dataset_id, visible_to(viewer))
             .order_by(a.c.id))
        if task_id is not None:
            q = q.where(a.c.task_id == task_id)
        with self.db.read() as conn:
            self._dataset(conn, dataset_id)
            df = paged(conn, q, offset, limit)
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        return df

    def create_annotation(self, dataset_id: str, item_id: int, label: str, author: str | None = None) -> Annotation:
        """Add a label to an item (author ``'import'`` unless given)."""
        with self.db.atomic() as conn:
            name = self._dataset(conn, dataset_id).name
            if not conn.execute(sa.select(S.items.c.id).where(S.items.c.id == item_id,
                                                              S.items.c.dataset_id == dataset_id)).first():
                raise NotFoundError(f"item {item_id!r} is not in dataset {name!r}")
            key = conn.execute(sa.insert(S.annotations).values(
                item_id=item_id, label=label, author=author or "import", task_id=None,
                created_at=now())).inserted_primary_key
            return self._get(conn, dataset_id, int(key[0]) if key is not None else 0)

    def get_annotation(self, dataset_id: str, annotation_id: int, viewer: str | None = None) -> Annotation:
        """One annotation by id (``NotFoundError`` for one ``viewer`` may not see)."""
        with self.db.read() as conn:
            return self._get(conn, dataset_id, annotation_id, viewer)

    def item_annotations(self, dataset_id: str, item_id: int, viewer: str | None = None) -> list[Annotation]:
        """An item's annotations that ``viewer`` may see, oldest first."""
        with self.db.read() as conn:
            name = self._dataset(conn, dataset_id).name
            if not conn.execute(sa.select(S.items.c.id).where(S.items.c.id == item_id,
                                                              S.items.c.dataset_id == dataset_id)).first():
                raise NotFoundError(f"item {item_id!r} is not in dataset {name!r}")
            rows = conn.execute(sa.select(S.annotations).where(S.annotations.c.item_id == item_id, visible_to(viewer))
                                .order_by(S.annotations.c.id)).mappings().all()
        return [_annotation(r) for r in rows]

    def update_annotation(self, dataset_id: str, annotation_id: int, label: str) -> Annotation:
        """Change the label of an annotation made outside tasks (a task's labels change only by its work)."""
        with self.db.atomic() as conn:
            check_generic_change(self._get(conn, dataset_id, annotation_id).task_id, annotation_id)
            conn.execute(sa.update(S.annotations).where(S.annotations.c.id == annotation_id).values(label=label))
            return self._get(conn, dataset_id, annotation_id)

    def delete_annotation(self, dataset_id: str, annotation_id: int) -> bool:
        """Delete an annotation made outside tasks (a task's labels are withdrawn by ``retract``)."""
        with self.db.atomic() as conn:
            check_generic_change(self._get(conn, dataset_id, annotation_id).task_id, annotation_id)
            return bool(conn.execute(sa.delete(S.annotations).where(S.annotations.c.id == annotation_id)).rowcount)

    def _get(self, conn: sa.Connection, dataset_id: str, annotation_id: int, viewer: str | None = None
             ) -> Annotation:
        name = self._dataset(conn, dataset_id).name
        a, i = S.annotations, S.items
        row = conn.execute(sa.select(a).join(i, i.c.id == a.c.item_id).where(
            a.c.id == annotation_id, i.c.dataset_id == dataset_id, visible_to(viewer))).mappings().first()
        if row is None:
            raise NotFoundError(f"annotation {annotation_id!r} is not in dataset {name!r}")
        return _annotation(row)
