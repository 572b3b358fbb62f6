"""Benchmark dltasks.consensus against crowd-kit and the krippendorff package.

Data: ``--items`` items (default 1,000,000) x 3 votes by distinct workers out of
``--workers`` (50) with accuracies spread evenly over 0.55-0.95, ``--classes`` (5)
labels, string ids ``item-000001`` / ``worker-07`` / ``class-3``, rows shuffled,
seeded.  The truth is known, so Dawid-Skene accuracy is printed for both sides.

Cases (ours vs. reference; each side is timed as the best of ``--repeat`` calls, default 3,
except Dawid-Skene which runs once per side unless ``--ds-repeat`` says otherwise):

* ``threshold``   ``threshold_consensus(df, 2, 3)`` vs. crowd-kit ``MajorityVote().fit_predict``
* ``majority``    ``majority_vote(df)`` vs. crowd-kit ``MajorityVote().fit_predict``
* ``dawid_skene`` ``DawidSkene(n_iter=100).fit(df)`` vs. crowd-kit ``DawidSkene(n_iter=100).fit``
  (``--ds-items`` may shrink this case only; the table says when it did)
* ``alpha``       ``krippendorff_alpha(df)`` vs. ``krippendorff.alpha(..., "nominal")``.  The
  reference's time *includes* building its (workers x items) reliability matrix from the
  long frame (factorize + numpy fill, the cheapest way); the build time is also shown
  separately under the table.

crowd-kit gets the frame with ``item_id`` renamed to ``task`` before the clock starts.

Memory: every (case, side) runs in a fresh subprocess.  The child builds the data,
runs ``gc`` and ``malloc_trim``, resets the kernel's peak-RSS mark (``/proc/self/clear_refs``),
takes ``ru_maxrss`` as the baseline, runs the case and reports ``ru_maxrss - baseline``:
the peak resident memory the call added on top of its input.  ``MALLOC_MMAP_THRESHOLD_``
is pinned so large arrays are returned to the OS when freed.  If the peak mark cannot
be reset, the baseline is the peak after building the data (then the figure is a lower
bound; the table says so).

Usage::

    python bench/bench_consensus.py                 # full size, about 3-4 min on 2 cores
    python bench/bench_consensus.py --items 100000  # quick look
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

CASES = ("threshold", "majority", "dawid_skene", "alpha")
TARGETS = {"threshold": 5.0, "majority": 5.0, "dawid_skene": 5.0, "alpha": 3.0}
MEMORY_TARGET = 0.40  # ours peak < 40% of the reference's
SEED = 2024
PER_ITEM = 3


# --------------------------------------------------------------------------- data


def simulate(n_items: int, n_workers: int, n_classes: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.Series]:
    """Votes (shuffled rows, string ids) and the true label per item."""
    if n_workers < PER_ITEM:
        raise SystemExit(f"need at least {PER_ITEM} workers")
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.55, 0.95, n_workers)
    truth = rng.integers(0, n_classes, n_items)
    # three distinct workers per item: w, w + o2, w + o3 (mod W) with distinct offsets o2 != o3
    first = rng.integers(0, n_workers, n_items)
    o2 = rng.integers(1, n_workers, n_items)
    o3 = rng.integers(1, n_workers - 1, n_items)
    o3 = o3 + (o3 >= o2)
    workers = np.stack([first, (first + o2) % n_workers, (first + o3) % n_workers], axis=1).ravel()
    items = np.repeat(np.arange(n_items), PER_ITEM)
    correct = rng.random(len(items)) < accuracy[workers]
    wrong = (truth[items] + rng.integers(1, n_classes, len(items))) % n_classes
    given = np.where(correct, truth[items], wrong)
    order = rng.permutation(len(items))
    digits = max(6, len(str(n_items - 1)))
    item_names = pd.Series([f"item-{i:0{digits}d}" for i in range(n_items)], dtype="str")
    worker_names = pd.Series([f"worker-{w:02d}" for w in range(n_workers)], dtype="str")
    class_names = pd.Series([f"class-{c}" for c in range(n_classes)], dtype="str")
    df = pd.DataFrame(
        {
            "item_id": item_names.take(items[order]).to_numpy(),
            "worker": worker_names.take(workers[order]).to_numpy(),
            "label": class_names.take(given[order]).to_numpy(),
        }
    )
    truth_series = pd.Series(class_names.take(truth).to_numpy(), index=pd.Index(item_names, name="item_id"))
    return df, truth_series


# --------------------------------------------------------------------------- cases


def reliability_matrix(df: pd.DataFrame) -> np.ndarray:
    """krippendorff's input: workers x items, label codes as float, NaN = no vote."""
    item, items = pd.factorize(df["item_id"])
    worker, workers = pd.factorize(df["worker"])
    label, _ = pd.factorize(df["label"], sort=True)
    matrix = np.full((len(workers), len(items)), np.nan)
    matrix[worker, item] = label
    return matrix


def run_case(case: str, side: str, df: pd.DataFrame) -> tuple[Callable[[], Any], dict[str, Any]]:
    """The call to time, plus a dict the call fills with extra facts."""
    extra: dict[str, Any] = {}
    if side == "ours":
        from dltasks import consensus

        if case == "threshold":
            return lambda: consensus.threshold_consensus(df, approval_threshold=2, workers_per_input=3), extra
        if case == "majority":
            return lambda: consensus.majority_vote(df), extra
        if case == "alpha":
            return lambda: extra.update(value=consensus.krippendorff_alpha(df)), extra

        def ours_ds() -> None:
            model = consensus.DawidSkene(n_iter=100).fit(df)
            extra.update(labels=model.labels_, iterations=len(model.loss_history_))

        return ours_ds, extra

    ck = df.rename(columns={"item_id": "task"})
    if case in ("threshold", "majority"):
        from crowdkit.aggregation import MajorityVote

        return lambda: MajorityVote().fit_predict(ck), extra
    if case == "alpha":
        import krippendorff

        def reference_alpha() -> None:
            start = time.perf_counter()
            matrix = reliability_matrix(df)
            extra["build_s"] = time.perf_counter() - start
            extra["value"] = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal"))

        return reference_alpha, extra
    from crowdkit.aggregation import DawidSkene

    def reference_ds() -> None:
        model = DawidSkene(n_iter=100)
        extra.update(labels=model.fit_predict(ck), iterations=len(model.loss_history_))

    return reference_ds, extra


# --------------------------------------------------------------------------- child process


def _reset_peak() -> bool:
    """Drop freed heap pages and reset the kernel's peak-RSS mark; False if impossible."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(case: str, side: str, n_items: int, n_workers: int, n_classes: int, repeat: int) -> None:
    import warnings

    warnings.simplefilter("ignore")  # crowd-kit 1.4.2 under pandas 3 is chatty
    df, truth = simulate(n_items, n_workers, n_classes)
    call, extra = run_case(case, side, df)
    exact = _reset_peak()
    baseline = _max_rss_mb()
    seconds = cpu = float("inf")
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        seconds = min(seconds, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    peak = _max_rss_mb() - baseline  # the highest mark over all repeats
    result: dict[str, Any] = {"seconds": seconds, "cpu": cpu, "peak_mb": peak, "exact_peak": exact}
    if "labels" in extra:
        labels = extra.pop("labels")
        result["accuracy"] = float((labels.reindex(truth.index) == truth).mean())
    result.update({k: v for k, v in extra.items() if isinstance(v, (int, float))})
    print("RESULT " + json.dumps(result))


def spawn(case: str, side: str, n_items: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072", PYTHONWARNINGS="ignore")
    repeat = args.ds_repeat if case == "dawid_skene" else args.repeat
    command = [sys.executable, __file__, "--child", case, side, "--items", str(n_items),
               "--workers", str(args.workers), "--classes", str(args.classes), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{case}/{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# --------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--ds-items", type=int, default=None, help="items for the Dawid-Skene case only")
    parser.add_argument("--workers", type=int, default=50)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="calls per side, best time kept")
    parser.add_argument("--ds-repeat", type=int, default=1, help="calls per side for Dawid-Skene")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ", ".join(CASES))
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.items, args.workers, args.classes, args.repeat)
        return

    print(f"{args.items:,} items x {PER_ITEM} votes, {args.workers} workers, {args.classes} classes; "
          f"one fresh subprocess per (case, side); peak = ru_maxrss growth during the call")
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}\n")
    rows, notes = [], []
    for case in args.cases.split(","):
        n_items = args.ds_items if case == "dawid_skene" and args.ds_items else args.items
        ours = spawn(case, "ours", n_items, args)
        ref = spawn(case, "reference", n_items, args)
        speedup = ref["seconds"] / ours["seconds"]
        memory = ours["peak_mb"] / ref["peak_mb"] if ref["peak_mb"] > 0 else float("nan")
        target = TARGETS[case]
        met = speedup >= target and memory < MEMORY_TARGET
        name = case if n_items == args.items else f"{case} ({n_items:,} items)"
        rows.append((name, ours["seconds"], ref["seconds"], speedup, ours["peak_mb"], ref["peak_mb"],
                     memory, f">={target:g}x, <{MEMORY_TARGET:.0%} mem", "yes" if met else "NO",
                     ref["cpu"] / ours["cpu"]))
        if case == "dawid_skene":
            notes.append(f"dawid_skene accuracy vs truth: ours {ours['accuracy']:.4f} "
                         f"({ours['iterations']} iterations), crowd-kit {ref['accuracy']:.4f} "
                         f"({ref['iterations']} iterations), |diff| {abs(ours['accuracy'] - ref['accuracy']):.4f}")
        if case == "alpha":
            notes.append(f"alpha: ours {ours['value']:.12f}, krippendorff {ref['value']:.12f}; reference time "
                         f"includes {ref['build_s']:.2f} s building the reliability matrix")
        if not (ours["exact_peak"] and ref["exact_peak"]):
            notes.append(f"{case}: peak RSS mark could not be reset; memory figures are lower bounds")
    header = ("case", "ours (s)", "reference (s)", "speed-up", "ours peak MB", "ref peak MB",
              "memory ratio", "target", "met", "cpu speed-up")
    table = [header] + [
        (r[0], f"{r[1]:.2f}", f"{r[2]:.2f}", f"{r[3]:.1f}x", f"{r[4]:.0f}", f"{r[5]:.0f}", f"{r[6]:.0%}", r[7], r[8],
         f"{r[9]:.1f}x")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    print(f"\nload average at end {os.getloadavg()[0]:.1f}")
    print(f"Times are wall-clock seconds, best of {args.repeat} calls (Dawid-Skene: {args.ds_repeat}); "
          "'cpu speed-up' is\nthe same ratio in process CPU time, steadier when the machine is shared.  "
          "'met' uses the wall-clock speed-up.")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
