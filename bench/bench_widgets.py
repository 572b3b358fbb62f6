"""Benchmark the Jupyter widgets against the issue's time budgets (issue 5).

Cases (targets are absolute seconds, from the issue):

``TaskBoard``
    ``TaskBoard(store)`` over 1,000 tasks (100 items each, 3 assignees): the first page
    of 25 tasks, with each task's progress.  Target: <= 0.3 s.
``PartitionView``
    ``PartitionView(task)`` on a 1,000,000-item task (20 workers, 3 per item, seeded
    weights; a third of the items fully labelled): table and chart.  Target: <= 1 s.
``ConsensusView``
    ``ConsensusView(task)`` on the same task (1,000,000 labels in): status chart,
    agreement figures, per-worker agreement, first page of items.  Target: <= 1 s.
``live preview``
    ``TaskForm(dataset).update_preview()`` on a 100,000-item dataset with 5 assignees
    after a weight changes (plan, table and chart), and after an item condition changes
    (``FilterBuilder.refresh``: the count query, then the preview).  Target: <= 0.3 s each.
``LabelingWidget`` (no target in the issue; shown for reference)
    ``LabelingWidget(task, user)`` on the big task: one worker's queue (about 150,000
    assignments) and the first item.

Each timing is the median of ``--repeat`` runs (default 5) after one warm-up.  The stores
are built once through the SDK (``import_df``, ``tasks.create``) and cached in ``--cache``
(default ``$TMPDIR/dltasks-bench-widgets``) under a name that carries a hash of the store
schema (tables and indexes), so a schema change (a new index, say) builds them again
instead of timing a store the SDK would no longer create; building the 1,000,000-item
store takes a few minutes.  The labels of the big task are written in bulk straight into
the store's annotation and assignment tables (the SDK has no bulk submit; one
``task.submit`` per label would take most of an hour), then the item statuses are
re-derived by the SDK's own ``recompute_statuses``.

Under the table, the two big views' time is split into the store read they make
(``task.partition()``, ``task.labels_df()``), the analyses on the frame read (encoding it
once with ``encode_votes``, then ``task.consensus/agreement/worker_quality(labels=...)``), the chart (matplotlib figure to
PNG) and the rest (tables, widgets), each the median over ``--repeat`` builds.

Usage::

    python bench/bench_widgets.py                     # builds or reuses the cached stores
    python bench/bench_widgets.py --items 100000      # a smaller big task (quick look)
"""
from __future__ import annotations

import argparse
import collections
import copy
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
import dltasks as dl  # noqa: E402
from dltasks.backends.sql import schema as S  # noqa: E402
from dltasks.widgets import ConsensusView, LabelingWidget, PartitionView, TaskBoard, TaskForm  # noqa: E402

LABELS = ["cat", "dog", "fox", "owl"]
N_WORKERS, K, SEED = 20, 3, 7
BOARD_TASKS, BOARD_ITEMS = 1_000, 100
PREVIEW_ITEMS = 100_000


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``repeat`` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def schema_tag() -> str:
    """A short hash of the store schema (tables and indexes, as SQLite DDL): names the cache."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = sqlite.dialect()
    ddl = [str(CreateTable(t).compile(dialect=dialect)) for t in S.metadata.sorted_tables]
    ddl += sorted(str(CreateIndex(i).compile(dialect=dialect)) for t in S.metadata.sorted_tables for i in t.indexes)
    return hashlib.sha1("\n".join(ddl).encode()).hexdigest()[:8]


TAG = schema_tag()


# -- stores ------------------------------------------------------------------------------------
def board_store(folder: Path) -> dl.Store:
    store = dl.connect(folder / f"board-{TAG}.db")
    if store.tasks.list(per_page=1).total >= BOARD_TASKS:
        return store
    note(f"building {BOARD_TASKS:,} tasks for the board ...")
    ds = store.datasets.create(f"board-{time.time_ns()}", labels=LABELS)
    ds.items.import_df(pd.DataFrame({"name": [f"i{i}.jpg" for i in range(BOARD_ITEMS)]}))
    users = [f"user{i}@example.com" for i in range(12)]
    rng = np.random.default_rng(SEED)
    for i in range(BOARD_TASKS):
        who = list(rng.choice(users, 3, replace=False))
        due = time.time() + float(rng.integers(-5, 30)) * 86400
        task = ds.tasks.create(f"task {i:04d}", assignee_ids=who, due_date=due, seed=i,
                               priority=str(rng.choice(["low", "medium", "high"])))
        if i % 3 == 0:
            task.submit(int(task.items_df()["item_id"].iloc[0]), task.assignments_df()["user_id"].iloc[0], "cat")
    return store


def big_task(folder: Path, n_items: int) -> Any:
    store = dl.connect(folder / f"big-{n_items}-{TAG}.db")
    try:
        return store.datasets.get(name="big").tasks.get(task_name="big")
    except dl.NotFoundError:
        pass
    rng = np.random.default_rng(SEED)
    note(f"building a {n_items:,}-item task (items, task, labels) ...")
    ds = store.datasets.create("big", labels=LABELS)
    ds.items.import_df(pd.DataFrame({"name": [f"img{i:07d}.jpg" for i in range(n_items)],
                                     "user.colour": rng.choice(["red", "green", "blue"], n_items)}))
    workers = [f"worker{i:02d}@example.com" for i in range(N_WORKERS)]
    weights = dict(zip(workers, rng.uniform(1.0, 1.5, N_WORKERS).round(2).tolist()))
    task = ds.tasks.create("big", assignee_ids=workers, workers_per_input=K, weights=weights, seed=SEED,
                           review_strategy="consensus", approval_threshold=2, reviewer_ids=["rita@example.com"])
    _bulk_labels(store, task, rng)
    return ds.tasks.get(task_name="big")


def _bulk_labels(store: dl.Store, task: Any, rng: np.random.Generator) -> None:
    """All workers of the first third of the items give a label (bulk, see the module doc)."""
    import sqlalchemy as sa

    from dltasks.backends.sql.work import recompute_statuses

    plan = task.assignments_df()
    ids = np.sort(plan["item_id"].unique())
    chosen = plan[plan["item_id"] <= ids[len(ids) // 3]]
    truth = rng.choice(LABELS, len(ids) + 1, p=[0.5, 0.3, 0.15, 0.05])
    right = rng.random(len(chosen)) < 0.8
    labels = np.where(right, truth[chosen["item_id"].to_numpy() % len(truth)], rng.choice(LABELS, len(chosen)))
    now = time.time()
    with store.atomic() as conn:
        store.backend.db.insert_rows(conn, S.annotations, ("item_id", "label", "author", "task_id", "created_at"),
                             zip(chosen["item_id"].tolist(), labels.tolist(), chosen["user_id"].tolist(),
                                 [task.id] * len(chosen), [now] * len(chosen)))
        a = S.assignments
        conn.execute(sa.update(a).where(a.c.task_id == task.id, a.c.role == "worker",
                                        a.c.item_id <= int(ids[len(ids) // 3])).values(status="done"))
        recompute_statuses(conn, task.id, "consensus", 2)


def preview_dataset(folder: Path) -> Any:
    store = dl.connect(folder / f"preview-{TAG}.db")
    try:
        return store.datasets.get(name="preview")
    except dl.NotFoundError:
        pass
    note(f"building a {PREVIEW_ITEMS:,}-item dataset ...")
    rng = np.random.default_rng(SEED)
    ds = store.datasets.create("preview", labels=LABELS)
    ds.items.import_df(pd.DataFrame({"name": [f"p{i:06d}.jpg" for i in range(PREVIEW_ITEMS)],
                                     "user.colour": rng.choice(["red", "green", "blue"], PREVIEW_ITEMS),
                                     "user.score": rng.integers(0, 100, PREVIEW_ITEMS)}))
    return ds


# -- cases -------------------------------------------------------------------------------------
#: The SDK calls of the big views, by part: the store read, then the analyses on the frame read.
PARTS = {"read": ("partition", "labels_df"), "analyses": ("consensus", "agreement", "worker_quality")}
#: What a view module calls itself, by part: encoding the votes read (counted with the analyses);
#: drawing its chart: the figure (dltasks.plots), then PNG into the widget.
MODULE_CALLS = {"analyses": ("encode_votes",), "chart": ("plot_partition", "plot_consensus_status", "show_figure")}


def _clocked(fn: Callable[..., Any], seconds: dict[str, float], part: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            seconds[part] += time.perf_counter() - start
    return call


def breakdown(view: Callable[[Any], Any], task: Any, repeat: int) -> dict[str, float]:
    """Median seconds per part of building ``view(task)``: read, analyses, chart and the rest.

    Each build gets a copy of ``task`` whose SDK calls (:data:`PARTS`) are clocked, and the
    view module's own calls (:data:`MODULE_CALLS`: the votes encoding, the chart) are clocked too.
    """
    module = sys.modules[view.__module__]
    times: dict[str, list[float]] = collections.defaultdict(list)
    for _ in range(repeat):
        seconds: dict[str, float] = collections.defaultdict(float)
        twin = copy.copy(task)
        for part, names in PARTS.items():
            for name in names:
                setattr(twin, name, _clocked(getattr(task, name), seconds, part))
        patched = {name: getattr(module, name) for names in MODULE_CALLS.values() for name in names
                   if hasattr(module, name)}
        for part, names in MODULE_CALLS.items():
            for name in names:
                if name in patched:
                    setattr(module, name, _clocked(patched[name], seconds, part))
        try:
            start = time.perf_counter()
            view(twin)
            total = time.perf_counter() - start
        finally:
            for name, fn in patched.items():
                setattr(module, name, fn)
        for part in ("read", "analyses", "chart"):
            times[part].append(seconds[part])
        times["rest"].append(total - sum(seconds.values()))
    return {part: statistics.median(values) for part, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="items of the big task")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "dltasks-bench-widgets"))
    args = parser.parse_args()
    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)

    rows: list[tuple[str, float, float | None]] = []
    store = board_store(folder)
    rows.append((f"TaskBoard, {BOARD_TASKS:,} tasks (page of 25)", timed(lambda: TaskBoard(store), args.repeat), 0.3))

    task = big_task(folder, args.items)
    split: list[str] = []
    for name, view, read in (("PartitionView", PartitionView, "partition"),
                             ("ConsensusView", ConsensusView, "labels_df")):
        rows.append((f"{name}, {args.items:,}-item task", timed(lambda: view(task), args.repeat), 1.0))
        parts = breakdown(view, task, args.repeat)
        split.append(f"  {name}: task.{read}() (reading the store) {parts['read']:.3f} s; analyses "
                     f"{parts['analyses']:.3f} s; chart {parts['chart']:.3f} s; the rest {parts['rest']:.3f} s")
    worker = str(task.assignee_ids[0])
    rows.append((f"LabelingWidget, {args.items:,}-item task (one worker)",
                 timed(lambda: LabelingWidget(task, worker), args.repeat), None))

    ds = preview_dataset(folder)
    form = TaskForm(ds)
    for i in range(5):
        form.assignees.add(f"annotator{i}@example.com")
    form.workers_per_input.value = 2
    weights = iter(np.tile([2.0, 1.0], 1000))
    rows.append((f"live preview, weight change ({PREVIEW_ITEMS:,} items)",
                 timed(lambda: form.assignees.set_weight("annotator0@example.com", next(weights)), args.repeat), 0.3))
    row = form.items.add_row("metadata.user.score", "gt", "10")
    values = iter(str(v) for v in range(11, 2000))
    rows.append((f"live preview, item condition change ({PREVIEW_ITEMS:,} items)",
                 timed(lambda: setattr(row.children[2], "value", next(values)), args.repeat), 0.3))

    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"\nload average {load} ({os.cpu_count()} cores); store schema {TAG}")
    print(f"{'case':<58} {'ours s':>8} {'target s':>9} {'ratio':>6}  ok")
    for name, ours, target in rows:
        if target is None:
            print(f"{name:<58} {ours:>8.3f} {'—':>9} {'':>6}  —")
            continue
        print(f"{name:<58} {ours:>8.3f} {target:>9.1f} {ours / target:>6.2f}  {'yes' if ours <= target else 'NO'}")
    print(f"\nwhere the time of the big views goes (median of {args.repeat} builds):")
    print("\n".join(split))


if __name__ == "__main__":
    main()
