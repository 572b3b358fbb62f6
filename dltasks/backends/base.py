"""The ``Backend`` protocol: every operation the SDK asks of a store, each one transaction.

Two classes implement it: :class:`dltasks.backends.sql.SqlBackend` (SQLite and PostgreSQL
through SQLAlchemy) and :class:`dltasks.backends.http.HttpBackend` (a ``dltasks serve``
server, over the operation table of :mod:`dltasks.backends.ops`).  The server's ``/api/v1``
handlers are generated from the same table over a ``SqlBackend``.

Parameters are typed with the vocabulary of :mod:`dltasks.domain.types`: each type names the
check its values pass (run by the SDK before any I/O, and by the server on decoded
requests).  A backend receives checked values; rules that need stored state (the item state
machine, a label in the task's labels) are applied inside its transaction.  Results are
records (:mod:`dltasks.domain.records`), DataFrames or plain values.  Work operations take
the task's id and read its current options inside their transaction.

The operations that read frames of unbounded length take ``offset`` and ``limit`` (rows): a
local caller reads everything at once (``limit=None``); the HTTP backend reads pages.  A page
of items is also cut at :data:`PAGE_BYTES` (8 MB) of metadata, so one page never grows past it
whatever the items carry; a caller reads on from ``offset + len(page)`` until a page is empty.

Examples
--------
>>> from dltasks.backends.sql import SqlBackend
>>> backend: Backend = SqlBackend("sqlite://")
>>> backend.create_dataset("faces", ["Adult", "Child"]).labels
['Adult', 'Child']
"""
from __future__ import annotations

import contextlib
from typing import Any, Protocol

import pandas as pd

from dltasks.domain.records import Annotation, DatasetRecord, Item, ItemPage, TaskRecord, TaskRecordPage, User
from dltasks.domain.types import (Answer, AnnotationMetadata, OptionalDefinition, Approve, Author, DatasetId, DisplayName, FilePath, Flag, ImportAnnotations,
                                  ImportItems, ItemChange, ItemFilters, ItemId, ItemIds, Label, Labels,
                                  MetadataMode, MetadataPatch, Name, OptionalItemId, OptionalItemIds, OptionalLabel,
                                  OptionalName, OptionalRole, OptionalShort, OptionalTaskIds, OptionalUserId,
                                  OptionalUserIds, Page, PageSize, PerPage, RowLimit, RowOffset, Spec, TaskId, TaskIds,
                                  UserId, UserIds, Gold, Seconds, Predictions)

__all__ = ["Backend", "OPERATIONS", "PAGE_BYTES"]

#: The most metadata (JSON bytes) one page of items carries when a ``limit`` is given.
PAGE_BYTES = 8 * 1024 * 1024


class Backend(Protocol):
    """What a store does, operation by operation (see the module docstring)."""

    url: str

    # -- the store --------------------------------------------------------------------------
    def atomic(self) -> contextlib.AbstractContextManager[Any]:
        """All-or-nothing: the operations called inside the block commit together (local stores)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...

    # -- datasets -----------------------------------------------------------------------------
    def create_dataset(self, name: Name, labels: Labels) -> DatasetRecord:
        """Create a dataset; ``ConflictError`` if the name is taken."""
        ...

    def get_dataset(self, dataset_id: DatasetId) -> DatasetRecord:
        """One dataset by id; ``NotFoundError`` if there is none."""
        ...

    def list_datasets(self, name: OptionalName = None) -> list[DatasetRecord]:
        """Every dataset by name (only the one named ``name``, if given)."""
        ...

    def datasets_frame(self) -> pd.DataFrame:
        """Every dataset with its item count: id, name, items_count, created_at."""
        ...

    def delete_dataset(self, dataset_id: DatasetId) -> bool:
        """Delete a dataset with its items, annotations and tasks."""
        ...

    def add_labels(self, dataset_id: DatasetId, labels: Labels) -> list[str]:
        """Add labels to a dataset's label set (repeats ignored); return the new set."""
        ...

    # -- users ---------------------------------------------------------------------------------
    def create_user(self, user_id: UserId, name: DisplayName = None) -> User:
        """Register a user; ``ConflictError`` if the id is taken."""
        ...

    def ensure_users(self, user_ids: UserIds) -> list[str]:
        """Register every id not yet known; return the ids."""
        ...

    def get_user(self, user_id: UserId) -> User:
        """One user by id."""
        ...

    def list_users(self) -> list[User]:
        """Every user, by id."""
        ...

    def create_token(self, user_id: UserId, admin: Flag = False) -> str:
        """A new API token for ``user_id`` (registered if new); only its hash is stored."""
        ...

    # -- items -------------------------------------------------------------------------------
    def import_items(self, dataset_id: DatasetId, rows: ImportItems) -> int:
        """Insert one item per row, all or nothing; return how many."""
        ...

    def register_items(self, dataset_id: DatasetId, rows: ImportItems, overwrite: Flag = False) -> list[Item]:
        """Add one item per row, keeping (or with ``overwrite``, updating) rows already stored; items in row order."""
        ...

    def update_items(self, dataset_id: DatasetId, filters: ItemFilters, update_values: MetadataPatch) -> int:
        """Deep-merge ``update_values`` into the metadata of every matching item; return how many matched."""
        ...

    def update_item(self, dataset_id: DatasetId, item_id: ItemId, change: ItemChange) -> Item:
        """Store an item's name, folder and metadata; return the item."""
        ...

    def delete_item(self, dataset_id: DatasetId, item_id: ItemId) -> int:
        """Delete one item; ``NotFoundError`` if it is not in the dataset."""
        ...

    def delete_items(self, dataset_id: DatasetId, filters: ItemFilters) -> int:
        """Delete every matching item; return how many."""
        ...

    def get_item(self, dataset_id: DatasetId, item_id: ItemId) -> Item:
        """One item by id."""
        ...

    def get_item_by_path(self, dataset_id: DatasetId, filepath: FilePath) -> Item:
        """One item by its filename (``'/train/a.jpg'``)."""
        ...

    def count_items(self, dataset_id: DatasetId, filters: ItemFilters = None) -> int:
        """How many items match."""
        ...

    def query_items(self, dataset_id: DatasetId, filters: ItemFilters = None, offset: RowOffset = 0,
                    limit: PageSize = 1000) -> ItemPage:
        """At most ``limit`` matching items from ``offset`` on (in the filters' order, cut at
        :data:`PAGE_BYTES` of metadata: at least one) and how many match in all."""
        ...

    def items_frame(self, dataset_id: DatasetId, filters: ItemFilters = None, metadata: MetadataMode = "flat",
                    offset: RowOffset = 0, limit: RowLimit = None) -> pd.DataFrame:
        """Matching items as a DataFrame, metadata flat (``metadata.user.<key>`` columns), as dicts or left out."""
        ...

    def metadata_keys(self, dataset_id: DatasetId) -> list[str]:
        """Dot paths of every user metadata key written to the dataset."""
        ...

    # -- annotations -------------------------------------------------------------------------
    def import_annotations(self, dataset_id: DatasetId, rows: ImportAnnotations) -> int:
        """Insert one annotation per row, all or nothing; return how many."""
        ...

    def annotations_frame(self, dataset_id: DatasetId, task_id: OptionalShort = None,
                          viewer: OptionalUserId = None, offset: RowOffset = 0, limit: RowLimit = None
                          ) -> pd.DataFrame:
        """The dataset's annotations (only one task's, if given) that ``viewer`` may see (``None``: all):
        id, item_id, kind, label, left, top, right, bottom, geo, text, author, task_id, created_at and the
        metadata flat (``metadata.user.<key>``)."""
        ...

    def create_annotation(self, dataset_id: DatasetId, item_id: ItemId, label: OptionalLabel = None,
                          author: Author = None, annotation_definition: OptionalDefinition = None,
                          metadata: AnnotationMetadata = None) -> Annotation:
        """Add a label (``label``) or a box, polygon or text (``annotation_definition``) to an item."""
        ...

    def get_annotation(self, dataset_id: DatasetId, annotation_id: ItemId, viewer: OptionalUserId = None
                       ) -> Annotation:
        """One annotation by id."""
        ...

    def item_annotations(self, dataset_id: DatasetId, item_id: ItemId, viewer: OptionalUserId = None
                         ) -> list[Annotation]:
        """An item's annotations, oldest first."""
        ...

    def update_annotation(self, dataset_id: DatasetId, annotation_id: ItemId, label: OptionalLabel = None,
                          metadata: AnnotationMetadata = None) -> Annotation:
        """Change an annotation's label (not a task's) or its metadata (any)."""
        ...

    def delete_annotation(self, dataset_id: DatasetId, annotation_id: ItemId) -> bool:
        """Delete an annotation."""
        ...

    # -- tasks -------------------------------------------------------------------------------
    def create_task(self, dataset_id: DatasetId, spec: Spec, filters: ItemFilters = None,
                    items: OptionalItemIds = None, gold: Gold = None) -> TaskRecord:
        """A task over the dataset's items (or the ``filters`` / ``items`` subset), planned exactly; ``gold``:
        items with known answers mixed into the queues (a qualification task has only those)."""
        ...

    def create_qa_task(self, dataset_id: DatasetId, parent_task_id: TaskId, spec: Spec,
                       filters: ItemFilters = None, gold: Gold = None) -> TaskRecord:
        """A QA task over the items the parent task has completed (narrowed by ``filters``); ``gold``: items with
        known answers mixed into the reviewers' queues (their accuracy)."""
        ...

    def get_task(self, task_id: TaskId) -> TaskRecord:
        """One task by id."""
        ...

    def find_task(self, dataset_id: DatasetId, task_name: Name) -> TaskRecord:
        """The dataset's task named ``task_name``; ``ConflictError`` if two share it."""
        ...

    def list_tasks(self, page: Page = 1, per_page: PerPage = 128, worker_ids: OptionalUserIds = None,
                   reviewer_ids: OptionalUserIds = None, status: OptionalShort = None,
                   dataset_id: OptionalShort = None, ids: OptionalTaskIds = None) -> TaskRecordPage:
        """A page of tasks, newest first; only those any of ``worker_ids`` works on, etc., when given."""
        ...

    def update_task(self, task_id: TaskId, spec: Spec, filters: ItemFilters = None) -> TaskRecord:
        """Overwrite a task's options; re-plan only unworked items; the filters cannot change."""
        ...

    def delete_tasks(self, task_ids: TaskIds) -> int:
        """Delete tasks, all or nothing (an unknown id deletes nothing)."""
        ...

    # -- work ---------------------------------------------------------------------------------
    def submit(self, task_id: TaskId, item_id: ItemId, user_id: UserId, label: OptionalLabel = None,
               replace: Flag = False, annotations: Answer = None, seconds: Seconds = None) -> str:
        """Record a worker's answer on an item, ``label`` (class tasks) or ``annotations`` (a second one only with
        ``replace``), and the ``seconds`` it was on screen; return the item's new status."""
        ...

    def set_status(self, task_id: TaskId, item_ids: ItemIds, status: Name, user_id: UserId) -> int:
        """Mark a worker's items with one of the task's actions; return how many."""
        ...

    def review(self, task_id: TaskId, item_id: ItemId, user_id: UserId, approve: Approve = True,
               label: OptionalLabel = None) -> str:
        """A reviewer approves or rejects an item awaiting review (approving with ``label``: a correction, the
        item's decided label); return its new status."""
        ...

    def reopen(self, task_id: TaskId, item_id: ItemId, user_id: UserId) -> str:
        """A reviewer takes back an item's approval (recorded); return its new status."""
        ...

    def retract(self, task_id: TaskId, item_id: ItemId, user_id: UserId) -> str:
        """Withdraw a worker's label on an item; return the item's new status."""
        ...

    def assignments_frame(self, task_id: TaskId, user_id: OptionalUserId = None, status: OptionalShort = None,
                          role: OptionalRole = None, offset: RowOffset = 0, limit: RowLimit = None
                          ) -> pd.DataFrame:
        """Who works on (or reviewed) which item: item_id, user_id, role, status, updated_at."""
        ...

    def labels_frame(self, task_id: TaskId, viewer: OptionalUserId = None, offset: RowOffset = 0,
                     limit: RowLimit = None) -> pd.DataFrame:
        """The labels given in the task that ``viewer`` may see (``None``: all), long form: item_id, worker,
        label (by item, then worker)."""
        ...

    def task_items_frame(self, task_id: TaskId, offset: RowOffset = 0, limit: RowLimit = None) -> pd.DataFrame:
        """Each item of the task, its status and the label a reviewer decided on (``None``: the workers' labels
        stand): item_id, status, label (by item)."""
        ...

    def history_frame(self, task_id: TaskId, item_id: OptionalItemId = None, viewer: OptionalUserId = None,
                      offset: RowOffset = 0, limit: RowLimit = None) -> pd.DataFrame:
        """The task's work actions (one item's, if given) that ``viewer`` may see (``None``: all; a worker: their
        own), oldest first: item_id, user_id, action, before, after, at."""
        ...

    def progress_frame(self, task_id: TaskId) -> pd.DataFrame:
        """Per worker with assignments: user_id, assigned, done."""
        ...

    def status_counts(self, task_id: TaskId) -> pd.Series:
        """How many items are in each status."""
        ...

    # -- quality control ----------------------------------------------------------------------
    def queue(self, task_id: TaskId, user_id: UserId, limit: RowLimit = None) -> list[int]:
        """The worker's pending items in the order they are served (gold items spread through them)."""
        ...

    def gold_frame(self, task_id: TaskId) -> pd.DataFrame:
        """Each answer on a gold item: item_id, user_id, answer, gold, correct, seconds, at."""
        ...

    def flagged_frame(self, task_id: TaskId) -> pd.DataFrame:
        """The workers flagged by their gold accuracy: user_id, flagged_at."""
        ...

    def qualification_frame(self, task_id: TaskId) -> pd.DataFrame:
        """Per assignee of a qualification task: user_id, answered, correct, accuracy, passed."""
        ...

    def import_predictions(self, task_id: TaskId, rows: Predictions) -> int:
        """Store a model's predictions (``[item_id, model, label, score]`` rows) on the task's items."""
        ...

    def predictions_frame(self, task_id: TaskId) -> pd.DataFrame:
        """The task's predictions: item_id, model, label, score."""
        ...


#: Names of the backend's operations (the store-level ``atomic``/``close`` aside), in order.
OPERATIONS: tuple[str, ...] = tuple(
    name for name, value in vars(Backend).items()
    if callable(value) and not name.startswith("_") and name not in ("atomic", "close"))
