"""Eight workers (processes) submit 1 000 labels each to one task at the same moment:
through the server (over SQLite and over PostgreSQL) and directly on PostgreSQL.  Every one
of the 8 000 labels must be stored, and no worker may see an error."""
from __future__ import annotations

import multiprocessing
from typing import Any

import pandas as pd
import pytest

import dltasks as dl
from server_fixtures import LiveServer, PgDatabases, pg_admin_url, submit_labels

N_WORKERS, N_ITEMS = 8, 1000
WORKERS = [f"worker{i}@example.com" for i in range(N_WORKERS)]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def make_task(store: Any) -> tuple[str, list[int]]:
    ds = store.datasets.create("concurrent", labels=["yes", "no"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:04d}.jpg" for i in range(N_ITEMS)]}))
    task = ds.tasks.create(task_name="everyone labels everything", assignee_ids=WORKERS, worker_strategy="full")
    return task.id, [int(i) for i in task.items_df()["item_id"]]


def run_workers(url: str, tokens: dict[str, str | None], task_id: str, items: list[int]) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(N_WORKERS), ctx.Queue()
    procs = [ctx.Process(target=submit_labels, args=(url, tokens[w], task_id, w, items, "yes" if i % 2 else "no",
                                                     barrier, results)) for i, w in enumerate(WORKERS)]
    for p in procs:
        p.start()
    out = [results.get(timeout=800) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return out


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
        task_id, items = make_task(server.store)
        tokens: dict[str, str | None] = {w: server.token(w) for w in WORKERS}
        results = run_workers(server.url, tokens, task_id, items)
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
        task_id, items = make_task(store)
        results = run_workers(url, {w: None for w in WORKERS}, task_id, items)
        check_all_stored(store, task_id, items, results)
        store.close()
    finally:
        dbs.drop_all()
