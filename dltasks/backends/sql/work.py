"""The work inside a task, in SQL: workers submit labels and statuses, reviewers approve or reject.

Each action is one transaction that reads the task's current options, writes the label or
status and re-derives the item's status with :func:`dltasks.domain.workflow.derive_item_status`.

>>> from dltasks.backends.sql import SqlBackend
>>> from dltasks.domain import items, task_options
>>> backend = SqlBackend("sqlite://")
>>> ds = backend.create_dataset("d", ["cat", "dog"])
>>> backend.import_items(ds.id, items.item_rows(__import__("pandas").DataFrame({"name": ["a.jpg"]})))
1
>>> spec = task_options.build_spec(task_name="t", assignee_ids=["ann"], default_labels=["cat", "dog"])
>>> task = backend.create_task(ds.id, spec)
>>> backend.submit(task.id, 1, "ann", "cat")
'completed'
>>> backend.submit(task.id, 1, "ann", "owl")
Traceback (most recent call last):
dltasks.errors.ValidationError: label: is not one of this task's labels ['cat', 'dog'] (got 'owl')
"""
from __future__ import annotations

import collections
from typing import Any
import pandas as pd
import sqlalchemy as sa

from dltasks import jsonutil
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.coded_read import read_task_labels
from dltasks.backends.sql.common import SqlPart, insert_missing_users
from dltasks.backends.sql.frames import paged, records_frame
from dltasks.backends.sql.quality import (extend, flagged_rows, gold_answer, gold_rows, qualification_rows, queue_items,
                                          require_qualified, retract_gold, set_gold_status, submit_gold)
from dltasks.backends.sql.prepared import run
from dltasks.backends.sql.rules import Rules, record
from dltasks.backends.sql.rules import rules as read_rules
from dltasks.domain.answers import answers_frame, image_size, stored_answer, stored_rows
from dltasks.domain.shapes import Definition, answer_given, answer_text, check_answer
from dltasks.domain.workflow import (check_no_label_yet, check_not_decided, check_reopenable,
                                     check_review_label, check_status_action, derive_item_status, top_label)
from dltasks.errors import NotFoundError, PermissionDeniedError, ValidationError
from dltasks.timeutil import now

__all__ = ["WorkSql", "recompute_statuses", "record", "rules_of", "item_times"]

# The statements of the hot path (a submit), built once: SQLAlchemy then skips building them and
# computing their cache key at each call (about a third of a submit's CPU).
_P = sa.bindparam
_a, _ann, _ti = S.assignments, S.annotations, S.task_items
_ITEM_STATUS = (sa.select(_ti.c.status).where(_ti.c.task_id == _P("task_id"), _ti.c.item_id == _P("item_id"))
                .with_for_update())
_OLD_LABEL = sa.select(_ann.c.label).where(_ann.c.task_id == _P("task_id"), _ann.c.item_id == _P("item_id"),
                                           _ann.c.author == _P("user_id"))
_ITEM_WORKERS = sa.select(_a.c.user_id).where(_a.c.task_id == _P("task_id"), _a.c.item_id == _P("item_id"),
                                              _a.c.role == "worker")
_DELETE_ANSWER = sa.delete(_ann).where(_ann.c.task_id == _P("task_id"), _ann.c.item_id == _P("item_id"),
                                       _ann.c.author == _P("user_id"))
_INSERT_ANSWER = sa.insert(_ann)
_MARK_DONE = sa.update(_a).where(_a.c.task_id == _P("b_task"), _a.c.item_id == _P("b_item"),
                                 _a.c.user_id == _P("b_user"), _a.c.role == "worker").values(
    status="done", updated_at=_P("at"))
_DROP_REJECTION = sa.delete(_a).where(_a.c.task_id == _P("task_id"), _a.c.item_id == _P("item_id"),
                                      _a.c.role == "reviewer", _a.c.status == "rejected")
_IDS: sa.BindParameter[Any] = _P("ids", expanding=True)
_WORK_ROWS = sa.select(_a.c.item_id, _a.c.role, _a.c.status, _a.c.user_id).where(_a.c.task_id == _P("task_id"),
                                                                                 _a.c.role != "gold")
_VOTE_ROWS = sa.select(_ann.c.item_id, _ann.c.label, _ann.c.author).where(_ann.c.task_id == _P("task_id"))
_STATUS_ROWS = sa.select(_ti.c.item_id, _ti.c.status).where(_ti.c.task_id == _P("task_id"))
#: The three reads of :func:`recompute_statuses`, for the whole task, a list of items (``ids``) and
#: one item (``iid``: a submit's, the hot path), built once: no statement is built per call.
_STATUS_READS: dict[str, tuple[Any, Any, Any]] = {
    "all": (_WORK_ROWS, _VOTE_ROWS, _STATUS_ROWS),
    "ids": (_WORK_ROWS.where(_a.c.item_id.in_(_IDS)), _VOTE_ROWS.where(_ann.c.item_id.in_(_IDS)),
            _STATUS_ROWS.where(_ti.c.item_id.in_(_IDS))),
    "one": (_WORK_ROWS.where(_a.c.item_id == _P("iid")), _VOTE_ROWS.where(_ann.c.item_id == _P("iid")),
            _STATUS_ROWS.where(_ti.c.item_id == _P("iid"))),
}
_SET_STATUS = sa.update(_ti).where(_ti.c.task_id == _P("b_task"), _ti.c.item_id == _P("i")).values(
    status=_P("s"), updated_at=_P("at"))


class WorkSql(SqlPart):
    """The work operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    # -- actions -------------------------------------------------------------------------------
    def submit(self, task_id: str, item_id: int, user_id: str, label: str | None = None, replace: bool = False,
               annotations: list[Definition] | None = None, seconds: float | None = None) -> str:
        """Record a worker's answer on an item (``label``, or ``annotations`` for any task type); return the
        item's new status.

        A worker's second answer on an item is refused unless ``replace`` (it replaces their whole
        answer; the old one is kept in the history); an approved item's answers are refused until a
        reviewer reopens it.  On a task with no assignees the item is claimed by whoever submits
        first (up to ``workers_per_input`` workers).  ``seconds``: how long the item was on screen
        before this answer.  An answer on a gold item is kept apart (``gold_frame``).
        """
        given = answer_given(label, annotations)
        with self.db.atomic() as conn:
            rules = read_rules(conn, task_id)
            size = _image_size(conn, item_id) if rules.annotation_type in ("box", "polygon") else None
            answer = check_answer(rules.annotation_type, given, rules.labels, size)
            known = gold_answer(conn, task_id, item_id) if rules.has_gold else None
            if known is not None:
                shown, changed = submit_gold(conn, rules, task_id, item_id, user_id, answer, known, replace, seconds,
                                             now())
                if changed:  # the answer flagged the worker: their items have other workers now
                    recompute_statuses(conn, task_id, read_rules(conn, task_id), changed)
                return shown
            status = _require_item(conn, task_id, item_id)
            _check_open(conn, task_id, item_id, status)
            old = _answer_text(conn, rules, task_id, item_id, user_id)
            check_no_label_yet(old, replace, item_id, user_id)
            _require_worker(conn, rules, task_id, item_id, user_id)
            t = now()
            key = {"task_id": task_id, "item_id": item_id, "user_id": user_id}
            if old is not None:
                run(conn, _DELETE_ANSWER, key)
            rows = [{"item_id": item_id, "label": lbl, "author": user_id, "task_id": task_id, "created_at": t,
                     "kind": kind, "geo": geo, "text": text, "seconds": seconds}
                    for kind, lbl, geo, text in stored_rows(answer)]
            run(conn, _INSERT_ANSWER, rows[0] if len(rows) == 1 else rows)
            run(conn, _MARK_DONE, {"b_task": task_id, "b_item": item_id, "b_user": user_id, "at": t})
            run(conn, _DROP_REJECTION, key)
            record(conn, task_id, item_id, user_id, "submit" if old is None else "replace", old,
                   _history_text(rules, answer), t)
            return _refresh(conn, task_id, item_id, rules)

    def set_status(self, task_id: str, item_ids: list[int], status: str, user_id: str) -> int:
        """Mark a worker's items with one of the task's actions; return how many."""
        ti, a = S.task_items, S.assignments
        with self.db.atomic() as conn:
            rules = read_rules(conn, task_id)
            stored = check_status_action(status, rules.actions)
            # one read of the items (locked in id order on PostgreSQL: no deadlock between two callers)
            current = dict(conn.execute(sa.select(ti.c.item_id, ti.c.status).where(
                ti.c.task_id == task_id, ti.c.item_id.in_(item_ids)).order_by(ti.c.item_id).with_for_update()).all())
            missing = [i for i in item_ids if i not in current]
            gold = _gold_among(conn, rules, task_id, missing)  # a worker's gold items take actions like any
            missing = [i for i in missing if i not in gold]
            if missing:
                raise NotFoundError(f"item {missing[0]} is not in task {task_id!r}")
            real = [i for i in item_ids if i in current]
            decided = next((i for i in real if current[i] == "approved"), None)
            if decided is not None:
                check_not_decided("approved", decided, _decided_by(conn, task_id, decided))
            mine = set(conn.execute(sa.select(a.c.item_id).where(
                a.c.task_id == task_id, a.c.user_id == user_id, a.c.role == "worker", a.c.item_id.in_(real)))
                .scalars())
            for iid in real:
                if iid not in mine:
                    _require_worker(conn, rules, task_id, iid, user_id)  # a pool claims it, or refuses
            t = now()
            if gold:
                _refuse_flagged(rules, task_id, user_id)
                set_gold_status(conn, task_id, sorted(gold), user_id, stored, status, t)
            if real:
                conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.user_id == user_id,
                                                a.c.role == "worker", a.c.item_id.in_(real))
                             .values(status=stored, updated_at=t))
                conn.execute(sa.insert(S.history), [{"task_id": task_id, "item_id": i, "user_id": user_id,
                                                     "action": "status", "before": current[i], "after": status,
                                                     "at": t} for i in real])
                recompute_statuses(conn, task_id, rules, real)
        return len(item_ids)

    def review(self, task_id: str, item_id: int, user_id: str, approve: bool = True, label: str | None = None
               ) -> str:
        """A reviewer approves or rejects an item awaiting review; return its new status.

        Approving with ``label`` corrects the workers: the item's decided label is ``label``
        (recorded as a ``correct`` action, after the label most workers gave).  A rejected item
        goes back to its workers (their assignments are pending again).
        """
        with self.db.atomic() as conn:
            rules = read_rules(conn, task_id)
            check_review_label(approve, label, rules.labels)
            if label is not None and rules.annotation_type != "class":
                raise ValidationError(f"a correction label applies to class tasks, not {rules.annotation_type} "
                                      "tasks", "label", label)
            status = _require_item(conn, task_id, item_id)
            _require_reviewer(conn, task_id, user_id)
            if status != "awaiting_review":
                raise ValidationError(f"is not awaiting review (its status is {status!r})", "item_id", item_id)
            a, t = S.assignments, now()
            decision = "approved" if approve else "rejected"
            _set_decision(conn, task_id, item_id, user_id, decision, t)
            _set_label(conn, task_id, item_id, label)
            if not approve:
                conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.item_id == item_id, a.c.role == "worker")
                             .values(status="pending", updated_at=t))
            record(conn, task_id, item_id, user_id, "review", status, decision, t)
            if label is not None:
                record(conn, task_id, item_id, user_id, "correct", top_label(_votes(conn, task_id, item_id)), label, t)
            return _refresh(conn, task_id, item_id, rules)

    def reopen(self, task_id: str, item_id: int, user_id: str) -> str:
        """A reviewer takes back an item's approval or rejection; return its new status (awaiting
        review, usually).

        Its labels stay; its workers may change them (``replace=True``) and a reviewer decides
        again.  Reopening a rejection (an Undo of a mis-click) gives the item back to review:
        the workers whose label is still there are done again.
        """
        with self.db.atomic() as conn:
            rules = read_rules(conn, task_id)
            status = _require_item(conn, task_id, item_id)
            _require_reviewer(conn, task_id, user_id)
            check_reopenable(status, item_id)
            a, t = S.assignments, now()
            if status == "rejected":
                labelled = sa.select(S.annotations.c.author).where(S.annotations.c.task_id == task_id,
                                                                   S.annotations.c.item_id == item_id)
                conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.item_id == item_id, a.c.role == "worker",
                                                a.c.status == "pending", a.c.user_id.in_(labelled))
                             .values(status="done", updated_at=t))
            approvers = conn.execute(sa.update(a).where(
                a.c.task_id == task_id, a.c.item_id == item_id, a.c.role == "worker", a.c.status == "approved")
                .values(status="pending", updated_at=t)).rowcount
            if not approvers:  # approved by a reviewer or by consensus: a reviewer decides again
                _set_decision(conn, task_id, item_id, user_id, "reopened", t)
            _set_label(conn, task_id, item_id, None)
            record(conn, task_id, item_id, user_id, "reopen", status, None, t)
            return _refresh(conn, task_id, item_id, rules)

    def retract(self, task_id: str, item_id: int, user_id: str) -> str:
        """Withdraw a worker's label on an item (their assignment is pending again)."""
        with self.db.atomic() as conn:
            rules = read_rules(conn, task_id)
            if _gold_among(conn, rules, task_id, [item_id]):  # answered as a real item would be
                return retract_gold(conn, rules, task_id, item_id, user_id, now())
            status = _require_item(conn, task_id, item_id)
            old = _answer_text(conn, rules, task_id, item_id, user_id)
            if old is None:
                raise NotFoundError(f"{user_id!r} has no label on item {item_id} in task {task_id!r}")
            _check_open(conn, task_id, item_id, status)
            ann, a, t = S.annotations, S.assignments, now()
            conn.execute(sa.delete(ann).where(ann.c.task_id == task_id, ann.c.item_id == item_id,
                                              ann.c.author == user_id))
            conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.item_id == item_id, a.c.user_id == user_id,
                                            a.c.role == "worker").values(status="pending", updated_at=t))
            record(conn, task_id, item_id, user_id, "retract", old, None, t)
            return _refresh(conn, task_id, item_id, rules)

    # -- reading -------------------------------------------------------------------------------
    def assignments_frame(self, task_id: str, user_id: str | None = None, status: str | None = None,
                          role: str | None = None, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Who works on (or reviewed) which item: item_id, user_id, role, status, updated_at."""
        a = S.assignments
        conds = [a.c.task_id == task_id]
        if role is not None:
            conds.append(a.c.role == role)
        if user_id is not None:
            conds.append(a.c.user_id == user_id)
        if status is not None:
            conds.append(a.c.status == status)
        q = (sa.select(a.c.item_id, a.c.user_id, a.c.role, a.c.status, a.c.updated_at)
             .where(*conds).order_by(a.c.item_id, a.c.role.desc(), a.c.user_id))
        with self.db.read() as conn:
            _require_task(conn, task_id)
            df = paged(conn, q, offset, limit)
        df["updated_at"] = pd.to_datetime(df["updated_at"], unit="s", utc=True)
        return df

    def labels_frame(self, task_id: str, viewer: str | None = None, offset: int = 0,
                     limit: int | None = None) -> pd.DataFrame:
        """The labels given in the task, long form: item_id, worker, label, seconds (by item, then worker).

        A ``viewer`` who does not review the task sees only their own labels (workers are blind).
        ``seconds`` is how long the item was on screen before the answer (NaN: not measured).
        """
        m, a = S.task_members, S.annotations
        with self.db.read() as conn:
            rules = read_rules(conn, task_id)
            members = conn.execute(sa.select(m.c.user_id, m.c.role).where(m.c.task_id == task_id)).all()
            blind = viewer is not None and (viewer, "reviewer") not in members
            if rules.annotation_type != "class":  # the long answers frame
                answers = _answer_rows(conn, task_id, user_id=viewer if blind else None, offset=offset, limit=limit)
                return _with_seconds(conn, task_id, answers)
            q = (sa.select(a.c.item_id, a.c.author.label("worker"), a.c.label, a.c.seconds)
                 .where(a.c.task_id == task_id).order_by(a.c.item_id, a.c.author))  # the vote index's order
            if blind:
                q = q.where(a.c.author == viewer)
            if viewer is not None or limit is not None:
                return _float_seconds(paged(conn, q, offset, limit))
            workers = [u for u, role in members if role == "worker"]
            packed = read_task_labels(conn, task_id, workers, rules.labels)  # one packed string: few workers, labels
            if packed is None:
                return _float_seconds(records_frame(conn, q))
            return _with_seconds(conn, task_id, packed)

    def task_items_frame(self, task_id: str, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Each item of the task, its status and the label a reviewer decided on: item_id, status, label."""
        ti = S.task_items
        q = sa.select(ti.c.item_id, ti.c.status, ti.c.label).where(ti.c.task_id == task_id).order_by(ti.c.item_id)
        with self.db.read() as conn:
            _require_task(conn, task_id)
            df = paged(conn, q, offset, limit)
        return _none_for_null(df, "label")

    def history_frame(self, task_id: str, item_id: int | None = None, viewer: str | None = None,
                      offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The task's work actions (one item's, if given), oldest first: item_id, user_id, action, before, after, at.

        A ``viewer`` who does not review the task sees only their own actions (workers are blind).
        """
        h, m = S.history, S.task_members
        conds = [h.c.task_id == task_id]
        if item_id is not None:
            conds.append(h.c.item_id == item_id)
        q = sa.select(h.c.item_id, h.c.user_id, h.c.action, h.c.before, h.c.after, h.c.at)
        with self.db.read() as conn:
            _require_task(conn, task_id)
            if viewer is not None and conn.execute(sa.select(m.c.user_id).where(
                    m.c.task_id == task_id, m.c.user_id == viewer, m.c.role == "reviewer")).first() is None:
                conds.append(h.c.user_id == viewer)
            df = paged(conn, q.where(*conds).order_by(h.c.id), offset, limit)
        df["at"] = pd.to_datetime(df["at"], unit="s", utc=True)
        return _none_for_null(df, "before", "after")

    def progress_frame(self, task_id: str) -> pd.DataFrame:
        """Per worker with assignments: user_id, assigned, done, median_seconds, items_per_hour.

        The times are those measured on screen (``submit(seconds=)``): the median per item, and
        the items answered per hour of that time (NaN when none was measured).
        """
        a = S.assignments
        q = (sa.select(a.c.user_id, sa.func.count().label("assigned"),
                       sa.func.sum(sa.case((a.c.status != "pending", 1), else_=0)).label("done"))
             .where(a.c.task_id == task_id, a.c.role == "worker").group_by(a.c.user_id))
        with self.db.read() as conn:
            _require_task(conn, task_id)
            df = records_frame(conn, q)
            times = _measured(conn, task_id)
        df = df.astype({"assigned": "int64", "done": "int64"})
        return df.merge(item_times(times), on="user_id", how="left")

    def queue(self, task_id: str, user_id: str, limit: int | None = None) -> list[int]:
        """The worker's pending items in the order they are served (gold items spread through them)."""
        with self.db.read() as conn:
            return queue_items(conn, read_rules(conn, task_id), task_id, user_id, limit)

    def gold_frame(self, task_id: str) -> pd.DataFrame:
        """Each answer on a gold item: item_id, user_id, answer, gold, correct, seconds, at."""
        with self.db.read() as conn:
            _require_task(conn, task_id)
            return gold_rows(conn, task_id)

    def flagged_frame(self, task_id: str) -> pd.DataFrame:
        """The workers flagged by their gold accuracy: user_id, flagged_at."""
        with self.db.read() as conn:
            _require_task(conn, task_id)
            return flagged_rows(conn, task_id)

    def qualification_frame(self, task_id: str) -> pd.DataFrame:
        """Per assignee of a qualification task: user_id, answered, correct, accuracy, passed."""
        with self.db.read() as conn:
            rules = read_rules(conn, task_id)
            if rules.type != "qualification" or rules.pass_accuracy is None:
                raise ValidationError("is not a qualification task", "task_id", task_id)
            return qualification_rows(conn, task_id, rules.pass_accuracy)

    def status_counts(self, task_id: str) -> pd.Series:
        """How many items are in each status."""
        ti = S.task_items
        q = sa.select(ti.c.status, sa.func.count().label("items")).where(ti.c.task_id == task_id).group_by(ti.c.status)
        with self.db.read() as conn:
            _require_task(conn, task_id)
            df = records_frame(conn, q)
        return df.set_index("status")["items"].sort_index()


def _measured(conn: sa.Connection, task_id: str) -> pd.DataFrame:
    """The measured answers of a task: item_id, worker, seconds (one row per worker's answer)."""
    a = S.annotations
    q = (sa.select(a.c.item_id, a.c.author.label("worker"), sa.func.max(a.c.seconds).label("seconds"))
         .where(a.c.task_id == task_id, a.c.seconds.is_not(None)).group_by(a.c.item_id, a.c.author))
    return _float_seconds(records_frame(conn, q))


def item_times(times: pd.DataFrame) -> pd.DataFrame:
    """Per worker: median_seconds per item and items_per_hour of measured time, from item_id, worker, seconds.

    >>> item_times(pd.DataFrame({"item_id": [1, 2], "worker": ["ann", "ann"], "seconds": [2.0, 4.0]}))
      user_id  median_seconds  items_per_hour
    0     ann             3.0          1200.0
    """
    grouped = times.groupby("worker")["seconds"]
    out = pd.DataFrame({"median_seconds": grouped.median(), "items_per_hour": 3600.0 * grouped.count()
                        / grouped.sum().where(grouped.sum() > 0)})
    out.index.name = "user_id"
    return out.reset_index().astype({"median_seconds": "float64", "items_per_hour": "float64"})


def _float_seconds(df: pd.DataFrame) -> pd.DataFrame:
    df["seconds"] = pd.to_numeric(df["seconds"], errors="coerce").astype("float64")
    return df


def _with_seconds(conn: sa.Connection, task_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (item_id, worker, ...) with each answer's measured ``seconds`` (NaN: not measured).

    Whether any answer was measured is one seek in ``ix_annotations_task_seconds``; only the
    measured rows are read.
    """
    a = S.annotations
    any_measured = conn.execute(sa.select(a.c.item_id).where(a.c.task_id == task_id, a.c.seconds.is_not(None))
                                .limit(1)).first() is not None
    if not any_measured or frame.empty:
        frame["seconds"] = pd.Series(float("nan"), index=frame.index, dtype="float64")
        return frame
    times = _measured(conn, task_id)
    out = frame.merge(times, on=["item_id", "worker"], how="left", sort=False)
    out.index = frame.index
    out.attrs = dict(frame.attrs)  # a merge drops them, and with them a page's next_offset
    return out


def _none_for_null(df: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Text columns with ``None`` for SQL NULL (as they come back over HTTP), not NaN."""
    for c in columns:
        df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


# -- inside a work transaction ---------------------------------------------------------------------
def rules_of(conn: sa.Connection, task_id: str) -> Rules:
    """The task's current work options (for the task operations that re-derive statuses)."""
    return read_rules(conn, task_id)


def _history_text(rules: Rules, answer: list[Definition]) -> str:
    """An answer as the history keeps it: a class task's label, any other task's answer as JSON."""
    return str(answer[0].label) if rules.annotation_type == "class" else answer_text(answer)


def _answer_rows(conn: sa.Connection, task_id: str, item_ids: list[int] | None = None,
                 user_id: str | None = None, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
    """The long answers frame of the task's items (``item_ids``; all when ``None``), one worker's if given."""
    ann = S.annotations
    q = (sa.select(ann.c.item_id, ann.c.author, ann.c.kind, ann.c.label, ann.c.geo, ann.c.text)
         .where(ann.c.task_id == task_id).order_by(ann.c.item_id, ann.c.author, ann.c.id))
    if item_ids is not None:
        q = q.where(ann.c.item_id.in_(item_ids))
    if user_id is not None:
        q = q.where(ann.c.author == user_id)
    return paged(conn, q, offset, limit, _read_answers)


def _read_answers(conn: sa.Connection, query: Any) -> pd.DataFrame:
    rows = conn.execute(query).all()
    return answers_frame(*zip(*rows)) if rows else answers_frame([], [], [], [], [], [])


def _answer_text(conn: sa.Connection, rules: Rules, task_id: str, iid: int, uid: str) -> str | None:
    """The answer this worker gave the item in this task as the history keeps it, if any."""
    if rules.annotation_type == "class":
        return run(conn, _OLD_LABEL, {"task_id": task_id, "item_id": iid, "user_id": uid}).scalar()
    ann = S.annotations
    rows = conn.execute(sa.select(ann.c.kind, ann.c.label, ann.c.geo, ann.c.text).where(
        ann.c.task_id == task_id, ann.c.item_id == iid, ann.c.author == uid).order_by(ann.c.id)).all()
    return None if not rows else answer_text(stored_answer(rows))


def _image_size(conn: sa.Connection, iid: int) -> tuple[float, float] | None:
    """The item's image size from ``metadata['system']``, when known."""
    meta = conn.execute(sa.select(S.items.c.metadata).where(S.items.c.id == iid)).scalar()
    return image_size(jsonutil.loads(meta, {})) if meta is not None else None


def _agreed(conn: sa.Connection, task_id: str, rules: Rules, item_ids: list[int] | None) -> dict[int, bool] | None:
    """Whether each item's answers agree (tasks that are not class tasks, under consensus review), else ``None``."""
    if rules.annotation_type == "class" or rules.review_strategy != "consensus" or rules.approval_threshold is None:
        return None
    from dltasks.agreement import agreed_items

    answers = _answer_rows(conn, task_id, item_ids)
    if rules.flagged:
        answers = answers[~answers["worker"].isin(rules.flagged)]
    if answers.empty:
        return {}
    agreed = agreed_items(answers, rules.annotation_type, rules.approval_threshold, rules.iou_threshold,
                          rules.unmatched)
    return {int(k): bool(v) for k, v in agreed.items()}


def _check_open(conn: sa.Connection, task_id: str, iid: int, status: str) -> None:
    """Decided is decided (:func:`check_not_decided`); who decided is read only for the refusal."""
    if status == "approved":
        check_not_decided(status, iid, _decided_by(conn, task_id, iid))


def _decided_by(conn: sa.Connection, task_id: str, iid: int) -> str:
    """Who approved an item: its reviewer, the worker whose action approved it, or consensus."""
    a = S.assignments
    rows = conn.execute(sa.select(a.c.user_id, a.c.role).where(a.c.task_id == task_id, a.c.item_id == iid,
                                                               a.c.status == "approved")).all()
    reviewer = next((u for u, role in rows if role == "reviewer"), None)
    worker = next((u for u, role in rows if role == "worker"), None)
    return reviewer or worker or "the consensus of its workers"


def _require_reviewer(conn: sa.Connection, task_id: str, uid: str) -> None:
    m = S.task_members
    if not conn.execute(sa.select(m.c.user_id).where(m.c.task_id == task_id, m.c.user_id == uid,
                                                     m.c.role == "reviewer")).first():
        raise PermissionDeniedError(f"{uid!r} is not a reviewer of task {task_id!r}")


def _set_decision(conn: sa.Connection, task_id: str, iid: int, uid: str, decision: str, t: float) -> None:
    """The item's one review row: who decided what (approved, rejected, reopened)."""
    a = S.assignments
    conn.execute(sa.delete(a).where(a.c.task_id == task_id, a.c.item_id == iid, a.c.role == "reviewer"))
    conn.execute(sa.insert(a).values(task_id=task_id, item_id=iid, user_id=uid, role="reviewer", status=decision,
                                     updated_at=t))


def _set_label(conn: sa.Connection, task_id: str, iid: int, label: str | None) -> None:
    """The item's decided label: a reviewer's correction, or ``None`` (the workers' labels stand)."""
    ti = S.task_items
    conn.execute(sa.update(ti).where(ti.c.task_id == task_id, ti.c.item_id == iid).values(label=label))


def _votes(conn: sa.Connection, task_id: str, iid: int) -> collections.Counter[str]:
    """How many workers gave each label to the item."""
    ann = S.annotations
    return collections.Counter(conn.execute(sa.select(ann.c.label).where(ann.c.task_id == task_id,
                                                                         ann.c.item_id == iid)).scalars())


def _require_task(conn: sa.Connection, task_id: str) -> None:
    """``NotFoundError`` unless the task exists (one primary-key probe: the reads' check)."""
    if conn.execute(sa.select(S.tasks.c.id).where(S.tasks.c.id == task_id)).first() is None:
        raise NotFoundError(f"no task with id {task_id!r}")


def _require_item(conn: sa.Connection, task_id: str, iid: int) -> str:
    ti = S.task_items
    # FOR UPDATE (PostgreSQL): one writer per item at a time, so the status derived from
    # every worker's label never misses a concurrent submit.  SQLite writers queue anyway.
    status = run(conn, _ITEM_STATUS, {"task_id": task_id, "item_id": iid}).scalar()
    if status is None:
        raise NotFoundError(f"item {iid} is not in task {task_id!r}")
    return str(status)


def _gold_among(conn: sa.Connection, rules: Rules, task_id: str, item_ids: list[int]) -> set[int]:
    """Which of ``item_ids`` are the task's gold items (no read when the task has none)."""
    if not rules.has_gold or not item_ids:
        return set()
    g = S.gold_items
    return set(conn.execute(sa.select(g.c.item_id).where(g.c.task_id == task_id, g.c.item_id.in_(item_ids)))
               .scalars())


def _refuse_flagged(rules: Rules, task_id: str, uid: str) -> None:
    if uid in rules.flagged:
        raise PermissionDeniedError(f"{uid!r} is flagged in task {task_id!r} (gold accuracy below "
                                    f"{rules.min_gold_accuracy}): their items went to the others")


def _require_worker(conn: sa.Connection, rules: Rules, task_id: str, iid: int, uid: str) -> None:
    a = S.assignments
    workers = run(conn, _ITEM_WORKERS, {"task_id": task_id, "item_id": iid}).scalars().all()
    _refuse_flagged(rules, task_id, uid)
    if uid in workers:
        require_qualified(conn, rules, uid)
        return
    if rules.pool and len(workers) < rules.workers_per_input:  # a pool: claim the item
        require_qualified(conn, rules, uid)
        insert_missing_users(conn, [uid])
        conn.execute(sa.insert(a).values(task_id=task_id, item_id=iid, user_id=uid, role="worker",
                                         status="pending", updated_at=now()))
        return
    raise PermissionDeniedError(f"item {iid} of task {task_id!r} is not assigned to {uid!r}")


def _refresh(conn: sa.Connection, task_id: str, iid: int, rules: Rules) -> str:
    """Derive the item's status again after an action (one more worker first, under dynamic overlap)."""
    return recompute_statuses(conn, task_id, rules, [iid])[iid]


def recompute_statuses(conn: sa.Connection, task_id: str, rules: Rules, item_ids: list[int] | None = None
                       ) -> dict[int, str]:
    """Re-derive the status of every item (or of ``item_ids``): after the review settings, the workers or
    a batch of statuses changed; return each item's status.

    Flagged workers' assignments and labels do not count.  Under dynamic overlap an item whose
    answers are all in without consensus gets one more worker (up to ``max_workers``) and waits
    for consensus again.
    """
    review, threshold = rules.review_strategy, rules.approval_threshold
    agreed = _agreed(conn, task_id, rules, item_ids)
    params: dict[str, Any] = {"task_id": task_id}
    if item_ids is None:
        work_rows, vote_rows, status_rows = _STATUS_READS["all"]
    elif len(item_ids) == 1:
        work_rows, vote_rows, status_rows = _STATUS_READS["one"]
        params["iid"] = item_ids[0]
    else:
        work_rows, vote_rows, status_rows = _STATUS_READS["ids"]
        params["ids"] = item_ids
    rows = run(conn, work_rows, params).all()
    votes_rows = run(conn, vote_rows, params).all()
    flagged = rules.flagged
    workers: dict[int, list[str]] = collections.defaultdict(list)
    decisions: dict[int, str] = {}
    for iid, role, status, uid in rows:
        if role == "worker":
            if uid not in flagged:
                workers[iid].append(status)
        else:
            decisions[iid] = status
    votes: dict[int, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for iid, label, author in votes_rows:
        if author not in flagged:
            votes[iid][label] += 1
    current = dict(run(conn, status_rows, params).all())
    derived = {iid: derive_item_status(review, threshold, workers.get(iid, []), votes.get(iid, {}),
                                       decisions.get(iid), None if agreed is None else agreed.get(iid, False))
               for iid in current}
    if rules.dynamic:
        stuck = [iid for iid, status in derived.items() if status == "awaiting_review" and iid not in decisions]
        for iid in extend(conn, rules, task_id, stuck, now()):
            derived[iid] = "awaiting_consensus"
    at = now()
    changes = [{"b_task": task_id, "i": iid, "s": new, "at": at} for iid, new in derived.items()
               if new != current[iid]]
    if changes:
        run(conn, _SET_STATUS, changes)
    return derived
