"""The HTTP backend: a ``dltasks serve`` server, called operation by operation.

Every method sends one request as the operation table (:mod:`dltasks.backends.ops`) says
(method, path, which arguments go in the path, the query or the JSON body, whether it may be
repeated) and decodes the answer by the operation's result type (:mod:`dltasks.backends.wire`).
Frames (DataFrames, Series) are asked for as Arrow IPC streams (:mod:`dltasks.backends.columnar`),
or as JSON with ``frames="json"``; big ones come page by page and are joined here.
The signatures are the :class:`~dltasks.backends.base.Backend` protocol's, checked by mypy.

Examples
--------
>>> HttpBackend("http://127.0.0.1:9", token=None)
Traceback (most recent call last):
dltasks.errors.ValidationError: token: connecting to a server needs an API token (token=… or $DLTASKS_TOKEN; create one with `dltasks token create USER_ID`)
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator
from urllib.parse import quote

import pandas as pd
import pyarrow as pa
import requests

from dltasks.backends.columnar import ARROW, client_accept, frame_from_arrow, is_frame_type
from dltasks.backends.dtypes import join_pages
from dltasks.backends.http.transport import Transport, raise_for_response
from dltasks.backends.ops import OPS, Op
from dltasks.backends.wire import from_wire, to_wire
from dltasks.domain.records import Annotation, DatasetRecord, Item, ItemPage, TaskRecord, TaskRecordPage, User
from dltasks.domain.types import (Answer, AnnotationMetadata, OptionalDefinition, Approve, Author, DatasetId, DisplayName, FilePath, Flag, ImportAnnotations,
                                  ImportItems, ItemChange, ItemFilters, ItemId, ItemIds, Label, Labels,
                                  MetadataMode, MetadataPatch, Name, OptionalItemId, OptionalItemIds, OptionalLabel,
                                  OptionalName, OptionalRole, OptionalShort, OptionalTaskIds, OptionalUserId,
                                  OptionalUserIds, Page, PageSize, PerPage, RowLimit, RowOffset, Spec, TaskId, TaskIds,
                                  UserId, UserIds, Gold, Seconds, Predictions)
from dltasks.errors import ApiError, DltasksError, ValidationError

__all__ = ["HttpBackend", "Transport"]

API = "/api/v1"
#: How frames may travel (``HttpBackend(frames=...)``).
FRAMES = ("arrow", "json")


class HttpBackend:
    """A store served by ``dltasks serve``: every :class:`~dltasks.backends.base.Backend` operation over HTTP.

    Parameters
    ----------
    url : str
        The server, e.g. ``"http://127.0.0.1:8765"``.
    token : str, optional
        An API token (``dltasks token create USER_ID``); default ``$DLTASKS_TOKEN``.
    timeout : float
        Seconds to wait for the connection and for each answer.
    retries : int
        Extra attempts for calls that are safe to repeat (reads, overwrites, deletes) after a
        dropped connection or a 502/503/504.  Label submissions are never sent twice.
    session : requests.Session, optional
        A configured session (proxies, certificates); a new one by default.
    frames : {"arrow", "json"}
        How frames travel: Arrow IPC streams (``Accept: application/vnd.apache.arrow.stream``,
        column by column; the default) or JSON (the server's answer for any other client).

    Attributes
    ----------
    user_id : str
        Whom the token belongs to.
    admin : bool
        Whether the token may manage datasets, items, tasks and users.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0, retries: int = 3,
                 session: requests.Session | None = None, frames: str = "arrow") -> None:
        if frames not in FRAMES:
            raise ValidationError(f"must be one of {', '.join(map(repr, FRAMES))}", "frames", frames)
        self.frames = frames
        self._accept = client_accept() if frames == "arrow" else "application/json"
        token = token or os.environ.get("DLTASKS_TOKEN")
        if not token:
            raise ValidationError("connecting to a server needs an API token (token=… or $DLTASKS_TOKEN; "
                                  "create one with `dltasks token create USER_ID`)", "token")
        self.url = url.rstrip("/")
        self.http = Transport(self.url, token, timeout=timeout, retries=retries, session=session)
        try:
            me = self.http.request("GET", f"{API}/me")
        except Exception:
            self.http.close()
            raise
        self.user_id: str = me["user_id"]
        self.admin: bool = bool(me["admin"])

    def _call(self, name: str, args: dict[str, Any]) -> Any:
        """Send operation ``name`` with ``args`` (its method's locals) as its row says; decode the result."""
        op, hints = OPS[name], OPS[name].hints
        values = {k: v for k, v in args.items() if k != "self"}
        path = API + op.path.format(**{p: quote(str(values.pop(p)), safe="") for p in op.path_params})
        if op.page_rows is not None:
            return self._pages(op, path, values)
        if is_frame_type(hints["return"]):
            return self._frame(op, path, values)[0]
        body = raise_for_response(self._send(op, path, values))
        return from_wire(body[op.key], hints["return"])

    def _send(self, op: Op, path: str, values: dict[str, Any], accept: str | None = None) -> requests.Response:
        if op.method == "GET":
            params = {k: v for k, v in values.items() if v is not None}
            return self.http.send("GET", path, params=params or None, retry=op.retry, accept=accept)
        payload = {k: to_wire(v, op.hints[k]) for k, v in values.items()}
        return self.http.send(op.method, path, payload, retry=op.retry, accept=accept)

    def _frame(self, op: Op, path: str, values: dict[str, Any]) -> tuple[Any, int | None]:
        """A frame read (a page of one): the frame and where the next page begins (``None``: no more).

        Asked for as an Arrow stream (``frames="arrow"``); a server that answers JSON is read too.
        """
        response = self._send(op, path, values, accept=self._accept)
        if response.headers.get("Content-Type", "").split(";")[0].strip().lower() == ARROW:
            try:
                frame, meta = frame_from_arrow(response.content)
            except (ValueError, KeyError, TypeError, pa.ArrowException) as exc:
                raise ApiError(f"the server's Arrow answer to {op.name} cannot be read ({exc})",
                               response=response) from None
            return frame, meta.get("next_offset")
        body = raise_for_response(response)
        return from_wire(body[op.key], op.hints["return"]), body.get("next_offset")

    def _pages(self, op: Op, path: str, values: dict[str, Any]) -> pd.DataFrame:
        """A frame read page by page (the server sends at most a page), joined; ``limit`` rows at most.

        Each page comes typed by its own rows; :func:`~dltasks.backends.dtypes.join_pages` types
        a column the pages disagree on as one read of all its rows would.
        """
        wanted, offset = values.get("limit"), values.get("offset") or 0
        pages: list[pd.DataFrame] = []
        while True:
            rest = None if wanted is None else wanted - sum(len(page) for page in pages)
            page, offset = self._frame(op, path, {**values, "offset": offset, "limit": rest})
            pages.append(page)
            if offset is None or (rest is not None and len(page) >= rest):
                break
        return join_pages(pages)

    # -- the store --------------------------------------------------------------------------
    @contextlib.contextmanager
    def atomic(self) -> Iterator[Any]:
        """Not available remotely: each server call is all-or-nothing on its own."""
        raise DltasksError("a remote store has no client-side transactions; each call is atomic on the server")
        yield  # pragma: no cover

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    def __repr__(self) -> str:
        return f"HttpBackend({self.url!r}, user_id={self.user_id!r}, admin={self.admin})"

    # -- the operations (see dltasks.backends.base.Backend for what each does) ---------------
    def create_dataset(self, name: Name, labels: Labels) -> DatasetRecord:
        return self._call("create_dataset", locals())

    def get_dataset(self, dataset_id: DatasetId) -> DatasetRecord:
        return self._call("get_dataset", locals())

    def list_datasets(self, name: OptionalName = None) -> list[DatasetRecord]:
        return self._call("list_datasets", locals())

    def datasets_frame(self) -> pd.DataFrame:
        return self._call("datasets_frame", locals())

    def delete_dataset(self, dataset_id: DatasetId) -> bool:
        return self._call("delete_dataset", locals())

    def add_labels(self, dataset_id: DatasetId, labels: Labels) -> list[str]:
        return self._call("add_labels", locals())

    def create_user(self, user_id: UserId, name: DisplayName = None) -> User:
        return self._call("create_user", locals())

    def ensure_users(self, user_ids: UserIds) -> list[str]:
        return self._call("ensure_users", locals())

    def get_user(self, user_id: UserId) -> User:
        return self._call("get_user", locals())

    def list_users(self) -> list[User]:
        return self._call("list_users", locals())

    def create_token(self, user_id: UserId, admin: Flag = False) -> str:
        return self._call("create_token", locals())

    def import_items(self, dataset_id: DatasetId, rows: ImportItems) -> int:
        return self._call("import_items", locals())

    def register_items(self, dataset_id: DatasetId, rows: ImportItems, overwrite: Flag = False) -> list[Item]:
        return self._call("register_items", locals())

    def update_items(self, dataset_id: DatasetId, filters: ItemFilters, update_values: MetadataPatch) -> int:
        return self._call("update_items", locals())

    def update_item(self, dataset_id: DatasetId, item_id: ItemId, change: ItemChange) -> Item:
        return self._call("update_item", locals())

    def delete_item(self, dataset_id: DatasetId, item_id: ItemId) -> int:
        return self._call("delete_item", locals())

    def delete_items(self, dataset_id: DatasetId, filters: ItemFilters) -> int:
        return self._call("delete_items", locals())

    def get_item(self, dataset_id: DatasetId, item_id: ItemId) -> Item:
        return self._call("get_item", locals())

    def get_item_by_path(self, dataset_id: DatasetId, filepath: FilePath) -> Item:
        return self._call("get_item_by_path", locals())

    def count_items(self, dataset_id: DatasetId, filters: ItemFilters = None) -> int:
        return self._call("count_items", locals())

    def query_items(self, dataset_id: DatasetId, filters: ItemFilters = None, offset: RowOffset = 0,
                    limit: PageSize = 1000) -> ItemPage:
        return self._call("query_items", locals())

    def items_frame(self, dataset_id: DatasetId, filters: ItemFilters = None, metadata: MetadataMode = "flat",
                    offset: RowOffset = 0, limit: RowLimit = None) -> pd.DataFrame:
        return self._call("items_frame", locals())

    def metadata_keys(self, dataset_id: DatasetId) -> list[str]:
        return self._call("metadata_keys", locals())

    def import_annotations(self, dataset_id: DatasetId, rows: ImportAnnotations) -> int:
        return self._call("import_annotations", locals())

    def annotations_frame(self, dataset_id: DatasetId, task_id: OptionalShort = None,
                          viewer: OptionalUserId = None, offset: RowOffset = 0, limit: RowLimit = None
                          ) -> pd.DataFrame:
        return self._call("annotations_frame", locals())

    def create_annotation(self, dataset_id: DatasetId, item_id: ItemId, label: OptionalLabel = None,
                          author: Author = None, annotation_definition: OptionalDefinition = None,
                          metadata: AnnotationMetadata = None) -> Annotation:
        return self._call("create_annotation", locals())

    def get_annotation(self, dataset_id: DatasetId, annotation_id: ItemId, viewer: OptionalUserId = None
                       ) -> Annotation:
        return self._call("get_annotation", locals())

    def item_annotations(self, dataset_id: DatasetId, item_id: ItemId, viewer: OptionalUserId = None
                         ) -> list[Annotation]:
        return self._call("item_annotations", locals())

    def update_annotation(self, dataset_id: DatasetId, annotation_id: ItemId, label: OptionalLabel = None,
                          metadata: AnnotationMetadata = None) -> Annotation:
        return self._call("update_annotation", locals())

    def delete_annotation(self, dataset_id: DatasetId, annotation_id: ItemId) -> bool:
        return self._call("delete_annotation", locals())

    def create_task(self, dataset_id: DatasetId, spec: Spec, filters: ItemFilters = None,
                    items: OptionalItemIds = None, gold: Gold = None) -> TaskRecord:
        return self._call("create_task", locals())

    def create_qa_task(self, dataset_id: DatasetId, parent_task_id: TaskId, spec: Spec,
                       filters: ItemFilters = None, gold: Gold = None) -> TaskRecord:
        return self._call("create_qa_task", locals())

    def get_task(self, task_id: TaskId) -> TaskRecord:
        return self._call("get_task", locals())

    def find_task(self, dataset_id: DatasetId, task_name: Name) -> TaskRecord:
        return self._call("find_task", locals())

    def list_tasks(self, page: Page = 1, per_page: PerPage = 128, worker_ids: OptionalUserIds = None,
                   reviewer_ids: OptionalUserIds = None, status: OptionalShort = None,
                   dataset_id: OptionalShort = None, ids: OptionalTaskIds = None) -> TaskRecordPage:
        return self._call("list_tasks", locals())

    def update_task(self, task_id: TaskId, spec: Spec, filters: ItemFilters = None) -> TaskRecord:
        return self._call("update_task", locals())

    def delete_tasks(self, task_ids: TaskIds) -> int:
        return self._call("delete_tasks", locals())

    def submit(self, task_id: TaskId, item_id: ItemId, user_id: UserId, label: OptionalLabel = None,
               replace: Flag = False, annotations: Answer = None, seconds: Seconds = None) -> str:
        return self._call("submit", locals())

    def set_status(self, task_id: TaskId, item_ids: ItemIds, status: Name, user_id: UserId) -> int:
        return self._call("set_status", locals())

    def review(self, task_id: TaskId, item_id: ItemId, user_id: UserId, approve: Approve = True,
               label: OptionalLabel = None) -> str:
        return self._call("review", locals())

    def reopen(self, task_id: TaskId, item_id: ItemId, user_id: UserId) -> str:
        return self._call("reopen", locals())

    def retract(self, task_id: TaskId, item_id: ItemId, user_id: UserId) -> str:
        return self._call("retract", locals())

    def assignments_frame(self, task_id: TaskId, user_id: OptionalUserId = None, status: OptionalShort = None,
                          role: OptionalRole = None, offset: RowOffset = 0, limit: RowLimit = None
                          ) -> pd.DataFrame:
        return self._call("assignments_frame", locals())

    def labels_frame(self, task_id: TaskId, viewer: OptionalUserId = None, offset: RowOffset = 0,
                     limit: RowLimit = None) -> pd.DataFrame:
        return self._call("labels_frame", locals())

    def task_items_frame(self, task_id: TaskId, offset: RowOffset = 0, limit: RowLimit = None) -> pd.DataFrame:
        return self._call("task_items_frame", locals())

    def history_frame(self, task_id: TaskId, item_id: OptionalItemId = None, viewer: OptionalUserId = None,
                      offset: RowOffset = 0, limit: RowLimit = None) -> pd.DataFrame:
        return self._call("history_frame", locals())

    def progress_frame(self, task_id: TaskId) -> pd.DataFrame:
        return self._call("progress_frame", locals())

    def status_counts(self, task_id: TaskId) -> pd.Series:
        return self._call("status_counts", locals())

    def queue(self, task_id: TaskId, user_id: UserId, limit: RowLimit = None) -> list[int]:
        return self._call("queue", locals())

    def gold_frame(self, task_id: TaskId) -> pd.DataFrame:
        return self._call("gold_frame", locals())

    def flagged_frame(self, task_id: TaskId) -> pd.DataFrame:
        return self._call("flagged_frame", locals())

    def qualification_frame(self, task_id: TaskId) -> pd.DataFrame:
        return self._call("qualification_frame", locals())

    def import_predictions(self, task_id: TaskId, rows: Predictions) -> int:
        return self._call("import_predictions", locals())

    def predictions_frame(self, task_id: TaskId) -> pd.DataFrame:
        return self._call("predictions_frame", locals())
