"""A realistic load on ``dltasks serve``: 50 labellers at a human pace and 2 dashboards.

For each store (a SQLite file; PostgreSQL when ``DLTASKS_PG_URL`` is set) a real server runs
in a subprocess on a free 127.0.0.1 port, over a store with a few tasks; the worked task has
``--items`` items (10 000), 3 workers per item among the labellers.  For ``--seconds`` (60):

* each of ``--labellers`` (50) labellers, a thread with its own token and connection
  (``dl.connect(url, token=...)``, as a LabelingWidget's kernel has), thinks 1-3 s (uniform,
  seeded), then submits the next item of its queue with a random label; it reads its queue
  (``task.queue(user, limit=20)``) when the one it holds runs out;
* each of ``--dashboards`` (2) dashboards refreshes every 5 s what a TaskBoard shows (a page
  of tasks, the datasets, every listed task's status counts) and what its Workers and
  Consensus tabs read of the open task (the task, ``task.progress()``, its status counts and
  the first page of 1 000 labels).

Prints p50 / p99 / max latency per operation (as the caller sees it, through the SDK) and the
errors, which must be 0, with the load average of the machine before the run.  ``start:`` rows
are each client's connection and first read, all 52 at the same moment (not a steady-state
figure); the labels stored are counted afterwards (each acknowledged submit is one).

    python bench/bench_load.py [--labellers 50] [--dashboards 2] [--seconds 60] [--items 10000]
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dltasks as dl  # noqa: E402
from bench_server import pg_database, serve  # noqa: E402

LABELS = ["cat", "dog", "bird"]
THINK_SECONDS = (1.0, 3.0)
REFRESH_SECONDS = 5.0
QUEUE_PAGE = 20
LABELS_PAGE = 1_000
OTHER_TASKS = 6


class Recorder:
    """Latencies (seconds) and errors per operation, shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = collections.defaultdict(list)
        self.errors: dict[str, list[str]] = collections.defaultdict(list)

    def timed(self, op: str, call: Callable[[], Any]) -> Any:
        """Run ``call``, keep its latency under ``op``; an exception is an error of ``op`` (returns None)."""
        t0 = time.perf_counter()
        try:
            result = call()
        except Exception as exc:  # every failure is one a user would see
            with self.lock:
                self.errors[op].append(f"{type(exc).__name__}: {exc}"[:300])
            return None
        self.add(op, time.perf_counter() - t0)
        return result

    def add(self, op: str, seconds: float) -> None:
        """Keep one call's latency."""
        with self.lock:
            self.latency[op].append(seconds)

    def table(self) -> pd.DataFrame:
        """One row per operation: calls, errors, p50, p99 and max in ms.

        >>> r = Recorder()
        >>> for seconds in (0.010, 0.020, 0.030):
        ...     r.add("get", seconds)
        >>> r.timed("get", lambda: 1 / 0) is None
        True
        >>> r.table()[["operation", "calls", "errors", "p50 ms"]].to_dict("records")
        [{'operation': 'get', 'calls': 4, 'errors': 1, 'p50 ms': 20.0}]
        """
        rows = []
        for op in sorted(set(self.latency) | set(self.errors)):
            lat = np.asarray(self.latency.get(op, []), dtype=float) * 1000
            pct = (lambda q: round(float(np.percentile(lat, q)), 1)) if len(lat) else (lambda q: float("nan"))
            rows.append({"operation": op, "calls": len(lat) + len(self.errors.get(op, [])),
                         "errors": len(self.errors.get(op, [])), "p50 ms": pct(50), "p99 ms": pct(99),
                         "max ms": round(float(lat.max()), 1) if len(lat) else float("nan")})
        return pd.DataFrame(rows, columns=["operation", "calls", "errors", "p50 ms", "p99 ms", "max ms"])


def build(store_url: str, labellers: int, n_items: int) -> dict[str, Any]:
    """The worked task (``n_items`` x 3 workers among the labellers), a few other tasks, tokens."""
    store = dl.connect(store_url)
    ds = store.datasets.create("load", labels=LABELS)
    ds.items.import_df(pd.DataFrame({"name": [f"img_{i:06d}.jpg" for i in range(n_items)]}))
    users = [f"labeller{i:02d}@example.com" for i in range(labellers)]
    task = ds.tasks.create(task_name="worked", assignee_ids=users, workers_per_input=min(3, labellers), seed=1)
    for i in range(OTHER_TASKS):  # the board lists more than the one task in work
        ds.tasks.create(task_name=f"other {i}", assignee_ids=users[i::OTHER_TASKS][:5] or users[:1], seed=i)
    tokens = {u: store.create_token(u) for u in users}
    admin = store.create_token("lead@example.com", admin=True)
    store.close()
    return {"task": task.id, "users": users, "tokens": tokens, "admin": admin}


def labeller(url: str, plan: dict[str, Any], user: str, seed: int, deadline: float, rec: Recorder) -> None:
    """Think 1-3 s, submit the next queued item; read the queue again when it runs out."""
    rng = np.random.default_rng(seed)
    store = rec.timed("start: connect", lambda: dl.connect(url, token=plan["tokens"][user], timeout=120))
    task = store and rec.timed("start: task get", lambda: store.tasks.get(plan["task"]))
    if task is None:
        return
    queue: list[int] = []
    while True:
        think = float(rng.uniform(*THINK_SECONDS))
        time.sleep(max(0.0, min(think, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            break
        if not queue:
            queue = rec.timed("queue", lambda: task.queue(user, limit=QUEUE_PAGE)) or []
            if not queue:
                continue
        item, label = queue.pop(0), LABELS[int(rng.integers(len(LABELS)))]
        rec.timed("submit", lambda: task.submit(item, user, label, seconds=think))
    store.close()


def dashboard(url: str, plan: dict[str, Any], deadline: float, rec: Recorder, offset: float) -> None:
    """Every 5 s: what a TaskBoard refresh reads, and its open task's Workers / Consensus tabs."""
    store = rec.timed("start: connect", lambda: dl.connect(url, token=plan["admin"], timeout=120))
    if store is None:
        return
    time.sleep(offset)
    next_at = time.monotonic()
    while next_at < deadline:
        page = rec.timed("board: tasks page", lambda: store.tasks.list(page=1, per_page=25))
        rec.timed("board: datasets", lambda: store.datasets.list())
        for t in page or []:
            rec.timed("board: status counts", t.status_counts)
        task = rec.timed("tab: task get", lambda: store.tasks.get(plan["task"]))
        if task is not None:
            rec.timed("tab: progress", task.progress)
            rec.timed("tab: status counts", task.status_counts)
            rec.timed("tab: labels page", lambda: store.ops.labels_frame(task.id, None, 0, LABELS_PAGE))
        next_at += REFRESH_SECONDS
        time.sleep(max(0.0, next_at - time.monotonic()))
    store.close()


def run(name: str, store_url: str, args: argparse.Namespace) -> tuple[pd.DataFrame, dict[str, Any]]:
    plan = build(store_url, args.labellers, args.items)
    proc, url = serve(store_url)
    rec = Recorder()
    try:
        start = time.monotonic()
        deadline = start + args.seconds
        threads = [threading.Thread(target=labeller, args=(url, plan, u, i, deadline, rec))
                   for i, u in enumerate(plan["users"])]
        threads += [threading.Thread(target=dashboard, args=(url, plan, deadline, rec, i * REFRESH_SECONDS / 2))
                    for i in range(args.dashboards)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    check = dl.connect(store_url)
    stored = len(check.tasks.get(plan["task"]).labels_df())
    check.close()
    table = rec.table()
    table.insert(0, "store", name)
    submits = table.loc[table["operation"] == "submit"]
    acked = int(submits["calls"].sum() - submits["errors"].sum())
    return table, {"store": name, "wall s": round(wall, 1), "submits acknowledged": acked,
                   "submits/s": round(acked / wall, 1), "labels stored": stored,
                   "first errors": [e for errs in rec.errors.values() for e in errs][:3]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labellers", type=int, default=50)
    parser.add_argument("--dashboards", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only, even with DLTASKS_PG_URL set")
    args = parser.parse_args(argv)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    tables, summaries = [], []
    with tempfile.TemporaryDirectory() as tmp:
        t, s = run("sqlite", os.path.join(tmp, "load.db"), args)
        tables.append(t)
        summaries.append(s)
    pg = None if args.no_pg else os.environ.get("DLTASKS_PG_URL")
    if pg:
        url, drop = pg_database(pg)
        try:
            t, s = run("postgresql", url, args)
            tables.append(t)
            summaries.append(s)
        finally:
            drop()
    else:
        print("(PostgreSQL skipped: set DLTASKS_PG_URL, e.g. source .ci/setup-postgres.sh)")
    print(f"dltasks serve: {args.labellers} labellers (a label every {THINK_SECONDS[0]:g}-{THINK_SECONDS[1]:g} s) "
          f"and {args.dashboards} dashboards (every {REFRESH_SECONDS:g} s) for {args.seconds:g} s; task of "
          f"{args.items:,} items x 3 workers; {os.cpu_count()} CPUs shared by server and clients; load average "
          f"before the run {load}")
    print(pd.concat(tables).to_string(index=False))
    print(pd.DataFrame(summaries).drop(columns="first errors").to_string(index=False))
    errors = int(sum(t["errors"].sum() for t in tables))
    lost = [s["store"] for s in summaries if s["labels stored"] != s["submits acknowledged"]]
    if lost:
        print(f"labels stored != submits acknowledged on {', '.join(lost)}")
    for s in summaries:
        for e in s["first errors"]:
            print(f"  {s['store']} error: {e}")
    print(f"target: 0 errors: {'met' if errors == 0 else f'NOT met ({errors} errors)'}")
    return 1 if errors or lost else 0


if __name__ == "__main__":
    sys.exit(main())
