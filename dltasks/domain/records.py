"""The values backend operations return: items, annotations, users, dataset and task records.

Records are plain dataclasses; the SDK binds them to the repository that made them (an
item's ``_repo``), so their methods (``item.update()``, ``annotation.delete()``) call it and
the same records work on every backend.  Fields whose names start with ``_`` never travel.

Examples
--------
>>> import datetime as dt
>>> item = Item(id=1, dataset_id="d", name="a.jpg", dir="/", filename="/a.jpg", path=None, mime=None,
...             size=None, metadata={}, created_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
>>> item.metadata
{'user': {}, 'system': {}}
>>> item.update()
Traceback (most recent call last):
dltasks.errors.DltasksError: this item is not bound to a store: get it from the store first
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from dltasks.domain.filters import Filters
from dltasks.domain.answers import image_size
from dltasks.domain.shapes import Definition, definition
from dltasks.domain.task_options import TaskSpec
from dltasks.errors import DltasksError

__all__ = ["Item", "Annotation", "User", "DatasetRecord", "ItemPage", "TaskRecord", "TaskRecordPage", "copy_fields"]

R = TypeVar("R")


def _bound(repo: Any, what: str) -> Any:
    """The repository a record came from; records built by hand have none."""
    if repo is None:
        raise DltasksError(f"this {what} is not bound to a store: get it from the store first")
    return repo


#: The fields ``__init__`` takes, by record class (``dataclasses.fields`` costs a loop each call).
_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def copy_fields(record: Any, cls: type[R], **extra: Any) -> R:
    """An instance of ``cls`` (a subclass of ``record``'s class) with ``record``'s fields."""
    names = _INIT_FIELDS.get(type(record))
    if names is None:
        names = _INIT_FIELDS[type(record)] = tuple(f.name for f in fields(record) if f.init)
    return cls(**{name: getattr(record, name) for name in names}, **extra)


@dataclass(eq=False)
class Item:
    """One data item (a file or a row) of a dataset, with free ``metadata['user']``."""

    id: int
    dataset_id: str
    name: str
    dir: str
    filename: str
    path: str | None
    mime: str | None
    size: int | None
    metadata: dict[str, Any]
    created_at: _dt.datetime
    annotations_count: int = 0
    _repo: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.metadata.setdefault("user", {})
        self.metadata.setdefault("system", {})

    @property
    def type(self) -> str:
        """``'file'`` (dtlpy's item type)."""
        return "file"

    @property
    def width(self) -> float | None:
        """The image's width in pixels, from ``metadata['system']['width']`` (``None``: not known)."""
        size = image_size(self.metadata)
        return None if size is None else size[0]

    @property
    def height(self) -> float | None:
        """The image's height in pixels, from ``metadata['system']['height']`` (``None``: not known)."""
        size = image_size(self.metadata)
        return None if size is None else size[1]

    @property
    def annotations(self) -> Any:
        """This item's annotations (``.create(label=…)``, ``.list()``)."""
        return _bound(self._repo, "item").annotations_of(self)

    def update(self) -> Item:
        """Persist name, dir and metadata; return the fresh item from the store."""
        return _bound(self._repo, "item").update_item(self)

    def delete(self) -> bool:
        """Delete the item (and its annotations and assignments)."""
        return bool(_bound(self._repo, "item").delete(item_id=self.id) == 1)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Item) and (self.id, self.dataset_id) == (other.id, other.dataset_id)

    def __hash__(self) -> int:
        return hash((self.id, self.dataset_id))

    def __repr__(self) -> str:
        return (f"Item(dataset_id={self.dataset_id!r}, created_at={self.created_at.isoformat()!r}, "
                f"filename={self.filename!r}, name={self.name!r}, type='file', id={self.id!r}, "
                f"mime={self.mime!r}, annotations_count={self.annotations_count})")


@dataclass(eq=False)
class Annotation:
    """A label, box, polygon or text on an item, by an author (a user id, ``'import'`` or ``'model'``),
    maybe in a task, with free ``metadata['user']``.

    >>> import datetime as dt
    >>> a = Annotation(id=1, item_id=2, label="car", author="ann", task_id=None, kind="box",
    ...                geo=[[1.0, 2.0], [5.0, 6.0]], created_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    >>> a.type, a.annotation_definition, a.metadata
    ('box', Box(left=1.0, top=2.0, right=5.0, bottom=6.0, label='car'), {'user': {}})
    """

    id: int
    item_id: int
    label: str | None
    author: str
    task_id: str | None
    created_at: _dt.datetime
    kind: str = "class"
    geo: list[list[float]] | None = None
    text: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    _repo: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.metadata.setdefault("user", {})

    @property
    def type(self) -> str:
        """dtlpy's annotation type: ``'class'``, ``'box'``, ``'polygon'`` or ``'text'``."""
        return self.kind

    @property
    def annotation_definition(self) -> Definition:
        """The annotation as a definition (``dl.Box`` …), as it was given."""
        return definition(self.kind, self.label, self.geo, self.text)

    def update(self) -> Annotation:
        """Persist a changed ``label`` or ``metadata``; return the fresh annotation.

        A task's labels change only through the task's work; their metadata can change here.
        """
        return _bound(self._repo, "annotation").update(self)

    def delete(self) -> bool:
        """Delete this annotation."""
        return bool(_bound(self._repo, "annotation").delete(self.id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Annotation) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class User:
    """Someone who works on or reviews tasks; ``id`` is any non-empty string (an e-mail)."""

    id: str
    name: str | None
    created_at: _dt.datetime


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset as stored: id, unique name, label set, creation time."""

    id: str
    name: str
    labels: list[str]
    created_at: _dt.datetime


@dataclass
class ItemPage:
    """One page of items and how many items match in all."""

    items: list[Item]
    total: int


@dataclass(eq=False, kw_only=True)
class TaskRecord(TaskSpec):
    """A task as stored: its options (:class:`~dltasks.domain.task_options.TaskSpec`), ids and times."""

    id: str
    dataset_id: str
    parent_task_id: str | None
    filters: Filters | None
    created_at: _dt.datetime
    modified_at: _dt.datetime


@dataclass
class TaskRecordPage:
    """One page of task records and how many tasks match in all."""

    tasks: list[TaskRecord]
    total: int
