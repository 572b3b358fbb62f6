"""dltasks' own task routes (``/api/v1/...``): create, read, overwrite, delete, and the work.

Managing tasks needs an admin token.  A worker's token submits labels and statuses only as
that worker (and the SDK then checks the item is assigned to them); a reviewer's token
reviews only as that reviewer (the SDK checks they review the task).
"""
from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Depends, Query

from dltasks.remote import wire
from dltasks.server import models as M
from dltasks.server.deps import admin, principal, require_self, store_of
from dltasks.server.errors import ok
from dltasks.server.routes_data import filters_in
from dltasks.server.tokens import Principal
from dltasks.timeutil import from_epoch

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["tasks"])
Store = Any


def _task_out(task: Any) -> dict[str, Any]:
    return ok(task=wire.task_to_wire(task))


def _frame(data: Any) -> dict[str, Any]:
    return ok(frame=wire.frame_to_wire(data))


def _ids(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for value in values for v in value.split(",") if v.strip()] or None


@router.post("/datasets/{dataset_id}/tasks", response_model=M.DltasksTaskResponse,
             summary="dataset.tasks.create(...)")
def create_task(dataset_id: str, body: M.TaskOptions, store: Store = Depends(store_of),
                who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: create a task on the dataset (``dataset.tasks.create`` options) and return it; admin token only."""
    options = body.model_dump(exclude={"filters"})
    options["filters"] = filters_in(body.filters)
    return _task_out(store.datasets.get(dataset_id=dataset_id).tasks.create(**options))


@router.post("/datasets/{dataset_id}/qa-tasks", response_model=M.DltasksTaskResponse,
             summary="dataset.tasks.create_qa_task(task, ...)")
def create_qa_task(dataset_id: str, body: M.QATaskOptions, store: Store = Depends(store_of),
                   who: Principal = Depends(admin)) -> dict[str, Any]:
    """POST: create a QA task reviewing the work of task ``task_id`` and return it; admin token only."""
    options = body.model_dump(exclude={"filters", "task_id"}, exclude_none=True)
    options["filters"] = filters_in(body.filters)
    dataset = store.datasets.get(dataset_id=dataset_id)
    return _task_out(dataset.tasks.create_qa_task(task=store.tasks.get(body.task_id), **options))


@router.get("/datasets/{dataset_id}/tasks/by-name", response_model=M.DltasksTaskResponse,
            summary="dataset.tasks.get(task_name=...)")
def task_by_name(dataset_id: str, task_name: str = Query(max_length=255), store: Store = Depends(store_of),
                 who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET the dataset's task named ``task_name``."""
    return _task_out(store.datasets.get(dataset_id=dataset_id).tasks.get(task_name=task_name))


@router.get("/tasks", response_model=M.DltasksTaskPage, summary="store.tasks.list(...): newest first")
def list_tasks(page: int = Query(1, ge=1, le=10**9), per_page: int = Query(128, ge=1, le=1000),
               worker_id: Optional[list[str]] = Query(None, max_length=1000),
               reviewer_id: Optional[list[str]] = Query(None, max_length=1000),
               status: Optional[str] = Query(None, max_length=32),
               dataset_id: Optional[str] = Query(None, max_length=64),
               ids: Optional[list[str]] = Query(None, max_length=1000),
               store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET a page of tasks, newest first, optionally only those of given workers, reviewers, status, dataset or ids."""
    found = store.tasks.list(page=page, per_page=per_page, worker_id=_ids(worker_id), reviewer_id=_ids(reviewer_id),
                             status=status, dataset=dataset_id, ids=_ids(ids))
    return ok(tasks=[wire.task_to_wire(t) for t in found], total=found.total, page=found.page,
              per_page=found.per_page)


@router.get("/tasks/{task_id}", response_model=M.DltasksTaskResponse, summary="store.tasks.get(task_id)")
def get_task(task_id: str, store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET one task by id."""
    return _task_out(store.tasks.get(task_id))


@router.put("/tasks/{task_id}", response_model=M.DltasksTaskResponse,
            summary="task.update(): overwrite every field (re-plans only unworked items)")
def put_task(task_id: str, body: M.TaskFields, store: Store = Depends(store_of),
             who: Principal = Depends(admin)) -> dict[str, Any]:
    """PUT: overwrite every field of a task (re-planning only unworked items) and return it; admin token only."""
    task = store.tasks.get(task_id)
    fields = body.model_dump(exclude={"filters"})
    fields["due_date"] = from_epoch(fields["due_date"])
    for key, value in fields.items():
        setattr(task, key, value)
    task.filters = filters_in(body.filters)
    return _task_out(task.update())


@router.delete("/tasks", response_model=M.CountResponse, summary="store.tasks.delete(task_ids): all or none")
def delete_tasks(body: M.TaskIdsIn, store: Store = Depends(store_of), who: Principal = Depends(admin)) -> dict[str, Any]:
    """DELETE tasks by id, all or none, and return how many were deleted; admin token only."""
    return ok(count=store.tasks.delete(task_ids=body.task_ids))


# -- work --------------------------------------------------------------------------------------
@router.post("/tasks/{task_id}/submit", response_model=M.ItemStatusResponse, tags=["work"],
             summary="task.submit(item_id, user_id, label): a worker's label")
def submit(task_id: str, body: M.SubmitIn, store: Store = Depends(store_of),
           who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST a worker's label for an item and return the item's new status (a user token submits only as itself)."""
    require_self(who, body.user_id, "submit labels")
    task = store.tasks.get(task_id)
    return ok(item_status=store.work.submit(task, body.item_id, body.user_id, body.label))


@router.post("/tasks/{task_id}/status", response_model=M.CountResponse, tags=["work"],
             summary="task.set_status(item_ids, status, user_id)")
def set_status(task_id: str, body: M.SetStatusIn, store: Store = Depends(store_of),
               who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST: mark items with an action (completed, discard, …), return how many (a user token acts as itself)."""
    require_self(who, body.user_id, "set item statuses")
    task = store.tasks.get(task_id)
    return ok(count=store.work.set_status(task, body.item_ids, body.status, body.user_id))


@router.post("/tasks/{task_id}/review", response_model=M.ItemStatusResponse, tags=["work"],
             summary="task.review(item_id, user_id, approve): a reviewer's decision")
def review(task_id: str, body: M.ReviewIn, store: Store = Depends(store_of),
           who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST a reviewer's approval or rejection of an item and return its new status (a user token reviews as itself)."""
    require_self(who, body.user_id, "review items")
    task = store.tasks.get(task_id)
    return ok(item_status=store.work.review(task, body.item_id, body.user_id, approve=body.approve))


@router.post("/tasks/{task_id}/retract", response_model=M.ItemStatusResponse, tags=["work"],
             summary="task.retract(item_id, user_id): withdraw a worker's label")
def retract(task_id: str, body: M.RetractIn, store: Store = Depends(store_of),
            who: Principal = Depends(principal)) -> dict[str, Any]:
    """POST: withdraw a worker's label on an item and return its new status (a user token retracts only its own)."""
    require_self(who, body.user_id, "retract labels")
    task = store.tasks.get(task_id)
    return ok(item_status=store.work.retract(task, body.item_id, body.user_id))


@router.get("/tasks/{task_id}/assignments", response_model=M.FrameResponse, tags=["work"],
            summary="task.assignments_df(user_id, status, role): item_id, user_id, role, status, updated_at")
def assignments(task_id: str, user_id: Optional[str] = Query(None, max_length=255),
                status: Optional[str] = Query(None, max_length=32), role: Optional[str] = Query(None, max_length=16),
                store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET who works on (or reviewed) which item as a frame, optionally one user's, status's or role's rows."""
    task = store.tasks.get(task_id)
    return _frame(store.work.assignments_df(task, user_id=user_id, status=status, role=role))


_FRAMES = {
    "labels": ("labels_df", "task.labels_df(): item_id, worker, label"),
    "items": ("items_df", "task.items_df(): item_id, status, label, votes, n_labels"),
    "progress": ("progress", "task.progress(): per assignee assigned, done, percent"),
    "status-counts": ("status_counts", "task.status_counts(): items per status"),
}


def _frame_route(path: str, method: str, summary: str) -> None:
    def read(task_id: str, store: Store = Depends(store_of), who: Principal = Depends(principal)) -> dict[str, Any]:
        """GET one of the task's tables as a frame: labels, items, progress or status counts (by path)."""
        task = store.tasks.get(task_id)
        return _frame(getattr(store.work, method)(task))

    read.__name__ = f"task_{method}"
    router.get(f"/tasks/{{task_id}}/{path}", response_model=M.FrameResponse, tags=["work"], summary=summary)(read)


for _path, (_method, _summary) in _FRAMES.items():
    _frame_route(_path, _method, _summary)

