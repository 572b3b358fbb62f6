"""Annotations: labels on items, by hand, by import or inside a task.

>>> import dltasks as dl, pandas as pd
>>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
>>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
>>> item = ds.items.get(item_id=1)
>>> item.annotations.create(label="cat", author="ann").label
'cat'
>>> ds.annotations.to_df()[["item_id", "label", "author"]].values.tolist()
[[1, 'cat', 'ann']]
"""
from __future__ import annotations

import builtins
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dltasks.domain.annotations import annotation_rows
from dltasks.domain.checks import to_item_id
from dltasks.domain.records import Annotation, Item
from dltasks.domain.shapes import Definition, check_definition

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import Store
    from dltasks.datasets import Dataset

__all__ = ["Annotations", "ItemAnnotations", "AnnotationBuilder"]


class Annotations:
    """Repository of one dataset's annotations (``dataset.annotations``)."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._dataset, self._ops = dataset, store.ops

    def _bind(self, annotation: Annotation) -> Annotation:
        annotation._repo = self
        return annotation

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one annotation per row, all or nothing: ``item_id``, ``label``, optional ``author`` and
        ``metadata`` (a dict per row); with a ``kind`` column, the long answers frame of boxes, polygons
        and texts (``left``, ``top``, ``right``, ``bottom``; ``geo``; ``text``), as ``to_df`` gives it."""
        return self._ops.import_annotations(self._dataset.id, annotation_rows(df))

    def import_file(self, path: str | Path, format: str, author: str = "import") -> int:
        """Add the annotations of a COCO, Label Studio JSON or CSV file (or a YOLO folder) to the items
        they name (matched by file name), all or nothing; return how many (see
        :func:`dltasks.exports.import_annotations_file`)."""
        from dltasks.exports import import_annotations_file

        return import_annotations_file(self._dataset, path, format, author)

    def to_df(self, task_id: str | None = None) -> pd.DataFrame:
        """Every annotation of the dataset: id, item_id, kind, label, left, top, right, bottom (boxes), geo
        (polygons), text, author, task_id, created_at, and the metadata flat (``metadata.user.<key>``)."""
        return self._ops.annotations_frame(self._dataset.id, task_id)

    def create(self, item_id: int, label: str | None = None, author: str | None = None,
               annotation_definition: Definition | None = None, metadata: dict[str, Any] | None = None
               ) -> Annotation:
        """Add a label, or a box, polygon or text (``annotation_definition=dl.Box(...)``), to an item
        (author defaults to ``'import'``), with optional ``metadata`` (free under ``'user'``)."""
        return self._bind(self._ops.create_annotation(self._dataset.id, to_item_id(item_id), label, author,
                                                      annotation_definition, metadata))

    def builder(self, item: Item) -> AnnotationBuilder:
        """An empty collection of annotations for ``item``, uploaded in one go (dtlpy's builder)."""
        return AnnotationBuilder(item)

    def upload(self, builder: AnnotationBuilder) -> builtins.list[Annotation]:
        """Store every annotation of ``builder``, all or nothing; return them."""
        frame = builder.to_df()
        if frame.empty:
            return []
        n = self._ops.import_annotations(self._dataset.id, annotation_rows(frame))
        mine = [a for a in self.of_item(builder.item.id) if a.author == frame["author"].iloc[-1]]
        return mine[-n:]

    def get(self, annotation_id: int) -> Annotation:
        """One annotation by id."""
        return self._bind(self._ops.get_annotation(self._dataset.id, to_item_id(annotation_id, "annotation_id")))

    def of_item(self, item_id: int) -> builtins.list[Annotation]:
        """An item's annotations, oldest first."""
        return [self._bind(a) for a in self._ops.item_annotations(self._dataset.id, to_item_id(item_id))]

    def update(self, annotation: Annotation) -> Annotation:
        """Store an annotation's changed ``label`` and ``metadata``; return the fresh annotation."""
        return self._bind(self._ops.update_annotation(self._dataset.id, annotation.id, annotation.label,
                                                      annotation.metadata))

    def delete(self, annotation_id: int) -> bool:
        """Delete one annotation."""
        return self._ops.delete_annotation(self._dataset.id, to_item_id(annotation_id, "annotation_id"))


class ItemAnnotations:
    """One item's annotations (``item.annotations``)."""

    def __init__(self, repo: Annotations, item: Item) -> None:
        self._repo, self._item = repo, item

    def create(self, label: str | None = None, author: str | None = None,
               annotation_definition: Definition | None = None, metadata: dict[str, Any] | None = None
               ) -> Annotation:
        """Add a label, or a box, polygon or text (``annotation_definition``), to the item (author defaults
        to ``'import'``).

        >>> import dltasks as dl, pandas as pd
        >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["car"])
        >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
        >>> box = ds.items.get(item_id=1).annotations.create(annotation_definition=dl.Box(1, 2, 30, 40, "car"),
        ...                                                   metadata={"user": {"score": 0.8}})
        >>> box.type, box.annotation_definition.right, box.metadata["user"]
        ('box', 30.0, {'score': 0.8})
        """
        return self._repo.create(self._item.id, label, author, annotation_definition, metadata)

    def list(self) -> builtins.list[Annotation]:
        """The item's annotations, oldest first."""
        return self._repo.of_item(self._item.id)

    def builder(self) -> AnnotationBuilder:
        """An empty collection of annotations for this item, stored by :meth:`upload` in one go (dtlpy's builder).

        >>> import dltasks as dl, pandas as pd
        >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["car", "bus"])
        >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
        >>> item = ds.items.get(item_id=1)
        >>> builder = item.annotations.builder()
        >>> builder.add(annotation_definition=dl.Box(left=1, top=2, right=30, bottom=40, label="car"))
        >>> builder.add(annotation_definition=dl.Polygon(geo=[[0, 0], [9, 0], [9, 9]], label="bus"))
        >>> [a.type for a in item.annotations.upload(builder)]
        ['box', 'polygon']
        """
        return AnnotationBuilder(self._item)

    def upload(self, builder: AnnotationBuilder) -> builtins.list[Annotation]:
        """Store every annotation of ``builder``, all or nothing; return them."""
        return self._repo.upload(builder)


class AnnotationBuilder:
    """Annotations for one item, collected with :meth:`add` and stored together (``item.annotations.upload``).

    >>> import dltasks as dl
    >>> b = AnnotationBuilder(None)
    >>> b.add(annotation_definition=dl.Classification("cat"), metadata={"user": {"by": "eye"}})
    >>> len(b), b.to_df()[["kind", "label", "author"]].values.tolist()
    (1, [['class', 'cat', 'import']])
    """

    def __init__(self, item: Any, author: str | None = None) -> None:
        self.item, self.author = item, author
        self._rows: builtins.list[dict[str, Any]] = []

    def add(self, annotation_definition: Definition, metadata: dict[str, Any] | None = None,
            author: str | None = None) -> None:
        """Add one annotation (checked now: a bad box fails here, not at upload)."""
        d = check_definition(annotation_definition, "annotation_definition")
        row: dict[str, Any] = {"item_id": None if self.item is None else self.item.id, "kind": d.kind,
                               "label": d.label, "geo": d.geo if d.kind == "polygon" else None, "text": d.text,
                               "author": author or self.author or "import", "metadata": metadata}
        if d.kind == "box":
            assert d.geo is not None
            row.update(left=d.geo[0][0], top=d.geo[0][1], right=d.geo[1][0], bottom=d.geo[1][1])
        self._rows.append(row)

    def __len__(self) -> int:
        return len(self._rows)

    def to_df(self) -> pd.DataFrame:
        """The collected annotations as an import frame (the long answers frame, with author and metadata)."""
        columns = ["item_id", "kind", "label", "left", "top", "right", "bottom", "geo", "text", "author", "metadata"]
        return pd.DataFrame(self._rows, columns=columns)
