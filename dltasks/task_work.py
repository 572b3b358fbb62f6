"""The work inside a task: workers submit labels and statuses, reviewers approve or reject.

Each action is one transaction that writes the label or status and re-derives the item's
status with :func:`dltasks.workflow.derive_item_status`.
"""
from __future__ import annotations

import collections
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd
import sqlalchemy as sa

from dltasks.annotations import check_label
from dltasks.errors import NotFoundError, PermissionDeniedError, ValidationError
from dltasks.store import schema as S
from dltasks.store.coded_read import read_task_labels
from dltasks.timeutil import now
from dltasks.users import check_user_id
from dltasks.work_events import work_events
from dltasks.workflow import derive_item_status

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.consensus import Votes
    from dltasks.store import Store

__all__ = ["TaskWork", "LocalWork", "recompute_statuses"]


class LocalWork:
    """The work backend of a local store (``store.work``): every method takes the task first."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # -- actions -------------------------------------------------------------------------
    def submit(self, task: Any, item_id: int, user_id: str, label: str) -> str:
        """Record ``user_id``'s label for an item assigned to them; return the item's new status.

        A second submit by the same worker replaces the first.  On a task with no assignees the
        item is claimed by whoever submits first (up to ``workers_per_input`` workers).
        """
        uid = check_user_id(user_id)
        label = check_label(label)
        if task.labels and label not in task.labels:
            raise ValidationError(f"is not one of this task's labels {task.labels}", "label", label)
        db = self._store.db
        iid = _item(item_id)
        with db.atomic() as conn:
            self._require_item(task, conn, iid)
            self._require_worker(task, conn, iid, uid)
            a, ann = S.annotations, S.assignments
            conn.execute(sa.delete(a).where(a.c.task_id == task.id, a.c.item_id == iid, a.c.author == uid))
            t = now()
            conn.execute(sa.insert(a).values(item_id=iid, label=label, author=uid, task_id=task.id, created_at=t))
            conn.execute(sa.update(ann).where(ann.c.task_id == task.id, ann.c.item_id == iid, ann.c.user_id == uid,
                                              ann.c.role == "worker").values(status="done", updated_at=t))
            conn.execute(sa.delete(ann).where(ann.c.task_id == task.id, ann.c.item_id == iid,
                                              ann.c.role == "reviewer", ann.c.status == "rejected"))
            return _refresh(conn, task.id, iid, task.review_strategy, task.approval_threshold)

    def set_status(self, task: Any, item_ids: int | Iterable[int], status: str, user_id: str) -> int:
        """Mark items with an action (``completed``, ``discard``, ``approved`` in QA, or a custom one)."""
        uid = check_user_id(user_id)
        names = [a["name"] for a in task.available_actions]
        if status not in names:
            raise ValidationError(f"is not an action of this task ({names})", "status", status)
        ids = [_item(i) for i in ([item_ids] if isinstance(item_ids, (int, str)) else list(item_ids))]
        if not ids:
            raise ValidationError("give at least one item id", "item_ids", item_ids)
        db = self._store.db
        stored = "done" if status == "completed" else status
        with db.atomic() as conn:
            for iid in sorted(set(ids)):  # lock items in one order: no deadlock between two callers
                self._require_item(task, conn, iid)
                self._require_worker(task, conn, iid, uid)
            a, t = S.assignments, now()
            for iid in ids:
                conn.execute(sa.update(a).where(a.c.task_id == task.id, a.c.item_id == iid, a.c.user_id == uid,
                                                a.c.role == "worker").values(status=stored, updated_at=t))
                _refresh(conn, task.id, iid, task.review_strategy, task.approval_threshold)
        return len(ids)

    def review(self, task: Any, item_id: int, user_id: str, approve: bool = True) -> str:
        """A reviewer approves or rejects an item awaiting review; return its new status.

        A rejected item goes back to its workers (their assignments are pending again).
        """
        uid = check_user_id(user_id)
        if not isinstance(approve, bool):
            raise ValidationError("must be True or False", "approve", approve)
        db = self._store.db
        iid = _item(item_id)
        with db.atomic() as conn:
            status = self._require_item(task, conn, iid)
            if uid not in task.reviewer_ids:
                raise PermissionDeniedError(f"{uid!r} is not a reviewer of task {task.id!r}")
            if status != "awaiting_review":
                raise ValidationError(f"is not awaiting review (its status is {status!r})", "item_id", iid)
            a, t = S.assignments, now()
            decision = "approved" if approve else "rejected"
            conn.execute(sa.delete(a).where(a.c.task_id == task.id, a.c.item_id == iid, a.c.role == "reviewer"))
            conn.execute(sa.insert(a).values(task_id=task.id, item_id=iid, user_id=uid, role="reviewer",
                                             status=decision, updated_at=t))
            if not approve:
                conn.execute(sa.update(a).where(a.c.task_id == task.id, a.c.item_id == iid, a.c.role == "worker")
                             .values(status="pending", updated_at=t))
            return _refresh(conn, task.id, iid, task.review_strategy, task.approval_threshold)

    def retract(self, task: Any, item_id: int, user_id: str) -> str:
        """Withdraw ``user_id``'s label on an item (their assignment is pending again)."""
        uid = check_user_id(user_id)
        iid = _item(item_id)
        with self._store.db.atomic() as conn:
            self._require_item(task, conn, iid)
            a, ann = S.annotations, S.assignments
            gone = conn.execute(sa.delete(a).where(a.c.task_id == task.id, a.c.item_id == iid,
                                                   a.c.author == uid)).rowcount
            if not gone:
                raise NotFoundError(f"{uid!r} has no label on item {iid} in task {task.id!r}")
            conn.execute(sa.update(ann).where(ann.c.task_id == task.id, ann.c.item_id == iid, ann.c.user_id == uid,
                                              ann.c.role == "worker").values(status="pending", updated_at=now()))
            return _refresh(conn, task.id, iid, task.review_strategy, task.approval_threshold)

    # -- reading -------------------------------------------------------------------------
    def assignments_df(self, task: Any, user_id: str | None = None, status: str | None = None,
                       role: str | None = None) -> pd.DataFrame:
        """Who works on (or reviewed) which item: item_id, user_id, role, status, updated_at."""
        a = S.assignments
        conds = [a.c.task_id == task.id]
        if role is not None:
            conds.append(a.c.role == check_role(role))
        if user_id is not None:
            conds.append(a.c.user_id == user_id)
        if status is not None:
            conds.append(a.c.status == status)
        q = (sa.select(a.c.item_id, a.c.user_id, a.c.role, a.c.status, a.c.updated_at)
             .where(*conds).order_by(a.c.item_id, a.c.role.desc(), a.c.user_id))
        df = _frame(self._store, q)
        df["updated_at"] = pd.to_datetime(df["updated_at"], unit="s", utc=True)
        return df

    def labels_df(self, task: Any) -> pd.DataFrame:
        """The labels given in this task, long form: item_id, worker, label (by item, then worker)."""
        with self._store.db.read() as conn:  # one packed string when workers and labels are few
            packed = read_task_labels(conn, task.id, task.assignee_ids, task.labels)
        if packed is not None:
            return packed
        a = S.annotations
        q = (sa.select(a.c.item_id, a.c.author.label("worker"), a.c.label).where(a.c.task_id == task.id)
             .order_by(a.c.item_id, a.c.author))  # the vote index's order: no sort
        return _frame(self._store, q)

    def items_df(self, task: Any) -> pd.DataFrame:
        """One row per item of the task: item_id, status, label (top vote), votes, n_labels."""
        ti = S.task_items
        items = _frame(self._store, sa.select(ti.c.item_id, ti.c.status).where(ti.c.task_id == task.id)
                       .order_by(ti.c.item_id))
        labels = self.labels_df(task)
        if labels.empty:
            items["label"], items["votes"], items["n_labels"] = None, 0, 0
            return items
        from dltasks.consensus import threshold_consensus

        # the top label of each item, ties to the smallest label: the consensus module's job
        top = threshold_consensus(labels, approval_threshold=1, workers_per_input=1, tie_policy="first")
        out = items.set_index("item_id")
        out["label"] = top["label"]
        out["votes"] = top["votes"].reindex(out.index).fillna(0).astype(int)
        out["n_labels"] = top["n_labels"].reindex(out.index).fillna(0).astype(int)
        return out.reset_index()

    def progress(self, task: Any) -> pd.DataFrame:
        """Per assignee: assigned, done, percent; plus a ``total`` row."""
        a = S.assignments
        q = (sa.select(a.c.user_id, sa.func.count().label("assigned"),
                       sa.func.sum(sa.case((a.c.status != "pending", 1), else_=0)).label("done"))
             .where(a.c.task_id == task.id, a.c.role == "worker").group_by(a.c.user_id))
        df = _frame(self._store, q).set_index("user_id")
        df = df.reindex(list(dict.fromkeys(list(task.assignee_ids) + list(df.index))), fill_value=0)
        df.loc["total"] = df.sum()
        df = df.astype({"assigned": "int64", "done": "int64"})
        df["percent"] = (100.0 * df["done"] / df["assigned"].where(df["assigned"] > 0)).fillna(0.0).round(1)
        df.index.name = "user_id"
        return df

    def status_counts(self, task: Any) -> pd.Series:
        """How many items are in each status."""
        ti = S.task_items
        q = sa.select(ti.c.status, sa.func.count().label("items")).where(ti.c.task_id == task.id).group_by(ti.c.status)
        df = _frame(self._store, q)
        return df.set_index("status")["items"].sort_index()

    # -- checks --------------------------------------------------------------------------
    def _require_item(self, task: Any, conn: sa.Connection, iid: int) -> str:
        ti = S.task_items
        # FOR UPDATE (PostgreSQL): one writer per item at a time, so the status derived from
        # every worker's label never misses a concurrent submit.  SQLite writers queue anyway.
        status = conn.execute(sa.select(ti.c.status).where(ti.c.task_id == task.id, ti.c.item_id == iid)
                              .with_for_update()).scalar()
        if status is None:
            raise NotFoundError(f"item {iid} is not in task {task.id!r}")
        return str(status)

    def _require_worker(self, task: Any, conn: sa.Connection, iid: int, uid: str) -> None:
        a = S.assignments
        workers = conn.execute(sa.select(a.c.user_id).where(a.c.task_id == task.id, a.c.item_id == iid,
                                                           a.c.role == "worker")).scalars().all()
        if uid in workers:
            return
        if not task.assignee_ids and len(workers) < task.workers_per_input:  # a pool: claim the item
            self._store.users.ensure([uid], conn, "user_id")
            conn.execute(sa.insert(a).values(task_id=task.id, item_id=iid, user_id=uid, role="worker",
                                             status="pending", updated_at=now()))
            return
        raise PermissionDeniedError(f"item {iid} of task {task.id!r} is not assigned to {uid!r}")


def _item(value: Any) -> int:
    from dltasks.items import _item_id

    return _item_id(value)


ROLES = ("worker", "reviewer")


def check_role(role: Any) -> str:
    """An assignment role: ``worker`` or ``reviewer``."""
    if role not in ROLES:
        raise ValidationError(f"must be one of {list(ROLES)}", "role", role)
    return str(role)


def _frame(store: Store, query: Any) -> pd.DataFrame:
    """Run a query of plain columns into a DataFrame (rows straight from the driver's cursor)."""
    with store.db.read() as conn:
        res = conn.execute(query)
        columns = list(res.keys())
        rows = res.cursor.fetchall() if res.cursor is not None else []
        return pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def _refresh(conn: sa.Connection, task_id: str, iid: int, review: str, threshold: int | None) -> str:
    a, ann = S.assignments, S.annotations
    rows = conn.execute(sa.select(a.c.role, a.c.status).where(a.c.task_id == task_id, a.c.item_id == iid)).all()
    workers = [s for r, s in rows if r == "worker"]
    decision = next((s for r, s in rows if r == "reviewer"), None)
    votes = collections.Counter(conn.execute(sa.select(ann.c.label).where(ann.c.task_id == task_id,
                                                                          ann.c.item_id == iid)).scalars())
    status = derive_item_status(review, threshold, workers, votes, decision)
    conn.execute(sa.update(S.task_items).where(S.task_items.c.task_id == task_id, S.task_items.c.item_id == iid)
                 .values(status=status, updated_at=now()))
    return status


def recompute_statuses(conn: sa.Connection, task_id: str, review: str, threshold: int | None) -> None:
    """Re-derive every item's status (after the review settings or workers changed)."""
    a, ann = S.assignments, S.annotations
    rows = conn.execute(sa.select(a.c.item_id, a.c.role, a.c.status).where(a.c.task_id == task_id)).all()
    votes_rows = conn.execute(sa.select(ann.c.item_id, ann.c.label).where(ann.c.task_id == task_id)).all()
    workers: dict[int, list[str]] = collections.defaultdict(list)
    decisions: dict[int, str] = {}
    for iid, role, status in rows:
        if role == "worker":
            workers[iid].append(status)
        else:
            decisions[iid] = status
    votes: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for iid, label in votes_rows:
        votes[iid][label] += 1
    current = dict(conn.execute(sa.select(S.task_items.c.item_id, S.task_items.c.status)
                                .where(S.task_items.c.task_id == task_id)).all())
    changes = []
    for iid, old in current.items():
        new = derive_item_status(review, threshold, workers.get(iid, []), votes.get(iid, {}), decisions.get(iid))
        if new != old:
            changes.append({"i": iid, "s": new})
    if changes:
        ti = S.task_items
        conn.execute(sa.update(ti).where(ti.c.task_id == task_id, ti.c.item_id == sa.bindparam("i"))
                     .values(status=sa.bindparam("s"), updated_at=now()), changes)


class TaskWork:
    """Work and analysis methods of :class:`dltasks.tasks.Task` (mixed in).

    Writes go through the store's work backend (``store.work``), so a task from a remote
    store works the same; the analysis methods compute from :meth:`labels_df` with the pure
    functions of :mod:`dltasks.consensus`.
    """

    id: str
    labels: list[str]
    review_strategy: str
    approval_threshold: int | None
    workers_per_input: int
    worker_strategy: str
    assignee_ids: list[str]
    weights: dict[str, float]

    def _bound(self) -> Any:  # pragma: no cover - provided by Task
        raise NotImplementedError

    def _written(self, result: Any) -> Any:
        """Tell this task's open views (:mod:`dltasks.work_events`) that work was written; pass ``result`` on."""
        work_events.notify(self.id)
        return result

    def submit(self, item_id: int, user_id: str, label: str) -> str:
        """Record ``user_id``'s label for an item assigned to them; return the item's new status.

        A second submit by the same worker replaces the first.  On a task with no assignees the
        item is claimed by whoever submits first (up to ``workers_per_input`` workers).
        """
        return self._written(self._bound().work.submit(self, item_id, user_id, label))

    def set_status(self, item_ids: int | Iterable[int], status: str, user_id: str) -> int:
        """Mark items with an action (``completed``, ``discard``, ``approved`` in QA, or a custom one)."""
        return self._written(self._bound().work.set_status(self, item_ids, status, user_id))

    def review(self, item_id: int, user_id: str, approve: bool = True) -> str:
        """A reviewer approves or rejects an item awaiting review; return its new status."""
        return self._written(self._bound().work.review(self, item_id, user_id, approve))

    def retract(self, item_id: int, user_id: str) -> str:
        """Withdraw ``user_id``'s label on an item; return the item's new status."""
        return self._written(self._bound().work.retract(self, item_id, user_id))

    def assignments_df(self, user_id: str | None = None, status: str | None = None,
                       role: str | None = None) -> pd.DataFrame:
        """Who works on (or reviewed) which item: item_id, user_id, role, status, updated_at.

        ``user_id`` / ``status`` / ``role`` (``worker`` or ``reviewer``) keep only that user's
        rows / rows in that status / rows of that role.
        """
        return self._bound().work.assignments_df(self, user_id=user_id, status=status, role=role)

    def labels_df(self) -> pd.DataFrame:
        """The labels given in this task, long form: item_id, worker, label."""
        return self._bound().work.labels_df(self)

    def items_df(self) -> pd.DataFrame:
        """One row per item of the task: item_id, status, label (top vote), votes, n_labels."""
        return self._bound().work.items_df(self)

    def progress(self) -> pd.DataFrame:
        """Per assignee: assigned, done, percent; plus a ``total`` row."""
        return self._bound().work.progress(self)

    def status_counts(self) -> pd.Series:
        """How many items are in each status."""
        return self._bound().work.status_counts(self)

    # -- analysis (pure functions over the task's labels) --------------------------------
    def consensus(self, tie_policy: str = "review", labels: pd.DataFrame | Votes | None = None) -> pd.DataFrame:
        """Threshold consensus per labelled item (see :func:`dltasks.consensus.threshold_consensus`).

        Tasks without a consensus threshold use a strict majority of ``workers_per_input``.
        Pass ``labels`` (from :meth:`labels_df`, or ``dltasks.consensus.encode_votes`` of it) to
        reuse one read, and one encoding, for several analyses.
        """
        from dltasks.consensus import threshold_consensus

        k = max(1, self.workers_per_input)
        t = self.approval_threshold or (k // 2 + 1)
        return threshold_consensus(self.labels_df() if labels is None else labels, approval_threshold=t,
                                   workers_per_input=k, tie_policy=tie_policy)

    def agreement(self, labels: pd.DataFrame | Votes | None = None) -> pd.Series:
        """Percent agreement, Fleiss' kappa, Krippendorff's alpha and counts for this task."""
        from dltasks.consensus import agreement_summary

        return agreement_summary(self.labels_df() if labels is None else labels)

    def worker_quality(self, labels: pd.DataFrame | Votes | None = None, skill: bool = True) -> pd.DataFrame:
        """Per worker: labels given, agreement with the consensus, and (``skill``) Dawid–Skene skill."""
        from dltasks.consensus import DawidSkene, worker_agreement

        labels = self.labels_df() if labels is None else labels
        quality = worker_agreement(labels)
        if not skill:
            return quality
        if len(labels):
            quality["skill"] = DawidSkene().fit(labels).skills_.reindex(quality.index)
        else:
            quality["skill"] = pd.Series(dtype=float)
        return quality

    def partition(self) -> pd.DataFrame:
        """Per assignee: assigned, target (exact share), target_share, actual_share, done, percent."""
        prog = self.progress().drop(index="total")
        total = float(prog["assigned"].sum())
        weights = pd.Series({u: float(self.weights.get(u, 0.0)) for u in prog.index}, dtype=float)
        share = weights / weights.sum() if weights.sum() > 0 else weights
        out = pd.DataFrame(index=prog.index)
        out["assigned"] = prog["assigned"]
        out["target"] = share * total
        out["target_share"] = share
        out["actual_share"] = prog["assigned"] / total if total else 0.0
        out["done"] = prog["done"]
        out["percent"] = prog["percent"]
        return out
