"""Remote tasks and work: ``store.tasks``, ``dataset.tasks`` and ``store.work`` of a RemoteStore.

Task options are checked locally with the SDK's own :func:`~dltasks.task_options.build_spec`
before they are sent, so a bad option fails with the same message on both backends.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

import pandas as pd

from dltasks.entities import Item
from dltasks.errors import ValidationError
from dltasks.filters import Filters
from dltasks.items import _item_id
from dltasks.remote import wire
from dltasks.remote.datasets import q
from dltasks.remote.items import filters_json
from dltasks.task_options import build_spec
from dltasks.tasks import Task, TaskPage, Tasks, _snapshot, _spec_from_task

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import RemoteStore
    from dltasks.remote.datasets import RemoteDataset

__all__ = ["RemoteTasks", "RemoteDatasetTasks", "RemoteWork", "task_from_wire"]


def task_from_wire(store: RemoteStore, data: dict[str, Any]) -> Task:
    """A :class:`~dltasks.tasks.Task` bound to the remote store."""
    task = Task(**wire.task_fields_from_wire(data), _store=store)  # type: ignore[arg-type]
    task._saved = _snapshot(task)
    return task


def _actions(actions: Any) -> Any:
    if actions is None:
        return None
    if isinstance(actions, (str, dict)):
        actions = [actions]
    return [dict(a) if isinstance(a, dict) else a for a in actions]


def _check_page(page: Any, per_page: Any) -> None:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValidationError("must be a whole number >= 1", "page", page)
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= 1000:
        raise ValidationError("must be a whole number from 1 to 1000", "per_page", per_page)


class RemoteTasks:
    """``store.tasks`` of a RemoteStore: get by id, list, delete (and ``task.update()``)."""

    def __init__(self, store: RemoteStore) -> None:
        self._store, self._http = store, store.http

    def get(self, task_id: str) -> Task:
        """One task by id; ``NotFoundError`` if absent."""
        return task_from_wire(self._store, self._http.request("GET", f"/api/v1/tasks/{q(task_id)}")["task"])

    def list(self, page: int = 1, per_page: int = 128, worker_id: str | Sequence[str] | None = None,
             reviewer_id: str | Sequence[str] | None = None, status: str | None = None,
             dataset: Any = None, ids: Sequence[str] | None = None) -> TaskPage:
        """A page of tasks, newest first; optionally only those a user works on or reviews."""
        _check_page(page, per_page)
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        for key, value in (("worker_id", worker_id), ("reviewer_id", reviewer_id), ("ids", ids)):
            if value is not None:
                params[key] = [value] if isinstance(value, str) else list(value)
                if not params[key]:  # an empty list matches nothing, as locally
                    return TaskPage([], 0, page, per_page)
        if status is not None:
            params["status"] = status
        if dataset is not None:
            params["dataset_id"] = dataset if isinstance(dataset, str) else dataset.id
        body = self._http.request("GET", "/api/v1/tasks", params=params)
        tasks = [task_from_wire(self._store, t) for t in body["tasks"]]
        return TaskPage(tasks, int(body["total"]), int(body["page"]), int(body["per_page"]))

    def to_df(self, **kwargs: Any) -> pd.DataFrame:
        """Every task (all pages) as one DataFrame; takes :meth:`list`'s filters."""
        return Tasks.to_df(self, **kwargs)  # type: ignore[arg-type]

    def delete(self, task_ids: Sequence[str]) -> int:
        """Delete several tasks at once, all or nothing; an unknown id deletes nothing."""
        if isinstance(task_ids, str):
            task_ids = [task_ids]
        ids = list(dict.fromkeys(task_ids))
        if not ids:
            raise ValidationError("give at least one task id", "task_ids", task_ids)
        return int(self._http.request("DELETE", "/api/v1/tasks", {"task_ids": ids}, retry=False)["count"])

    def _overwrite(self, task: Task) -> Task:
        spec = _spec_from_task(task)  # the local checks, before anything is sent
        if task.filters is not None and not isinstance(task.filters, Filters):
            raise ValidationError("must be a dl.Filters or None", "filters", task.filters)
        if not task._saved:
            raise ValidationError("get the task from the store before updating it", "task", task.id)
        body = {"name": spec.name, "due_date": spec.due_date, "status": spec.status, "priority": spec.priority,
                "worker_strategy": spec.worker_strategy, "workers_per_input": task.workers_per_input,
                "weights": dict(task.weights), "assignee_ids": spec.assignee_ids,
                "review_strategy": spec.review_strategy, "reviewer_ids": spec.reviewer_ids,
                "approval_threshold": spec.approval_threshold, "labels": spec.labels,
                "available_actions": _actions(task.available_actions), "filters": filters_json(task.filters),
                "metadata": spec.metadata, "seed": spec.seed}
        return task_from_wire(self._store, self._http.request("PUT", f"/api/v1/tasks/{q(task.id)}", body)["task"])


class RemoteDatasetTasks:
    """``dataset.tasks`` on a server: create, create_qa_task, get by name, list."""

    def __init__(self, store: RemoteStore, dataset: RemoteDataset) -> None:
        self._store, self._dataset, self._http = store, dataset, store.http

    def create(self, task_name: str, due_date: Any = None, assignee_ids: Sequence[str] | None = None,
               filters: Filters | None = None, items: Sequence[Item | int] | None = None, workload: Any = None,
               worker_strategy: str | None = None, workers_per_input: int = 1, weights: dict[str, float] | None = None,
               review_strategy: str = "none", reviewer_ids: Sequence[str] | None = None,
               approval_threshold: int | None = None, labels: Sequence[str] | None = None,
               available_actions: Any = None, priority: str = "medium", metadata: dict[str, Any] | None = None,
               task_type: str = "annotation", seed: int | None = None) -> Task:
        """Create a task over the dataset's items (see ``dltasks.tasks.DatasetTasks.create``)."""
        spec = build_spec(task_name=task_name, due_date=due_date, assignee_ids=assignee_ids, workload=workload,
                          worker_strategy=worker_strategy, workers_per_input=workers_per_input, weights=weights,
                          review_strategy=review_strategy, reviewer_ids=reviewer_ids,
                          approval_threshold=approval_threshold, labels=labels, available_actions=available_actions,
                          priority=priority, metadata=metadata, task_type=task_type, seed=seed)
        if spec.task_type == "qa":
            raise ValidationError("use create_qa_task for QA tasks", "task_type", task_type)
        if filters is not None and items is not None:
            raise ValidationError("give filters or items, not both", "items", "both given")
        item_ids = None
        if items is not None:
            if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
                raise ValidationError("must be a list of Items or item ids", "items", items)
            item_ids = [_item_id(i.id if isinstance(i, Item) else i) for i in items]
        body = {"task_name": spec.name, "due_date": spec.due_date, "assignee_ids": spec.assignee_ids,
                "filters": filters_json(filters), "items": item_ids,
                "worker_strategy": None if worker_strategy is None and workload is None else spec.worker_strategy,
                "workers_per_input": spec.workers_per_input,
                "weights": spec.weights if (weights is not None or workload is not None) else None,
                "review_strategy": spec.review_strategy, "reviewer_ids": spec.reviewer_ids,
                "approval_threshold": spec.approval_threshold, "labels": None if labels is None else spec.labels,
                "available_actions": _actions(available_actions), "priority": spec.priority,
                "metadata": spec.metadata, "task_type": spec.task_type, "seed": spec.seed}
        data = self._http.request("POST", f"/api/v1/datasets/{q(self._dataset.id)}/tasks", body)
        return task_from_wire(self._store, data["task"])

    def create_qa_task(self, task: Task, due_date: Any = None, assignee_ids: Sequence[str] | None = None,
                       filters: Filters | None = None, task_name: str | None = None, **options: Any) -> Task:
        """Create a QA task over the items ``task`` has completed (narrowed by ``filters``)."""
        if not isinstance(task, Task):
            raise ValidationError("must be the annotation Task to review", "task", task)
        if task.dataset_id != self._dataset.id:
            raise ValidationError("belongs to another dataset", "task", task.id)
        if due_date is not None:
            from dltasks.timeutil import to_epoch

            due_date = to_epoch(due_date, "due_date")
        if isinstance(assignee_ids, str):
            assignee_ids = [assignee_ids]
        body = {"task_id": task.id, "task_name": task_name, "due_date": due_date,
                "assignee_ids": None if assignee_ids is None else list(assignee_ids),
                "filters": filters_json(filters), **options}
        if "available_actions" in body:
            body["available_actions"] = _actions(body["available_actions"])
        data = self._http.request("POST", f"/api/v1/datasets/{q(self._dataset.id)}/qa-tasks", body)
        return task_from_wire(self._store, data["task"])

    def get(self, task_name: str | None = None, task_id: str | None = None) -> Task:
        """One task of this dataset by name (``ConflictError`` if two share it) or id."""
        if task_id is not None:
            return self._store.tasks.get(task_id)
        data = self._http.request("GET", f"/api/v1/datasets/{q(self._dataset.id)}/tasks/by-name",
                                  params={"task_name": task_name})
        return task_from_wire(self._store, data["task"])

    def list(self, page: int = 1, per_page: int = 128, **kwargs: Any) -> TaskPage:
        """A page of this dataset's tasks (takes ``store.tasks.list`` filters)."""
        return self._store.tasks.list(page=page, per_page=per_page, dataset=self._dataset, **kwargs)


def _item_list(item_ids: Any) -> list[int]:
    if isinstance(item_ids, (int, str)) or not isinstance(item_ids, Iterable):
        return [_item_id(item_ids)]
    return [_item_id(i) for i in item_ids]


class RemoteWork:
    """``store.work`` of a RemoteStore: each call is one request; the server checks permissions."""

    def __init__(self, store: RemoteStore) -> None:
        self._http = store.http

    def _path(self, task: Any, what: str) -> str:
        return f"/api/v1/tasks/{q(task.id)}/{what}"

    def submit(self, task: Any, item_id: int, user_id: str, label: str) -> str:
        """Record ``user_id``'s label for an item assigned to them; return the item's new status."""
        body = {"item_id": _item_id(item_id), "user_id": user_id, "label": label}
        return str(self._http.request("POST", self._path(task, "submit"), body)["item_status"])

    def set_status(self, task: Any, item_ids: int | Iterable[int], status: str, user_id: str) -> int:
        """Mark items with an action (``completed``, ``discard``, ``approved`` in QA, or a custom one)."""
        ids = _item_list(item_ids)
        if not ids:
            raise ValidationError("give at least one item id", "item_ids", item_ids)
        body = {"item_ids": ids, "status": status, "user_id": user_id}
        return int(self._http.request("POST", self._path(task, "status"), body)["count"])

    def review(self, task: Any, item_id: int, user_id: str, approve: bool = True) -> str:
        """A reviewer approves or rejects an item awaiting review; return its new status."""
        if not isinstance(approve, bool):
            raise ValidationError("must be True or False", "approve", approve)
        body = {"item_id": _item_id(item_id), "user_id": user_id, "approve": approve}
        return str(self._http.request("POST", self._path(task, "review"), body)["item_status"])

    def retract(self, task: Any, item_id: int, user_id: str) -> str:
        """Withdraw ``user_id``'s label on an item (their assignment is pending again)."""
        body = {"item_id": _item_id(item_id), "user_id": user_id}
        return str(self._http.request("POST", self._path(task, "retract"), body)["item_status"])

    def _frame(self, task: Any, what: str, params: dict[str, Any] | None = None) -> Any:
        return wire.frame_from_wire(self._http.request("GET", self._path(task, what), params=params)["frame"])

    def assignments_df(self, task: Any, user_id: str | None = None, status: str | None = None,
                       role: str | None = None) -> pd.DataFrame:
        """Who works on (or reviewed) which item: item_id, user_id, role, status, updated_at."""
        params = {k: v for k, v in (("user_id", user_id), ("status", status), ("role", role)) if v is not None}
        return self._frame(task, "assignments", params or None)

    def labels_df(self, task: Any) -> pd.DataFrame:
        """The labels given in this task, long form: item_id, worker, label."""
        return self._frame(task, "labels")

    def items_df(self, task: Any) -> pd.DataFrame:
        """One row per item of the task: item_id, status, label (top vote), votes, n_labels."""
        return self._frame(task, "items")

    def progress(self, task: Any) -> pd.DataFrame:
        """Per assignee: assigned, done, percent; plus a ``total`` row."""
        return self._frame(task, "progress")

    def status_counts(self, task: Any) -> pd.Series:
        """How many items are in each status."""
        return self._frame(task, "status-counts")
