"""SIGKILL in the middle of creating a large task leaves the whole task or no trace of it.

A child process creates a task over 300,000 items with 3 workers per item (900,000
assignment rows in one transaction).  The test watches the store's WAL file: SQLite
spills the transaction's pages into it long before the commit, so once the WAL has grown
past a threshold the write is under way, and the test kills the child there.  It repeats
this at several thresholds (from just started to well into the insert), and for each
kill reopens the store and checks that it holds either the complete task or nothing of
it: no task row, no task_items, assignments, members or users rows, no orphans, a clean
integrity check.  The test asserts that the kills really landed mid-write (the WAL had
grown and no task had been committed); a control run without a kill gives the complete
task, checked by the same function.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dltasks as dl

pytestmark = pytest.mark.slow

N_ITEMS = 300_000
K = 3
WORKERS = [f"w{i}@example.com" for i in range(6)]
KILL_AT_MB = (1, 32, 128)  # the whole transaction writes about 200 MB of WAL
ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent("""
    import sys
    import dltasks as dl

    store = dl.connect(sys.argv[1])
    ds = store.datasets.get(name="big")
    print("creating", flush=True)
    ds.tasks.create(task_name="big task", assignee_ids=%(workers)r, workers_per_input=%(k)d, seed=1)
    print("created", flush=True)
""") % {"workers": WORKERS, "k": K}


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with one dataset of N_ITEMS items (WAL checkpointed and gone)."""
    path = tmp_path_factory.mktemp("crash") / "base.db"
    store = dl.connect(path)
    ds = store.datasets.create("big", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"img_{i:06d}.jpg" for i in range(N_ITEMS)]}))
    store.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    return path


def run_child(path: Path, kill_at_mb: float | None) -> dict[str, Any]:
    """Start the task creation; SIGKILL it once the WAL passes ``kill_at_mb`` (None: let it finish)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    wal = Path(f"{path}-wal")
    wal_bytes, most, killed = 0, 0, False
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            wal_bytes = wal.stat().st_size
        except FileNotFoundError:
            wal_bytes = 0
        most = max(most, wal_bytes)
        if kill_at_mb is not None and wal_bytes >= kill_at_mb * 2**20:
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    out, err = proc.communicate(timeout=120)
    return {"killed": killed, "wal_bytes": wal_bytes, "wal_most": most, "returncode": proc.returncode,
            "out": out, "err": err}


def task_state(path: Path) -> dict[str, int]:
    """Row counts after reopening the store; raise if the store holds part of a task."""
    store = dl.connect(path)  # reopening recovers the WAL: uncommitted frames are dropped
    store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        count = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("tasks", "task_items", "assignments", "task_members", "users", "items")}
        for table in ("task_items", "assignments", "task_members"):
            orphans = conn.execute(f"SELECT count(*) FROM {table} WHERE task_id NOT IN (SELECT id FROM tasks)")
            assert orphans.fetchone()[0] == 0, f"orphan {table} rows"
    finally:
        conn.close()
    assert count["items"] == N_ITEMS
    if count["tasks"] == 0:  # no trace
        assert count == {"tasks": 0, "task_items": 0, "assignments": 0, "task_members": 0, "users": 0,
                         "items": N_ITEMS}
    else:  # the whole task
        assert count == {"tasks": 1, "task_items": N_ITEMS, "assignments": N_ITEMS * K,
                         "task_members": len(WORKERS), "users": len(WORKERS), "items": N_ITEMS}
    return count


@pytest.mark.parametrize("kill_at_mb", KILL_AT_MB)
def test_sigkill_mid_creation_leaves_no_trace(base_store: Path, tmp_path: Path, kill_at_mb: float) -> None:
    path = tmp_path / "store.db"
    shutil.copy(base_store, path)
    run = run_child(path, kill_at_mb)
    assert run["killed"], f"the child finished before the WAL reached {kill_at_mb} MB: {run}"
    assert run["returncode"] == -signal.SIGKILL
    assert run["out"].split() == ["creating"]  # killed before create() returned
    assert run["wal_bytes"] >= kill_at_mb * 2**20  # the write was under way ...
    count = task_state(path)
    assert count["tasks"] == 0  # ... and nothing of it was committed: killed mid-write


def test_without_a_kill_the_whole_task_is_there(base_store: Path, tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    shutil.copy(base_store, path)
    run = run_child(path, None)
    assert run["returncode"] == 0, run["err"]
    assert run["wal_most"] >= max(KILL_AT_MB) * 2**20  # every kill threshold lies inside the write
    assert task_state(path)["tasks"] == 1
    store = dl.connect(path)
    task = store.tasks.list().tasks[0]
    assert task.name == "big task" and task.assignee_ids == WORKERS
    store.close()
