"""Dynamic overlap vs a fixed 3 workers per item: labels spent and accuracy, on a simulated crowd.

Issue 15: dynamic overlap (``worker_strategy="dynamic"``, ``min_workers=2``, ``max_workers=5``,
consensus review with ``approval_threshold=2``) should reach the accuracy of a fixed 3 workers per
item with at least 25 % fewer labels.

Each run is :func:`dltasks.quality.simulate.compare_strategies`: 1,000 items with known true
labels (3 classes), 10 workers of known accuracy, every worker answering its
``task.queue(user_id)`` through a real in-memory store until no worker has pending items; both
strategies meet the same crowd (each worker's answer on each item is drawn once, seeded).  The
decided label is the consensus where the store reached one, otherwise the majority of the
item's labels with a tie counted wrong.  Two crowds:

* ``mixed``    accuracies 0.60-0.95 (the issue's example),
* ``skilled``  accuracies 0.80-0.98.

Dynamic overlap with ``approval_threshold=2`` decides an item exactly as a fixed 3 would whenever
the first two workers agree (the third cannot change a 2-vote majority), and adds a worker only
where they disagree; so its saving is at most P(first two agree) / 3 (the mean of
p_i p_j + (1-p_i)(1-p_j)/(classes-1) over pairs of distinct workers, printed), a little less
with 3 classes (an item whose first three labels all differ takes a fourth).  A crowd whose
workers agree less than 75 % of the time cannot save 25 % against a fixed 3.  Fixed 3 leaves
an item whose three labels all differ to review, counted wrong here (a coin flip among the
three would get a third of them right); dynamic asks a fourth worker instead.  Target: saving
>= 25 % and dynamic accuracy >= fixed - 0.5 pt.  Both strategies share the answers' random
draws (:class:`dltasks.quality.simulate.Crowd`), which narrows the noise in the difference;
``--seeds`` averages several crowds.

Usage::

    python bench/bench_dynamic_overlap.py                # about 1.5 minutes
    python bench/bench_dynamic_overlap.py --items 300 --seeds 0 1 2
"""
from __future__ import annotations

import argparse
import sys
import time
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from dltasks.quality.simulate import compare_strategies  # noqa: E402

CROWDS = {"mixed": (0.60, 0.95), "skilled": (0.80, 0.98)}
N_WORKERS = 10
SAVING_TARGET = 0.25
ACCURACY_TOLERANCE = 0.005


def expected_agreement(accuracies: np.ndarray, n_classes: int) -> float:
    """P(two distinct workers, drawn uniformly, give the same label)."""
    pairs = [accuracies[i] * accuracies[j] + (1 - accuracies[i]) * (1 - accuracies[j]) / (n_classes - 1)
             for i, j in permutations(range(len(accuracies)), 2)]
    return float(np.mean(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--crowds", nargs="+", default=list(CROWDS), choices=list(CROWDS))
    args = parser.parse_args()
    print(f"{args.items:,} items, {args.classes} classes, {N_WORKERS} workers, seeds {args.seeds}; "
          "fixed: 3 workers per item, majority; dynamic: min 2, max 5, approval threshold 2")
    summary = []
    for crowd in args.crowds:
        accuracies = np.round(np.linspace(*CROWDS[crowd], N_WORKERS), 4)
        start = time.perf_counter()
        runs = [compare_strategies(n_items=args.items, accuracies=accuracies, n_classes=args.classes, seed=s)
                for s in args.seeds]
        total = pd.concat(runs).groupby(level="strategy", sort=False)[["items", "labels", "reviewed"]].sum()
        total["accuracy"] = pd.concat(runs).groupby(level="strategy", sort=False)["accuracy"].mean()
        total["labels_per_item"] = total["labels"] / total["items"]
        fixed, dynamic = total.loc["fixed"], total.loc["dynamic"]
        saving = 1 - dynamic["labels"] / fixed["labels"]
        gap = dynamic["accuracy"] - fixed["accuracy"]
        expected = expected_agreement(accuracies, args.classes) / 3
        met = saving >= SAVING_TARGET and gap >= -ACCURACY_TOLERANCE
        print()
        print(f"crowd {crowd} (accuracies {CROWDS[crowd][0]:.2f}-{CROWDS[crowd][1]:.2f}), "
              f"{time.perf_counter() - start:.0f} s")
        print(f"  {'strategy':<9} {'labels':>7} {'per item':>9} {'accuracy':>9} {'to review':>10}")
        for name, row in total.iterrows():
            print(f"  {name:<9} {int(row['labels']):>7} {row['labels_per_item']:>9.3f} {row['accuracy']:>9.3f} "
                  f"{int(row['reviewed']):>10}")
        print(f"  saving {saving:.1%} of the labels (at most P(first two agree)/3 = {expected:.1%}); "
              f"accuracy dynamic - fixed {gap * 100:+.1f} pt")
        print(f"  target (>= {SAVING_TARGET:.0%} fewer labels, accuracy within {ACCURACY_TOLERANCE * 100:.1f} pt "
              f"or better): {'met' if met else 'NOT met'}")
        summary.append((crowd, met))
    print()
    print("target met for: " + (", ".join(c for c, m in summary if m) or "none")
          + "; not met for: " + (", ".join(c for c, m in summary if not m) or "none"))


if __name__ == "__main__":
    main()
