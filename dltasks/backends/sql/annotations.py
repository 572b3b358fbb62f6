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

from dltasks import jsonutil
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.common import SqlPart, found
from dltasks.backends.sql.frames import paged
from dltasks.domain.annotations import AnnotationRows, check_dataset_labels
from dltasks.domain.answers import answers_frame, stored_rows
from dltasks.domain.records import Annotation
from dltasks.domain.shapes import Definition, answer_given, check_definition, check_label_change
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
    kind = row["kind"]
    return Annotation(id=row["id"], item_id=row["item_id"], label=row["label"] if kind not in ("text", "none") else None,
                      author=row["author"], task_id=row["task_id"], created_at=from_epoch(row["created_at"]),
                      kind=kind, geo=jsonutil.loads(row["geo"]), text=row["text"],
                      metadata=jsonutil.loads(row["metadata"], {}))


def _flat_metadata(metadata: pd.Series) -> pd.DataFrame:
    """Annotations' metadata JSON as ``metadata.<path>`` columns (as items' metadata is flattened)."""
    present = metadata.notna()
    if not present.any():
        return pd.DataFrame(index=metadata.index)
    flat = pd.json_normalize([jsonutil.loads(m, {}) for m in metadata[present]], sep=".")
    flat.index = metadata.index[present]
    flat.columns = ["metadata." + c for c in flat.columns]
    return flat.reindex(metadata.index)


class AnnotationsSql(SqlPart):
    """The annotation operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    def import_annotations(self, dataset_id: str, rows: AnnotationRows) -> int:
        """Insert one annotation per row, all or nothing; return how many."""
        unique = sorted(set(rows.item_ids))
        with self.db.atomic() as conn:
            dataset = self._dataset(conn, dataset_id)
            name = dataset.name
            check_dataset_labels(rows.labels, dataset.labels)
            known = set(found(conn, S.items.c.id, unique, S.items.c.dataset_id == dataset_id))
            missing = [i for i in unique if i not in known]
            if missing:
                raise NotFoundError(f"item_id {missing[0]} is not in dataset {name!r}")
            t = now()
            columns: dict[str, list[Any]] = {"item_id": rows.item_ids, "label": rows.labels, "author": rows.authors,
                                             "created_at": [t] * len(rows)}
            for column, values in (("kind", rows.kinds), ("geo", rows.geos), ("text", rows.texts),
                                   ("metadata", rows.metadata)):
                if values is not None:
                    columns[column] = values
            self.db.insert_rows(conn, S.annotations, tuple(columns), zip(*columns.values()))
        return len(rows)

    def annotations_frame(self, dataset_id: str, task_id: str | None = None, viewer: str | None = None,
                          offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The dataset's annotations (one task's, if given) ``viewer`` may see: id, item_id, kind, label,
        left, top, right, bottom, geo, text, author, task_id, created_at and ``metadata.<path>`` columns."""
        a, i = S.annotations, S.items
        q = (sa.select(a.c.id, a.c.item_id, a.c.kind, a.c.label, a.c.geo, a.c.text, a.c.author, a.c.task_id,
                       a.c.created_at, a.c.metadata)
             .join(i, i.c.id == a.c.item_id).where(i.c.dataset_id == dataset_id, visible_to(viewer))
             .order_by(a.c.id))
        if task_id is not None:
            q = q.where(a.c.task_id == task_id)
        with self.db.read() as conn:
            self._dataset(conn, dataset_id)
            df = paged(conn, q, offset, limit)
        shapes = answers_frame(df["item_id"].tolist(), df["author"].tolist(), df["kind"].tolist(),
                               df["label"].tolist(), df["geo"].tolist(), df["text"].tolist())
        out = pd.concat([df[["id"]], shapes.drop(columns=["worker"]),
                         df[["author", "task_id"]],
                         pd.to_datetime(df["created_at"], unit="s", utc=True).rename("created_at"),
                         _flat_metadata(df["metadata"])], axis=1)
        out.attrs = dict(df.attrs)  # a page says where the next one starts
        return out

    def create_annotation(self, dataset_id: str, item_id: int, label: str | None = None, author: str | None = None,
                          annotation_definition: Definition | None = None, metadata: dict[str, Any] | None = None
                          ) -> Annotation:
        """Add a label (or a box, polygon or text: ``annotation_definition``) to an item (author ``'import'``
        unless given)."""
        given = answer_given(label, None if annotation_definition is None else [annotation_definition],
                             "annotation_definition")
        ((kind, text_label, geo, text),) = stored_rows([check_definition(given[0], "annotation_definition")])
        with self.db.atomic() as conn:
            dataset = self._dataset(conn, dataset_id)
            check_dataset_labels([text_label], dataset.labels)
            if not conn.execute(sa.select(S.items.c.id).where(S.items.c.id == item_id,
                                                              S.items.c.dataset_id == dataset_id)).first():
                raise NotFoundError(f"item {item_id!r} is not in dataset {dataset.name!r}")
            key = conn.execute(sa.insert(S.annotations).values(
                item_id=item_id, label=text_label, author=author or "import", task_id=None, created_at=now(),
                kind=kind, geo=geo, text=text,
                metadata=None if metadata is None else jsonutil.dumps(metadata))).inserted_primary_key
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

    def update_annotation(self, dataset_id: str, annotation_id: int, label: str | None = None,
                          metadata: dict[str, Any] | None = None) -> Annotation:
        """Change the label of an annotation made outside tasks (a task's labels change only by its work)
        and the metadata of any annotation."""
        with self.db.atomic() as conn:
            old = self._get(conn, dataset_id, annotation_id)
            values: dict[str, Any] = {}
            if label is not None and label != old.label:
                check_generic_change(old.task_id, annotation_id)
                check_label_change(old.kind, label)
                check_dataset_labels([label], self._dataset(conn, dataset_id).labels)
                values["label"] = label
            if metadata is not None:
                values["metadata"] = jsonutil.dumps(metadata)
            if values:
                conn.execute(sa.update(S.annotations).where(S.annotations.c.id == annotation_id).values(**values))
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
