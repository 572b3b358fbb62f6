"""Array helpers of dltasks.agreement: runs, ranges, a radix sort, exact sums of IoUs.

Examples
--------
>>> import numpy as np
>>> pairs_within_runs(np.array([3, 3, 3]))[1].tolist(), stable_order(np.array([2, 0, 1])).tolist()
([1, 2, 2], [1, 2, 0])
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["SMALL", "on_grid", "mean_by", "stable_order", "concat_ranges", "pairs_within_runs"]

#: Frames of at most this many rows (the store's one-item calls) are read in one pass and factorised
#: in Python, and their shapes clustered without scipy: the fixed costs would dominate them.
SMALL = 256
_GRID = float(2**40)


def on_grid(values: np.ndarray) -> np.ndarray:
    """``values`` (in [0, 1]) rounded to multiples of 2**-40: sums of up to 4096 of them are exact, in any order.

    >>> float(on_grid(np.array([0.1]))[0]) == 0.1, float(on_grid(np.array([0.5]))[0])
    (False, 0.5)
    """
    exact = values * _GRID
    np.rint(exact, out=exact)
    exact /= _GRID
    return exact


def mean_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` (in [0, 1]) per code ``0..n-1``, to 12 decimals; NaN where a code has no value.

    The values are summed as multiples of 2**-40, which add up exactly, so a mean does not depend on
    the order of the rows (a renamed worker, shuffled answers).

    >>> mean_by(np.array([0, 0, 2]), np.array([0.1, 0.7, 0.8]), 3).tolist()
    [0.4, nan, 0.8]
    """
    total = np.bincount(codes, on_grid(values), minlength=n)
    count = np.bincount(codes, minlength=n)
    out = np.full(n, math.nan)
    np.divide(total, count, out=out, where=count > 0)
    return np.round(out, 12)


def stable_order(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` for non-negative integer keys, as radix passes of 16 bits.

    numpy sorts 16-bit integers by radix (linear time); two or three such passes beat one
    comparison sort of a million 64-bit keys by about three times.

    >>> stable_order(np.array([70000, 3, 70000, 0, 3])).tolist()
    [3, 1, 4, 0, 2]
    """
    key = np.asarray(key)
    if len(key) <= SMALL:
        return np.argsort(key, kind="stable")
    top = int(key.max())
    if int(key.min()) < 0 or top >= 1 << 48:
        return np.argsort(key, kind="stable")
    order: np.ndarray = np.arange(len(key))
    shift = 0
    while True:
        digit = (key >> shift) & 0xFFFF if shift else key & 0xFFFF
        order = order[np.argsort(digit.astype(np.uint16)[order], kind="stable")]
        shift += 16
        if top >> shift == 0:
            return order


def concat_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop.

    >>> concat_ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist()
    [5, 6, 9, 10, 11]
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    keep = lengths > 0
    starts, lengths = np.asarray(starts, dtype=np.int64)[keep], lengths[keep]
    step = np.ones(total, dtype=np.int64)
    ends = np.cumsum(lengths)
    step[0] = starts[0]
    step[ends[:-1]] = starts[1:] - (starts[:-1] + lengths[:-1] - 1)
    return np.cumsum(step)


def pairs_within_runs(run: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(a, b)``, ``a < b``, of every two elements of one run of equal values in ``run``.

    ``run`` must be sorted (equal values adjacent).

    >>> a, b = pairs_within_runs(np.array([0, 0, 0, 4, 7, 7]))
    >>> list(zip(a.tolist(), b.tolist()))
    [(0, 1), (0, 2), (1, 2), (4, 5)]
    """
    n = len(run)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    change = np.flatnonzero(run[1:] != run[:-1]) + 1
    ends = np.diff(np.concatenate([change, [n]]), prepend=0)  # run lengths
    run_end = np.repeat(np.concatenate([change, [n]]), ends)
    position = np.arange(n, dtype=np.int64)
    lengths = run_end - position - 1
    return np.repeat(position, lengths), concat_ranges(position + 1, lengths)
