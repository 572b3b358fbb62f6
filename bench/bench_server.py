"""Throughput and latency of ``dltasks serve`` with 8 concurrent clients (loopback only).

For each store (SQLite file; PostgreSQL when ``DLTASKS_PG_URL`` is set) a real server runs in
a subprocess on a free 127.0.0.1 port and 8 client processes, each with its own
``requests`` session and token, hit it at the same moment:

* ``get``    — ``GET /v2/tasks/{id}`` (Clarifai shape)
* ``list``   — ``GET /v2/tasks?per_page=20``
* ``submit`` — ``POST /api/v1/tasks/{id}/submit``: each client labels its own items

Prints requests per second and p50/p99 latency per operation.  Bounded: ``--requests`` per
client per operation (default 200), so a run takes well under a minute per store.

    python bench/bench_server.py [--clients 8] [--requests 200]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from typing import Any

import numpy as np
import pandas as pd
import requests

import dltasks as dl

WORKERS = 8
N_TASKS = 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(store_url: str, clients: int, per_client: int) -> dict[str, Any]:
    """A dataset, N_TASKS small tasks for list/get, and one FULL task for submissions."""
    store = dl.connect(store_url)
    ds = store.datasets.create("bench", labels=["yes", "no"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:05d}.jpg" for i in range(per_client)]}))
    workers = [f"w{i}@bench.io" for i in range(clients)]
    tasks = [ds.tasks.create(task_name=f"t{i}", assignee_ids=workers[:2], seed=i).id for i in range(N_TASKS)]
    submit = ds.tasks.create(task_name="submit", assignee_ids=workers, worker_strategy="full")
    items = [int(i) for i in submit.items_df()["item_id"]]
    tokens = [store.create_token(w) for w in workers]
    store.close()
    return {"tasks": tasks, "submit_task": submit.id, "items": items, "workers": workers, "tokens": tokens}


def client(url: str, token: str, op: str, plan: dict[str, Any], worker: str, n: int, barrier: Any,
           out: Any) -> None:
    """One client process: wait for the others, run ``n`` requests of ``op``, report latencies."""
    s = requests.Session()
    s.headers["Authorization"] = f"Key {token}"
    rng = np.random.default_rng(abs(hash(worker)) % 2**32)
    lat, errors = [], 0
    barrier.wait(timeout=120)
    for i in range(n):
        t0 = time.perf_counter()
        if op == "get":
            r = s.get(f"{url}/v2/tasks/{plan['tasks'][int(rng.integers(len(plan['tasks'])))]}", timeout=60)
        elif op == "list":
            r = s.get(f"{url}/v2/tasks", params={"per_page": 20}, timeout=60)
        else:
            body = {"item_id": plan["items"][i], "user_id": worker, "label": "yes"}
            r = s.post(f"{url}/api/v1/tasks/{plan['submit_task']}/submit", json=body, timeout=60)
        lat.append(time.perf_counter() - t0)
        errors += r.status_code != 200
    out.put((lat, errors))


def run_op(url: str, op: str, plan: dict[str, Any], clients: int, n: int) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=client, args=(url, plan["tokens"][c], op, plan, plan["workers"][c], n, barrier, out))
             for c in range(clients)]
    for p in procs:
        p.start()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    lat = np.concatenate([np.asarray(r[0]) for r in results]) * 1000
    return {"operation": op, "clients": clients, "requests": len(lat), "errors": sum(r[1] for r in results),
            "req/s": round(len(lat) / wall, 1), "p50 ms": round(float(np.percentile(lat, 50)), 1),
            "p99 ms": round(float(np.percentile(lat, 99)), 1)}


def serve(store_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", store_url, "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/openapi.json", timeout=2)
            return proc, url
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def bench_store(name: str, store_url: str, clients: int, n: int) -> list[dict[str, Any]]:
    plan = build(store_url, clients, n)
    proc, url = serve(store_url)
    try:
        rows = [run_op(url, op, plan, clients, n) for op in ("get", "list", "submit")]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for row in rows:
        row["store"] = name
    return rows


def pg_database(admin_url: str) -> tuple[str, Any]:
    import psycopg

    name = "dltasks_bench_" + uuid.uuid4().hex[:8]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin_url.rpartition("/")[0] + "/" + name, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=WORKERS)
    parser.add_argument("--requests", type=int, default=150, help="per client and operation")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_store("sqlite", os.path.join(tmp, "bench.db"), args.clients, args.requests)
    pg = os.environ.get("DLTASKS_PG_URL")
    if pg:
        url, drop = pg_database(pg)
        try:
            rows += bench_store("postgresql", url, args.clients, args.requests)
        finally:
            drop()
    else:
        print("(PostgreSQL skipped: set DLTASKS_PG_URL, e.g. source .ci/setup-postgres.sh)")
    table = pd.DataFrame(rows)[["store", "operation", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms"]]
    print(f"dltasks serve, {args.clients} concurrent clients, {os.cpu_count()} CPUs (server and clients share them)")
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    return 1 if table["errors"].any() else 0


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
