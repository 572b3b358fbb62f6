"""Remote items and annotations: a RemoteDataset's ``.items`` and ``.annotations``.

The local checks (item ids, labels, ``update_values``) run before a request is sent, so
bad input fails the same way on both backends without a round trip.
"""
from __future__ import annotations

import builtins
import os
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from dltasks import jsonutil
from dltasks.annotations import check_label
from dltasks.entities import Annotation, Item
from dltasks.errors import ValidationError
from dltasks.filters import Filters
from dltasks.items import Items, PagedItems, _check_update_values, _item_id, _prepare_rows, upload_frame
from dltasks.remote import wire
from dltasks.remote.datasets import q

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import RemoteStore
    from dltasks.remote.datasets import RemoteDataset

__all__ = ["RemoteItems", "RemoteAnnotations", "filters_json"]


def filters_json(filters: Filters | None) -> dict[str, Any] | None:
    """``filters.to_json()``, after the check the local store makes."""
    if filters is None:
        return None
    if not isinstance(filters, Filters):
        raise ValidationError("must be a dl.Filters", "filters", filters)
    return filters.to_json()


class RemoteItems:
    """``dataset.items`` on a server (the methods of :class:`dltasks.items.Items`)."""

    def __init__(self, store: RemoteStore, dataset: RemoteDataset) -> None:
        self._store, self._dataset, self._http = store, dataset, store.http
        self._base = f"/api/v1/datasets/{q(dataset.id)}/items"

    def _item(self, data: dict[str, Any]) -> Item:
        return wire.item_from_wire(data, self)

    # -- writing -----------------------------------------------------------------------------
    def upload(self, local_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
               remote_path: str = "/", item_metadata: dict[str, Any] | None = None,
               overwrite: bool = False) -> Item | list[Item]:
        """Register local files as items (by path: the files stay where they are)."""
        out = self.register(upload_frame(local_path, remote_path, item_metadata), overwrite=overwrite)
        single = isinstance(local_path, (str, os.PathLike)) and os.path.isfile(local_path)
        return out[0] if len(out) == 1 and single else out

    def register(self, frame: pd.DataFrame, overwrite: bool = False) -> list[Item]:
        """Add one item per row, keeping rows already stored (see ``dltasks.items.Items.register``)."""
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError("must be a pandas DataFrame", "frame", type(frame).__name__)
        _prepare_rows(frame, self._dataset.id)  # the local checks: bad frames fail before the upload
        body = self._http.request("POST", f"{self._base}/upload",
                                  {"frame": wire.frame_to_wire(frame), "overwrite": bool(overwrite)})
        return [self._item(i) for i in body["items"]]

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one item per row, all or nothing; return how many were inserted."""
        if not isinstance(df, pd.DataFrame):
            raise ValidationError("must be a pandas DataFrame", "df", type(df).__name__)
        _prepare_rows(df, self._dataset.id)  # the local checks: bad frames fail before the upload
        return int(self._http.request("POST", f"{self._base}/import", {"frame": wire.frame_to_wire(df)})["count"])

    def update(self, filters: Filters | None = None, update_values: dict[str, Any] | None = None,
               item: Item | None = None) -> int:
        """Deep-merge ``update_values`` into every matching item's metadata; return the count."""
        if item is not None:
            return 1 if self._update_item(item) else 0
        patch = _check_update_values(update_values)
        body = {"filters": filters_json(filters), "update_values": patch}
        return int(self._http.request("POST", f"{self._base}/update", body)["count"])

    def delete(self, item_id: int | str | None = None, filters: Filters | None = None) -> int:
        """Delete one item or every matching item; return how many were deleted."""
        if item_id is None and filters is None:
            raise ValidationError("give item_id or filters (Filters() deletes every item)", "filters", None)
        body = {"item_id": None if item_id is None else _item_id(item_id), "filters": filters_json(filters)}
        if item_id is not None:
            body["filters"] = None
        return int(self._http.request("POST", f"{self._base}/delete", body)["count"])

    def _update_item(self, item: Item) -> Item:
        meta = item.metadata
        if not isinstance(meta, dict) or not isinstance(meta.get("user", {}), dict):
            raise ValidationError("metadata must be a dict with a dict under 'user'", "metadata", meta)
        jsonutil.check_jsonable(meta, "metadata")
        body = {"name": item.name, "dir": item.dir, "metadata": meta}
        return self._item(self._http.request("PUT", f"{self._base}/{_item_id(item.id)}", body)["item"])

    # -- reading -----------------------------------------------------------------------------
    def get(self, item_id: int | str | None = None, filepath: str | None = None) -> Item:
        """One item by id (or by ``filepath``); ``NotFoundError`` if absent."""
        if item_id is not None:
            return self._item(self._http.request("GET", f"{self._base}/{_item_id(item_id)}")["item"])
        if filepath is not None:
            return self._item(self._http.request("GET", f"{self._base}/by-path", params={"filepath": filepath})["item"])
        raise ValidationError("give item_id or filepath", "item_id", None)

    def count(self, filters: Filters | None = None) -> int:
        """How many items match."""
        body = self._http.request("POST", f"{self._base}/count", {"filters": filters_json(filters)}, retry=True)
        return int(body["count"])

    def list(self, filters: Filters | None = None, page_offset: int = 0, page_size: int = 1000) -> PagedItems:
        """A page of matching items with ``items_count``, ``total_pages_count``, ``has_next_page``."""
        return PagedItems(self, filters, page_offset, page_size)  # type: ignore[arg-type]

    def get_all_items(self, filters: Filters | None = None) -> builtins.list[Item]:
        """Every matching item as a list."""
        return Items.get_all_items(self, filters)  # type: ignore[arg-type]

    def to_df(self, filters: Filters | None = None, metadata: str = "flat") -> pd.DataFrame:
        """Matching items as one DataFrame, one row per item (see ``Items.to_df``)."""
        if metadata not in ("flat", "dict", "none"):
            raise ValidationError("use 'flat', 'dict' or 'none'", "metadata", metadata)
        body = self._http.request("POST", f"{self._base}/frame", {"filters": filters_json(filters),
                                                                    "metadata": metadata}, retry=True)
        return wire.frame_from_wire(body["frame"])

    def metadata_keys(self) -> builtins.list[str]:
        """Dot paths of every user metadata key written to this dataset."""
        return list(self._http.request("GET", f"{self._base}/metadata-keys")["keys"])

    def _page(self, filters: Filters | None, page: int, size: int) -> builtins.list[Item]:
        body = self._http.request("POST", f"{self._base}/query", {"filters": filters_json(filters),
                                                                    "page_offset": page, "page_size": size},
                                  retry=True)
        return [self._item(i) for i in body["items"]]


class RemoteAnnotations:
    """``dataset.annotations`` on a server (the methods of :class:`dltasks.annotations.Annotations`)."""

    def __init__(self, store: RemoteStore, dataset: RemoteDataset) -> None:
        self._store, self._dataset, self._http = store, dataset, store.http
        self._base = f"/api/v1/datasets/{q(dataset.id)}"

    def _ann(self, data: dict[str, Any]) -> Annotation:
        return wire.annotation_from_wire(data, self)

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one annotation per row (``item_id``, ``label``, optional ``author``), all or nothing."""
        if not isinstance(df, pd.DataFrame):
            raise ValidationError("must be a pandas DataFrame", "df", type(df).__name__)
        body = self._http.request("POST", f"{self._base}/annotations/import", {"frame": wire.frame_to_wire(df)})
        return int(body["count"])

    def to_df(self, task_id: str | None = None) -> pd.DataFrame:
        """Every annotation of the dataset: id, item_id, label, author, task_id, created_at."""
        params = {"task_id": task_id} if task_id is not None else None
        return wire.frame_from_wire(self._http.request("GET", f"{self._base}/annotations/frame", params=params)["frame"])

    def get(self, annotation_id: int) -> Annotation:
        """One annotation by id."""
        return self._ann(self._http.request("GET", f"{self._base}/annotations/{_item_id(annotation_id)}")["annotation"])

    def delete(self, annotation_id: int) -> bool:
        """Delete one annotation."""
        self._http.request("DELETE", f"{self._base}/annotations/{_item_id(annotation_id)}")
        return True

    def _create(self, item_id: int, label: str, author: str | None, task_id: str | None = None) -> Annotation:
        body = {"label": check_label(label), "author": author}
        return self._ann(self._http.request("POST", f"{self._base}/items/{_item_id(item_id)}/annotations",
                                            body)["annotation"])

    def _list(self, item_id: int) -> list[Annotation]:
        body = self._http.request("GET", f"{self._base}/items/{_item_id(item_id)}/annotations")
        return [self._ann(a) for a in body["annotations"]]

    def _update_annotation(self, ann: Annotation) -> Annotation:
        body = {"label": check_label(ann.label)}
        return self._ann(self._http.request("PATCH", f"{self._base}/annotations/{_item_id(ann.id)}",
                                            body)["annotation"])
