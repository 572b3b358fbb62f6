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

    python bench/bench_server_processes.py [--clients 16] [--requests 150] [--processes 1,2,4]
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
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
    cpu = time.process_time()
    for i in range(len(items)):
        body = {"item_id": items[(start + i) % len(items)], "user_id": worker, "label": "yes" if c % 2 else "no"}
        t0 = time.perf_counter()
        r = s.post(f"{url}/api/v1/tasks/{plan['task']}/submit", json=body, timeout=120)
        lat.append(time.perf_counter() - t0)
        if r.status_code != 200:
            errors.append(f"{r.status_code} {r.text[:200]}")
    out.put((lat, errors, time.process_time() - cpu))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux ``/proc``; 0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """A process and its descendants (Linux ``/proc``)."""
    pids, i = [pid], 0
    while i < len(pids):
        try:
            with open(f"/proc/{pids[i]}/task/{pids[i]}/children") as f:
                pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
        i += 1
    return pids


def machine_busy() -> tuple[int, int]:
    """Busy and total CPU jiffies of the whole machine so far (``/proc/stat``)."""
    with open("/proc/stat") as f:
        jiffies = [int(x) for x in f.readline().split()[1:]]
    return sum(jiffies) - jiffies[3] - jiffies[4], sum(jiffies)


class DatabaseCpu:
    """CPU seconds of the PostgreSQL backends of one database, sampled in a thread while it runs.

    A backend that closes between two samples (a pool's overflow connection) loses the CPU it
    used since the last one, so the figure is a lower bound.  SQLite: always 0 (the server's own).
    """

    def __init__(self, store_url: str, every: float = 0.1) -> None:
        self.url, self.every, self.seen = store_url, every, dict[int, float]()
        self.on = store_url.startswith(("postgresql://", "postgres://"))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        if self.on:
            self.thread.start()

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(self.every):
                for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()"):
                    self.seen[pid] = max(self.seen.get(pid, 0.0), cpu_seconds(pid))

    def seconds(self) -> float:
        """Stop sampling; the CPU seconds seen."""
        self.stop.set()
        if self.on:
            self.thread.join()
        return sum(self.seen.values())


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
                "http='dltasks.server.protocol:ServerProtocol', timeout_worker_healthcheck=60)")
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
        server_pids = tree(proc.pid)
        server_cpu = sum(cpu_seconds(p) for p in server_pids)
        barrier.wait(timeout=300)
        start, busy, db = time.perf_counter(), machine_busy(), DatabaseCpu(store_url)
        results = [out.get(timeout=1200) for _ in procs]
        wall, busy_after = time.perf_counter() - start, machine_busy()
        server_cpu = sum(cpu_seconds(p) for p in server_pids) - server_cpu
        db_cpu = db.seconds()
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
            "p99 ms": round(float(np.percentile(lat, 99)), 1),
            "server CPU ms/req": round(1000 * server_cpu / len(lat), 2),
            "db CPU ms/req": round(1000 * db_cpu / len(lat), 2),
            "client CPU ms/req": round(1000 * sum(r[2] for r in results) / len(lat), 2),
            "machine CPU %": round(100 * (busy_after[0] - busy[0]) / max(1, busy_after[1] - busy[1]))}


def summarise(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per store and process count: counts summed over the rounds, the median round's figures,
    and the ratio of req/s to one process of the same store."""
    runs = pd.DataFrame(rows)
    keys = ["store", "processes"]
    table = runs.groupby(keys, sort=False).agg(
        rounds=("req/s", "size"), clients=("clients", "first"), requests=("requests", "sum"),
        errors=("errors", "sum"), lost=("lost", "sum"), restarts=("restarts", "sum"),
        **{c: (c, "median") for c in ["req/s", "p50 ms", "p99 ms", "server CPU ms/req", "db CPU ms/req",
                                      "client CPU ms/req", "machine CPU %"]},
    ).reset_index()
    # how many cores the server processes kept busy: near 1 for one process, the GIL holds it back
    table["server cores"] = (table["req/s"] * table["server CPU ms/req"] / 1000).round(2)
    one = table[table["processes"] == 1].set_index("store")["req/s"]
    table["× 1 process"] = [round(r / one[s], 2) if s in one.index else float("nan")
                            for s, r in zip(table["store"], table["req/s"])]
    return table


def ceilings(table: pd.DataFrame, cores: int) -> list[str]:
    """What the CPU per submit allows on this machine, per store (from its one-process row).

    >>> t = pd.DataFrame({"store": ["sqlite"], "processes": [1], "server CPU ms/req": [8.0],
    ...                   "db CPU ms/req": [0.0], "client CPU ms/req": [2.0]})
    >>> ceilings(t, 2)[0]  # doctest: +ELLIPSIS
    'sqlite: a submit costs 10.0 ms of CPU (server 8.0, ...): 2 CPUs carry at most ~200 req/s ...~125 req/s ...'
    """
    out = []
    for _, row in table[table["processes"] == 1].iterrows():
        server, db, client = row["server CPU ms/req"], row["db CPU ms/req"], row["client CPU ms/req"]
        total = server + db + client
        out.append(f"{row['store']}: a submit costs {total:.1f} ms of CPU (server {server:.1f}, database {db:.1f}, "
                   f"client {client:.1f}): {cores} CPUs carry at most ~{1000 * cores / total:.0f} req/s with any "
                   f"number of processes; one server process at most ~{1000 / server:.0f} req/s (the GIL: one core)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--requests", type=int, default=150, help="submits per client (the task's items)")
    parser.add_argument("--processes", default="1,2,4", help="process counts on PostgreSQL")
    parser.add_argument("--sqlite-processes", default="1,2", help="process counts on SQLite ('' skips SQLite)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every configuration, interleaved "
                        "(a shared machine's load drifts); the table shows each one's median round")
    args = parser.parse_args(argv)
    pg = os.environ.get("DLTASKS_PG_URL")
    if not pg:
        print("(PostgreSQL skipped: set DLTASKS_PG_URL, e.g. source .ci/setup-postgres.sh)")
    configs = [("postgresql", int(x)) for x in args.processes.split(",") if x and pg]
    configs += [("sqlite", int(x)) for x in args.sqlite_processes.split(",") if x]
    rows: list[dict[str, Any]] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "server.log")
        for r, (store, n) in ((r, c) for r in range(args.rounds) for c in configs):
            if store == "postgresql":
                url, drop = pg_database(str(pg))
            else:
                url, drop = os.path.join(tmp, f"bench-{r}-{n}.db"), (lambda: None)
            try:
                rows.append({"store": store, **run(url, n, args.clients, args.requests, log)})
            finally:
                drop()
            print(f"round {r + 1}: {rows[-1]}", flush=True)
    table = summarise(rows)
    print(f"\ndltasks serve --workers N: {args.clients} clients × {args.requests} submits to one FULL task; "
          f"{os.cpu_count()} CPUs shared by the server processes, the clients and the database; "
          f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False))
    for line in ceilings(table, os.cpu_count() or 1):
        print(line)
    return 1 if (table["errors"] > 0).any() or (table["lost"] != 0).any() else 0

if __name__ == "__main__":
    sys.exit(main())
