"""Throughput and latency of ``dltasks serve`` with 8 concurrent clients (loopback only).

For each store (SQLite file; PostgreSQL when ``DLTASKS_PG_URL`` is set) a real server runs in
a subprocess on a free 127.0.0.1 port and 8 client processes, each with its own
``requests`` session and token, hit it at the same moment:

* ``get``    — ``GET /v2/tasks/{id}`` (Clarifai shape)
* ``list``   — ``GET /v2/tasks?per_page=20``
* ``submit``     — ``POST /api/v1/tasks/{id}/submit`` on a small task (``--requests`` items, FULL:
  every client is a worker of every item): each client labels the items in order
* ``submit big`` — the same on a big task: ``--big-items`` items (10 000) x 8 workers (FULL,
  80 000 assignments); each client labels ``--requests`` items in its own random order, so the
  submits land all over the task (a submit that reads the whole task shows here, not on the
  small one)

Prints requests per second, p50/p99 latency and the CPU one request costs the server and the
clients (these two do not move with the machine's load) per operation, and the most requests
per second the machine's CPUs could serve at those costs ("CPU bound"), then the issue's targets
(issue 16; set for SQLite with 8 clients, the server and the clients sharing the machine's
CPUs) and whether each is met: submit p99 <= 50 ms and >= 400 req/s on the small and the big
task; get and list p99 <= 50 ms.  Bounded: ``--requests`` per client per operation (default
150), so a run takes well under a minute per store.  The numbers move with the machine's load
(the run prints ``os.getloadavg()`` before it starts).

    python bench/bench_server.py [--clients 8] [--requests 150] [--big-items 10000]
"""
from __future__ import annotations

import argparse
import http.client
import json as _json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from typing import Any, Callable

import numpy as np
import pandas as pd
import psutil
import requests

import dltasks as dl

WORKERS = 8
N_TASKS = 40
BIG_ITEMS = 10_000
OPERATIONS = ("get", "list", "submit", "submit big")

#: The issue's targets: (operation, measure, bound, higher is better).
TARGETS = [("submit", "p99 ms", 50.0, False), ("submit", "req/s", 400.0, True),
           ("submit big", "p99 ms", 50.0, False), ("submit big", "req/s", 400.0, True),
           ("get", "p99 ms", 50.0, False), ("list", "p99 ms", 50.0, False)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(store_url: str, clients: int, per_client: int, big_items: int = BIG_ITEMS) -> dict[str, Any]:
    """A dataset, N_TASKS small tasks for list/get, a small FULL task for submissions and, on a
    second dataset, a big FULL task (``big_items`` items x ``clients`` workers)."""
    store = dl.connect(store_url)
    ds = store.datasets.create("bench", labels=["yes", "no"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:05d}.jpg" for i in range(per_client)]}))
    workers = [f"w{i}@bench.io" for i in range(clients)]
    tasks = [ds.tasks.create(task_name=f"t{i}", assignee_ids=workers[:2], seed=i).id for i in range(N_TASKS)]
    submit = ds.tasks.create(task_name="submit", assignee_ids=workers, worker_strategy="full")
    items = [int(i) for i in submit.items_df()["item_id"]]
    big_ds = store.datasets.create("big", labels=["yes", "no"])
    big_ds.items.import_df(pd.DataFrame({"name": [f"{i:06d}.jpg" for i in range(big_items)]}))
    big = big_ds.tasks.create(task_name="submit big", assignee_ids=workers, worker_strategy="full")
    big_ids = np.asarray(big.items_df()["item_id"], dtype=np.int64)
    rng = np.random.default_rng(16)
    # each worker labels its own random sample of the big task (FULL: every worker has every item)
    big_items_of = {w: [int(i) for i in rng.permutation(big_ids)[:per_client]] for w in workers}
    tokens = [store.create_token(w) for w in workers]
    store.close()
    return {"tasks": tasks, "submit_task": submit.id, "items": items, "workers": workers, "tokens": tokens,
            "big_task": big.id, "big_items": big_items_of, "big_size": (big_items, clients)}


class LightSession:
    """The few ``requests.Session`` calls the clients make, over one kept-alive ``http.client``
    connection: a load generator should cost little next to the server it measures (``requests``
    costs a client about 2.3 ms of CPU per request, twice what a task GET costs the server).

    >>> LightSession("http://127.0.0.1:1").host
    '127.0.0.1'
    """

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port
        self.headers: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def get(self, url: str, params: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return self._send("GET", url + query, None, timeout)

    def post(self, url: str, json: Any = None, timeout: float = 60) -> Any:
        return self._send("POST", url, _json.dumps(json).encode(), timeout)

    def _send(self, method: str, url: str, body: bytes | None, timeout: float) -> Any:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        headers = dict(self.headers, **({"Content-Type": "application/json"} if body is not None else {}))
        path = urllib.parse.urlsplit(url)
        self._conn.request(method, path.path + (f"?{path.query}" if path.query else ""), body, headers)
        answer = self._conn.getresponse()
        answer.read()
        answer.status_code = answer.status  # type: ignore[attr-defined]  # requests' name
        return answer


def client(url: str, token: str, plan: dict[str, Any], worker: str, n: int, http: str = "light", *, barrier: Any,
           out: Any, operations: tuple[str, ...] = OPERATIONS) -> None:
    """One client process: for each operation in turn, wait for the others, run ``n`` requests of it and
    report the latencies (one process for every operation: no process start inside a measurement).
    ``http``: ``"light"`` (:class:`LightSession`) or ``"requests"``."""
    s: Any = LightSession(url) if http == "light" else requests.Session()
    s.headers["Authorization"] = f"Key {token}"
    rng = np.random.default_rng(abs(hash(worker)) % 2**32)
    for op in operations:
        lat, errors = [], 0
        barrier.wait(timeout=300)
        cpu0 = time.process_time()
        for i in range(n):
            t0 = time.perf_counter()
            if op == "get":
                r = s.get(f"{url}/v2/tasks/{plan['tasks'][int(rng.integers(len(plan['tasks'])))]}", timeout=60)
            elif op == "list":
                r = s.get(f"{url}/v2/tasks", params={"per_page": 20}, timeout=60)
            elif op == "submit":
                body = {"item_id": plan["items"][i], "user_id": worker, "label": "yes"}
                r = s.post(f"{url}/api/v1/tasks/{plan['submit_task']}/submit", json=body, timeout=60)
            else:
                body = {"item_id": plan["big_items"][worker][i], "user_id": worker, "label": "yes"}
                r = s.post(f"{url}/api/v1/tasks/{plan['big_task']}/submit", json=body, timeout=60)
            lat.append(time.perf_counter() - t0)
            errors += r.status_code != 200
        out.put((op, lat, errors, time.process_time() - cpu0))


def run_bursts(target: Callable[..., None], client_args: list[tuple[Any, ...]], operations: tuple[str, ...],
               measure: Callable[[], float] = lambda: 0.0, timeout: float = 600
               ) -> list[tuple[str, list[tuple[Any, ...]], float, float]]:
    """One spawned client process per ``client_args`` (``target(*args, barrier=, out=, operations=)``),
    released together for each operation in turn: per operation, every client's result (what it
    put on ``out``), the wall time of the burst and how much ``measure()`` grew during it."""
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(len(client_args) + 1), ctx.Queue()
    procs = [ctx.Process(target=target, args=args, kwargs={"barrier": barrier, "out": out, "operations": operations})
             for args in client_args]
    for p in procs:
        p.start()
    bursts = []
    try:
        for op in operations:
            before = measure()
            barrier.wait(timeout=timeout)
            start = time.perf_counter()
            results = [out.get(timeout=timeout) for _ in procs]
            bursts.append((op, results, time.perf_counter() - start, measure() - before))
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    return bursts


def run_ops(url: str, plan: dict[str, Any], clients: int, n: int,
            operations: tuple[str, ...] = OPERATIONS, server_pid: int | None = None, http: str = "light"
            ) -> list[dict[str, Any]]:
    """Every operation in turn with ``clients`` client processes starting it at the same moment:
    requests per second, p50 and p99 latency, and the CPU one request cost the clients and (given
    its ``server_pid``) the server: the figures that do not move with the machine's load."""
    server = psutil.Process(server_pid) if server_pid else None
    args = [(url, plan["tokens"][c], plan, plan["workers"][c], n, http) for c in range(clients)]
    rows = []
    for op, results, wall, server_cpu in run_bursts(client, args, operations, lambda: _cpu(server)):
        assert all(r[0] == op for r in results)
        lat = np.concatenate([np.asarray(r[1]) for r in results]) * 1000
        rows.append({"operation": op, "clients": clients, "requests": len(lat),
                     "errors": sum(r[2] for r in results), "req/s": round(len(lat) / wall, 1),
                     "p50 ms": round(float(np.percentile(lat, 50)), 1),
                     "p99 ms": round(float(np.percentile(lat, 99)), 1),
                     "server CPU ms/req": round(1000 * server_cpu / len(lat), 2) if server else None,
                     "client CPU ms/req": round(1000 * sum(r[3] for r in results) / len(lat), 2)})
        rows[-1]["CPU bound req/s"] = cpu_bound(rows[-1]["server CPU ms/req"], rows[-1]["client CPU ms/req"])
    return rows


def cpu_bound(server_ms: float | None, client_ms: float, cpus: int | None = None) -> float | None:
    """The most requests per second the machine's CPUs could serve at these costs, every CPU busy
    and nothing else running: the server is one process (one CPU at most, Python's GIL) and the
    clients share the rest.

    >>> cpu_bound(3.0, 2.0, cpus=2)  # 2 CPUs: 400 req/s would need 2 CPU-seconds a second
    333.3
    >>> cpu_bound(1.0, 2.0, cpus=2)  # the server would be idle part of the time: the clients bind
    666.7
    >>> cpu_bound(4.0, 0.5, cpus=8)  # one server process: at most 1000 / 4 ms
    250.0
    """
    if server_ms is None or server_ms <= 0:
        return None
    cpus = cpus or os.cpu_count() or 1
    return round(min(cpus * 1000 / (server_ms + client_ms), 1000 / server_ms), 1)


def _cpu(process: psutil.Process | None) -> float:
    """Seconds of CPU ``process`` has used (user + system), 0 without one."""
    if process is None:
        return 0.0
    times = process.cpu_times()
    return float(times.user + times.system)


def serve(store_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", store_url, "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            requests.get(url + "/openapi.json", timeout=10).raise_for_status()
            return proc, url
        except requests.RequestException:  # not listening yet, or slow to answer on a busy machine
            time.sleep(0.2)
    proc.kill()
    proc.wait()
    raise RuntimeError("the server did not start")


def bench_store(name: str, store_url: str, clients: int, n: int, big_items: int = BIG_ITEMS, http: str = "light"
                ) -> list[dict[str, Any]]:
    plan = build(store_url, clients, n, big_items)
    proc, url = serve(store_url)
    try:
        rows = run_ops(url, plan, clients, n, server_pid=proc.pid, http=http)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for row in rows:
        row["store"] = name
    return rows


def check_targets(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Each target of the issue against one store's rows: the figure and whether it is met.

    >>> rows = [{"operation": "get", "p99 ms": 12.0, "req/s": 900.0, "errors": 0},
    ...         {"operation": "list", "p99 ms": 75.0, "req/s": 300.0, "errors": 0}]
    >>> check_targets(rows)[["target", "measured", "met"]].to_dict("records")
    [{'target': 'get p99 ms <= 50', 'measured': 12.0, 'met': 'yes'}, {'target': 'list p99 ms <= 50', 'measured': 75.0, 'met': 'NO'}]
    """
    by_op = {r["operation"]: r for r in rows}
    out = []
    for op, measure, bound, higher in TARGETS:
        if op not in by_op:
            continue
        value = by_op[op][measure]
        ok = (value >= bound if higher else value <= bound) and not by_op[op]["errors"]
        out.append({"target": f"{op} {measure} {'>=' if higher else '<='} {bound:g}", "measured": value,
                    "met": "yes" if ok else "NO"})
    return pd.DataFrame(out)


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
    parser.add_argument("--big-items", type=int, default=BIG_ITEMS, help="items of the big submit task")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only, even with DLTASKS_PG_URL set")
    parser.add_argument("--http", choices=("light", "requests"), default="light",
                        help="the clients' HTTP: one http.client connection each (light), or requests.Session")
    args = parser.parse_args(argv)
    if args.requests > args.big_items:
        parser.error("--requests must be at most --big-items (each client labels distinct items)")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += bench_store("sqlite", os.path.join(tmp, "bench.db"), args.clients, args.requests, args.big_items,
                            args.http)
    pg = None if args.no_pg else os.environ.get("DLTASKS_PG_URL")
    if pg:
        url, drop = pg_database(pg)
        try:
            rows += bench_store("postgresql", url, args.clients, args.requests, args.big_items, args.http)
        finally:
            drop()
    else:
        print("(PostgreSQL skipped: set DLTASKS_PG_URL, e.g. source .ci/setup-postgres.sh)")
    table = pd.DataFrame(rows)[["store", "operation", "clients", "requests", "errors", "req/s", "p50 ms", "p99 ms",
                                "server CPU ms/req", "client CPU ms/req", "CPU bound req/s"]]
    print(f"dltasks serve, {args.clients} concurrent clients, {os.cpu_count()} CPUs (server and clients share them), "
          f"load average before the run {load}; clients' HTTP: {args.http}; "
          f"big task: {args.big_items:,} items x {args.clients} workers (FULL)")
    print(_show(table))
    print(f"\nTargets (issue 16: SQLite, {WORKERS} clients)")
    for store, group in table.groupby("store", sort=False):
        targets = check_targets(group.to_dict("records"))
        print(f"\n{store}{'' if store == 'sqlite' else ' (for reference: the targets are set for SQLite)'}: "
              f"{(targets['met'] == 'yes').sum()} of {len(targets)} met")
        print(_show(targets))
    return 1 if table["errors"].any() else 0


def _show(table: pd.DataFrame) -> str:
    return table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
