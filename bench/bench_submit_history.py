"""Benchmark what the history costs a submit: one in-process submit with and without its history row.

Issue 15 appends every work action to a history table in the action's own transaction; the
target is that a submit with history costs <= 10 % more than without.

Setup: a :class:`dltasks.backends.sql.SqlBackend` on a SQLite file (in a temporary folder), a
dataset of 10,000 items, a task over all of them with ``workers_per_input=3`` and 3 assignees
(so 30,000 pending assignments), labels ``cat``/``dog``.

Cases, interleaved one submit at a time (with, without, with, ...) so both see the same store
growth, caches and machine load; each submit is a first answer by one worker on one item:

* ``with history``     ``backend.submit(task_id, item_id, user_id, label)`` as shipped.
* ``without history``  the same call with ``dltasks.backends.sql.work.record`` replaced by a
  no-op for that call only (restored right after it).  This is a bench, not a test: it patches
  the store's internals to measure what one insert costs, and checks only that the patch took
  effect (the history has one ``submit`` row per submit with history and none without).

Times: CPU seconds of the process per submit (``time.process_time``; steadier than wall time on
a shared machine) and wall time (which includes SQLite's file sync), the median of ``--submits``
(default 600) submits per case after 20 warm-up submits per case.  About 10 s in all.

Usage::

    python bench/bench_submit_history.py
    python bench/bench_submit_history.py --submits 1000
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from dltasks.backends.sql import SqlBackend  # noqa: E402
from dltasks.backends.sql import work  # noqa: E402
from dltasks.domain import items, task_options  # noqa: E402

N_ITEMS = 10_000
WORKERS = ["ann", "bob", "cid"]
TARGET = 0.10  # with history <= 10 % more CPU than without
WARM_UP = 20


def no_record(*args: Any, **kwargs: Any) -> None:
    """Stands in for ``work.record`` during a submit without history."""


def make_task(path: Path) -> tuple[SqlBackend, str, list[int]]:
    """The backend on a SQLite file, and a task of 10,000 items x 3 workers with its item ids."""
    backend = SqlBackend(f"sqlite:///{path}")
    ds = backend.create_dataset("bench", ["cat", "dog"])
    backend.import_items(ds.id, items.item_rows(pd.DataFrame({"name": [f"img{i:05d}.jpg" for i in range(N_ITEMS)]})))
    spec = task_options.build_spec(task_name="history", assignee_ids=WORKERS, workers_per_input=3,
                                   default_labels=["cat", "dog"])
    task = backend.create_task(ds.id, spec)
    ids = backend.task_items_frame(task.id)["item_id"].tolist()
    assert len(ids) == N_ITEMS, len(ids)
    return backend, task.id, ids


def timed_submit(backend: SqlBackend, task_id: str, item_id: int, user_id: str, history: bool) -> tuple[float, float]:
    """(CPU s, wall s) of one submit, with ``work.record`` a no-op when not ``history``."""
    original = work.record
    if not history:
        work.record = no_record  # type: ignore[assignment]
    try:
        start, start_cpu = time.perf_counter(), time.process_time()
        backend.submit(task_id, item_id, user_id, "cat")
        return time.process_time() - start_cpu, time.perf_counter() - start
    finally:
        work.record = original  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submits", type=int, default=600, help="timed submits per case")
    args = parser.parse_args()
    n = args.submits + WARM_UP
    if 2 * n > N_ITEMS * len(WORKERS):
        parser.error(f"--submits: at most {N_ITEMS * len(WORKERS) // 2 - WARM_UP}")
    with tempfile.TemporaryDirectory() as tmp:
        backend, task_id, ids = make_task(Path(tmp) / "bench.db")
        slots = [(ids[i // len(WORKERS)], WORKERS[i % len(WORKERS)]) for i in range(2 * n)]
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for j, (item_id, user_id) in enumerate(slots):
            history = j % 2 == 0
            times[history].append(timed_submit(backend, task_id, item_id, user_id, history))
        hist = backend.history_frame(task_id)
        backend.close()
    expected = {(ids[j // len(WORKERS)], WORKERS[j % len(WORKERS)]) for j in range(0, 2 * n, 2)}
    got = set(zip(hist.loc[hist["action"] == "submit", "item_id"], hist.loc[hist["action"] == "submit", "user_id"]))
    if got != expected or len(hist) != n:
        sys.exit(f"the no-op did not take the place of work.record ({len(hist)} history rows, expected {n}): "
                 "the bench needs updating")

    def median(history: bool, which: int) -> float:
        return statistics.median(t[which] for t in times[history][WARM_UP:])

    with_cpu, without_cpu = median(True, 0), median(False, 0)
    with_wall, without_wall = median(True, 1), median(False, 1)
    cost = with_cpu / without_cpu - 1
    print(f"one submit, SqlBackend on a SQLite file, a task of {N_ITEMS:,} items x {len(WORKERS)} workers; "
          f"median of {args.submits} submits per case (interleaved, after {WARM_UP} warm-up each)")
    print(f"{'case':<18} {'CPU ms/submit':>14} {'wall ms/submit':>15}")
    print(f"{'with history':<18} {with_cpu * 1e3:>14.3f} {with_wall * 1e3:>15.3f}")
    print(f"{'without history':<18} {without_cpu * 1e3:>14.3f} {without_wall * 1e3:>15.3f}")
    print(f"ratio with/without: CPU {with_cpu / without_cpu:.3f}, wall {with_wall / without_wall:.3f}")
    print(f"target: history costs <= {TARGET:.0%} CPU: {'met' if cost <= TARGET else 'NOT met'} ({cost:+.1%}); "
          f"history rows checked: {len(hist)} (one per submit with history, none without)")


if __name__ == "__main__":
    main()
