"""Datasets: named collections of items, with the label set their tasks offer.

>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> ds = store.datasets.create("faces", labels=["Adult"])
>>> ds.add_labels(["Child", "Adult"])
['Adult', 'Child']
>>> store.datasets.get(name="faces") == ds
True
"""
from __future__ import annotations

import builtins
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from dltasks.annotations import Annotations
from dltasks.domain.checks import check_labels
from dltasks.domain.records import DatasetRecord
from dltasks.errors import ValidationError
from dltasks.items import Items

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import Store
    from dltasks.tasks import DatasetTasks

__all__ = ["Dataset", "Datasets"]


class Dataset:
    """A named collection of items (``dataset.items``, ``.annotations``, ``.tasks``)."""

    def __init__(self, store: Store, record: DatasetRecord) -> None:
        self._store = store
        self.id, self.name, self.created_at = record.id, record.name, record.created_at
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
        """The label set tasks of this dataset offer, in the order added (read from the store)."""
        return self._store.ops.get_dataset(self.id).labels

    def add_labels(self, labels: str | Iterable[str]) -> builtins.list[str]:
        """Add labels to the label set (duplicates ignored); return the new set."""
        return self._store.ops.add_labels(self.id, check_labels(labels))

    def export(self, path: str | Path, format: str = "coco") -> Path:
        """Write every annotation of the dataset to ``path`` in ``format`` (``"coco"``, ``"yolo"``,
        ``"label_studio"``, ``"csv"``); return what was written (see :func:`dltasks.exports.export_dataset`)."""
        from dltasks.exports import export_dataset

        return export_dataset(self, path, format)

    def delete(self) -> bool:
        """Delete the dataset with its items, annotations and tasks."""
        return self._store.datasets.delete(dataset_id=self.id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"Dataset(id={self.id!r}, name={self.name!r}, created_at={self.created_at.isoformat()!r})"


class Datasets:
    """Repository of datasets (``store.datasets``)."""

    def __init__(self, store: Store) -> None:
        self._store, self._ops = store, store.ops

    def create(self, name: str, labels: Iterable[str] | None = None) -> Dataset:
        """Create a dataset; ``ConflictError`` if the name is taken."""
        return Dataset(self._store, self._ops.create_dataset(name, check_labels(labels)))

    def get(self, name: str | None = None, dataset_id: str | None = None) -> Dataset:
        """One dataset by name or id; ``NotFoundError`` if there is none."""
        if dataset_id is not None:
            return Dataset(self._store, self._ops.get_dataset(dataset_id))
        if name is None:
            raise ValidationError("give name or dataset_id", "name", None)
        return Dataset(self._store, self._ops.list_datasets(name)[0])

    def list(self) -> builtins.list[Dataset]:
        """Every dataset, by name."""
        return [Dataset(self._store, r) for r in self._ops.list_datasets()]

    def to_df(self) -> pd.DataFrame:
        """Every dataset with its item count: id, name, items_count, created_at."""
        return self._ops.datasets_frame()

    def delete(self, name: str | None = None, dataset_id: str | None = None) -> bool:
        """Delete a dataset with everything in it."""
        return self._ops.delete_dataset(self.get(name=name, dataset_id=dataset_id).id)
