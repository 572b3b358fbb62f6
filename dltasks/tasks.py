"""Annotation and QA tasks: create, read, list, update (full overwrite), delete.

The work done inside a task (submitting labels, statuses, reviews) lives in
:mod:`dltasks.task_work`; the split of items between workers in :mod:`dltasks.partition`.
"""
from __future__ import annotations

import builtins

import copy
import datetime as _dt
import gc
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dltasks import jsonutil, partition
from dltasks.datasets import new_id
from dltasks.entities import Item
from dltasks.errors import ConflictError, NotFoundError, ValidationError
from dltasks.filters import Filters
from dltasks.store import schema as S
from dltasks.task_options import TaskSpec, build_spec, is_overdue
from dltasks.task_work import TaskWork, recompute_statuses
from dltasks.timeutil import from_epoch, now
from dltasks.workflow import COMPLETED

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.datasets import Dataset
    from dltasks.store import Store

__all__ = ["Task", "Tasks", "DatasetTasks", "TaskPage"]

_PLAN_FIELDS = ("assignee_ids", "worker_strategy", "workers_per_input", "weights")
#: Changing any of these re-derives every item's status.
_STATUS_FIELDS = _PLAN_FIELDS + ("review_strategy", "approval_threshold")


@dataclass(eq=False)
class Task(TaskWork):
    """An annotation or QA task over items of a dataset.

    Change attributes and call :meth:`update` to overwrite the task (validated like create).
    """

    id: str
    dataset_id: str
    name: str
    type: str
    parent_task_id: str | None
    due_date: _dt.datetime
    status: str
    priority: str
    worker_strategy: str
    workers_per_input: int
    weights: dict[str, float]
    assignee_ids: builtins.list[str]
    review_strategy: str
    reviewer_ids: builtins.list[str]
    approval_threshold: int | None
    labels: builtins.list[str]
    available_actions: builtins.list[dict[str, str]]
    filters: Filters | None
    metadata: dict[str, Any]
    seed: int
    created_at: _dt.datetime
    modified_at: _dt.datetime
    _store: Store | None = field(default=None, repr=False)
    _saved: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def overdue(self) -> bool:
        """True when the due date has passed and the task is still in progress."""
        return is_overdue(self.due_date, self.status)

    @property
    def dataset(self) -> Dataset:
        """The dataset the task's items belong to."""
        return self._bound().datasets.get(dataset_id=self.dataset_id)

    def update(self) -> Task:
        """Overwrite the stored task with this object's attributes; return the fresh task.

        Validated like create.  Changing assignees, weights or the strategy re-plans only the
        items nobody has worked on; work already done stays with whoever did it.
        """
        return self._bound().tasks._overwrite(self)

    def delete(self) -> bool:
        """Delete this task with its assignments and task labels."""
        return self._bound().tasks.delete(task_ids=[self.id]) == 1

    def add_assignees(self, assignee_ids: Sequence[str], weights: dict[str, float] | None = None) -> Task:
        """Add workers and share the not-yet-worked items among everyone (equal weights unless given)."""
        new = [a for a in ([assignee_ids] if isinstance(assignee_ids, str) else list(assignee_ids))]
        self.assignee_ids = list(self.assignee_ids) + [a for a in new if a not in self.assignee_ids]
        self.weights = dict(weights) if weights is not None else {u: 1.0 for u in self.assignee_ids}
        return self.update()

    def redistribute(self, weights: dict[str, float]) -> Task:
        """Share the not-yet-worked items by new ``weights``."""
        self.weights = dict(weights)
        return self.update()

    def _bound(self) -> Store:
        if self._store is None:
            raise ValidationError("the task is not bound to a store", "task", self.id)
        return self._store

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (f"Task(id={self.id!r}, name={self.name!r}, type={self.type!r}, status={self.status!r}, "
                f"due_date={self.due_date.isoformat()!r}, assignee_ids={self.assignee_ids!r}, "
                f"worker_strategy={self.worker_strategy!r}, review_strategy={self.review_strategy!r})")


class TaskPage:
    """One page of tasks: iterable, with ``total``, ``has_next`` and :meth:`to_df`."""

    def __init__(self, tasks: builtins.list[Task], total: int, page: int, per_page: int) -> None:
        self.tasks, self.total, self.page, self.per_page = tasks, total, page, per_page

    @property
    def has_next(self) -> bool:
        """Whether a later page has tasks."""
        return self.page * self.per_page < self.total

    @property
    def total_pages(self) -> int:
        """How many pages there are."""
        return max(1, math.ceil(self.total / self.per_page))

    def to_df(self) -> pd.DataFrame:
        """The page as a DataFrame, one row per task."""
        return tasks_frame(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, i: int) -> Task:
        return self.tasks[i]

    def __repr__(self) -> str:
        return f"TaskPage(page={self.page}, per_page={self.per_page}, total={self.total}, tasks={len(self.tasks)})"


def tasks_frame(tasks: Iterable[Task]) -> pd.DataFrame:
    """Tasks as a DataFrame: id, name, type, dataset_id, status, priority, due_date, overdue, …"""
    rows = [{"id": t.id, "name": t.name, "type": t.type, "dataset_id": t.dataset_id, "status": t.status,
             "priority": t.priority, "due_date": t.due_date, "overdue": t.overdue,
             "worker_strategy": t.worker_strategy, "workers_per_input": t.workers_per_input,
             "review_strategy": t.review_strategy, "approval_threshold": t.approval_threshold,
             "assignee_ids": list(t.assignee_ids), "reviewer_ids": list(t.reviewer_ids),
             "created_at": t.created_at} for t in tasks]
    cols = ["id", "name", "type", "dataset_id", "status", "priority", "due_date", "overdue", "worker_strategy",
            "workers_per_input", "review_strategy", "approval_threshold", "assignee_ids", "reviewer_ids", "created_at"]
    return pd.DataFrame(rows, columns=cols)


class Tasks:
    """Every task of a store (``store.tasks``): get by id, list, delete."""

    def __init__(self, store: Store) -> None:
        self._store, self._db = store, store.db

    def get(self, task_id: str) -> Task:
        """One task by id; ``NotFoundError`` if absent."""
        with self._db.read() as conn:
            tasks = self._load(conn, sa.select(S.tasks).where(S.tasks.c.id == task_id))
        if not tasks:
            raise NotFoundError(f"no task with id {task_id!r}")
        return tasks[0]

    def list(self, page: int = 1, per_page: int = 128, worker_id: str | Sequence[str] | None = None,
             reviewer_id: str | Sequence[str] | None = None, status: str | None = None,
             dataset: Dataset | str | None = None, ids: Sequence[str] | None = None) -> TaskPage:
        """A page of tasks, newest first; optionally only those a user (or any of several) works on or reviews."""
        if isinstance(page, bool) or not isinstance(page, int) or page < 1:
            raise ValidationError("must be a whole number >= 1", "page", page)
        if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= 1000:
            raise ValidationError("must be a whole number from 1 to 1000", "per_page", per_page)
        t, m = S.tasks, S.task_members
        conds: builtins.list[Any] = []
        for uid, role in ((worker_id, "worker"), (reviewer_id, "reviewer")):
            if uid is not None:
                uids = [uid] if isinstance(uid, str) else list(uid)  # any of several users
                conds.append(sa.exists().where(m.c.task_id == t.c.id, m.c.user_id.in_(uids), m.c.role == role))
        if status is not None:
            conds.append(t.c.status == status)
        if dataset is not None:
            conds.append(t.c.dataset_id == (dataset if isinstance(dataset, str) else dataset.id))
        if ids is not None:
            conds.append(t.c.id.in_(list(ids)))
        where = sa.and_(sa.true(), *conds)
        with self._db.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(t).where(where)).scalar_one()
            q = (sa.select(t).where(where).order_by(t.c.created_at.desc(), t.c.id)
                 .limit(per_page).offset((page - 1) * per_page))
            tasks = self._load(conn, q)
        return TaskPage(tasks, int(total), page, per_page)

    def to_df(self, **kwargs: Any) -> pd.DataFrame:
        """Every task (all pages) as one DataFrame; takes :meth:`list`'s filters."""
        frames, page = [], 1
        while True:
            p = self.list(page=page, per_page=1000, **kwargs)
            frames.append(p.to_df())
            if not p.has_next:
                return pd.concat(frames, ignore_index=True)
            page += 1

    def delete(self, task_ids: Sequence[str]) -> int:
        """Delete several tasks at once, all or nothing; an unknown id deletes nothing."""
        if isinstance(task_ids, str):
            task_ids = [task_ids]
        ids = list(dict.fromkeys(task_ids))
        if not ids:
            raise ValidationError("give at least one task id", "task_ids", task_ids)
        with self._db.atomic() as conn:
            found = set(conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.id.in_(ids))).scalars())
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFoundError(f"no task with id {missing[0]!r}; nothing was deleted")
            for table in (S.assignments, S.task_items, S.task_members, S.annotations):
                conn.execute(sa.delete(table).where(table.c.task_id.in_(ids)))
            conn.execute(sa.update(S.tasks).where(S.tasks.c.parent_task_id.in_(ids)).values(parent_task_id=None))
            return conn.execute(sa.delete(S.tasks).where(S.tasks.c.id.in_(ids))).rowcount

    # -- internals -----------------------------------------------------------------------
    def _load(self, conn: sa.Connection, query: Any) -> builtins.list[Task]:
        rows = conn.execute(query).mappings().all()
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        members: dict[str, dict[str, builtins.list[tuple[str, float | None]]]] = {i: {"worker": [], "reviewer": []} for i in ids}
        mq = (sa.select(S.task_members).where(S.task_members.c.task_id.in_(ids))
              .order_by(S.task_members.c.task_id, S.task_members.c.role, S.task_members.c.position))
        for m in conn.execute(mq).mappings():
            members[m["task_id"]][m["role"]].append((m["user_id"], m["weight"]))
        tasks = []
        for r in rows:
            meta = jsonutil.loads(r["metadata"], {})
            workers = members[r["id"]]["worker"]
            w_ids = [u for u, _ in workers]
            r_ids = [u for u, _ in members[r["id"]]["reviewer"]]
            f = jsonutil.loads(r["filter"])
            task = Task(
                id=r["id"], dataset_id=r["dataset_id"], name=r["name"], type=r["type"],
                parent_task_id=r["parent_task_id"], due_date=from_epoch(r["due_date"]), status=r["status"],
                priority=r["priority"], worker_strategy=r["worker_strategy"], workers_per_input=r["workers_per_input"],
                weights={u: float(w or 0.0) for u, w in workers}, assignee_ids=w_ids,
                review_strategy=r["review_strategy"], reviewer_ids=r_ids,
                approval_threshold=r["approval_threshold"], labels=jsonutil.loads(r["labels"], []),
                available_actions=jsonutil.loads(r["available_actions"], []),
                filters=Filters.from_json(f) if f is not None else None, metadata=meta, seed=int(r["seed"] or 0),
                created_at=from_epoch(r["created_at"]), modified_at=from_epoch(r["modified_at"]), _store=self._store)
            task._saved = _snapshot(task)
            tasks.append(task)
        return tasks

    def _insert(self, spec: TaskSpec, dataset_id: str, item_ids: np.ndarray, parent_task_id: str | None,
                filters: Filters | None) -> Task:
        plan = _plan(spec, item_ids)
        task_id, t = new_id(), now()
        with self._db.atomic() as conn:
            self._store.users.ensure(spec.assignee_ids, conn, "assignee_ids")
            self._store.users.ensure(spec.reviewer_ids, conn, "reviewer_ids")
            conn.execute(sa.insert(S.tasks).values(**_task_row(spec, filters), id=task_id, dataset_id=dataset_id,
                                                   parent_task_id=parent_task_id, created_at=t, modified_at=t))
            _write_members(conn, task_id, spec)
            n = len(item_ids)
            self._db.insert_rows(conn, S.task_items, ("task_id", "item_id", "status", "updated_at"),
                                 zip(itertools.repeat(task_id, n), item_ids.tolist(), itertools.repeat("pending", n),
                                     itertools.repeat(t, n)))
            _insert_plan(self._db, conn, task_id, plan, t)
        return self.get(task_id)

    def _overwrite(self, task: Task) -> Task:
        spec = _spec_from_task(task)
        old = task._saved
        if not old:
            raise ValidationError("get the task from the store before updating it", "task", task.id)
        filters = task.filters
        if filters is not None and not isinstance(filters, Filters):
            raise ValidationError("must be a dl.Filters or None", "filters", filters)
        if filters != old["filters"]:
            raise ValidationError("a task's items are chosen when it is created; create a new task for "
                                  "other items", "filters", filters.to_json() if filters is not None else None)
        t = now()
        with self._db.atomic() as conn:
            if not conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.id == task.id)).first():
                raise NotFoundError(f"no task with id {task.id!r}")
            self._store.users.ensure(spec.assignee_ids, conn, "assignee_ids")
            self._store.users.ensure(spec.reviewer_ids, conn, "reviewer_ids")
            conn.execute(sa.update(S.tasks).where(S.tasks.c.id == task.id).values(**_task_row(spec, filters), modified_at=t))
            conn.execute(sa.delete(S.task_members).where(S.task_members.c.task_id == task.id))
            _write_members(conn, task.id, spec)
            if any(old[k] != getattr(task, k) for k in _PLAN_FIELDS):
                _replan_unworked(self._db, conn, task.id, spec, t)
            if any(old[k] != getattr(task, k) for k in _STATUS_FIELDS):
                recompute_statuses(conn, task.id, spec.review_strategy, spec.approval_threshold)
        return self.get(task.id)


class DatasetTasks:
    """The tasks of one dataset (``dataset.tasks``): create, create_qa_task, get by name, list."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._store, self._dataset, self._db = store, dataset, store.db

    def create(self, task_name: str, due_date: Any = None, assignee_ids: Sequence[str] | None = None,
               filters: Filters | None = None, items: Sequence[Item | int] | None = None, workload: Any = None,
               worker_strategy: str | None = None, workers_per_input: int = 1, weights: dict[str, float] | None = None,
               review_strategy: str = "none", reviewer_ids: Sequence[str] | None = None,
               approval_threshold: int | None = None, labels: Sequence[str] | None = None,
               available_actions: Any = None, priority: str = "medium", metadata: dict[str, Any] | None = None,
               task_type: str = "annotation", seed: int | None = None) -> Task:
        """Create a task over the dataset's items (or the ``filters``/``items`` subset).

        With assignees and no other option the items are divided equally between them
        (partitioned, one worker per item).  The split is exact: each assignee gets its
        share of the ``len(items) * workers_per_input`` slots to within one item.
        """
        spec = build_spec(task_name=task_name, due_date=due_date, assignee_ids=assignee_ids, workload=workload,
                          worker_strategy=worker_strategy, workers_per_input=workers_per_input, weights=weights,
                          review_strategy=review_strategy, reviewer_ids=reviewer_ids,
                          approval_threshold=approval_threshold, labels=labels, available_actions=available_actions,
                          priority=priority, metadata=metadata, task_type=task_type, seed=seed,
                          default_labels=self._dataset.labels)
        if spec.task_type == "qa":
            raise ValidationError("use create_qa_task for QA tasks", "task_type", task_type)
        item_ids = self._resolve_items(filters, items)
        if len(item_ids) == 0 and spec.assignee_ids:
            raise ValidationError("selects no items, so the assignees would get nothing to do",
                                  "items" if items is not None else "filters", filters.to_json() if filters else items)
        return self._store.tasks._insert(spec, self._dataset.id, item_ids, None, filters)

    def create_qa_task(self, task: Task, due_date: Any = None, assignee_ids: Sequence[str] | None = None,
                       filters: Filters | None = None, task_name: str | None = None, **options: Any) -> Task:
        """Create a QA task over the items ``task`` has completed (narrowed by ``filters``)."""
        if not isinstance(task, Task):
            raise ValidationError("must be the annotation Task to review", "task", task)
        if task.dataset_id != self._dataset.id:
            raise ValidationError("belongs to another dataset", "task", task.id)
        options.setdefault("labels", task.labels)
        spec = build_spec(task_name=task_name or f"{task.name}_qa", due_date=due_date, assignee_ids=assignee_ids,
                          task_type="qa", default_labels=task.labels, **options)
        done = sa.select(S.task_items.c.item_id).where(S.task_items.c.task_id == task.id,
                                                       S.task_items.c.status.in_(COMPLETED))
        where = self._dataset.items._where(filters)
        with self._db.read() as conn:
            ids = conn.execute(sa.select(S.items.c.id).where(where, S.items.c.id.in_(done)).order_by(S.items.c.id)).scalars().all()
        item_ids = np.asarray(ids, dtype=np.int64)
        if len(item_ids) == 0 and spec.assignee_ids:
            raise ValidationError(f"task {task.name!r} has no completed items"
                                  + (" matching the filters" if filters else "") + " to review", "task", task.id)
        return self._store.tasks._insert(spec, self._dataset.id, item_ids, task.id, filters)

    def get(self, task_name: str | None = None, task_id: str | None = None) -> Task:
        """One task of this dataset by name (``ConflictError`` if two share it) or id."""
        if task_id is not None:
            return self._store.tasks.get(task_id)
        with self._db.read() as conn:
            ids = conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.dataset_id == self._dataset.id,
                                                            S.tasks.c.name == task_name)).scalars().all()
        if not ids:
            raise NotFoundError(f"no task named {task_name!r} in dataset {self._dataset.name!r}")
        if len(ids) > 1:
            raise ConflictError(f"{len(ids)} tasks are named {task_name!r}; get one by task_id ({ids})")
        return self._store.tasks.get(ids[0])

    def list(self, page: int = 1, per_page: int = 128, **kwargs: Any) -> TaskPage:
        """A page of this dataset's tasks (takes ``store.tasks.list`` filters)."""
        return self._store.tasks.list(page=page, per_page=per_page, dataset=self._dataset, **kwargs)

    def _resolve_items(self, filters: Filters | None, items: Sequence[Item | int] | None) -> np.ndarray:
        if filters is not None and items is not None:
            raise ValidationError("give filters or items, not both", "items", "both given")
        if items is not None:
            if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
                raise ValidationError("must be a list of Items or item ids", "items", items)
            from dltasks.items import _item_id

            ids = np.asarray(sorted({_item_id(i.id if isinstance(i, Item) else i) for i in items}), dtype=np.int64)
            with self._db.read() as conn:
                found = set(conn.execute(sa.select(S.items.c.id).where(
                    S.items.c.dataset_id == self._dataset.id, S.items.c.id.in_(ids.tolist()))).scalars())
            missing = [i for i in ids.tolist() if i not in found]
            if missing:
                raise ValidationError(f"item {missing[0]} is not in dataset {self._dataset.name!r}", "items", missing[0])
            return ids
        where = self._dataset.items._where(filters)
        with self._db.read() as conn:
            return _id_array(conn.execute(sa.select(S.items.c.id).where(where).order_by(S.items.c.id)))


# -- helpers -----------------------------------------------------------------------------
def _id_array(result: Any) -> np.ndarray:
    """The one integer column of ``result`` as an int64 array, read from the driver in chunks."""
    cursor = getattr(result, "cursor", None)
    fetch = cursor.fetchmany if cursor is not None else result.fetchmany
    parts = []
    collecting = gc.isenabled()
    gc.disable()  # a million 1-tuples would trigger full collections over and over
    try:
        while True:
            chunk = fetch(100_000)
            if not chunk:
                break
            parts.append(np.fromiter(itertools.chain.from_iterable(chunk), dtype=np.int64, count=len(chunk)))
    finally:
        if collecting:
            gc.enable()
    result.close()
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _plan(spec: TaskSpec, item_ids: np.ndarray) -> pd.DataFrame:
    if not spec.assignee_ids or len(item_ids) == 0:
        return pd.DataFrame({"item_id": np.empty(0, np.int64), "user_id": np.empty(0, object)})
    if spec.worker_strategy == "full":
        return partition.plan_full(item_ids, spec.assignee_ids)
    return partition.plan_partition(item_ids, spec.assignee_ids, spec.workers_per_input,
                                    spec.weights, seed=spec.seed)


def _insert_plan(db: Any, conn: sa.Connection, task_id: str, plan: pd.DataFrame, t: float) -> None:
    n = len(plan)
    db.insert_rows(conn, S.assignments, ("task_id", "item_id", "user_id", "role", "status", "updated_at"),
                   zip(itertools.repeat(task_id, n), plan["item_id"].tolist(), plan["user_id"].astype(object).tolist(),
                       itertools.repeat("worker", n), itertools.repeat("pending", n), itertools.repeat(t, n)))


def _task_row(spec: TaskSpec, filters: Filters | None) -> dict[str, Any]:
    return {"name": spec.name, "type": spec.task_type, "due_date": spec.due_date, "status": spec.status,
            "priority": spec.priority, "worker_strategy": spec.worker_strategy,
            "workers_per_input": spec.workers_per_input, "weights": jsonutil.dumps(spec.weights),
            "review_strategy": spec.review_strategy, "approval_threshold": spec.approval_threshold,
            "labels": jsonutil.dumps(spec.labels), "available_actions": jsonutil.dumps(spec.available_actions),
            "filter": jsonutil.dumps(filters.to_json()) if filters is not None else None,
            "metadata": jsonutil.dumps(spec.metadata), "seed": spec.seed}


def _write_members(conn: sa.Connection, task_id: str, spec: TaskSpec) -> None:
    rows = [{"task_id": task_id, "user_id": u, "role": "worker", "weight": spec.weights.get(u, 1.0), "position": i}
            for i, u in enumerate(spec.assignee_ids)]
    rows += [{"task_id": task_id, "user_id": u, "role": "reviewer", "weight": None, "position": i}
             for i, u in enumerate(spec.reviewer_ids)]
    if rows:
        conn.execute(sa.insert(S.task_members), rows)


def _snapshot(task: Task) -> dict[str, Any]:
    return {k: copy.deepcopy(getattr(task, k)) for k in _STATUS_FIELDS + ("filters",)}


def _spec_from_task(task: Task) -> TaskSpec:
    return build_spec(task_name=task.name, due_date=task.due_date, assignee_ids=task.assignee_ids,
                      worker_strategy=task.worker_strategy, workers_per_input=task.workers_per_input,
                      weights=task.weights if task.worker_strategy == "partitioned" else None,
                      review_strategy=task.review_strategy, reviewer_ids=task.reviewer_ids,
                      approval_threshold=task.approval_threshold, labels=task.labels,
                      available_actions=[a for a in task.available_actions], priority=task.priority,
                      metadata=task.metadata, task_type=task.type, seed=task.seed, status=task.status)


def _replan_unworked(db: Any, conn: sa.Connection, task_id: str, spec: TaskSpec, t: float) -> None:
    """Re-plan the items nobody has worked on among the current workers; keep worked items."""
    a, ann = S.assignments, S.annotations
    worked = (sa.select(a.c.item_id).where(a.c.task_id == task_id, a.c.role == "worker", a.c.status != "pending")
              .union(sa.select(ann.c.item_id).where(ann.c.task_id == task_id)))
    worked_ids = set(conn.execute(worked).scalars())
    all_ids = conn.execute(sa.select(S.task_items.c.item_id).where(S.task_items.c.task_id == task_id)
                           .order_by(S.task_items.c.item_id)).scalars().all()
    free = np.asarray([i for i in all_ids if i not in worked_ids], dtype=np.int64)
    conn.execute(sa.delete(a).where(a.c.task_id == task_id, a.c.role == "worker", a.c.status == "pending",
                                    a.c.item_id.not_in(worked)))
    _insert_plan(db, conn, task_id, _plan(spec, free), t)
