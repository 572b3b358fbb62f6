"""Benchmark box consensus (dltasks.agreement) against a straightforward per-item loop.

Data: ``--items`` items (default 100,000) x 3 workers x 5 boxes, the long answers frame of issue 14
as ``task.labels_df()`` gives it (``item_id`` int64, ``worker`` / ``kind`` / ``label`` object columns
of strings, ``left top right bottom`` float64, ``geo`` and ``text`` None).  Each item has 5 objects (centres uniform in 100..900 px, sides 40..200 px,
one of 3 labels); 3 of 20 workers each draw every object with Gaussian jitter (sd 3% of the side per
coordinate), or with probability 5% a stray 60 px box instead.  Rows are shuffled (the worst case
for the sort; ``--ordered`` keeps item order, as a store would give it).  Seeded.

Cases, each in a fresh subprocess:

* ``ours``      ``clusters = cluster_shapes(df)``, then ``decide(clusters, "box", 2, 3)`` and
                ``consensus_shapes(clusters, 2)``: the shapes matched once for both.
* ``separate``  ``decide(df, "box", 2, 3)`` and ``consensus_shapes(df, 2)``, each from the frame.
* ``reference`` the same decisions and consensus boxes by a per-item Python loop: per (item, label)
                and worker pair an IoU matrix and ``scipy.optimize.linear_sum_assignment``, union-find
                clusters, medians, the "outvoted" rule of ``agreed_items``.  It runs on the first ``--ref-items`` items (default 2,000) of the
                same data and its time is multiplied by ``items / ref-items``; its memory is not
                scaled.  Its statuses and boxes are compared with ours on those items.
* ``one_item``  ``agreed_items(one_item_frame, "box", 2)`` as the store calls it at every submit
                (3 workers x 5 boxes): median and 95th percentile of 2,000 calls.

Times: CPU seconds of the process (``time.process_time``; steadier than wall time on a shared
machine, wall time is shown too), first call and best of ``--repeat``, after a warm-up call on 200
items (imports, scipy.optimize's first load).  Memory: ``ru_maxrss`` (resource.getrusage) -- the
process's peak RSS, input frame included, and the growth of that peak during the calls over the
peak after building the data (the kernel's peak mark is reset before the calls, as in
bench_consensus.py).  Target (issue 14): ours <= 2 s and <= 500 MB.

Usage::

    python bench/bench_box_consensus.py                # about a minute
    python bench/bench_box_consensus.py --items 20000  # quick look
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
sys.path.insert(0, str(ROOT / "bench"))
from bench_consensus import _max_rss_mb, _reset_peak  # noqa: E402 -- one way to measure peak memory

SEED = 14
WORKERS, PER_ITEM, BOXES, LABELS = 20, 3, 5, ("car", "person", "sign")
THRESHOLD, IOU = 2, 0.5
TARGET_S, TARGET_MB = 2.0, 500.0


# --------------------------------------------------------------------------- data


def simulate(n_items: int, ordered: bool = False, seed: int = SEED) -> pd.DataFrame:
    """The answers frame described in the module docstring."""
    rng = np.random.default_rng(seed)
    shape = (n_items, PER_ITEM, BOXES)
    cx, cy = rng.uniform(100, 900, (2, n_items, 1, BOXES))
    width, height = rng.uniform(40, 200, (2, n_items, 1, BOXES))
    label = np.broadcast_to(rng.integers(0, len(LABELS), (n_items, 1, BOXES)), shape)
    jitter = rng.normal(0, 0.03, (4,) + shape)
    stray = rng.random(shape) < 0.05
    sx, sy = rng.uniform(0, 900, (2,) + shape)
    left = np.where(stray, sx, cx - width / 2 + jitter[0] * width)
    top = np.where(stray, sy, cy - height / 2 + jitter[1] * height)
    right = np.where(stray, sx + 60, cx + width / 2 + jitter[2] * width)
    bottom = np.where(stray, sy + 60, cy + height / 2 + jitter[3] * height)
    first = rng.integers(0, WORKERS, n_items)
    worker = np.broadcast_to(((first[:, None] + np.arange(PER_ITEM)) % WORKERS)[:, :, None], shape)
    n = n_items * PER_ITEM * BOXES
    order = np.arange(n) if ordered else rng.permutation(n)
    names = np.array([f"worker-{w:02d}" for w in range(WORKERS)], dtype=object)
    objects = lambda values: pd.Series(values, dtype=object)  # noqa: E731 -- as task.labels_df() gives them
    return pd.DataFrame({
        "item_id": np.repeat(np.arange(n_items, dtype=np.int64), PER_ITEM * BOXES)[order],
        "worker": objects(names[worker.ravel()[order]]),
        "kind": objects(np.full(n, "box", dtype=object)),
        "label": objects(np.array(LABELS, dtype=object)[label.ravel()[order]]),
        "left": left.ravel()[order], "top": top.ravel()[order],
        "right": right.ravel()[order], "bottom": bottom.ravel()[order],
        "geo": objects(np.full(n, None, dtype=object)), "text": objects(np.full(n, None, dtype=object)),
    })


# --------------------------------------------------------------------------- the reference


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    width = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    height = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = width * height
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def reference(df: pd.DataFrame, threshold: int, workers_per_input: int) -> tuple[dict[Any, str], list[tuple]]:
    """Status per item and consensus boxes (item, label, left, top, right, bottom), one item at a time."""
    from scipy.optimize import linear_sum_assignment

    df = df.sort_values("item_id", kind="stable")
    items = df["item_id"].to_numpy()
    workers, kinds, labels = (df[c].to_numpy(dtype=object) for c in ("worker", "kind", "label"))
    coords = df[["left", "top", "right", "bottom"]].to_numpy()
    cuts = np.flatnonzero(items[1:] != items[:-1]) + 1
    statuses: dict[Any, str] = {}
    consensus: list[tuple] = []
    for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(items)]):
        item = items[start]
        answered = set(workers[start:stop])
        by_label: dict[str, list[int]] = {}
        for row in range(start, stop):
            if kinds[row] == "box":
                by_label.setdefault(labels[row], []).append(row)
        clusters: list[list[int]] = []
        for label, rows in sorted(by_label.items()):
            parent = {row: row for row in rows}

            def root(x: int) -> int:
                while parent[x] != x:
                    x = parent[x]
                return x

            by_worker: dict[str, list[int]] = {}
            for row in rows:
                by_worker.setdefault(workers[row], []).append(row)
            for one, other in itertools.combinations(sorted(by_worker), 2):
                a, b = by_worker[one], by_worker[other]
                matrix = _iou_matrix(coords[a], coords[b])
                matrix[matrix < IOU] = 0.0
                for r, c in zip(*linear_sum_assignment(matrix, maximize=True)):
                    if matrix[r, c] > 0:
                        parent[root(a[r])] = root(b[c])
            grouped: dict[int, list[int]] = {}
            for row in rows:
                grouped.setdefault(root(row), []).append(row)
            clusters += grouped.values()
        agreed_set = [i for i, members in enumerate(clusters) if len(members) >= threshold]
        for i in agreed_set:
            consensus.append((item, labels[clusters[i][0]], *np.median(coords[clusters[i]], axis=0).tolist()))
        # agreed: every cluster in, or `threshold` workers whose whole answer is the consensus
        answer = {worker: set() for worker in answered}
        for i, members in enumerate(clusters):
            for row in members:
                answer[workers[row]].add(i)
        whole = sum(shapes == set(agreed_set) for shapes in answer.values())
        agreed = len(answered) >= threshold and (len(agreed_set) == len(clusters) or whole >= threshold)
        statuses[item] = ("approved" if agreed else
                          "awaiting_review" if len(answered) >= workers_per_input else "awaiting_consensus")
    return statuses, consensus


# --------------------------------------------------------------------------- child process


def _timed(call: Any, repeat: int) -> dict[str, Any]:
    exact = _reset_peak()
    baseline = _max_rss_mb()
    cpu, wall = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    peak = _max_rss_mb()
    return {"cpu_first": cpu[0], "cpu": min(cpu), "wall_first": wall[0], "wall": min(wall),
            "growth_mb": peak - baseline, "peak_mb": peak, "exact_peak": exact}


def child(side: str, n_items: int, ordered: bool, repeat: int, ref_items: int) -> dict[str, Any]:
    from dltasks.agreement import agreed_items, cluster_shapes, consensus_shapes, decide

    warm = simulate(200, ordered)
    reference(warm, THRESHOLD, PER_ITEM)
    decide(warm, "box", THRESHOLD, PER_ITEM)
    if side == "one_item":
        one = simulate(1, ordered=True)
        for _ in range(200):
            agreed_items(one, "box", THRESHOLD)
        times = []
        start_cpu = time.process_time()
        for _ in range(2000):
            start = time.perf_counter()
            agreed_items(one, "box", THRESHOLD)
            times.append(time.perf_counter() - start)
        return {"p50_ms": 1000 * float(np.median(times)), "p95_ms": 1000 * float(np.percentile(times, 95)),
                "cpu_ms": (time.process_time() - start_cpu) / 2}
    df = simulate(n_items, ordered)
    frame_mb = float(df.memory_usage(index=False).sum() + sum(  # shared string objects counted once
        sys.getsizeof(v) for c in ("worker", "kind", "label") for v in df[c].unique())) / 2**20
    if side == "ours":
        def call() -> None:
            clusters = cluster_shapes(df, IOU)
            decide(clusters, "box", THRESHOLD, PER_ITEM, IOU)
            consensus_shapes(clusters, THRESHOLD, IOU)
        result = _timed(call, repeat)
    elif side == "separate":
        result = _timed(lambda: (decide(df, "box", THRESHOLD, PER_ITEM, IOU), consensus_shapes(df, THRESHOLD, IOU)),
                        repeat)
    else:
        sample = df[df["item_id"] < ref_items].reset_index(drop=True)
        del df
        out: dict[str, Any] = {}
        result = _timed(lambda: out.update(answer=reference(sample, THRESHOLD, PER_ITEM)), 1)
        statuses, boxes = out["answer"]
        ours = decide(sample, "box", THRESHOLD, PER_ITEM, IOU)["status"].astype(str).to_dict()
        mine = consensus_shapes(sample, THRESHOLD, IOU)
        mine_boxes = sorted(map(tuple, mine[["item_id", "label", "left", "top", "right", "bottom"]].values.tolist()))
        result.update(items=len(statuses), same_status=sum(ours[i] == s for i, s in statuses.items()),
                      boxes=len(boxes), same_boxes=len(set(mine_boxes) & set(map(tuple, boxes))),
                      our_boxes=len(mine_boxes))
    result["shapes"] = int(n_items * PER_ITEM * BOXES)
    result["frame_mb"] = frame_mb
    return result


def spawn(side: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", side, "--items", str(args.items), "--repeat", str(args.repeat),
               "--ref-items", str(args.ref_items)] + (["--ordered"] if args.ordered else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{side} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# --------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--ref-items", type=int, default=2_000, help="items the reference runs on (time scaled)")
    parser.add_argument("--repeat", type=int, default=3, help="calls per case; first and best are shown")
    parser.add_argument("--ordered", action="store_true", help="rows in item order instead of shuffled")
    parser.add_argument("--child", metavar="SIDE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child, args.items, args.ordered, args.repeat, args.ref_items)))
        return

    n, scale = args.items, args.items / args.ref_items
    print(f"box consensus: {n:,} items x {PER_ITEM} workers x {BOXES} boxes = {n * PER_ITEM * BOXES:,} boxes, "
          f"rows {'in item order' if args.ordered else 'shuffled'}; threshold {THRESHOLD}, IoU >= {IOU}")
    print(f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}\n")
    ours, separate, ref, one = (spawn(side, args) for side in ("ours", "separate", "reference", "one_item"))
    rows = [
        ("ours (cluster_shapes once; decide + consensus_shapes)", ours["cpu"], ours["cpu_first"], ours["wall"],
         ours["growth_mb"], ours["peak_mb"]),
        ("ours, decide and consensus_shapes each from the frame", separate["cpu"], separate["cpu_first"],
         separate["wall"], separate["growth_mb"], separate["peak_mb"]),
        (f"reference: per-item loop, {args.ref_items:,} items, time x {scale:g}", ref["cpu"] * scale,
         ref["cpu"] * scale, ref["wall"] * scale, ref["growth_mb"], ref["peak_mb"]),
    ]
    header = ("case", "CPU s (best)", "CPU s (first)", "wall s (best)", "peak growth MB", "process peak MB")
    table = [header] + [(r[0], f"{r[1]:.2f}", f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.0f}", f"{r[5]:.0f}")
                        for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    ratio = ref["cpu"] * scale / ours["cpu"]
    met_time = ours["cpu_first"] <= TARGET_S
    met_memory = ours["growth_mb"] <= TARGET_MB
    print(f"\nspeed-up over the reference (CPU): {ratio:.0f}x (each from the frame: "
          f"{ref['cpu'] * scale / separate['cpu']:.0f}x)")
    print(f"target{' (set for 100,000 items)' if n != 100_000 else ''} <= {TARGET_S:g} s (first call, CPU): {'met' if met_time else 'NOT met'} ({ours['cpu_first']:.2f} s); "
          f"<= {TARGET_MB:g} MB (peak growth): {'met' if met_memory else 'NOT met'} ({ours['growth_mb']:.0f} MB; "
          f"the process's whole peak, input frame and libraries included, {ours['peak_mb']:.0f} MB: "
          f"{ours['peak_mb'] - ours['growth_mb']:.0f} MB before the calls, of which the frame {ours['frame_mb']:.0f} MB)")
    print(f"reference on its {ref['items']:,} items: same status on {ref['same_status']:,}; "
          f"{ref['same_boxes']:,} of its {ref['boxes']:,} consensus boxes equal ours ({ref['our_boxes']:,})")
    print(f"store's one-item call, agreed_items (3 workers x 5 boxes): {one['cpu_ms']:.2f} ms CPU per call; "
          f"wall median {one['p50_ms']:.2f} ms, 95th percentile {one['p95_ms']:.2f} ms")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    if not (ours["exact_peak"] and ref["exact_peak"]):
        print("the peak RSS mark could not be reset: peak growth figures are lower bounds")


if __name__ == "__main__":
    main()
