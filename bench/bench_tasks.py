"""Benchmark task planning, task creation and task listing.

Cases (defaults: 1,000,000 items, ``workers_per_input=3``, 20 workers with seeded random
weights; 10,000 tasks for the listing):

``plan``
    ``dltasks.partition.plan_partition`` of the item ids (what ``tasks.create`` runs):
    best of 10 after a warm-up.  Target: <= 0.1 s (absolute).
``create``
    ours: ``dataset.tasks.create(task_name=..., assignee_ids=workers, workers_per_input=3,
    weights=..., seed=...)`` end to end on a store holding the items: reading the item ids,
    planning, the task row, members, 1,000,000 ``task_items`` and 3,000,000 ``assignments``
    rows, the commit, and loading the Task back.
    reference: ``sqlite3.executemany`` + ``COMMIT`` of the same rows (users, task row,
    members, task_items, assignments; the plan made with the same seed) into a copy of the
    same store (same schema, indexes, foreign keys and PRAGMAs).  The reference gets its
    tuples pre-built (outside its timer).  Target: <= 1.5x.  Afterwards the two files are
    compared (every assignment and task_items row, ignoring the random task id).
``list``
    ``store.tasks.list(...)`` over 10,000 tasks (3 workers and 1 reviewer each, created
    through the SDK): the first page of 128, a deep page, by worker, by reviewer.  Time per
    call is the mean of 20 calls after a warm-up.  The reference is the same SQL by hand
    (count, page of tasks, their members) over sqlite3, returning tuples.  Target: each
    call <= 0.05 s (an interactive budget; the issue sets none), the ratio is for
    information.

Each case runs in a fresh Python process; peak MB is that process's peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``).

Usage::

    python bench/bench_tasks.py                       # about 3-4 minutes
    python bench/bench_tasks.py --items 100000 --tasks 1000 --repeat 1
"""
from __future__ import annotations

import argparse
import gc
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_store import peak_mb, print_table, raw_connect, rss_mb, run_child  # noqa: E402

import dltasks as dl  # noqa: E402
from dltasks import partition  # noqa: E402

K = 3
N_WORKERS = 20
SEED = 7
PLAN_TARGET_S = 0.1
PLAN_RUNS = 10
CREATE_TARGET_RATIO = 1.5
LIST_TARGET_S = 0.05
LIST_CALLS = 20
DATASET = "bench"
TASK_COLUMNS = ("id", "dataset_id", "name", "type", "parent_task_id", "due_date", "status", "priority",
                "worker_strategy", "workers_per_input", "weights", "review_strategy", "approval_threshold", "labels",
                "available_actions", "filter", "metadata", "seed", "created_at", "modified_at")
WORKERS = [f"worker{i:02d}@example.com" for i in range(N_WORKERS)]


def weights() -> dict[str, float]:
    w = np.random.default_rng(1).uniform(1.0, 3.0, N_WORKERS).round(3)
    return dict(zip(WORKERS, w.tolist()))


# -- setup ----------------------------------------------------------------------------------
def build_items_store(path: Path, n: int) -> None:
    store = dl.connect(path)
    ds = store.datasets.create(DATASET, labels=["cat", "dog", "bird"])
    ds.items.import_df(pd.DataFrame({"name": [f"img_{i:07d}.jpg" for i in range(n)],
                                     "dir": "/train", "user.batch": np.arange(n) % 100}))
    store.close()


def build_tasks_store(path: Path, n_tasks: int) -> None:
    """``n_tasks`` small tasks through the SDK: 3 workers and 1 reviewer each, 20 items."""
    store = dl.connect(path)
    ds = store.datasets.create(DATASET, labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"img_{i:04d}.jpg" for i in range(200)]}))
    ids = ds.items.to_df(metadata="none")["id"].tolist()
    with store.atomic():
        for j in range(n_tasks):
            w = [WORKERS[(j + r * 7) % N_WORKERS] for r in range(3)]
            ds.tasks.create(task_name=f"task {j:05d}", assignee_ids=w, items=ids[j % 180:j % 180 + 20],
                            review_strategy="manual", reviewer_ids=[WORKERS[(j + 3) % N_WORKERS]],
                            due_date=1.9e9 + j, seed=j)
    store.close()


# -- the runs (each in its own process) ----------------------------------------------------------
def plan_case(n: int) -> dict[str, Any]:
    items = np.arange(1, n + 1, dtype=np.int64)
    w = weights()
    run = lambda: partition.plan_partition(items, WORKERS, K, w, seed=SEED)  # noqa: E731
    run()
    times = []
    for _ in range(PLAN_RUNS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"seconds": min(times)}


def create_ours(work: Path) -> float:
    path = work / "ours.db"
    shutil.copy(work / "items.db", path)
    store = dl.connect(path)
    ds = store.datasets.get(name=DATASET)
    gc.collect()
    start = time.perf_counter()
    task = ds.tasks.create(task_name="big", assignee_ids=WORKERS, workers_per_input=K, weights=weights(),
                           seed=SEED)
    seconds = time.perf_counter() - start
    assert len(task.assignee_ids) == N_WORKERS
    store.close()
    return seconds


def create_ref(work: Path) -> float:
    path = work / "ref.db"
    shutil.copy(work / "items.db", path)
    conn = raw_connect(path)
    dataset_id = conn.execute("SELECT id FROM datasets WHERE name = ?", (DATASET,)).fetchone()[0]
    item_ids = np.fromiter((r[0] for r in conn.execute(
        "SELECT id FROM items WHERE dataset_id = ? ORDER BY id", (dataset_id,))), dtype=np.int64)
    plan = partition.plan_partition(item_ids, WORKERS, K, weights(), seed=SEED)
    t, task_id = time.time(), "0123456789abcdef01234567"
    users = [(u, None, t) for u in WORKERS]
    task = (task_id, dataset_id, "big", "annotation", None, t + 7 * 86400, "in_progress", "medium", "partitioned",
            K, json.dumps(weights()), "none", None, '["cat","dog","bird"]',
            '[{"name":"completed","display_name":"Completed","color":"#2ecc71"}]', None,
            "{}", SEED, t, t)
    members = [(task_id, u, "worker", w, i) for i, (u, w) in enumerate(weights().items())]
    task_items = [(task_id, i, "pending", t) for i in item_ids.tolist()]
    assignments = [(task_id, i, u, "worker", "pending", t)
                   for i, u in zip(plan["item_id"].tolist(), plan["user_id"].astype(object).tolist())]
    del plan
    gc.collect()
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO users (id, name, created_at) VALUES (?, ?, ?)", users)
    conn.execute(f"INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) VALUES ({', '.join('?' * len(task))})", task)
    conn.executemany("INSERT INTO task_members (task_id, user_id, role, weight, position) VALUES (?, ?, ?, ?, ?)",
                     members)
    conn.executemany("INSERT INTO task_items (task_id, item_id, status, updated_at) VALUES (?, ?, ?, ?)",
                     task_items)
    conn.executemany("INSERT INTO assignments (task_id, item_id, user_id, role, status, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", assignments)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


LIST_CALLS_SPEC = {
    "page 1": {"page": 1},
    "last page": {"page": -1},  # filled in from --tasks
    "by worker": {"worker_id": WORKERS[7]},
    "by reviewer": {"reviewer_id": WORKERS[11]},
}


def list_ours(path: Path, spec: dict[str, Any]) -> Callable[[], Any]:
    store = dl.connect(path)
    return lambda: list(store.tasks.list(per_page=128, **spec))


def list_ref(path: Path, spec: dict[str, Any]) -> Callable[[], Any]:
    conn = raw_connect(path)
    page = spec.get("page", 1)
    where, params = "1", []
    for key, role in (("worker_id", "worker"), ("reviewer_id", "reviewer")):
        if key in spec:
            where = ("EXISTS (SELECT 1 FROM task_members m WHERE m.task_id = tasks.id AND m.user_id = ? "
                     "AND m.role = ?)")
            params = [spec[key], role]

    def run() -> Any:
        total = conn.execute(f"SELECT count(*) FROM tasks WHERE {where}", params).fetchone()[0]
        tasks = conn.execute(f"SELECT * FROM tasks WHERE {where} ORDER BY created_at DESC, id LIMIT 128 OFFSET ?",
                             [*params, (page - 1) * 128]).fetchall()
        ids = [t[0] for t in tasks]
        members = conn.execute(f"SELECT * FROM task_members WHERE task_id IN ({', '.join('?' * len(ids))}) "
                               "ORDER BY task_id, role, position", ids).fetchall()
        return total, tasks, members
    return run


def list_case(side: str, work: Path, name: str, n_tasks: int) -> dict[str, Any]:
    spec = dict(LIST_CALLS_SPEC[name])
    if spec.get("page") == -1:
        spec["page"] = max(1, -(-n_tasks // 128))
    fn = (list_ours if side == "ours" else list_ref)(work / "tasks.db", spec)
    fn()
    start = time.perf_counter()
    for _ in range(LIST_CALLS):
        fn()
    return {"seconds": (time.perf_counter() - start) / LIST_CALLS}


def child(case: str, side: str, args: argparse.Namespace) -> dict[str, Any]:
    base = rss_mb()
    if case == "plan":
        out = plan_case(args.items)
    elif case == "create":
        out = {"seconds": (create_ours if side == "ours" else create_ref)(args.workdir)}
    elif case == "setup_items":
        build_items_store(args.workdir / "items.db", args.items)
        out = {"seconds": 0.0}
    elif case == "setup_tasks":
        build_tasks_store(args.workdir / "tasks.db", args.tasks)
        out = {"seconds": 0.0}
    else:
        out = list_case(side, args.workdir, case.split(":", 1)[1], args.tasks)
    return out | {"peak_mb": peak_mb(), "base_mb": base}


def rows_differing(work: Path) -> int:
    """task_items and assignments rows that differ between ours.db and ref.db."""
    conn = sqlite3.connect(work / "ours.db")
    conn.execute("ATTACH DATABASE ? AS ref", (str(work / "ref.db"),))
    total = 0
    for table, cols in (("assignments", "item_id, user_id, role, status"), ("task_items", "item_id, status")):
        for a, b in (("main", "ref"), ("ref", "main")):
            total += conn.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {a}.{table} "
                                  f"EXCEPT SELECT {cols} FROM {b}.{table})").fetchone()[0]
    counts = [conn.execute(f"SELECT count(*) FROM {db}.assignments").fetchone()[0] for db in ("main", "ref")]
    conn.close()
    return total + abs(counts[0] - counts[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2, help="task creations per side (best is reported)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    own_dir = args.workdir is None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dltasks-bench-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args)))
        return 0
    script = Path(__file__).resolve()
    common = ["--items", str(args.items), "--tasks", str(args.tasks), "--workdir", str(args.workdir)]
    try:
        n = args.items
        print(f"dltasks tasks bench: {n:,} items, k={K}, {N_WORKERS} weighted workers; {args.tasks:,} tasks to list; "
              f"peak MB = peak RSS of a fresh process per case")
        t0 = time.perf_counter()
        run_child(script, ["setup_items", "-", *common])
        run_child(script, ["setup_tasks", "-", *common])
        print(f"(setup: {time.perf_counter() - t0:.0f} s)")
        table = []
        plan = run_child(script, ["plan", "ours", *common])
        table.append({"case": f"plan split {n:,} items, k={K}, {N_WORKERS} workers", "ours": plan["seconds"],
                      "ref": None, "target": f"<={PLAN_TARGET_S}s", "peak_mb": plan["peak_mb"], "ref_mb": None,
                      "ok": plan["seconds"] <= PLAN_TARGET_S})
        runs: dict[str, list[dict[str, Any]]] = {"ours": [], "ref": []}
        for r in range(args.repeat):
            for side in (("ours", "ref"), ("ref", "ours"))[r % 2]:
                runs[side].append(run_child(script, ["create", side, *common]))
        differing = rows_differing(args.workdir)
        t_ours, t_ref = (min(r["seconds"] for r in runs[s]) for s in ("ours", "ref"))
        mb = max(r["peak_mb"] for r in runs["ours"])
        table.append({"case": f"create task ({n * K:,} assignments) vs executemany", "ours": t_ours, "ref": t_ref,
                      "target": f"<={CREATE_TARGET_RATIO}x", "peak_mb": mb,
                      "ref_mb": max(r["peak_mb"] for r in runs["ref"]),
                      "ok": t_ours <= CREATE_TARGET_RATIO * t_ref and differing == 0})
        for name in LIST_CALLS_SPEC:
            ours = run_child(script, [f"list:{name}", "ours", *common])
            ref = run_child(script, [f"list:{name}", "ref", *common])
            table.append({"case": f"tasks.list {name} (of {args.tasks:,}), per call", "ours": ours["seconds"],
                          "ref": ref["seconds"], "target": f"<={LIST_TARGET_S}s", "peak_mb": ours["peak_mb"],
                          "ref_mb": ref["peak_mb"], "ok": ours["seconds"] <= LIST_TARGET_S})
        print_table(table)
        print(f"\ncreate: rows differing between ours and the reference: {differing}")
        return 0 if all(r["ok"] for r in table) else 1
    finally:
        if own_dir:
            shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
