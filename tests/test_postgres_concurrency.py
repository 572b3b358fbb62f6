"""Eight workers (processes) submit 1 000 labels each to one task at the same moment:
through the server (over SQLite and over PostgreSQL) and directly on PostgreSQL.  Every one
of the 8 000 labels must be stored, and no worker may see an error."""
from __future__ import annotations

from typing import Any

import pytest

import dltasks as dl
from server_fixtures import LiveServer, PgDatabases, full_task, pg_admin_url, run_submitters

N_WORKERS, N_ITEMS = 8, 1000
WORKERS = [f"worker{i}@example.com" for i in range(N_WORKERS)]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def check_all_stored(store: Any, task_id: str, items: list[int], results: list[Any]) -> None:
    assert sorted(r[0] for r in results) == sorted(WORKERS)
    assert [(r[1], r[2]) for r in results] == [(N_ITEMS, [])] * N_WORKERS  # no worker saw an error
    task = store.tasks.get(task_id)
    labels = task.labels_df()
    assert len(labels) == N_WORKERS * N_ITEMS
    assert not labels.duplicated(["item_id", "worker"]).any()
    assert set(labels["item_id"]) == set(items)
    assignments = task.assignments_df()
    assert (assignments["status"] == "done").all() and len(assignments) == N_WORKERS * N_ITEMS
    assert task.status_counts().to_dict() == {"completed": N_ITEMS}  # no status lost to a race


def _pg_url() -> str:
    admin = pg_admin_url()
    if admin is None:
        pytest.skip("PostgreSQL tests need DLTASKS_PG_URL (source .ci/setup-postgres.sh)")
    return admin


@pytest.mark.parametrize("store_kind", ["sqlite", "postgres"])
def test_eight_workers_through_the_server(store_kind, tmp_path):
    dbs = PgDatabases(_pg_url()) if store_kind == "postgres" else None
    server = LiveServer(dbs.new() if dbs else str(tmp_path / "server.db"))
    try:
        task_id, items = full_task(server.store, "concurrent", N_ITEMS, WORKERS)
        tokens: dict[str, str | None] = {w: server.token(w) for w in WORKERS}
        results = run_submitters(server.url, tokens, task_id, items, WORKERS, timeout=800)
        check_all_stored(server.store, task_id, items, results)
    finally:
        server.stop()
        if dbs:
            dbs.drop_all()


def test_eight_workers_directly_on_postgres():
    dbs = PgDatabases(_pg_url())
    url = dbs.new()
    try:
        store = dl.connect(url)
        task_id, items = full_task(store, "concurrent", N_ITEMS, WORKERS)
        results = run_submitters(url, {w: None for w in WORKERS}, task_id, items, WORKERS, timeout=800)
        check_all_stored(store, task_id, items, results)
        store.close()
    finally:
        dbs.drop_all()
