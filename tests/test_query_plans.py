"""SQLite's planner keeps the statistics it needs: one item's work is read by its key, not by a scan.

Without statistics SQLite reads an item's assignments through the worker-queue index (a scan of
the whole task: 115 ms per submit on a 100k-item task); a bulk write or opening a store without
them runs a sampled ANALYZE.
"""
from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

import dltasks as dl

ONE_ITEMS_WORK = "SELECT role, status FROM assignments WHERE task_id = 'x' AND item_id = 5"


def plan(path: Path) -> str:
    """The plan a fresh connection to the store file makes (it loads the statistics there are)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return " ".join(str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN " + ONE_ITEMS_WORK))


def big_task(store: dl.Store) -> None:
    ds = store.datasets.create("many", labels=["a", "b"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.png" for i in range(3000)]}))
    ds.tasks.create("t", assignee_ids=["ann", "bob", "cy"], workers_per_input=3)


def test_after_a_big_task_an_items_work_is_read_by_its_key(tmp_path: Path) -> None:
    store = dl.connect(tmp_path / "s.db")
    big_task(store)
    assert "task_id=? AND item_id=?" in plan(tmp_path / "s.db")


def test_a_store_without_statistics_gets_them_when_opened(tmp_path: Path) -> None:
    store = dl.connect(tmp_path / "s.db")
    big_task(store)
    store.close()
    with contextlib.closing(sqlite3.connect(tmp_path / "s.db")) as conn:
        conn.execute("DROP TABLE sqlite_stat1")
        conn.commit()
    assert "task_id=? AND item_id=?" not in plan(tmp_path / "s.db")   # the scan the statistics prevent
    reopened = dl.connect(tmp_path / "s.db")
    assert "task_id=? AND item_id=?" in plan(tmp_path / "s.db")
    with reopened.backend.db.read() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'assignments'")).scalar() >= 1


def test_status_counts_read_the_status_index_alone(tmp_path: Path) -> None:
    store = dl.connect(tmp_path / "s.db")
    big_task(store)
    with contextlib.closing(sqlite3.connect(tmp_path / "s.db")) as conn:
        plan = conn.execute("EXPLAIN QUERY PLAN SELECT status, count(*) FROM task_items WHERE task_id = 'x' "
                            "GROUP BY status").fetchall()
    assert "COVERING INDEX ix_task_items_status" in plan[0][-1] and len(plan) == 1   # no table rows, no sort
