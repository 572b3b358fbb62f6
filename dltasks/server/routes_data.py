"""dltasks' own routes for users, datasets, items and annotations (``/api/v1/...``).

Reading needs any valid token; writing datasets, items and users needs an admin token; a
user token may label items (annotations) only as itself.
"""
from __future__ import annotations

from typing import Any, Optional

import pandas as pd
from fastapi import APIRouter, Depends, Query

from dltasks.errors import ValidationError
from dltasks.remote import wire
from dltasks.server import models as M
from dltasks.server.deps import admin, principal, require_self, store_of
from dltasks.server.errors import ok
from dltasks.server.tokens import Principal, create_token

__all__ = ["router", "frame_in", "filters_in"]

router = APIRouter(prefix="/api/v1")
Store = Any


def frame_in(frame: M.FrameIn, field: str = "frame") -> pd.DataFrame:
    """Decode a frame sent by the client; a malformed one is a ``ValidationError``."""
    n = len(frame.columns)
    if frame.dtypes is not None and len(frame.dtypes) != n:
        raise ValidationError("needs one dtype per column", f"{field}.dtypes", len(frame.dtypes))
    bad = next((i for i, row in enumerate(frame.data) if len(row) != n), None)
    if bad is not None:
        raise ValidationError(f"row {bad} has {len(frame.data[bad])} values for {n} columns", f"{field}.data", bad)
    try:
        return wire.frame_from_wire(frame.model_dump())
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ValidationError(f"cannot be read as a DataFrame ({exc})", field, None) from None


def filters_in(filters: Optional[M.FiltersIn]) -> Any:
    """The :class:`dltasks.Filters` of a request (``None`` selects everything)."""
    return None if filters is None else filters.to_filters()


def _dataset_out(ds: Any) -> dict[str, Any]:
    return {"id": ds.id, "name": ds.name, "created_at": wire.epoch(ds.created_at), "labels": ds.labels}


def _dataset(store: Store, dataset_id: str) -> Any:
    return store.datasets.get(dataset_id=dataset_id)


# -- users and tokens --------------------------------------------------------------------------
@router.get("/me", response_model=M.MeResponse, tags=["users"], summary="Who the token belongs to")
def me(who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET the user the calling token belongs to and whether it is an admin token."""
    return ok(user_id=who.user_id, admin=who.admin)


@router.get("/users", response_model=M.UsersResponse, tags=["users"])
def list_users(store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET every user, by id."""
    return ok(users=[wire.user_to_wire(u) for u in store.users.list()])


@router.post("/users", response_model=M.UserResponse, tags=["users"])
def create_user(body: M.UserIn, store: Store = Depends(store_of), who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: register a new user and return it (409 if the id is taken); admin token only."""
    return ok(user=wire.user_to_wire(store.users.create(body.id, name=body.name)))


@router.post("/users/ensure", response_model=M.IdsResponse, tags=["users"],
             summary="Register every id not yet known (store.users.ensure)")
def ensure_users(body: M.IdsIn, store: Store = Depends(store_of), who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: register every id not yet known and return the ids, checked; admin token only."""
    return ok(ids=store.users.ensure(body.ids, field="ids"))


@router.get("/users/{user_id}", response_model=M.UserResponse, tags=["users"])
def get_user(user_id: str, store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET one user by id."""
    return ok(user=wire.user_to_wire(store.users.get(user_id)))


@router.post("/tokens", response_model=M.TokenResponse, tags=["users"], summary="Create an API token for a user")
def new_token(body: M.TokenIn, store: Store = Depends(store_of), who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: create an API token (user or admin) for a user and return it; admin token only."""
    return ok(user_id=body.user_id, admin=body.admin, token=create_token(store, body.user_id, admin=body.admin))


# -- datasets ----------------------------------------------------------------------------------
@router.get("/datasets", response_model=M.DatasetsResponse, tags=["datasets"],
            summary="Every dataset by name (or the one named `name`)")
def list_datasets(name: Optional[str] = Query(None, max_length=255), store: Store = Depends(store_of),
                  who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET every dataset by name, or only the one named ``name``."""
    found = [store.datasets.get(name=name)] if name is not None else store.datasets.list()
    return ok(datasets=[_dataset_out(d) for d in found])


@router.get("/datasets-frame", response_model=M.FrameResponse, tags=["datasets"], summary="store.datasets.to_df()")
def datasets_frame(store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET every dataset as a frame (``store.datasets.to_df()``)."""
    return ok(frame=wire.frame_to_wire(store.datasets.to_df()))


@router.post("/datasets", response_model=M.DatasetResponse, tags=["datasets"])
def create_dataset(body: M.DatasetIn, store: Store = Depends(store_of), who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: create a dataset (with an optional label set) and return it; admin token only."""
    return ok(dataset=_dataset_out(store.datasets.create(body.name, labels=body.labels)))


@router.get("/datasets/{dataset_id}", response_model=M.DatasetResponse, tags=["datasets"])
def get_dataset(dataset_id: str, store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET one dataset by id."""
    return ok(dataset=_dataset_out(_dataset(store, dataset_id)))


@router.delete("/datasets/{dataset_id}", response_model=M.StatusResponse, tags=["datasets"])
def delete_dataset(dataset_id: str, store: Store = Depends(store_of), who: Principal = Depends(admin)) -> dict[str, Any]:
    """DELETE a dataset with its items, annotations and tasks; admin token only."""
    store.datasets.delete(dataset_id=dataset_id)
    return ok()


@router.post("/datasets/{dataset_id}/labels", response_model=M.LabelsResponse, tags=["datasets"])
def add_labels(dataset_id: str, body: M.LabelsIn, store: Store = Depends(store_of),
               who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: add labels to the dataset's label set and return the new set; admin token only."""
    return ok(labels=_dataset(store, dataset_id).add_labels(body.labels))


# -- items -------------------------------------------------------------------------------------
@router.post("/datasets/{dataset_id}/items/import", response_model=M.CountResponse, tags=["items"],
             summary="dataset.items.import_df(frame): all rows or none")
def import_items(dataset_id: str, body: M.ImportRequest, store: Store = Depends(store_of),
                 who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: insert one item per frame row, all or none, and return how many; admin token only."""
    items = _dataset(store, dataset_id).items
    return ok(count=items.import_df(frame_in(body.frame)))


@router.post("/datasets/{dataset_id}/items/upload", response_model=M.ItemsResponse, tags=["items"],
             summary="Register files by path (the client's upload): existing filenames kept unless overwrite")
def upload_items(dataset_id: str, body: M.UploadRequest, store: Store = Depends(store_of),
                 who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: register files by path (existing ones kept unless overwrite) and return their items; admin token only."""
    out = _dataset(store, dataset_id).items.register(frame_in(body.frame), overwrite=body.overwrite)
    return ok(items=[wire.item_to_wire(i) for i in out])


@router.post("/datasets/{dataset_id}/items/query", response_model=M.ItemsPageResponse, tags=["items"],
             summary="A page of items matching filters (a read: safe to retry)")
def query_items(dataset_id: str, body: M.ItemsQuery, store: Store = Depends(store_of),
                who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST (a read): return a page of the items matching filters, with how many match in all."""
    items = _dataset(store, dataset_id).items
    f = filters_in(body.filters)
    page = items.list(filters=f, page_offset=body.page_offset, page_size=body.page_size)
    return ok(items_count=page.items_count, items=[wire.item_to_wire(i) for i in page.items])


@router.post("/datasets/{dataset_id}/items/count", response_model=M.CountResponse, tags=["items"])
def count_items(dataset_id: str, body: M.FiltersQuery, store: Store = Depends(store_of),
                who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST (a read): return how many of the dataset's items match the filters."""
    return ok(count=_dataset(store, dataset_id).items.count(filters_in(body.filters)))


@router.post("/datasets/{dataset_id}/items/frame", response_model=M.FrameResponse, tags=["items"],
             summary="dataset.items.to_df(filters, metadata)")
def items_frame(dataset_id: str, body: M.ItemsFrameQuery, store: Store = Depends(store_of),
                who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST (a read): return the items matching filters as a frame, metadata flat, as dicts or left out."""
    items = _dataset(store, dataset_id).items
    return ok(frame=wire.frame_to_wire(items.to_df(filters=filters_in(body.filters), metadata=body.metadata)))


@router.get("/datasets/{dataset_id}/items/metadata-keys", response_model=M.KeysResponse, tags=["items"])
def metadata_keys(dataset_id: str, store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET the dot paths of every user metadata key written to the dataset."""
    return ok(keys=_dataset(store, dataset_id).items.metadata_keys())


@router.post("/datasets/{dataset_id}/items/update", response_model=M.CountResponse, tags=["items"],
             summary="Merge update_values into the metadata of every matching item")
def update_items(dataset_id: str, body: M.ItemsUpdate, store: Store = Depends(store_of),
                 who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: deep-merge update_values into every matching item's metadata, return how many; admin token only."""
    items = _dataset(store, dataset_id).items
    return ok(count=items.update(filters=filters_in(body.filters), update_values=body.update_values))


@router.post("/datasets/{dataset_id}/items/delete", response_model=M.CountResponse, tags=["items"])
def delete_items(dataset_id: str, body: M.ItemsDelete, store: Store = Depends(store_of),
                 who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: delete one item or every item matching filters and return how many; admin token only."""
    items = _dataset(store, dataset_id).items
    return ok(count=items.delete(item_id=body.item_id, filters=filters_in(body.filters)))


@router.get("/datasets/{dataset_id}/items/by-path", response_model=M.ItemResponse, tags=["items"])
def item_by_path(dataset_id: str, filepath: str = Query(max_length=10_000), store: Store = Depends(store_of),
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET one item of the dataset by its file path, like ``/train/a.jpg``."""
    return ok(item=wire.item_to_wire(_dataset(store, dataset_id).items.get(filepath=filepath)))


@router.get("/datasets/{dataset_id}/items/{item_id}", response_model=M.ItemResponse, tags=["items"])
def get_item(dataset_id: str, item_id: M.ItemId, store: Store = Depends(store_of),
             who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET one item of the dataset by id."""
    return ok(item=wire.item_to_wire(_dataset(store, dataset_id).items.get(item_id=item_id)))


@router.put("/datasets/{dataset_id}/items/{item_id}", response_model=M.ItemResponse, tags=["items"],
            summary="item.update(): store name, dir and metadata")
def put_item(dataset_id: str, item_id: M.ItemId, body: M.ItemPatch, store: Store = Depends(store_of),
             who: Principal = Depends(admin)) -> dict[str, Any]:
    """PUT: overwrite an item's name, dir and metadata and return the item; admin token only."""
    items = _dataset(store, dataset_id).items
    item = items.get(item_id=item_id)
    item.name, item.dir, item.metadata = body.name, body.dir, body.metadata
    return ok(item=wire.item_to_wire(items._update_item(item)))


# -- annotations -------------------------------------------------------------------------------
def _ann_out(a: Any) -> dict[str, Any]:
    return wire.annotation_to_wire(a)


@router.post("/datasets/{dataset_id}/annotations/import", response_model=M.CountResponse, tags=["annotations"])
def import_annotations(dataset_id: str, body: M.ImportRequest, store: Store = Depends(store_of),
                       who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: insert one annotation per frame row, all or none, and return how many; admin token only."""
    return ok(count=_dataset(store, dataset_id).annotations.import_df(frame_in(body.frame)))


@router.get("/datasets/{dataset_id}/annotations/frame", response_model=M.FrameResponse, tags=["annotations"])
def annotations_frame(dataset_id: str, task_id: Optional[str] = Query(None, max_length=64),
                      store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET every annotation of the dataset as a frame, optionally only those of one task."""
    return ok(frame=wire.frame_to_wire(_dataset(store, dataset_id).annotations.to_df(task_id=task_id)))


@router.get("/datasets/{dataset_id}/annotations/{annotation_id}", response_model=M.AnnotationResponse,
            tags=["annotations"])
def get_annotation(dataset_id: str, annotation_id: M.ItemId, store: Store = Depends(store_of),
                   who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET one annotation of the dataset by id."""
    return ok(annotation=_ann_out(_dataset(store, dataset_id).annotations.get(annotation_id)))


@router.patch("/datasets/{dataset_id}/annotations/{annotation_id}", response_model=M.AnnotationResponse,
              tags=["annotations"], summary="Change an annotation's label (admins, or its author)")
def patch_annotation(dataset_id: str, annotation_id: M.ItemId, body: M.AnnotationPatch,
                     store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """PATCH an annotation's label and return it (admins, or a user token on its own annotation)."""
    repo = _dataset(store, dataset_id).annotations
    ann = repo.get(annotation_id)
    require_self(who, ann.author, "change annotations")
    ann.label = body.label
    return ok(annotation=_ann_out(repo._update_annotation(ann)))


@router.delete("/datasets/{dataset_id}/annotations/{annotation_id}", response_model=M.StatusResponse,
               tags=["annotations"], summary="Delete an annotation (admins, or its author)")
def delete_annotation(dataset_id: str, annotation_id: M.ItemId, store: Store = Depends(store_of),
                      who: Principal = Depends(principal)) -> dict[str, Any]:
    """DELETE an annotation (admins, or a user token on its own annotation)."""
    repo = _dataset(store, dataset_id).annotations
    require_self(who, repo.get(annotation_id).author, "delete annotations")
    repo.delete(annotation_id)
    return ok()


@router.get("/datasets/{dataset_id}/items/{item_id}/annotations", response_model=M.AnnotationsResponse,
            tags=["annotations"])
def item_annotations(dataset_id: str, item_id: M.ItemId, store: Store = Depends(store_of),
                     who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET an item's annotations, oldest first."""
    ds = _dataset(store, dataset_id)
    ds.items.get(item_id=item_id)
    return ok(annotations=[_ann_out(a) for a in ds.annotations._list(item_id)])


@router.post("/datasets/{dataset_id}/items/{item_id}/annotations", response_model=M.AnnotationResponse,
             tags=["annotations"], summary="Label an item (a user token labels as itself)")
def create_annotation(dataset_id: str, item_id: M.ItemId, body: M.AnnotationIn, store: Store = Depends(store_of),
                      who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST a label on an item and return the annotation (a user token labels only as itself)."""
    ds = _dataset(store, dataset_id)
    ds.items.get(item_id=item_id)
    require_self(who, body.author if body.author is not None else "import", "label items")
    return ok(annotation=_ann_out(ds.annotations._create(item_id, body.label, body.author)))
