"""Submit throughput of ``dltasks serve --workers N``: 1, 2 and 4 server processes on one port.

For each store and process count a fresh store gets one FULL task (``--requests`` items, every
client a worker of every item), a real ``dltasks serve --workers N`` starts on a free 127.0.0.1
port, and ``--clients`` client processes (each its own ``requests`` session and token) submit
one label per item at the same moment, each starting at its own offset in the items so that
they meet on an item now and then, not all the time.  Afterwards the store must hold exactly
one label per request (none lost).

Prints submits per second and p50 / p99 latency per configuration, with the ratio to one
process of the same store.  PostgreSQL (``DLTASKS_PG_URL``): 1, 2 and 4 processes; SQLite:
1 and 2, to show what a second process costs there (``dltasks serve`` refuses it; the bench
starts such a server by hand, through the same app factory).  The server and the clients share
this machine's CPUs, so a process count above the cores helps only while processes wait on the
database, and the figures are for this machine (see the header line).

    python bench/bench_server_processes.py [--clients 16] [--requests 200] [--processes 1,2,4]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd
import requests

import dltasks as dl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_server import _has_tabulate, free_port, pg_database  # noqa: E402  (a sibling bench)

CLIENTS = 16


def build(store_url: str, clients: int, per_client: int) -> dict[str, Any]:
    """One FULL task of ``per_client`` items with ``clients`` workers, and a token per worker."""
    store = dl.connect(store_url)
    ds = store.datasets.create("bench", labels=["yes", "no"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:05d}.jpg" for i in range(per_client)]}))
    workers = [f"w{i:02d}@bench.io" for i in range(clients)]
    task = ds.tasks.create(task_name="submit", assignee_ids=workers, worker_strategy="full")
    items = [int(i) for i in task.items_df()["item_id"]]
    tokens = [store.create_token(w) for w in workers]
    store.close()
    return {"task": task.id, "items": items, "workers": workers, "tokens": tokens}


def client(url: str, token: str, plan: dict[str, Any], c: int, barrier: Any, out: Any) -> None:
    """One client process: wait for the others, submit a label to every item, report latencies."""
    s = requests.Session()
    s.headers["Authorization"] = f"Key {token}"
    items, worker = plan["items"], plan["workers"][c]
    start = c * len(items) // len(plan["workers"])
    lat, errors = [], []
    barrier.wait(timeout=300)
    for i in range(len(items)):
        body = {"item_id": items[(start + i) % len(items)], "user_id": worker, "label": "yes" if c % 2 else "no"}
        t0 = time.perf_counter()
        r = s.post(f"{url}/api/v1/tasks/{plan['task']}/submit", json=body, timeout=120)
        lat.append(time.perf_counter() - t0)
        if r.status_code != 200:
            errors.append(f"{r.status_code} {r.text[:200]}")
    out.put((lat, errors))


def start_server(command: list[str], processes: int, log_path: str, env: dict[str, str] | None = None,
                 timeout: float = 180) -> subprocess.Popen[bytes]:
    """Start a server command logging to ``log_path``; return once ``processes`` processes started up."""
    log = open(log_path, "wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            started = f.read().count("Application startup complete")
        if started >= processes:
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        raise RuntimeError(f"the server did not start:\n{f.read()[-3000:]}")


def serve(store_url: str, processes: int, log_path: str) -> tuple[subprocess.Popen[bytes], str]:
    """``dltasks serve --workers N`` (on SQLite with N > 1: uvicorn with the same factory and settings)."""
    port = free_port()
    if processes > 1 and not store_url.startswith(("postgresql://", "postgres://")):
        from dltasks.server.app import MAX_BODY_ENV, STORE_ENV

        code = ("import uvicorn; uvicorn.run('dltasks.server.app:app_from_env', factory=True, "
                f"workers={processes}, host='127.0.0.1', port={port}, timeout_keep_alive=30, "
                "http='dltasks.server.protocol:DeadlineH11Protocol', timeout_worker_healthcheck=60)")
        env = {**os.environ, STORE_ENV: store_url, MAX_BODY_ENV: str(32 << 20)}
        proc = start_server([sys.executable, "-c", code], processes, log_path, env)
    else:
        proc = start_server([sys.executable, "-m", "dltasks.cli", "serve", "--store", store_url, "--port", str(port),
                             "--workers", str(processes)], processes, log_path)
    return proc, f"http://127.0.0.1:{port}"


def run(store_url: str, processes: int, clients: int, n: int, log_path: str) -> dict[str, Any]:
    """Submit ``clients`` × ``n`` labels to a fresh task through ``processes`` server processes."""
    plan = build(store_url, clients, n)
    proc, url = serve(store_url, processes, log_path)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(clients + 1), ctx.Queue()
    procs = [ctx.Process(target=client, args=(url, plan["tokens"][c], plan, c, barrier, out)) for c in range(clients)]
    try:
        for p in procs:
            p.start()
        barrier.wait(timeout=300)
        start = time.perf_counter()
        results = [out.get(timeout=1200) for _ in procs]
        wall = time.perf_counter() - start
        for p in procs:
            p.join()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    store = dl.connect(store_url)
    stored = len(store.tasks.get(plan["task"]).labels_df())
    store.close()
    lat = np.concatenate([np.asarray(r[0]) for r in results]) * 1000
    errors = [e for r in results for e in r[1]]
    if errors:
        print(f"  {len(errors)} errors, e.g. {errors[0]}")
    with open(log_path, encoding="utf-8", errors="replace") as f:
        died = len(re.findall(r"Child process \[\d+\] died", f.read()))
    return {"processes": processes, "clients": clients, "requests": len(lat), "errors": len(errors),
            "stored": stored, "lost": clients * n - len(errors) - stored, "restarts": died,
            "req/s": round(len(lat) / wall, 1), "p50 ms": round(float(np.percentile(lat, 50)), 1),
            "p99 ms": round(float(np.percentile(lat, 99)), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--requests", type=int, default=200, help="submits per client (the task's items)")
    parser.add_argument("--processes", default="1,2,4", help="process counts on PostgreSQL")
    parser.add_argument("--sqlite-processes", default="1,2", help="process counts on SQLite ('' skips SQLite)")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "server.log")
        pg = os.environ.get("DLTASKS_PG_URL")
        for n in [int(x) for x in args.processes.split(",") if x] if pg else []:
            url, drop = pg_database(pg)
            try:
                rows.append({"store": "postgresql", **run(url, n, args.clients, args.requests, log)})
            finally:
                drop()
            print(rows[-1], flush=True)
        if not pg:
            print("(PostgreSQL skipped: set DLTASKS_PG_URL, e.g. source .ci/setup-postgres.sh)")
        for n in [int(x) for x in args.sqlite_processes.split(",") if x]:
            db = os.path.join(tmp, f"bench{n}.db")
            rows.append({"store": "sqlite", **run(db, n, args.clients, args.requests, log)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    one = table[table["processes"] == 1].set_index("store")["req/s"]
    table["× 1 process"] = [round(r / one[s], 2) if s in one.index else float("nan")
                            for s, r in zip(table["store"], table["req/s"])]
    print(f"\ndltasks serve --workers N: {args.clients} clients × {args.requests} submits to one FULL task, "
          f"{os.cpu_count()} CPUs shared by the server processes, the clients and the database")
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    return 1 if (table["errors"] > 0).any() or (table["lost"] != 0).any() else 0


if __name__ == "__main__":
    sys.exit(main())
