"""Benchmark dltasks.quality.gold_accuracy: gold accuracy per worker for 1,000,000 gold answers.

Data: 1,000,000 gold answers by 200 workers (string ids ``w000``..``w199``, drawn uniformly),
each worker right with its own probability (0.5-0.99), rows in random order, seeded.  Every
side computes, per worker, the answers, the answers right, the accuracy and the Wilson score
95 % interval, and the results are checked equal before anything is printed.

* ``ours``       ``gold_accuracy(frame)``: one factorise and two ``numpy.bincount`` calls.
* ``groupby``    a straightforward pandas ``groupby("user_id")["correct"].apply(...)`` whose
  function computes the counts and the Wilson interval of one worker (``math``).
* ``row loop``   a per-row Python loop counting into dicts, then the same Wilson formula per
  worker; timed on 100,000 rows and multiplied by 10.

Times are CPU seconds of the process (``time.process_time``, steadier than wall time on a shared
machine), best of 5 calls after a warm-up (the row loop: one call).  Target (issue 15): ours
<= 0.3 s for 1M answers.  The whole script takes about 4 s.

Usage::

    python bench/bench_gold.py
    python bench/bench_gold.py --rows 200000 --workers 50
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from dltasks.quality import gold_accuracy  # noqa: E402

TARGET_S = 0.3
Z = 1.959963984540054  # the normal 97.5 % quantile
LOOP_SHARE = 10  # the row loop runs on 1/10 of the rows


def make_answers(rows: int, workers: int, seed: int = 15) -> pd.DataFrame:
    """``rows`` gold answers (user_id, correct) by ``workers`` workers of known accuracy."""
    rng = np.random.default_rng(seed)
    names = np.array([f"w{i:03d}" for i in range(workers)], dtype=object)
    who = rng.integers(0, workers, rows)
    accuracy = rng.uniform(0.5, 0.99, workers)
    return pd.DataFrame({"user_id": names[who], "correct": rng.random(rows) < accuracy[who]})


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score 95 % interval of ``k`` of ``n``, one worker, plain Python."""
    p = k / n
    denom = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / denom
    half = Z / denom * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _one_worker(correct: pd.Series) -> pd.Series:
    n, k = len(correct), int(correct.sum())
    low, high = wilson(k, n)
    return pd.Series({"gold_n": n, "gold_correct": k, "gold_accuracy": k / n, "gold_low": low, "gold_high": high})


def reference_groupby(answers: pd.DataFrame) -> pd.DataFrame:
    """pandas groupby-apply: one Python call per worker."""
    out = answers.groupby("user_id")["correct"].apply(_one_worker).unstack()
    return out.reset_index().astype({"gold_n": np.int64, "gold_correct": np.int64})


def reference_loop(user_ids: list[str], correct: list[bool]) -> pd.DataFrame:
    """A per-row Python loop counting into dicts, then the Wilson formula per worker."""
    n: dict[str, int] = {}
    k: dict[str, int] = {}
    for user, right in zip(user_ids, correct):
        n[user] = n.get(user, 0) + 1
        k[user] = k.get(user, 0) + (1 if right else 0)
    rows = [(u, n[u], k[u], k[u] / n[u], *wilson(k[u], n[u])) for u in sorted(n)]
    return pd.DataFrame(rows, columns=["user_id", "gold_n", "gold_correct", "gold_accuracy", "gold_low", "gold_high"])


def cpu_best(fn: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` calls after one warm-up call (``repeat`` 1: the one call)."""
    if repeat > 1:
        fn()
    best = math.inf
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def check_equal(ours: pd.DataFrame, other: pd.DataFrame, name: str) -> None:
    """Stop the bench when a reference disagrees with ours."""
    cols = ["gold_n", "gold_correct", "gold_accuracy", "gold_low", "gold_high"]
    assert ours["user_id"].tolist() == other["user_id"].tolist(), name
    np.testing.assert_allclose(ours[cols].to_numpy(float), other[cols].to_numpy(float), atol=1e-12, err_msg=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=200)
    args = parser.parse_args()
    answers = make_answers(args.rows, args.workers)
    part = answers.iloc[: args.rows // LOOP_SHARE]
    part_users, part_correct = part["user_id"].tolist(), part["correct"].tolist()

    ours_frame = gold_accuracy(answers)
    check_equal(ours_frame, reference_groupby(answers), "groupby")
    check_equal(gold_accuracy(part), reference_loop(part_users, part_correct), "row loop")

    ours = cpu_best(lambda: gold_accuracy(answers), 5)
    groupby = cpu_best(lambda: reference_groupby(answers), 5)
    loop = cpu_best(lambda: reference_loop(part_users, part_correct), 1) * LOOP_SHARE

    rows = [
        ("ours: gold_accuracy", f"{ours:.4f}", "1x"),
        ("reference: pandas groupby-apply", f"{groupby:.4f}", f"{groupby / ours:.1f}x"),
        (f"reference: per-row Python loop (1/{LOOP_SHARE} of the rows, x{LOOP_SHARE})", f"{loop:.4f}",
         f"{loop / ours:.1f}x"),
    ]
    header = ("side", "CPU s", "ratio (side / ours)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: " | ".join(c.ljust(w) for c, w in zip(r, widths))  # noqa: E731
    print(f"gold accuracy per worker: {args.rows:,} gold answers, {args.workers} workers "
          f"(results equal on every side)")
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    print()
    met = ours <= TARGET_S
    scale = "" if args.rows == 1_000_000 else " (set for 1,000,000 answers)"
    print(f"target{scale}: ours <= {TARGET_S} s CPU: {'met' if met else 'NOT met'} ({ours:.3f} s); "
          f"best of 5 after a warm-up")


if __name__ == "__main__":
    main()
