"""The submit's statements straight on SQLite's cursor (``dltasks.backends.sql.prepared``) read and
write exactly what SQLAlchemy would.

A submit is the action a labeller repeats thousands of times: if the short way stored a value
differently (an integer where SQLAlchemy stores a float, a boolean read back as 0), the labels
table would slowly fill with answers that compare wrong.  Each statement is run both ways on
the same store and the results compared; then a submit is read back from the file.
"""
from __future__ import annotations

import sqlite3
from typing import Any

import pandas as pd
import pytest

import dltasks as dl
from dltasks.backends.sql import prepared, rules, work
from dltasks.backends.sql.prepared import is_direct, run

WORKERS = ["ann@example.com", "bob@example.com"]


@pytest.fixture
def store(tmp_path: Any) -> Any:
    store = dl.connect(str(tmp_path / "p.db"))
    ds = store.datasets.create("photos", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
    task = ds.tasks.create(task_name="t", assignee_ids=WORKERS, worker_strategy="full")
    store.task = task
    yield store
    store.close()


def _reads(task_id: str, item_id: int) -> list[tuple[Any, dict[str, Any]]]:
    one = {"task_id": task_id, "iid": item_id}
    return [(rules._RULES, {"task_id": task_id}),
            (work._ITEM_STATUS, {"task_id": task_id, "item_id": item_id}),
            (work._OLD_LABEL, {"task_id": task_id, "item_id": item_id, "user_id": WORKERS[0]}),
            (work._ITEM_WORKERS, {"task_id": task_id, "item_id": item_id}),
            *[(statement, one) for statement in work._STATUS_READS["one"]]]


def test_each_read_of_a_submit_gives_what_sqlalchemy_gives(store):
    task = store.task
    item = int(task.items_df()["item_id"].iloc[0])
    task.submit(item, WORKERS[0], "cat", seconds=2.5)
    db = store.backend.db
    with db.read() as conn:
        for statement, params in _reads(task.id, item):
            assert is_direct(conn, statement, params), statement
            direct = [tuple(row) for row in run(conn, statement, params).all()]
            through = [tuple(row) for row in conn.execute(statement, params).all()]
            assert direct == through and [list(map(type, r)) for r in direct] == \
                [list(map(type, r)) for r in through], statement
        # the task has workers: the EXISTS column reads back as True (a bool), as through SQLAlchemy
        assert run(conn, rules._RULES, {"task_id": task.id}).first()[5] is True


def test_each_write_of_a_submit_runs_direct_on_sqlite(store):
    params = {"author": "a", "created_at": 1.0, "geo": None, "item_id": 1, "kind": "class", "label": "cat",
              "seconds": None, "task_id": "t", "text": None}
    with store.backend.db.read() as conn:
        for statement, p in [(work._INSERT_ANSWER, params),
                             (work._MARK_DONE, {"b_task": "t", "b_item": 1, "b_user": "a", "at": 1.0}),
                             (work._DROP_REJECTION, {"task_id": "t", "item_id": 1}),
                             (work._DELETE_ANSWER, {"task_id": "t", "item_id": 1, "user_id": "a"}),
                             (work._SET_STATUS, {"b_task": "t", "i": 1, "s": "done", "at": 1.0})]:
            assert is_direct(conn, statement, p), statement


def test_a_submit_stores_what_sqlalchemy_would(store, tmp_path):
    task = store.task
    item = int(task.items_df()["item_id"].iloc[0])
    assert task.submit(item, WORKERS[0], "cat", seconds=3) == "pending"  # one of two answers in
    assert task.submit(item, WORKERS[1], "cat") == "completed"
    with sqlite3.connect(tmp_path / "p.db") as conn:
        rows = conn.execute("SELECT author, label, typeof(seconds), seconds, typeof(created_at) FROM annotations "
                            "ORDER BY author").fetchall()
        assert rows == [(WORKERS[0], "cat", "real", 3.0, "real"), (WORKERS[1], "cat", "null", None, "real")]
        assert conn.execute("SELECT status, typeof(updated_at) FROM assignments WHERE item_id = ? ORDER BY user_id",
                            (item,)).fetchall() == [("done", "real"), ("done", "real")]
        assert conn.execute("SELECT status FROM task_items WHERE item_id = ?", (item,)).fetchone() == ("completed",)
        assert [r[0] for r in conn.execute("SELECT action FROM history ORDER BY id")] == ["submit", "submit"]
    labels = task.labels_df().sort_values("worker")
    assert labels["label"].tolist() == ["cat", "cat"] and labels["seconds"].fillna(-1).tolist() == [3.0, -1]


def test_a_statement_sqlalchemy_must_shape_goes_through_sqlalchemy(store):
    expanding = work._STATUS_READS["ids"][2]
    with store.backend.db.read() as conn:
        assert not is_direct(conn, expanding, {"task_id": store.task.id, "ids": [1, 2]})
        found = run(conn, expanding, {"task_id": store.task.id, "ids": [1, 2]}).all()
    assert sorted(status for _, status in found) == ["pending", "pending"]
    assert prepared.Rows([(1,), (2,)], 2).scalars().all() == [1, 2]
