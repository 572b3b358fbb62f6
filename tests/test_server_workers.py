"""``dltasks serve --workers 4`` on PostgreSQL: four server processes on one port share the store.

Sixteen workers (client processes, each through the real ``RemoteStore``) submit 500 labels
each to one FULL task at the same moment, all in the same item order so that they meet on
every item.  Every one of the 8 000 labels must be stored once, no worker may see an error,
every item's status must be right, the history must hold one ``submit`` per label, and
several server processes must have done the work.  (On SQLite the command refuses more than
one process: ``tests/test_server_cli.py``.)
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

import dltasks as dl
from server_fixtures import PgDatabases, full_task, pg_admin_url, run_submitters
from test_server_cli import free_port

N_PROCESSES, N_WORKERS, N_ITEMS = 4, 16, 500
WORKERS = [f"worker{i:02d}@example.com" for i in range(N_WORKERS)]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_processes(parent: int) -> list[int]:
    """The processes uvicorn started to serve (its spawned children)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


class Served:
    """``dltasks serve --workers N`` in a subprocess, its log in a file."""

    def __init__(self, store_url: str, workers: int, log: Path) -> None:
        self.port, self.log = free_port(), log
        self.url = f"http://127.0.0.1:{self.port}"
        with open(log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", store_url,
                                          "--port", str(self.port), "--workers", str(workers)],
                                         stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while self.text().count("Application startup complete") < workers:
            assert self.proc.poll() is None and time.monotonic() < deadline, self.text()[-3000:]
            time.sleep(0.2)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)


@pytest.fixture
def pg_store_url() -> Iterator[str]:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need DLTASKS_PG_URL (source .ci/setup-postgres.sh)")
    dbs = PgDatabases(admin)
    yield dbs.new()
    dbs.drop_all()


def test_four_processes_on_postgres_store_every_label(pg_store_url, tmp_path):
    store = dl.connect(pg_store_url)
    task_id, items = full_task(store, "many processes", N_ITEMS, WORKERS)
    tokens = {w: store.create_token(w) for w in WORKERS}
    server = Served(pg_store_url, N_PROCESSES, tmp_path / "server.log")
    try:
        pids = server_processes(server.proc.pid)
        assert len(pids) == N_PROCESSES
        cpu_before = [cpu_seconds(p) for p in pids]
        results = run_submitters(server.url, tokens, task_id, items, WORKERS, timeout=500)
        cpu_used = [cpu_seconds(p) - c for p, c in zip(pids, cpu_before)]
        assert server_processes(server.proc.pid) == pids  # none died and was replaced
    finally:
        server.stop()
    assert sorted(r[0] for r in results) == WORKERS
    assert [(r[1], r[2]) for r in results] == [(N_ITEMS, [])] * N_WORKERS  # no worker saw an error
    # several processes wrote at once: 8 000 submits cost tens of CPU seconds, an idle process a fraction of
    # one.  (The processes share one listening socket: whichever wakes first takes a burst of connections, and a
    # kept-alive connection stays with its process, so the share is uneven, e.g. 51, 10, 6 and 6 s.)
    assert sum(c > 1.0 for c in cpu_used) >= 2, cpu_used
    task = store.tasks.get(task_id)
    labels = task.labels_df()
    assert len(labels) == N_WORKERS * N_ITEMS
    assert not labels.duplicated(["item_id", "worker"]).any()
    assert labels.groupby("worker")["item_id"].apply(set).to_dict() == {w: set(items) for w in WORKERS}
    assert task.status_counts().to_dict() == {"completed": N_ITEMS}  # no status lost to a race
    assignments = task.assignments_df()
    assert len(assignments) == N_WORKERS * N_ITEMS and (assignments["status"] == "done").all()
    history = task.history()
    assert history["action"].value_counts().to_dict() == {"submit": N_WORKERS * N_ITEMS}
    assert not history.duplicated(["item_id", "user_id"]).any()
    assert " died" not in server.text()  # uvicorn replaced no process
    store.close()

