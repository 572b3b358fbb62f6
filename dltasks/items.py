"""The items of a dataset: upload files, bulk import rows, read, filter, update metadata.

Bulk reads come out as DataFrames (:meth:`Items.to_df`), bulk writes take one
(:meth:`Items.import_df`); every multi-row write is one transaction.

>>> import dltasks as dl, pandas as pd
>>> ds = dl.connect("sqlite://").datasets.create("d")
>>> ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"], "user.colour": ["red", "blue"]}))
2
>>> f = dl.Filters(field="metadata.user.colour", values="red")
>>> [i.name for i in ds.items.get_all_items(filters=f)]
['a.jpg']
"""
from __future__ import annotations

import builtins
import math
import mimetypes
import os
import posixpath
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import pandas as pd
from tqdm.auto import tqdm

from dltasks import jsonutil
from dltasks.domain.filters import Filters
from dltasks.domain.checks import check_whole, to_item_id
from dltasks.domain.items import check_item_edit, check_update_values, item_rows, normalise_dir
from dltasks.domain.records import Item, ItemPage
from dltasks.domain.types import MAX_PAGE_ITEMS, MetadataMode
from dltasks.errors import ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.annotations import ItemAnnotations
    from dltasks.client import Store
    from dltasks.datasets import Dataset

__all__ = ["Items", "PagedItems", "upload_frame"]


class PagedItems:
    """One page of items plus paging facts (dtlpy ``PagedEntities``).

    Iterating yields pages (lists of :class:`Item`) from this one on; :meth:`all` yields items.
    """

    def __init__(self, items: Items, filters: Filters | None, page_offset: int, page_size: int) -> None:
        check_whole(page_offset, "page_offset", 0, 10**9)
        check_whole(page_size, "page_size", 1, MAX_PAGE_ITEMS)
        self._items_repo, self._filters = items, filters
        first = items._page(filters, page_offset, page_size)
        self.page_offset, self.page_size = page_offset, page_size
        self.items_count = first.total
        self.total_pages_count = max(1, math.ceil(self.items_count / page_size))
        self.items: builtins.list[Item] = first.items

    @property
    def has_next_page(self) -> bool:
        """Whether a page follows this one."""
        return self.page_offset + 1 < self.total_pages_count

    def go_to_page(self, page: int) -> None:
        """Load page ``page`` (0-based)."""
        self.items = self._items_repo._page(self._filters, page, self.page_size).items
        self.page_offset = page

    def next_page(self) -> None:
        """Load the following page."""
        self.go_to_page(self.page_offset + 1)

    def __iter__(self) -> Iterator[builtins.list[Item]]:
        start = self.page_offset
        yield self.items
        for page in range(start + 1, self.total_pages_count):
            self.go_to_page(page)
            yield self.items

    def all(self) -> Iterator[Item]:
        """Every matching item, page by page."""
        for page in self:
            yield from page

    def __len__(self) -> int:
        return self.items_count

    def __repr__(self) -> str:
        return (f"PagedItems(items_count={self.items_count}, page_offset={self.page_offset}, "
                f"page_size={self.page_size}, total_pages_count={self.total_pages_count})")


class Items:
    """Repository of one dataset's items (``dataset.items``)."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._store, self._dataset, self._ops = store, dataset, store.ops

    def _bind(self, item: Item) -> Item:
        item._repo = self
        return item

    # -- writing -------------------------------------------------------------------------------
    def upload(self, local_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
               remote_path: str = "/", item_metadata: dict[str, Any] | None = None,
               overwrite: bool = False) -> Item | builtins.list[Item]:
        """Register a file, every file of a folder, or a list of paths as items.

        ``item_metadata`` becomes each item's ``metadata['user']``.  An item whose filename
        is already in the dataset is returned as it is unless ``overwrite``.  Returns one
        Item for one file, a list otherwise.  The files stay where they are (items keep
        their path).
        """
        out = self.register(upload_frame(local_path, remote_path, item_metadata), overwrite=overwrite)
        single = isinstance(local_path, (str, os.PathLike)) and os.path.isfile(local_path)
        return out[0] if single and len(out) == 1 else out

    def register(self, frame: pd.DataFrame, overwrite: bool = False) -> builtins.list[Item]:
        """Add one item per row (columns as :meth:`import_df`), keeping rows already stored.

        A row whose dir + name is already in the dataset is returned as it is, or, with
        ``overwrite``, gets the row's path, mime, size and metadata.  All or nothing; returns
        the items in row order.
        """
        rows = item_rows(frame, "frame")
        return [self._bind(i) for i in self._ops.register_items(self._dataset.id, rows, overwrite)]

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one item per row, all or nothing; return how many were inserted.

        Columns: ``name`` (required), ``dir`` (default ``'/'``), ``path`` or ``url``, ``mime``,
        ``size``, ``metadata`` (dicts, merged as the item's metadata), and any number of
        ``user.<key>`` / ``metadata.user.<key>`` columns that become ``metadata['user'][key]``.
        Any other column is refused with a ``ValidationError`` naming it.
        """
        return self._ops.import_items(self._dataset.id, item_rows(df))

    def update(self, filters: Filters | None = None, update_values: dict[str, Any] | None = None,
               item: Item | None = None) -> int:
        """Deep-merge ``update_values`` (``{'user': {...}}``) into every matching item's metadata.

        Merge-patch rules: nested dicts merge, ``None`` removes a key, other values replace.
        One transaction; returns the number of items matched.  ``item=`` stores one edited
        item instead (as ``item.update()``) and returns 1.
        """
        if item is not None:
            self.update_item(item)
            return 1
        return self._ops.update_items(self._dataset.id, filters, check_update_values(update_values))

    def update_item(self, item: Item) -> Item:
        """Store an edited item's name, dir and metadata; return the fresh item."""
        change = check_item_edit(item.name, item.dir, item.metadata)
        return self._bind(self._ops.update_item(self._dataset.id, item.id, change))

    def delete(self, item_id: int | str | None = None, filters: Filters | None = None) -> int:
        """Delete one item or every matching item; return how many were deleted."""
        if item_id is not None:
            return self._ops.delete_item(self._dataset.id, to_item_id(item_id))
        if filters is None:
            raise ValidationError("give item_id or filters (Filters() deletes every item)", "filters", None)
        return self._ops.delete_items(self._dataset.id, filters)

    # -- reading -------------------------------------------------------------------------------
    def get(self, item_id: int | str | None = None, filepath: str | None = None) -> Item:
        """One item by id (or by ``filepath`` like ``'/train/a.jpg'``); ``NotFoundError`` if absent."""
        if item_id is not None:
            return self._bind(self._ops.get_item(self._dataset.id, to_item_id(item_id)))
        if filepath is not None:
            return self._bind(self._ops.get_item_by_path(self._dataset.id, filepath))
        raise ValidationError("give item_id or filepath", "item_id", None)

    def count(self, filters: Filters | None = None) -> int:
        """How many items match."""
        return self._ops.count_items(self._dataset.id, filters)

    def list(self, filters: Filters | None = None, page_offset: int = 0, page_size: int = 1000) -> PagedItems:
        """A page of matching items with ``items_count``, ``total_pages_count``, ``has_next_page``."""
        return PagedItems(self, filters, page_offset, page_size)

    def get_all_items(self, filters: Filters | None = None) -> builtins.list[Item]:
        """Every matching item as a list (a progress bar when it takes several pages)."""
        pages = self.list(filters=filters, page_size=1000)
        out: builtins.list[Item] = []
        with tqdm(total=pages.items_count, desc="Iterate Entity", disable=pages.total_pages_count <= 1) as bar:
            for page in pages:
                out.extend(page)
                bar.update(len(page))
        return out

    def to_df(self, filters: Filters | None = None, metadata: MetadataMode = "flat") -> pd.DataFrame:
        """Matching items as one DataFrame, one row per item.

        ``metadata='flat'`` (default) gives a ``metadata.user.<path>`` column per user key
        ever written to the dataset (missing → NaN); ``'dict'`` gives one ``metadata`` column
        of dicts; ``'none'`` leaves metadata out.
        """
        return self._ops.items_frame(self._dataset.id, filters, metadata)

    def metadata_keys(self) -> builtins.list[str]:
        """Dot paths of every user metadata key written to this dataset, e.g. ``'user.colour'``."""
        return self._ops.metadata_keys(self._dataset.id)

    def annotations_of(self, item: Item) -> ItemAnnotations:
        """One item's annotations (``item.annotations``)."""
        from dltasks.annotations import ItemAnnotations

        return ItemAnnotations(self._dataset.annotations, item)

    def _page(self, filters: Filters | None, page: int, size: int) -> ItemPage:
        """Page ``page`` of ``size`` items: one read, or several when items carry much metadata."""
        offset, items = page * size, list[Item]()
        while True:
            found = self._ops.query_items(self._dataset.id, filters, offset, size - len(items))
            items += [self._bind(item) for item in found.items]
            offset += len(found.items)
            if len(items) >= size or not found.items or offset >= found.total:
                return ItemPage(items=items, total=found.total)


def upload_frame(local_path: Any, remote_path: str = "/", item_metadata: dict[str, Any] | None = None) -> pd.DataFrame:
    """The rows :meth:`Items.register` takes for files on this machine (a file, a folder, a list)."""
    base = normalise_dir(remote_path)
    user = dict(item_metadata or {})
    jsonutil.check_jsonable(user, "item_metadata")
    rows = [{"name": os.path.basename(p), "dir": d, "path": os.path.abspath(p),
             "mime": mimetypes.guess_type(p)[0], "size": os.path.getsize(p),
             "metadata": {"user": user, "system": {"originalname": os.path.basename(p)}}}
            for p, d in _collect_files(local_path, base)]
    return pd.DataFrame(rows, columns=["name", "dir", "path", "mime", "size", "metadata"])


def _collect_files(local_path: Any, base: str) -> list[tuple[str, str]]:
    paths = list(local_path) if isinstance(local_path, (list, tuple)) else [local_path]
    out: list[tuple[str, str]] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isfile(p):
            out.append((p, base))
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                rel = os.path.relpath(root, p)
                d = base if rel == "." else normalise_dir(posixpath.join(base, rel.replace(os.sep, "/")))
                out.extend((os.path.join(root, f), d) for f in sorted(files))
        else:
            raise ValidationError("no such file or folder", "local_path", p)
    if not out:
        raise ValidationError("no files to upload", "local_path", local_path)
    return out

