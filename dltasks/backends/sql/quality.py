"""Quality control in SQL: gold items in queues, flagging, redistribution, dynamic overlap, qualification.

The rules are :mod:`dltasks.domain.gold`'s (pure); this module reads and writes them inside
the work action's transaction, and appends each change to the history (``gold``, ``flag``,
``redistribute``, ``extend``).

>>> import pandas as pd
>>> from dltasks.backends.sql import SqlBackend
>>> from dltasks.domain.items import item_rows
>>> from dltasks.domain.task_options import build_spec
>>> backend = SqlBackend("sqlite://")
>>> ds = backend.create_dataset("d", ["cat", "dog"])
>>> _ = backend.import_items(ds.id, item_rows(pd.DataFrame({"name": [f"{i}.jpg" for i in range(12)]})))
>>> spec = build_spec(task_name="t", assignee_ids=["ann"], gold_rate=0.2, labels=["cat", "dog"], seed=3)
>>> task = backend.create_task(ds.id, spec, gold=[[11, "cat"], [12, "dog"]])
>>> queue = backend.queue(task.id, "ann")
>>> len(queue), sorted(set(queue) & {11, 12})
(12, [11, 12])
>>> backend.submit(task.id, 11, "ann", "dog")  # a gold item answers like a real one
'completed'
>>> backend.gold_frame(task.id)[["item_id", "user_id", "answer", "gold", "correct"]].values.tolist()
[[11, 'ann', 'dog', 'cat', False]]
"""
from __future__ import annotations

import dataclasses
import zlib
from typing import Any, Sequence

import pandas as pd
import sqlalchemy as sa

from dltasks.backends.sql import schema as S
from dltasks.backends.sql.engine import Database
from dltasks.backends.sql.frames import records_frame
from dltasks.backends.sql.rules import Rules, record
from dltasks.domain.gold import (check_gold, gold_answer_text, gold_plan, pick_workers, qualification_passed,
                                 serving_order, should_flag)
from dltasks.domain.shapes import Definition
from dltasks.domain.task_options import TaskSpec
from dltasks.domain.workflow import check_no_label_yet, derive_item_status
from dltasks.errors import NotFoundError, PermissionDeniedError, ValidationError

__all__ = ["write_gold", "checked_gold", "gold_answer", "submit_gold", "retract_gold", "set_gold_status",
           "require_qualified", "flag_if_low", "extend",
           "queue_items", "gold_rows", "flagged_rows", "qualification_rows", "user_seed"]

#: Item statuses that are final: a flagged worker's labels there stay as they were decided (a rejected
#: item is not: it went back to its workers).
_DECIDED = ("approved", "completed", "discarded")
#: Items no worker is asked for any more (a rejected item goes back to its workers).
_CLOSED = ("approved", "discarded")


def user_seed(seed: int, user_id: str) -> int:
    """A worker's own seed in a task (where their gold items sit in their queue).

    >>> user_seed(1, "ann") == user_seed(1, "ann") != user_seed(1, "bob")
    True
    """
    return zlib.crc32(f"{seed}:{user_id}".encode())


# -- creating a task ----------------------------------------------------------------------------
def write_gold(db: Database, conn: sa.Connection, task_id: str, spec: TaskSpec, gold: Sequence[tuple[int, str]],
               plan: pd.DataFrame, t: float) -> None:
    """The task's gold items and each worker's gold assignments (role ``gold``).

    A qualification task gives every gold item to every assignee; any other task gives each
    worker about ``gold_rate`` of their queue (:func:`dltasks.domain.gold.gold_plan`).
    """
    if not gold:
        return
    conn.execute(sa.insert(S.gold_items), [{"task_id": task_id, "item_id": i, "answer": a} for i, a in gold])
    ids = [i for i, _ in gold]
    if spec.type == "qualification":
        pairs = [(i, u) for u in spec.assignee_ids for i in ids]
    else:
        counts = plan["user_id"].astype(object).value_counts() if len(plan) else pd.Series(dtype="int64")
        pairs = gold_plan({u: int(counts.get(u, 0)) for u in spec.assignee_ids}, ids, spec.gold_rate, spec.seed)
    db.insert_rows(conn, S.assignments, ("task_id", "item_id", "user_id", "role", "status", "updated_at"),
                   [(task_id, i, u, "gold", "pending", t) for i, u in pairs])


def checked_gold(spec: TaskSpec, gold: Any, dataset_labels: Sequence[str]) -> list[tuple[int, str]]:
    """The gold of a new task, checked against its options: known answers, a rate that needs them."""
    pairs = check_gold(gold, spec.annotation_type, spec.labels or list(dataset_labels))
    if spec.type == "qualification" and not pairs:
        raise ValidationError("a qualification task needs gold items", "gold", gold)
    if spec.gold_rate > 0 and not pairs:
        raise ValidationError("a gold_rate needs gold items", "gold", gold)
    if spec.type != "qualification" and pairs and not spec.gold_rate:
        raise ValidationError("gold items need a gold_rate above 0 (the share of each queue)", "gold_rate", 0.0)
    return pairs


# -- working ------------------------------------------------------------------------------------
def gold_answer(conn: sa.Connection, task_id: str, iid: int) -> str | None:
    """The known answer of the task's gold item ``iid``, or ``None`` when it is not one."""
    g = S.gold_items
    return conn.execute(sa.select(g.c.answer).where(g.c.task_id == task_id, g.c.item_id == iid)).scalar()


def submit_gold(conn: sa.Connection, rules: Rules, task_id: str, iid: int, uid: str, answer: list[Definition],
                known: str, replace: bool, seconds: float | None, t: float) -> tuple[str, list[int]]:
    """A worker's answer on a gold item, kept apart from the task's work.

    Returns the status a real item would show (a gold item looks like any other), and the
    items whose workers changed because the answer flagged the worker (their statuses must be
    derived again).
    """
    a, ga = S.assignments, S.gold_answers
    if not conn.execute(sa.select(a.c.status).where(a.c.task_id == task_id, a.c.item_id == iid, a.c.user_id == uid,
                                                    a.c.role == "gold")).first():
        raise PermissionDeniedError(f"item {iid} of task {task_id!r} is not assigned to {uid!r}")
    given = gold_answer_text(answer, rules.annotation_type)
    old = conn.execute(sa.select(ga.c.answer).where(ga.c.task_id == task_id, ga.c.item_id == iid,
                                                    ga.c.user_id == uid)).scalar()
    check_no_label_yet(old, replace, iid, uid)
    conn.execute(sa.delete(ga).where(ga.c.task_id == task_id, ga.c.item_id == iid, ga.c.user_id == uid))
    conn.execute(sa.insert(ga).values(task_id=task_id, item_id=iid, user_id=uid, answer=given,
                                      correct=given == known, seconds=seconds, at=t))
    conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.item_id == iid, a.c.user_id == uid,
                                    a.c.role == "gold").values(status="done", updated_at=t))
    record(conn, task_id, iid, uid, "gold", old, given, t)
    changed = []
    if rules.min_gold_accuracy is not None and uid not in rules.flagged:
        changed = flag_if_low(conn, rules, task_id, uid, iid, t)
    return _as_real_item(rules, given), changed


def retract_gold(conn: sa.Connection, rules: Rules, task_id: str, iid: int, uid: str, t: float) -> str:
    """Withdraw a worker's answer on a gold item (their gold assignment is pending again), answering
    as a retract on a real item does, refusals included: nothing tells a gold item apart."""
    a, ga = S.assignments, S.gold_answers
    key = (ga.c.task_id == task_id, ga.c.item_id == iid, ga.c.user_id == uid)
    old = conn.execute(sa.select(ga.c.answer).where(*key)).scalar()
    if old is None:
        raise NotFoundError(f"{uid!r} has no label on item {iid} in task {task_id!r}")
    conn.execute(sa.delete(ga).where(*key))
    conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.item_id == iid, a.c.user_id == uid,
                                    a.c.role == "gold").values(status="pending", updated_at=t))
    record(conn, task_id, iid, uid, "gold", old, None, t)
    return _as_real_item(rules, None)


def set_gold_status(conn: sa.Connection, task_id: str, item_ids: list[int], uid: str, stored: str, shown: str,
                    t: float) -> None:
    """Mark a worker's gold items with a status action (``stored``; history says ``shown``), as their
    real items are marked: a gold item not in their queue is refused as a real one would be."""
    a = S.assignments
    current = dict(conn.execute(sa.select(a.c.item_id, a.c.status).where(
        a.c.task_id == task_id, a.c.user_id == uid, a.c.role == "gold", a.c.item_id.in_(item_ids))).all())
    missing = next((i for i in item_ids if i not in current), None)
    if missing is not None:
        raise PermissionDeniedError(f"item {missing} of task {task_id!r} is not assigned to {uid!r}")
    conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.user_id == uid, a.c.role == "gold",
                                    a.c.item_id.in_(item_ids)).values(status=stored, updated_at=t))
    for iid in item_ids:
        record(conn, task_id, iid, uid, "gold", current[iid], shown, t)


def _as_real_item(rules: Rules, answer: str | None) -> str:
    """The status a real item would show with only this worker's ``answer`` (``None``: none yet)."""
    workers = (["done"] if answer is not None else ["pending"]) + ["pending"] * (rules.workers_per_input - 1)
    votes = {answer: 1} if answer is not None else {}
    agreed = None if rules.annotation_type == "class" else (answer is not None and rules.workers_per_input == 1)
    return derive_item_status(rules.review_strategy, rules.approval_threshold, workers, votes, None, agreed)


def _gold_counts(conn: sa.Connection, task_id: str, uid: str) -> tuple[int, int]:
    ga = S.gold_answers
    n, right = conn.execute(sa.select(sa.func.count(), sa.func.sum(sa.case((ga.c.correct, 1), else_=0))).where(
        ga.c.task_id == task_id, ga.c.user_id == uid)).one()
    return int(n or 0), int(right or 0)


def qualified(conn: sa.Connection, qualification_task_id: str, uid: str) -> bool:
    """Whether ``uid`` passed the qualification task (every gold item answered, enough of them right)."""
    t, g = S.tasks, S.gold_items
    mark = conn.execute(sa.select(t.c.pass_accuracy).where(t.c.id == qualification_task_id)).scalar()
    if mark is None:
        return False
    n_gold = conn.execute(sa.select(sa.func.count()).where(g.c.task_id == qualification_task_id)).scalar_one()
    answered, right = _gold_counts(conn, qualification_task_id, uid)
    return qualification_passed(int(n_gold), answered, right, float(mark))


def require_qualified(conn: sa.Connection, rules: Rules, uid: str) -> None:
    """``PermissionDeniedError`` unless the worker passed the task's qualification task (when it has one)."""
    if rules.qualification_task_id is not None and not qualified(conn, rules.qualification_task_id, uid):
        raise PermissionDeniedError(f"{uid!r} has not passed the qualification task "
                                    f"{rules.qualification_task_id!r} yet")


def flag_if_low(conn: sa.Connection, rules: Rules, task_id: str, uid: str, iid: int, t: float) -> list[int]:
    """Flag the worker when their gold accuracy is under the bar; hand their open items to the others.

    Returns the items whose workers changed (the caller derives their statuses again).
    """
    n, right = _gold_counts(conn, task_id, uid)
    if not should_flag(n, right, rules.min_gold_accuracy, rules.min_gold_n):
        return []
    m, a, ti = S.task_members, S.assignments, S.task_items
    conn.execute(sa.update(m).where(m.c.task_id == task_id, m.c.user_id == uid, m.c.role == "worker")
                 .values(flagged_at=t))
    record(conn, task_id, iid, uid, "flag", f"{right}/{n} gold right", "flagged", t)
    # their pending gold goes: they are measured enough
    conn.execute(sa.delete(a).where(a.c.task_id == task_id, a.c.user_id == uid, a.c.role == "gold",
                                    a.c.status == "pending"))
    theirs = conn.execute(sa.select(a.c.item_id, a.c.status, ti.c.status).join(
        ti, sa.and_(ti.c.task_id == a.c.task_id, ti.c.item_id == a.c.item_id)).where(
        a.c.task_id == task_id, a.c.user_id == uid, a.c.role == "worker")).all()
    # decided is decided: a decided item keeps its status and needs nobody else
    open_items = [(i, mine) for i, mine, item in theirs if item not in _DECIDED]
    pending = [i for i, mine in open_items if mine == "pending"]
    open_worked = [i for i, mine in open_items if mine != "pending"]
    conn.execute(sa.delete(a).where(a.c.task_id == task_id, a.c.user_id == uid, a.c.role == "worker",
                                    a.c.status == "pending"))
    now_flagged = dataclasses.replace(rules, flagged=rules.flagged | {uid})
    changed = sorted(set(pending + open_worked))
    _add_workers(conn, now_flagged, task_id, changed, "redistribute", uid, t)
    return changed


def _add_workers(conn: sa.Connection, rules: Rules, task_id: str, item_ids: list[int], action: str, before: str | None,
                 t: float) -> list[int]:
    """One more worker for each item (who has not seen it, not flagged), by weight and load; recorded."""
    if not item_ids:
        return []
    a, m = S.assignments, S.task_members
    members = conn.execute(sa.select(m.c.user_id, m.c.weight, m.c.flagged_at).where(
        m.c.task_id == task_id, m.c.role == "worker").order_by(m.c.position)).all()
    workers = [u for u, _, flagged in members if flagged is None and u not in rules.flagged]
    weights = {u: float(w if w is not None else 1.0) for u, w, _ in members}
    seen: dict[int, set[str]] = {i: set() for i in item_ids}
    for iid, uid in conn.execute(sa.select(a.c.item_id, a.c.user_id).where(
            a.c.task_id == task_id, a.c.role == "worker", a.c.item_id.in_(item_ids))):
        seen[iid].add(uid)
    load: dict[str, int] = dict(conn.execute(sa.select(a.c.user_id, sa.func.count()).where(
        a.c.task_id == task_id, a.c.role == "worker", a.c.status == "pending").group_by(a.c.user_id)).all())
    picks = pick_workers([(i, seen[i] | set(rules.flagged)) for i in item_ids], workers, weights, load)
    if picks:
        conn.execute(sa.insert(a), [{"task_id": task_id, "item_id": i, "user_id": u, "role": "worker",
                                     "status": "pending", "updated_at": t} for i, u in picks])
        conn.execute(sa.insert(S.history), [{"task_id": task_id, "item_id": i, "user_id": u, "action": action,
                                             "before": before, "after": u, "at": t} for i, u in picks])
    return [i for i, _ in picks]


def extend(conn: sa.Connection, rules: Rules, task_id: str, item_ids: list[int], t: float) -> set[int]:
    """Dynamic overlap: one more worker for each item whose answers are all in without consensus.

    Only items with fewer than ``max_workers`` workers (flagged ones not counted) get one;
    returns the items that did (they wait for consensus again).
    """
    if not rules.dynamic or not item_ids:
        return set()
    a = S.assignments
    counts: dict[int, int] = {i: 0 for i in item_ids}
    for iid, uid in conn.execute(sa.select(a.c.item_id, a.c.user_id).where(
            a.c.task_id == task_id, a.c.role == "worker", a.c.item_id.in_(item_ids))):
        if uid not in rules.flagged:
            counts[iid] += 1
    room = [i for i in item_ids if counts[i] < (rules.max_workers or 0)]
    return set(_add_workers(conn, rules, task_id, room, "extend", None, t))


# -- reading ------------------------------------------------------------------------------------
def queue_items(conn: sa.Connection, rules: Rules, task_id: str, uid: str, limit: int | None) -> list[int]:
    """The worker's pending items in serving order: their gold spread through their real items.

    A worker who must pass a qualification task first gets none of the real items yet; a
    flagged worker gets nothing.  ``order="uncertainty"`` serves real items lowest model
    margin first.
    """
    a = S.assignments
    if uid in rules.flagged:
        return []
    ti = S.task_items
    decided = sa.exists().where(ti.c.task_id == a.c.task_id, ti.c.item_id == a.c.item_id, ti.c.status.in_(_CLOSED))
    mine = (sa.select(a.c.item_id).where(a.c.task_id == task_id, a.c.user_id == uid, a.c.status == "pending",
                                         ~decided).order_by(a.c.item_id))
    real_allowed = rules.qualification_task_id is None or qualified(conn, rules.qualification_task_id, uid)
    if not rules.has_gold and rules.order == "item":
        if not real_allowed:
            return []
        q = mine.where(a.c.role == "worker")
        return [int(i) for i in conn.execute(q if limit is None else q.limit(limit)).scalars()]
    real = [int(i) for i in conn.execute(mine.where(a.c.role == "worker")).scalars()] if real_allowed else []
    gold = [int(i) for i in conn.execute(mine.where(a.c.role == "gold")).scalars()] if rules.has_gold else []
    if rules.order == "uncertainty" and real:
        real = _by_margin(conn, task_id, real)
    order = serving_order(real, gold, user_seed(rules.seed, uid))
    return order if limit is None else order[:limit]


def _by_margin(conn: sa.Connection, task_id: str, item_ids: list[int]) -> list[int]:
    """Items by their model prediction margin, lowest first (items without a prediction last, in order)."""
    from dltasks.domain.predictions import margins

    p = S.predictions
    rows = conn.execute(sa.select(p.c.item_id, p.c.label, p.c.score).where(p.c.task_id == task_id)).all()
    margin = margins(pd.DataFrame(rows, columns=["item_id", "label", "score"]))
    return sorted(item_ids, key=lambda i: (0, margin[i], i) if i in margin else (1, 0.0, i))


def gold_rows(conn: sa.Connection, task_id: str) -> pd.DataFrame:
    """Each gold answer: item_id, user_id, answer, gold, correct, seconds, at."""
    ga, g = S.gold_answers, S.gold_items
    q = (sa.select(ga.c.item_id, ga.c.user_id, ga.c.answer, g.c.answer.label("gold"), ga.c.correct, ga.c.seconds,
                   ga.c.at).join(g, sa.and_(g.c.task_id == ga.c.task_id, g.c.item_id == ga.c.item_id))
         .where(ga.c.task_id == task_id).order_by(ga.c.user_id, ga.c.item_id))
    df = records_frame(conn, q)
    df = df.astype({"item_id": "int64", "correct": "bool", "seconds": "float64", "at": "float64"})
    df["at"] = pd.to_datetime(df["at"], unit="s", utc=True)
    return df


def flagged_rows(conn: sa.Connection, task_id: str) -> pd.DataFrame:
    """The flagged workers: user_id, flagged_at."""
    m = S.task_members
    df = records_frame(conn, sa.select(m.c.user_id, m.c.flagged_at).where(
        m.c.task_id == task_id, m.c.role == "worker", m.c.flagged_at.is_not(None)).order_by(m.c.flagged_at))
    df["flagged_at"] = pd.to_datetime(df["flagged_at"].astype("float64"), unit="s", utc=True)
    return df


def qualification_rows(conn: sa.Connection, task_id: str, pass_accuracy: float) -> pd.DataFrame:
    """Per assignee of a qualification task: user_id, answered, correct, accuracy, passed."""
    g, m = S.gold_items, S.task_members
    n_gold = int(conn.execute(sa.select(sa.func.count()).where(g.c.task_id == task_id)).scalar_one())
    users = conn.execute(sa.select(m.c.user_id).where(m.c.task_id == task_id, m.c.role == "worker")
                         .order_by(m.c.position)).scalars().all()
    rows = []
    for uid in users:
        answered, right = _gold_counts(conn, task_id, uid)
        rows.append((uid, answered, right, right / n_gold if n_gold else 0.0,
                     qualification_passed(n_gold, answered, right, pass_accuracy)))
    df = pd.DataFrame(rows, columns=["user_id", "answered", "correct", "accuracy", "passed"])
    return df.astype({"answered": "int64", "correct": "int64", "accuracy": "float64", "passed": "bool"})
