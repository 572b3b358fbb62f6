"""Benchmark dltasks.partition.plan_partition against a plain-Python greedy planner.

Case: 1,000,000 items, workers_per_input=3, 20 workers with random (seeded, feasible)
weights.  ``ours`` is the best of 5 runs after a warm-up.  The reference assigns items
one at a time in a Python loop (each item goes to the k workers furthest behind their
target); it runs on 100,000 items and its time is multiplied by 10.  The whole script
takes about 5 s.

Usage::

    python bench/bench_partition.py
"""
from __future__ import annotations

import heapq
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from dltasks.partition import normalise_weights, plan_partition  # noqa: E402

N_ITEMS = 1_000_000
K = 3
N_WORKERS = 20
REFERENCE_ITEMS = 100_000
TARGET_S = 0.1


def reference_plan(
    item_ids: Sequence[object], workers: Sequence[str], k: int, shares: Sequence[float], seed: int
) -> pd.DataFrame:
    """Round-robin by deficit, one item at a time, in plain Python."""
    order = list(item_ids)
    np.random.default_rng(seed).shuffle(order)
    n = len(order)
    assigned = [0] * len(workers)
    rows_item: list[object] = []
    rows_user: list[str] = []
    for j, item in enumerate(order, start=1):
        # deficit = how far each worker is behind its share of the slots handed out so far
        deficits = [(j * k * p - a, -i) for i, (p, a) in enumerate(zip(shares, assigned))]
        for _, neg_i in heapq.nlargest(k, deficits):
            assigned[-neg_i] += 1
            rows_item.append(item)
            rows_user.append(workers[-neg_i])
    assert len(rows_item) == n * k
    return pd.DataFrame({"item_id": rows_item, "user_id": rows_user})


def best_of(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    rng = np.random.default_rng(2024)
    workers = [f"user{i:02d}" for i in range(N_WORKERS)]
    weights = rng.uniform(1.0, 3.0, N_WORKERS)  # max share ~ 3/40 << 1/3: feasible
    shares = normalise_weights(workers, weights).tolist()
    int_ids = np.arange(N_ITEMS)
    str_ids = pd.Series([f"item-{i}" for i in range(N_ITEMS)])

    cases = [("int ids", int_ids), ("str ids", str_ids)]
    rows = []
    for name, ids in cases:
        ours = best_of(lambda ids=ids: plan_partition(ids, workers, K, weights, seed=1), repeat=5)
        small = ids[:REFERENCE_ITEMS].tolist()
        ref = once(lambda small=small: reference_plan(small, workers, K, shares, seed=1)) * 10
        target = f"<= {TARGET_S} s" if name == "int ids" else "(info)"
        status = "" if name != "int ids" else ("  ok" if ours <= TARGET_S else "  MISSED")
        rows.append((f"1M items, k={K}, {N_WORKERS} weighted workers, {name}",
                     f"{ours:.4f}", f"{ref:.2f}", f"{ref / ours:.0f}x", target + status))

    header = ("case", "ours (s)", "reference (s, 100k x10)", "ratio (ref/ours)", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    print()
    print("ours = best of 5 runs after a warm-up; reference = plain-Python greedy by deficit")
    print(f"(one item at a time) timed once on {REFERENCE_ITEMS:,} items and scaled x10.")

    peak = peak_memory(lambda: plan_partition(int_ids, workers, K, weights, seed=1))
    plan = plan_partition(int_ids, workers, K, weights, seed=1)
    size = plan.memory_usage(deep=True).sum()
    print(f"peak memory of ours (tracemalloc, int ids): {peak / 2**20:.1f} MiB "
          f"(result frame itself: {size / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
