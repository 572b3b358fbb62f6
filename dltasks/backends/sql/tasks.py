"""Tasks in SQL: create (with the exact plan of who works on which item), read, list, overwrite, delete.

The split itself is :mod:`dltasks.partition`'s; this module writes it: the task row, its
members, one ``task_items`` row per item and one ``assignments`` row per (item, worker), in
one transaction (``executemany`` on SQLite, ``COPY`` on PostgreSQL).

>>> import pandas as pd
>>> from dltasks.backends.sql import SqlBackend
>>> from dltasks.domain.items import item_rows
>>> from dltasks.domain.task_options import build_spec
>>> backend = SqlBackend("sqlite://")
>>> ds = backend.create_dataset("d", ["cat", "dog"])
>>> _ = backend.import_items(ds.id, item_rows(pd.DataFrame({"name": ["a.jpg", "b.jpg"]})))
>>> task = backend.create_task(ds.id, build_spec(task_name="t", assignee_ids=["a", "b"], labels=["cat"]))
>>> task.labels, backend.progress_frame(task.id)["assigned"].tolist()
(['cat'], [1, 1])
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dltasks import jsonutil, partition
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.catalog import touch_catalog
from dltasks.backends.sql.common import SqlPart, found, insert_missing_users, new_id
from dltasks.backends.sql.engine import Database
from dltasks.backends.sql.frames import id_array
from dltasks.backends.sql.quality import checked_gold, write_gold
from dltasks.backends.sql.work import recompute_statuses, rules_of
from dltasks.domain.filters import Filters
from dltasks.domain.records import TaskRecord, TaskRecordPage
from dltasks.domain.task_options import TaskSpec, check_has_items, check_type_change, rederive_needed, replan_needed
from dltasks.domain.workflow import COMPLETED
from dltasks.errors import ConflictError, NotFoundError, ValidationError
from dltasks.timeutil import from_epoch, now

__all__ = ["TasksSql", "load_tasks"]


class TasksSql(SqlPart):
    """The task operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    def create_task(self, dataset_id: str, spec: TaskSpec, filters: Filters | None = None,
                    items: list[int] | None = None, gold: list[list[Any]] | None = None) -> TaskRecord:
        """A task over the dataset's items (or the ``filters`` / ``items`` subset), planned exactly.

        ``gold``: ``[item_id, answer]`` pairs, items of the dataset whose answer is known; they
        are mixed into the workers' queues (``spec.gold_rate``) and are not task items.  A
        qualification task (``spec.type``) has only gold items, each for every assignee.
        """
        if spec.type == "qa":
            raise ValidationError("use create_qa_task for QA tasks", "task_type", spec.type)
        if filters is not None and items is not None:
            raise ValidationError("give filters or items, not both", "items", "both given")
        with self.db.atomic() as conn:
            dataset = self._dataset(conn, dataset_id)
            name = dataset.name
            answers = checked_gold(spec, gold, dataset.labels)
            gold_ids = self._gold_items(conn, dataset_id, name, answers)
            self._qualification_of(conn, spec, dataset_id)
            ids: np.ndarray  # numpy 2.2's stubs type each constructor's shape differently
            if spec.type == "qualification":
                ids = np.empty(0, dtype=np.int64)
            elif items is not None:
                ids = np.asarray(sorted(set(items)), dtype=np.int64)
                known = set(found(conn, S.items.c.id, ids.tolist(), S.items.c.dataset_id == dataset_id))
                missing = [i for i in ids.tolist() if i not in known]
                if missing:
                    raise ValidationError(f"item {missing[0]} is not in dataset {name!r}", "items", missing[0])
                check_has_items(len(ids), spec, "items", items)
            else:
                ids = id_array(conn.execute(sa.select(S.items.c.id).where(self._items_where(dataset_id, filters))
                                            .order_by(S.items.c.id)))
                check_has_items(len(ids), spec, "filters", filters.to_json() if filters is not None else None)
            if gold_ids:  # gold items are not the task's work
                ids = ids[~np.isin(ids, np.asarray(gold_ids, dtype=np.int64))]
                if spec.type != "qualification":
                    check_has_items(len(ids), spec, "gold", f"{len(gold_ids)} gold items: every item is gold")
            task_id = self._insert(conn, spec, dataset_id, ids, None, filters, answers)
            record = self._task(conn, task_id)
        self.db.refresh_statistics()  # a big task changes which index serves a work query
        return record

    def create_qa_task(self, dataset_id: str, parent_task_id: str, spec: TaskSpec,
                       filters: Filters | None = None, gold: list[list[Any]] | None = None) -> TaskRecord:
        """A QA task over the items the parent task has completed (narrowed by ``filters``).

        ``gold`` (with ``spec.gold_rate``): items with known answers mixed into the QA workers'
        queues, which measure them (:meth:`gold_frame`).
        """
        with self.db.atomic() as conn:
            dataset = self._dataset(conn, dataset_id)
            parent = self._task(conn, parent_task_id)
            if parent.dataset_id != dataset_id:
                raise ValidationError("belongs to another dataset", "task", parent_task_id)
            answers = checked_gold(spec, gold, dataset.labels)
            gold_ids = self._gold_items(conn, dataset_id, dataset.name, answers)
            done = sa.select(S.task_items.c.item_id).where(S.task_items.c.task_id == parent_task_id,
                                                           S.task_items.c.status.in_(COMPLETED))
            ids = id_array(conn.execute(sa.select(S.items.c.id).where(
                self._items_where(dataset_id, filters), S.items.c.id.in_(done)).order_by(S.items.c.id)))
            ids = ids[~np.isin(ids, np.asarray(gold_ids, dtype=np.int64))]
            if len(ids) == 0 and spec.assignee_ids:
                raise ValidationError(f"task {parent.name!r} has no completed items"
                                      + (" matching the filters" if filters else "") + " to review", "task",
                                      parent_task_id)
            task_id = self._insert(conn, spec, dataset_id, ids, parent_task_id, filters, answers)
            record = self._task(conn, task_id)
        self.db.refresh_statistics()
        return record

    def get_task(self, task_id: str) -> TaskRecord:
        """One task by id."""
        with self.db.read() as conn:
            return self._task(conn, task_id)

    def find_task(self, dataset_id: str, task_name: str) -> TaskRecord:
        """The dataset's task named ``task_name``; ``ConflictError`` if two share it."""
        with self.db.read() as conn:
            name = self._dataset(conn, dataset_id).name
            ids = conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.dataset_id == dataset_id,
                                                            S.tasks.c.name == task_name)).scalars().all()
            if not ids:
                raise NotFoundError(f"no task named {task_name!r} in dataset {name!r}")
            if len(ids) > 1:
                raise ConflictError(f"{len(ids)} tasks are named {task_name!r}; get one by task_id ({ids})")
            return self._task(conn, ids[0])

    def list_tasks(self, page: int = 1, per_page: int = 128, worker_ids: list[str] | None = None,
                   reviewer_ids: list[str] | None = None, status: str | None = None,
                   dataset_id: str | None = None, ids: list[str] | None = None) -> TaskRecordPage:
        """A page of tasks, newest first; only those any of ``worker_ids`` works on, etc., when given."""
        t, m = S.tasks, S.task_members
        conds: list[Any] = []
        for uids, role in ((worker_ids, "worker"), (reviewer_ids, "reviewer")):
            if uids is not None:
                conds.append(sa.exists().where(m.c.task_id == t.c.id, m.c.user_id.in_(uids), m.c.role == role))
        if status is not None:
            conds.append(t.c.status == status)
        if dataset_id is not None:
            conds.append(t.c.dataset_id == dataset_id)
        if ids is not None:
            conds.append(t.c.id.in_(ids))
        where = sa.and_(sa.true(), *conds)
        with self.db.read() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(t).where(where)).scalar_one()
            q = (sa.select(t).where(where).order_by(t.c.created_at.desc(), t.c.id)
                 .limit(per_page).offset((page - 1) * per_page))
            return TaskRecordPage(tasks=load_tasks(conn, q), total=int(total))

    def update_task(self, task_id: str, spec: TaskSpec, filters: Filters | None = None) -> TaskRecord:
        """Overwrite a task's options; re-plan only unworked items; the filters cannot change."""
        with self.db.atomic() as conn:
            touch_catalog(conn)
            old = self._task(conn, task_id)
            if filters != old.filters:
                raise ValidationError("a task's items are chosen when it is created; create a new task for "
                                      "other items", "filters", filters.to_json() if filters is not None else None)
            if spec.type != old.type:
                raise ValidationError(f"a task's type cannot change (it is {old.type!r}): create a new task",
                                      "task_type", spec.type)
            self._qualification_of(conn, spec, old.dataset_id)
            if spec.annotation_type != old.annotation_type:
                answered = conn.execute(sa.select(S.annotations.c.id).where(S.annotations.c.task_id == task_id)
                                        .limit(1)).first() is not None
                check_type_change(old, spec, answered)
            insert_missing_users(conn, spec.assignee_ids + spec.reviewer_ids)
            conn.execute(sa.update(S.tasks).where(S.tasks.c.id == task_id).values(
                **_task_row(spec, filters), modified_at=now()))
            conn.execute(sa.delete(S.task_members).where(S.task_members.c.task_id == task_id))
            _write_members(conn, task_id, spec)
            if replan_needed(old, spec):
                _replan_unworked(self.db, conn, task_id, spec, now())
            if rederive_needed(old, spec):
                recompute_statuses(conn, task_id, rules_of(conn, task_id))
            return self._task(conn, task_id)

    def delete_tasks(self, task_ids: list[str]) -> int:
        """Delete tasks, all or nothing (an unknown id deletes nothing)."""
        with self.db.atomic() as conn:
            touch_catalog(conn)
            found = set(conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.id.in_(task_ids))).scalars())
            missing = [i for i in task_ids if i not in found]
            if missing:
                raise NotFoundError(f"no task with id {missing[0]!r}; nothing was deleted")
            for table in (S.assignments, S.task_items, S.task_members, S.annotations, S.history, S.gold_items,
                          S.gold_answers, S.predictions):
                conn.execute(sa.delete(table).where(table.c.task_id.in_(task_ids)))
            conn.execute(sa.update(S.tasks).where(S.tasks.c.parent_task_id.in_(task_ids)).values(parent_task_id=None))
            return int(conn.execute(sa.delete(S.tasks).where(S.tasks.c.id.in_(task_ids))).rowcount)

    # -- internals -----------------------------------------------------------------------------
    def _task(self, conn: sa.Connection, task_id: str) -> TaskRecord:
        found = load_tasks(conn, sa.select(S.tasks).where(S.tasks.c.id == task_id))
        if not found:
            raise NotFoundError(f"no task with id {task_id!r}")
        return found[0]

    def _gold_items(self, conn: sa.Connection, dataset_id: str, name: str, answers: list[tuple[int, str]]
                    ) -> list[int]:
        """The ids of the gold items, each checked to be an item of the dataset."""
        gold_ids = [i for i, _ in answers]
        present = set(found(conn, S.items.c.id, gold_ids, S.items.c.dataset_id == dataset_id)) if gold_ids else set()
        absent = [i for i in gold_ids if i not in present]
        if absent:
            raise ValidationError(f"item {absent[0]} is not in dataset {name!r}", "gold", absent[0])
        return gold_ids

    def _qualification_of(self, conn: sa.Connection, spec: TaskSpec, dataset_id: str) -> bool:
        """``ValidationError`` unless the task's qualification task is one (of this dataset)."""
        qid = spec.qualification_task_id
        if qid is None:
            return False
        row = conn.execute(sa.select(S.tasks.c.type, S.tasks.c.dataset_id).where(S.tasks.c.id == qid)).first()
        if row is None or row[0] != "qualification":
            raise ValidationError("is not a qualification task", "qualification", qid)
        if row[1] != dataset_id:
            raise ValidationError("belongs to another dataset", "qualification", qid)
        return True

    def _insert(self, conn: sa.Connection, spec: TaskSpec, dataset_id: str, item_ids: np.ndarray,
                parent_task_id: str | None, filters: Filters | None, gold: list[tuple[int, str]] | None = None
                ) -> str:
        touch_catalog(conn)
        plan = _plan(spec, item_ids)
        task_id, t = new_id(), now()
        insert_missing_users(conn, spec.assignee_ids + spec.reviewer_ids)
        conn.execute(sa.insert(S.tasks).values(**_task_row(spec, filters), id=task_id, dataset_id=dataset_id,
                                               parent_task_id=parent_task_id, created_at=t, modified_at=t))
        _write_members(conn, task_id, spec)
        n = len(item_ids)
        self.db.insert_rows(conn, S.task_items, ("task_id", "item_id", "status", "updated_at"),
                            zip(itertools.repeat(task_id, n), item_ids.tolist(), itertools.repeat("pending", n),
                                itertools.repeat(t, n)))
        _insert_plan(self.db, conn, task_id, plan, t)
        write_gold(self.db, conn, task_id, spec, gold or [], plan, t)
        return task_id


#: The members of a list of tasks (``ids``), built once (a list of tasks reads it on every page).
_MEMBERS_OF = (sa.select(S.task_members).where(S.task_members.c.task_id.in_(sa.bindparam("ids", expanding=True)))
               .order_by(S.task_members.c.task_id, S.task_members.c.role, S.task_members.c.position))


def load_tasks(conn: sa.Connection, query: Any) -> list[TaskRecord]:
    """The task records a query of the tasks table selects, with their members, in its order."""
    rows = conn.execute(query).mappings().all()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    members: dict[str, dict[str, list[tuple[str, float | None]]]] = {i: {"worker": [], "reviewer": []} for i in ids}
    for m in conn.execute(_MEMBERS_OF, {"ids": ids}).mappings():
        members[m["task_id"]][m["role"]].append((m["user_id"], m["weight"]))
    tasks = []
    for r in rows:
        workers = members[r["id"]]["worker"]
        f = jsonutil.loads(r["filter"])
        tasks.append(TaskRecord(
            id=r["id"], dataset_id=r["dataset_id"], name=r["name"], type=r["type"],
            parent_task_id=r["parent_task_id"], due_date=from_epoch(r["due_date"]), status=r["status"],
            priority=r["priority"], worker_strategy=r["worker_strategy"], workers_per_input=r["workers_per_input"],
            weights={u: float(w or 0.0) for u, w in workers}, assignee_ids=[u for u, _ in workers],
            review_strategy=r["review_strategy"], reviewer_ids=[u for u, _ in members[r["id"]]["reviewer"]],
            approval_threshold=r["approval_threshold"], labels=jsonutil.loads(r["labels"], []),
            available_actions=jsonutil.loads(r["available_actions"], []),
            filters=Filters.from_json(f) if f is not None else None, metadata=jsonutil.loads(r["metadata"], {}),
            seed=int(r["seed"] or 0), show_metadata=jsonutil.loads(r["show_metadata"]),
            annotation_type=r["annotation_type"], iou_threshold=r["iou_threshold"], unmatched=r["unmatched"],
            gold_rate=r["gold_rate"], min_gold_accuracy=r["min_gold_accuracy"], min_gold_n=r["min_gold_n"],
            max_workers=r["max_workers"], qualification_task_id=r["qualification_task_id"],
            pass_accuracy=r["pass_accuracy"], order=r["queue_order"],
            created_at=from_epoch(r["created_at"]),
            modified_at=from_epoch(r["modified_at"])))
    return tasks


def _plan(spec: TaskSpec, item_ids: np.ndarray) -> pd.DataFrame:
    if not spec.assignee_ids or len(item_ids) == 0:
        return pd.DataFrame({"item_id": np.empty(0, np.int64), "user_id": np.empty(0, object)})
    if spec.worker_strategy == "full":
        return partition.plan_full(item_ids, spec.assignee_ids)
    return partition.plan_partition(item_ids, spec.assignee_ids, spec.workers_per_input, spec.weights,
                                    seed=spec.seed)


def _insert_plan(db: Database, conn: sa.Connection, task_id: str, plan: pd.DataFrame, t: float) -> None:
    n = len(plan)
    db.insert_rows(conn, S.assignments, ("task_id", "item_id", "user_id", "role", "status", "updated_at"),
                   zip(itertools.repeat(task_id, n), plan["item_id"].tolist(), plan["user_id"].astype(object).tolist(),
                       itertools.repeat("worker", n), itertools.repeat("pending", n), itertools.repeat(t, n)))


def _task_row(spec: TaskSpec, filters: Filters | None) -> dict[str, Any]:
    return {"name": spec.name, "type": spec.type, "due_date": spec.due_date.timestamp(), "status": spec.status,
            "priority": spec.priority, "worker_strategy": spec.worker_strategy,
            "workers_per_input": spec.workers_per_input, "weights": jsonutil.dumps(spec.weights, metadata=False),
            "review_strategy": spec.review_strategy, "approval_threshold": spec.approval_threshold,
            "labels": jsonutil.dumps(spec.labels, metadata=False),
            "available_actions": jsonutil.dumps(spec.available_actions, metadata=False),
            "filter": jsonutil.dumps(filters.to_json(), metadata=False) if filters is not None else None,
            "metadata": jsonutil.dumps(spec.metadata), "seed": spec.seed,
            "show_metadata": None if spec.show_metadata is None else jsonutil.dumps(spec.show_metadata,
                                                                                   metadata=False),
            "annotation_type": spec.annotation_type, "iou_threshold": spec.iou_threshold,
            "unmatched": spec.unmatched, "gold_rate": spec.gold_rate, "min_gold_accuracy": spec.min_gold_accuracy,
            "min_gold_n": spec.min_gold_n, "max_workers": spec.max_workers,
            "qualification_task_id": spec.qualification_task_id, "pass_accuracy": spec.pass_accuracy,
            "queue_order": spec.order}


def _write_members(conn: sa.Connection, task_id: str, spec: TaskSpec) -> None:
    rows = [{"task_id": task_id, "user_id": u, "role": "worker", "weight": spec.weights.get(u, 1.0), "position": i}
            for i, u in enumerate(spec.assignee_ids)]
    rows += [{"task_id": task_id, "user_id": u, "role": "reviewer", "weight": None, "position": i}
             for i, u in enumerate(spec.reviewer_ids)]
    if rows:
        conn.execute(sa.insert(S.task_members), rows)


def _replan_unworked(db: Database, conn: sa.Connection, task_id: str, spec: TaskSpec, t: float) -> None:
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
