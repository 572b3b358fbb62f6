"""A model's predictions on a task's items, in SQL: stored apart from the workers' labels, never votes.

>>> import pandas as pd
>>> from dltasks.backends.sql import SqlBackend
>>> from dltasks.domain.items import item_rows
>>> from dltasks.domain.predictions import prediction_rows
>>> from dltasks.domain.task_options import build_spec
>>> backend = SqlBackend("sqlite://")
>>> ds = backend.create_dataset("d", ["cat", "dog"])
>>> _ = backend.import_items(ds.id, item_rows(pd.DataFrame({"name": ["a.jpg", "b.jpg"]})))
>>> task = backend.create_task(ds.id, build_spec(task_name="t", assignee_ids=["ann"], labels=["cat", "dog"]))
>>> rows = prediction_rows(pd.DataFrame({"item_id": [1, 2], "label": ["cat", "dog"], "score": [0.9, 0.6]}))
>>> backend.import_predictions(task.id, rows)
2
>>> backend.predictions_frame(task.id)[["item_id", "label", "score"]].values.tolist()
[[1, 'cat', 0.9], [2, 'dog', 0.6]]
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from dltasks.backends.sql import schema as S
from dltasks.backends.sql.common import SqlPart, found
from dltasks.backends.sql.frames import records_frame
from dltasks.backends.sql.rules import rules as read_rules
from dltasks.errors import ValidationError
from dltasks.timeutil import now

__all__ = ["PredictionsSql"]


class PredictionsSql(SqlPart):
    """The prediction operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    def import_predictions(self, task_id: str, rows: list[list[Any]]) -> int:
        """Store a model's predictions on the task's items and gold items (a model's earlier scores for those
        items are replaced)."""
        p = S.predictions
        with self.db.atomic() as conn:
            labels = read_rules(conn, task_id).labels
            unknown = next((r for r in rows if labels and r[2] not in labels), None)
            if unknown is not None:
                raise ValidationError(f"is not one of the task's labels {labels}", "label", unknown[2])
            ids = sorted({int(r[0]) for r in rows})
            # a task's items and its gold items (a gold item without a prediction would stand out)
            inside = set(found(conn, S.task_items.c.item_id, ids, S.task_items.c.task_id == task_id))
            inside |= set(found(conn, S.gold_items.c.item_id, ids, S.gold_items.c.task_id == task_id))
            outside = [i for i in ids if i not in inside]
            if outside:
                raise ValidationError(f"item {outside[0]} is not in task {task_id!r}", "item_id", outside[0])
            t = now()
            for model in sorted({r[1] for r in rows}):
                mine = sorted({int(r[0]) for r in rows if r[1] == model})
                for start in range(0, len(mine), 10_000):
                    conn.execute(sa.delete(p).where(p.c.task_id == task_id, p.c.model == model,
                                                    p.c.item_id.in_(mine[start:start + 10_000])))
            self.db.insert_rows(conn, p, ("task_id", "item_id", "model", "label", "score", "created_at"),
                                [(task_id, int(i), m, lbl, float(sc), t) for i, m, lbl, sc in rows])
            return len(rows)

    def predictions_frame(self, task_id: str) -> pd.DataFrame:
        """The task's predictions: item_id, model, label, score (by item, model, best score first)."""
        p = S.predictions
        with self.db.read() as conn:
            read_rules(conn, task_id)
            df = records_frame(conn, sa.select(p.c.item_id, p.c.model, p.c.label, p.c.score)
                               .where(p.c.task_id == task_id).order_by(p.c.item_id, p.c.model, p.c.score.desc(),
                                                                        p.c.label))
        return df.astype({"item_id": "int64", "score": "float64"})
