"""Plain entity classes the SDK hands out: Dataset, Item, Annotation, User.

Entities hold values and a reference to the repository that made them; their methods
(``item.update()``, ``annotation.delete()``) call that repository, so the same entities
work on a local store and on a remote server.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.annotations import Annotations, ItemAnnotations
    from dltasks.items import Items

__all__ = ["Item", "Annotation", "User"]


def _bound(repo: Any, what: str) -> Any:
    """The repository an entity came from; entities built by hand have none."""
    if repo is None:
        from dltasks.errors import DltasksError

        raise DltasksError(f"this {what} is not bound to a store: get it from the store first")
    return repo


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
    _repo: Items | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.metadata.setdefault("user", {})
        self.metadata.setdefault("system", {})

    @property
    def type(self) -> str:
        """``'file'`` (dtlpy's item type)."""
        return "file"

    @property
    def annotations(self) -> ItemAnnotations:
        """This item's annotations (``.create(label=…)``, ``.list()``)."""
        from dltasks.annotations import ItemAnnotations

        return ItemAnnotations(_bound(self._repo, "item")._store, self)

    def update(self) -> Item:
        """Persist name, dir and metadata; return the fresh item from the store."""
        return _bound(self._repo, "item")._update_item(self)

    def delete(self) -> bool:
        """Delete the item (and its annotations and assignments)."""
        return _bound(self._repo, "item").delete(item_id=self.id) == 1

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
    """A label on an item, by an author (a user id, ``'import'`` or ``'model'``), maybe in a task."""

    id: int
    item_id: int
    label: str
    author: str
    task_id: str | None
    created_at: _dt.datetime
    _repo: Annotations | None = field(default=None, repr=False)

    def update(self) -> Annotation:
        """Persist a changed ``label``; return the fresh annotation."""
        return _bound(self._repo, "annotation")._update_annotation(self)

    def delete(self) -> bool:
        """Delete this annotation."""
        return _bound(self._repo, "annotation").delete(self.id)

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
