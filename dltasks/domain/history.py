"""A task's history replayed: the answers every worker stands by now, rebuilt from the actions alone.

Every work action is appended to the task's history in its own transaction (``task.history_df()``:
item_id, user_id, action, before, after, at).  A worker's answer changes only by ``submit``,
``replace`` (after: the new answer) and ``retract`` (after: nothing); reviews, corrections,
reopenings and statuses leave the workers' answers as they are.  So replaying the answer actions
in order gives the task's current answers: :func:`replay_answers` does, and a test holds it equal
to ``task.labels_df()`` on every backend (nothing is lost when a label is replaced).

Examples
--------
>>> import pandas as pd
>>> history = pd.DataFrame({"item_id": [1, 1, 1, 2], "user_id": ["ann", "bob", "ann", "ann"],
...                         "action": ["submit", "submit", "replace", "submit"],
...                         "before": [None, None, "cat", None], "after": ["cat", "dog", "dog", "cat"]})
>>> replay_answers(history, "class").values.tolist()
[[1, 'ann', 'dog'], [1, 'bob', 'dog'], [2, 'ann', 'cat']]
"""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from dltasks.domain.answers import answers_frame, stored_rows
from dltasks.domain.shapes import definition
from dltasks.errors import ValidationError

__all__ = ["ANSWER_ACTIONS", "replay_answers"]

#: The history actions that change a worker's answer.
ANSWER_ACTIONS = ("submit", "replace", "retract")


def replay_answers(history: pd.DataFrame, annotation_type: str) -> pd.DataFrame:
    """The answers that stand after replaying ``history`` (``task.history_df()``), in ``labels_df`` form.

    A class task gives item_id, worker, label; any other type the long answers frame.  Rows are
    by item, then worker (a worker's shapes in the order given).
    """
    missing = [c for c in ("item_id", "user_id", "action", "after") if c not in history.columns]
    if missing:
        raise ValidationError(f"the history needs the column {missing[0]!r}", "history", list(history.columns))
    current: dict[tuple[Any, str], Any] = {}
    for item_id, user_id, action, after in history[["item_id", "user_id", "action", "after"]].itertuples(
            index=False):
        if action not in ANSWER_ACTIONS:
            continue
        if action == "retract":
            current.pop((item_id, user_id), None)
        else:
            current[(item_id, user_id)] = after
    keys = sorted(current)
    if annotation_type == "class":
        return pd.DataFrame({"item_id": pd.Series([k[0] for k in keys], dtype="int64"),
                             "worker": pd.Series([k[1] for k in keys], dtype=object),
                             "label": pd.Series([current[k] for k in keys], dtype=object)})
    rows: list[tuple[Any, str, str, str, str | None, str | None]] = []
    for item_id, worker in keys:
        answer = [definition(d["kind"], d.get("label"), d.get("geo"), d.get("text"))
                  for d in json.loads(current[(item_id, worker)])]
        rows += [(item_id, worker, *row) for row in stored_rows(answer)]
    return answers_frame(*zip(*rows)) if rows else answers_frame([], [], [], [], [], [])
