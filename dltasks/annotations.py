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
from typing import TYPE_CHECKING

import pandas as pd

from dltasks.domain.annotations import annotation_rows
from dltasks.domain.checks import to_item_id
from dltasks.domain.records import Annotation, Item

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import Store
    from dltasks.datasets import Dataset

__all__ = ["Annotations", "ItemAnnotations"]


class Annotations:
    """Repository of one dataset's annotations (``dataset.annotations``)."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._dataset, self._ops = dataset, store.ops

    def _bind(self, annotation: Annotation) -> Annotation:
        annotation._repo = self
        return annotation

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one annotation per row (``item_id``, ``label``, optional ``author``), all or nothing."""
        return self._ops.import_annotations(self._dataset.id, annotation_rows(df))

    def to_df(self, task_id: str | None = None) -> pd.DataFrame:
        """Every annotation of the dataset: id, item_id, label, author, task_id, created_at."""
        return self._ops.annotations_frame(self._dataset.id, task_id)

    def create(self, item_id: int, label: str, author: str | None = None) -> Annotation:
        """Add a label to an item (author defaults to ``'import'``)."""
        return self._bind(self._ops.create_annotation(self._dataset.id, to_item_id(item_id), label, author))

    def get(self, annotation_id: int) -> Annotation:
        """One annotation by id."""
        return self._bind(self._ops.get_annotation(self._dataset.id, to_item_id(annotation_id, "annotation_id")))

    def of_item(self, item_id: int) -> builtins.list[Annotation]:
        """An item's annotations, oldest first."""
        return [self._bind(a) for a in self._ops.item_annotations(self._dataset.id, to_item_id(item_id))]

    def update(self, annotation: Annotation) -> Annotation:
        """Store an annotation's changed ``label``; return the fresh annotation."""
        return self._bind(self._ops.update_annotation(self._dataset.id, annotation.id, annotation.label))

    def delete(self, annotation_id: int) -> bool:
        """Delete one annotation."""
        return self._ops.delete_annotation(self._dataset.id, to_item_id(annotation_id, "annotation_id"))


class ItemAnnotations:
    """One item's annotations (``item.annotations``)."""

    def __init__(self, repo: Annotations, item: Item) -> None:
        self._repo, self._item = repo, item

    def create(self, label: str, author: str | None = None) -> Annotation:
        """Add a label to the item (author defaults to ``'import'``)."""
        return self._repo.create(self._item.id, label, author)

    def list(self) -> builtins.list[Annotation]:
        """The item's annotations, oldest first."""
        return self._repo.of_item(self._item.id)
