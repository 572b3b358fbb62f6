"""What a work action reads first, inside its transaction: the task's current rules; and the history it appends to.

>>> from dltasks.backends.sql import SqlBackend
>>> backend = SqlBackend("sqlite://")
>>> with backend.db.read() as conn:
...     rules(conn, "nope")
Traceback (most recent call last):
dltasks.errors.NotFoundError: no task with id 'nope'
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from dltasks import jsonutil
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.prepared import run
from dltasks.errors import NotFoundError

__all__ = ["Rules", "rules", "record", "flagged_workers"]


@dataclass(frozen=True)
class Rules:
    """The options of a task that its work actions obey, read inside their transaction."""

    labels: list[str]
    review_strategy: str
    approval_threshold: int | None
    workers_per_input: int
    actions: list[dict[str, str]]
    pool: bool
    annotation_type: str = "class"
    iou_threshold: float = 0.5
    unmatched: str = "outvoted"
    type: str = "annotation"
    worker_strategy: str = "partitioned"
    max_workers: int | None = None
    gold_rate: float = 0.0
    min_gold_accuracy: float | None = None
    min_gold_n: int = 3
    qualification_task_id: str | None = None
    pass_accuracy: float | None = None
    order: str = "item"
    seed: int = 0
    #: Workers flagged by their gold accuracy (read only when the task flags anybody).
    flagged: frozenset[str] = field(default_factory=frozenset)

    @property
    def has_gold(self) -> bool:
        """Whether the task may have gold items (a gold rate, or a qualification task)."""
        return self.gold_rate > 0 or self.type == "qualification"

    @property
    def dynamic(self) -> bool:
        """Whether an item without consensus gets one more worker (up to ``max_workers``)."""
        return self.worker_strategy == "dynamic" and self.max_workers is not None


def flagged_workers(conn: sa.Connection, task_id: str) -> frozenset[str]:
    """The task's workers flagged by their gold accuracy."""
    m = S.task_members
    return frozenset(conn.execute(sa.select(m.c.user_id).where(m.c.task_id == task_id, m.c.role == "worker",
                                                               m.c.flagged_at.is_not(None))).scalars())


_t, _m = S.tasks, S.task_members
#: Built once (every work action reads it first).
_RULES = sa.select(_t.c.labels, _t.c.review_strategy, _t.c.approval_threshold, _t.c.workers_per_input,
                   _t.c.available_actions,
                   sa.exists().where(_m.c.task_id == _t.c.id, _m.c.role == "worker").label("has_workers"),
                   _t.c.annotation_type, _t.c.iou_threshold, _t.c.unmatched, _t.c.type, _t.c.worker_strategy,
                   _t.c.max_workers, _t.c.gold_rate, _t.c.min_gold_accuracy, _t.c.min_gold_n,
                   _t.c.qualification_task_id, _t.c.pass_accuracy, _t.c.queue_order, _t.c.seed
                   ).where(_t.c.id == sa.bindparam("task_id"))
_HISTORY = sa.insert(S.history)


def rules(conn: sa.Connection, task_id: str) -> Rules:
    """The task's current work options (one read; two when it flags workers); ``NotFoundError`` if there is none."""
    row = run(conn, _RULES, {"task_id": task_id}).first()
    if row is None:
        raise NotFoundError(f"no task with id {task_id!r}")
    return Rules(labels=jsonutil.loads(row[0], []), review_strategy=row[1], approval_threshold=row[2],
                 workers_per_input=row[3], actions=jsonutil.loads(row[4], []), pool=not row[5],
                 annotation_type=row[6], iou_threshold=row[7], unmatched=row[8], type=row[9], worker_strategy=row[10],
                 max_workers=row[11], gold_rate=row[12], min_gold_accuracy=row[13], min_gold_n=row[14],
                 qualification_task_id=row[15], pass_accuracy=row[16], order=row[17], seed=int(row[18] or 0),
                 flagged=flagged_workers(conn, task_id) if row[13] is not None else frozenset())


def record(conn: sa.Connection, task_id: str, iid: int, uid: str, action: str, before: str | None,
           after: str | None, t: float) -> None:
    """Append one work action to the task's history (in the action's transaction)."""
    run(conn, _HISTORY, {"task_id": task_id, "item_id": iid, "user_id": uid, "action": action, "before": before,
                            "after": after, "at": t})
