"""Split items between workers: exact, weighted, seeded.

Pure functions over arrays and DataFrames (no database, no widgets).

Given ``N`` items, ``k = workers_per_input`` and weights ``w_i``, the shares are
``p_i = w_i / sum(w)``.  A split giving every item ``k`` distinct workers exists
only if every ``p_i <= 1/k``.  Worker ``i`` then gets ``c_i`` slots, ``N*k*p_i``
rounded by largest remainder (so ``sum(c) == N*k`` exactly and ``c_i <= N``).

The items are shuffled with ``np.random.default_rng(seed)``, the ``N*k`` slots are
laid out worker by worker (worker ``i`` owns ``c_i`` consecutive slots), and the
item in shuffled position ``j`` gets slots ``j, j+N, j+2N, ...``.

Why every item gets ``k`` distinct workers: the slots of one item are ``N`` apart,
and a worker's run of ``c_i <= N`` consecutive slots can contain at most one slot
out of any set of slots spaced ``N`` apart.  Every worker ends within 1 item of its
exact share ``N*k*p_i``, and the same seed gives the same split.

Plans are long frames with columns ``item_id`` and ``user_id``.

Examples
--------
>>> plan = plan_partition(range(6), ["ann", "bob", "cy"], workers_per_input=2, seed=0)
>>> plan.groupby("user_id", observed=True).size().to_dict()
{'ann': 4, 'bob': 4, 'cy': 4}
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from dltasks.errors import ValidationError

__all__ = [
    "normalise_weights",
    "slot_counts",
    "plan_partition",
    "plan_full",
    "partition_summary",
]

#: Slack allowed when checking ``p_i <= 1/k`` (float shares rarely sum to exactly 1).
SHARE_EPSILON = 1e-12

WeightsLike = Mapping[str, float] | Sequence[float] | None


# ---------------------------------------------------------------------------
# validation helpers


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds (reads better in error messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_workers(workers: Sequence[str]) -> list[str]:
    """Return ``workers`` as a list, rejecting empty, blank and duplicate ids."""
    if isinstance(workers, (str, bytes)):
        raise ValidationError(
            "expected a sequence of worker ids, not a single string",
            field="assignee_ids", value=workers,
        )
    ids = list(workers)
    if not ids:
        raise ValidationError("at least one worker is needed", field="assignee_ids", value=ids)
    empty = [w for w in ids if w is None or (isinstance(w, str) and not w.strip())]
    if empty:
        raise ValidationError("worker ids must be non-empty", field="assignee_ids", value=empty[0])
    seen: set[Any] = set()
    try:
        dupes = [w for w in ids if w in seen or seen.add(w)]  # type: ignore[func-returns-value]
    except TypeError:
        raise ValidationError(
            "worker ids must be strings", field="assignee_ids", value=ids
        ) from None
    if dupes:
        raise ValidationError(
            f"worker ids must be unique; {dupes[0]!r} is listed more than once",
            field="assignee_ids", value=dupes[0],
        )
    return ids


def _mapping_to_list(ids: list[str], weights: Mapping[str, float]) -> list[Any]:
    """Order a ``{worker: weight}`` mapping like ``ids``; unknown or missing ids are errors."""
    known = set(ids)
    unknown = [w for w in weights if w not in known]
    if unknown:
        raise ValidationError(
            f"weights name unknown worker(s) {', '.join(map(repr, unknown))}",
            field="weights", value=unknown,
        )
    missing = [w for w in ids if w not in weights]
    if missing:
        raise ValidationError(
            f"no weight for worker(s) {', '.join(map(repr, missing))} "
            "(give 0 explicitly to leave a worker out)",
            field="weights", value=missing,
        )
    return [weights[w] for w in ids]


def _as_float_array(values: list[Any], ids: list[str]) -> np.ndarray:
    """Convert weights to floats; reject non-numbers, NaN/inf and negatives, naming the worker."""
    out = np.empty(len(values), dtype=np.float64)
    for i, (worker, value) in enumerate(zip(ids, map(_plain, values))):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise ValidationError(
                f"weight of worker {worker!r} is not a number", field="weights", value=value,
                key=worker,
            )
        out[i] = value
        if not np.isfinite(out[i]):
            raise ValidationError(
                f"weight of worker {worker!r} must be finite", field="weights", value=value,
                key=worker,
            )
        if out[i] < 0:
            raise ValidationError(
                f"weight of worker {worker!r} must not be negative", field="weights", value=value,
                key=worker,
            )
    return out


def _check_workers_per_input(workers_per_input: Any, n_workers: int) -> int:
    if isinstance(workers_per_input, (bool, np.bool_)) or not isinstance(
        workers_per_input, (int, np.integer)
    ):
        raise ValidationError(
            "must be a whole number", field="workers_per_input", value=workers_per_input
        )
    k = int(workers_per_input)
    if k < 1:
        raise ValidationError("must be at least 1", field="workers_per_input", value=k)
    if k > n_workers:
        raise ValidationError(
            f"cannot exceed the number of workers ({n_workers})",
            field="workers_per_input", value=k,
        )
    return k


def _as_items(item_ids: Any) -> tuple[Any, int]:
    """Return ``item_ids`` as a 1-D numpy or pandas extension array, and its length.

    Pandas input keeps its dtype; ints give int64 and strings the pandas ``str`` dtype.
    """
    items: Any  # a numpy array or a pandas extension array
    if isinstance(item_ids, (pd.Series, pd.Index)):
        items = item_ids.array
    elif isinstance(item_ids, pd.api.extensions.ExtensionArray):
        items = item_ids
    elif isinstance(item_ids, range):
        items = np.arange(item_ids.start, item_ids.stop, item_ids.step, dtype=np.int64)
    elif isinstance(item_ids, np.ndarray):
        items = _from_numpy(item_ids)
    elif isinstance(item_ids, (str, bytes, Mapping)) or not pd.api.types.is_list_like(item_ids):
        raise ValidationError(
            "expected a 1-D sequence of item ids", field="item_ids", value=item_ids
        )
    else:
        items = _from_sequence(item_ids if isinstance(item_ids, Sequence) else list(item_ids))
    if isinstance(items, pd.arrays.NumpyExtensionArray):
        items = items.to_numpy()
    _check_item_values(items)
    return items, len(items)


def _from_numpy(array: np.ndarray) -> Any:
    if array.ndim != 1:
        raise ValidationError(
            "item ids must be one-dimensional", field="item_ids", value=array.shape
        )
    if array.dtype.kind in "US":  # numpy strings -> pandas str dtype, like pd.Series would
        return pd.Series(array.astype(object)).array
    return array


def _from_sequence(values: Sequence[Any]) -> Any:
    if not len(values):
        return np.array([], dtype=object)
    if isinstance(values[0], str):  # pandas reads strings faster than numpy
        return pd.Series(values).array
    try:
        array = np.asarray(values)
    except ValueError:  # ragged nesting
        raise ValidationError(
            "item ids must be one-dimensional", field="item_ids", value=values[0]
        ) from None
    if array.dtype.kind in "US":  # numpy would turn the numbers of a mixed list into strings
        return pd.Series(values).array
    return _from_numpy(array)


def _check_item_values(items: Any) -> None:
    """Raise unless ``items`` are hashable, non-missing scalars, each listed once."""
    series = pd.Series(items, copy=False)
    try:
        dupes = series.duplicated()
    except TypeError:
        raise ValidationError(
            "item ids must be scalars (one-dimensional input)",
            field="item_ids", value=series.iloc[0],
        ) from None
    if dupes.any():
        dupe = _plain(series[dupes].iloc[0])
        raise ValidationError(
            f"item ids must be unique; {dupe!r} is listed more than once",
            field="item_ids", value=dupe,
        )
    missing = series.isna()
    if missing.any():
        raise ValidationError(
            "item ids must not be missing", field="item_ids", value=_plain(series[missing].iloc[0])
        )


def _user_column(codes: np.ndarray, ids: list[str]) -> pd.Categorical[str]:
    """Worker codes as a Categorical of ``ids`` (compares equal to plain strings)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(ids))


def _frame(items: Any, repeats: int, user_codes: np.ndarray, ids: list[str]) -> pd.DataFrame:
    """The plan frame: each item repeated ``repeats`` times, next to its workers' codes."""
    if isinstance(items, np.ndarray):
        item_col = np.repeat(items, repeats)
    else:
        item_col = items.take(np.repeat(np.arange(len(items), dtype=np.intp), repeats))
    return pd.DataFrame(
        {"item_id": item_col, "user_id": _user_column(user_codes, ids)}, copy=False
    )


# ---------------------------------------------------------------------------
# public API


def normalise_weights(
    workers: Sequence[str], weights: WeightsLike | pd.Series = None
) -> np.ndarray:
    """Turn weights into shares ``p_i`` that sum to 1, in the order of ``workers``.

    Parameters
    ----------
    workers : sequence of str
        Worker ids, unique and non-empty.
    weights : mapping, sequence of float, pandas Series or None
        ``None`` gives every worker the same share.  A mapping (or a Series indexed
        by worker id) must name every worker and no one else: a missing worker is an
        error, not a weight of 0 (write ``0`` to leave a worker out).  A sequence is
        read in the order of ``workers`` and must have the same length.  Weights are
        relative: ``[9, 1]`` and ``[90, 10]`` give the same shares.

    Returns
    -------
    numpy.ndarray
        float64 shares, one per worker, summing to 1.

    Raises
    ------
    ValidationError
        ``field="assignee_ids"`` for empty, blank or duplicate worker ids;
        ``field="weights"`` for an unknown or missing worker, a length mismatch, a
        non-number, a negative, NaN or infinite weight, or weights that are all 0.

    Examples
    --------
    >>> normalise_weights(["ann", "bob"], None)
    array([0.5, 0.5])
    >>> normalise_weights(["ann", "bob"], {"bob": 1, "ann": 3})
    array([0.75, 0.25])
    >>> normalise_weights(["ann", "bob"], [1, -1])
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: weights: weight of worker 'bob' must not be negative (got -1)
    """
    ids = _check_workers(workers)
    if weights is None:
        return np.full(len(ids), 1.0 / len(ids))
    if isinstance(weights, pd.Series):
        weights = cast("dict[str, float]", weights.to_dict())
    if isinstance(weights, Mapping):
        values = _mapping_to_list(ids, weights)
    elif isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
        raise ValidationError(
            "expected a mapping or a sequence of numbers", field="weights", value=weights
        )
    else:
        values = list(np.asarray(weights, dtype=object).ravel()) if np.ndim(weights) else []
        if np.ndim(weights) != 1 or len(values) != len(ids):
            raise ValidationError(
                f"got {len(values)} weight(s) for {len(ids)} worker(s)",
                field="weights", value=[_plain(v) for v in values],
            )
    w = _as_float_array(values, ids)
    total = w.sum()
    if not total > 0:
        raise ValidationError(
            "weights must not all be 0", field="weights", value=[_plain(v) for v in values]
        )
    if not np.isfinite(total):
        raise ValidationError(
            "weights are too large to add up", field="weights", value=[_plain(v) for v in values]
        )
    return w / total


def slot_counts(
    n_items: int,
    workers_per_input: int,
    shares: np.ndarray,
    *,
    workers: Sequence[str] | None = None,
) -> np.ndarray:
    """Number of (item, worker) slots each worker gets: ``N*k*p_i`` by largest remainder.

    Parameters
    ----------
    n_items : int
        ``N``, the number of items (0 or more).
    workers_per_input : int
        ``k``, how many distinct workers each item needs (1 to the number of workers).
    shares : numpy.ndarray
        ``p_i`` from :func:`normalise_weights` (non-negative, summing to 1).
    workers : sequence of str, optional
        Worker ids, only used to name a worker in error messages.

    Returns
    -------
    numpy.ndarray
        int64 counts ``c_i`` with ``sum(c) == N*k``, ``c_i <= N`` and
        ``abs(c_i - N*k*p_i) < 1``.  Remainders that tie go to the lower index.

    Raises
    ------
    ValidationError
        ``field="workers_per_input"`` if ``k < 1`` or ``k`` exceeds the number of
        workers; ``field="weights"`` if some ``p_i > 1/k`` (that worker would need
        more than ``N`` slots, so some item would get it twice) or the shares are
        negative or do not sum to 1; ``field="n_items"`` if ``N`` is negative.

    Examples
    --------
    >>> slot_counts(10, 1, normalise_weights(["a", "b", "c"], None))
    array([4, 3, 3])
    >>> slot_counts(100, 1, np.array([0.9, 0.1]))
    array([90, 10])
    >>> slot_counts(10, 2, np.array([0.9, 0.1]), workers=["ann", "bob"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: weights: worker ann's share 0.9 is above 1/workers_per_input ...
    """
    p = np.asarray(shares, dtype=np.float64).ravel()
    whole = isinstance(n_items, (int, np.integer)) and not isinstance(n_items, (bool, np.bool_))
    if not whole or n_items < 0:
        raise ValidationError("must be a whole number >= 0", field="n_items", value=n_items)
    k = _check_workers_per_input(workers_per_input, len(p))
    if not (np.all(np.isfinite(p)) and np.all(p >= 0) and abs(p.sum() - 1.0) <= 1e-9):
        raise ValidationError(
            "shares must be non-negative and sum to 1 (see normalise_weights)",
            field="weights", value=p.tolist(),
        )
    _check_feasible(p, k, workers)
    return _largest_remainder(int(n_items), k, p)


def _check_feasible(p: np.ndarray, k: int, workers: Sequence[str] | None) -> None:
    """Raise unless every share is at most ``1/k`` (up to :data:`SHARE_EPSILON`)."""
    worst = int(np.argmax(p))
    if p[worst] <= 1.0 / k + SHARE_EPSILON:
        return
    name = workers[worst] if workers is not None else f"#{worst}"
    share = float(f"{p[worst]:.6g}")
    raise ValidationError(
        f"worker {name}'s share {share:g} is above 1/workers_per_input = {1.0 / k:.6g}: "
        f"no split can give every item {k} distinct workers",
        field="weights", value=share, key=workers[worst] if workers is not None else None,
    )


def _largest_remainder(n: int, k: int, p: np.ndarray) -> np.ndarray:
    """Round ``n*k*p`` to integers summing to ``n*k``, each at most ``n``."""
    exact = np.minimum(n * k * p, float(n))
    # Snap values a rounding error away from an integer to it, so that e.g. 3 - 1e-15
    # counts as exactly 3 rather than 2 plus a remainder that nearly always wins.
    nearest = np.rint(exact)
    exact = np.where(np.abs(exact - nearest) <= 1e-12 * np.maximum(exact, 1.0), nearest, exact)
    base = np.floor(exact).astype(np.int64)
    remainder = np.round(exact - base, 12)          # equal remainders tie exactly
    remainder[base >= n] = -1.0                      # never give a worker more than n
    deficit = n * k - int(base.sum())
    deficit = min(max(deficit, 0), len(p))
    order = np.argsort(-remainder, kind="stable")    # stable: ties go to the lower index
    base[order[:deficit]] += 1
    return base


def plan_partition(
    item_ids: Any,
    workers: Sequence[str],
    workers_per_input: int = 1,
    weights: WeightsLike | pd.Series = None,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Assign every item to ``workers_per_input`` distinct workers, in proportion to ``weights``.

    Parameters
    ----------
    item_ids : 1-D array-like
        Unique item ids (ints, strings, a pandas Series or Index...).
    workers : sequence of str
        Worker (user) ids, unique and non-empty.
    workers_per_input : int, default 1
        ``k``, distinct workers per item.
    weights : mapping, sequence, pandas Series or None
        Relative workload per worker, see :func:`normalise_weights`; ``None`` = equal.
    seed : int, numpy Generator or None
        Seed for ``np.random.default_rng``; the same seed gives the same plan.

    Returns
    -------
    pandas.DataFrame
        ``N*k`` rows with columns ``item_id`` and ``user_id``, grouped by item in the
        order of ``item_ids`` (each item's workers in the order of ``workers``).
        ``item_id`` keeps the dtype of pandas input; otherwise ints give ``int64``
        and strings the pandas ``str`` dtype.  ``user_id`` is a pandas
        ``Categorical`` whose categories are ``workers`` (all of them, even one with
        no items): it is built from integer codes without touching a string, which
        is several times faster than a string column, and it compares equal to plain
        strings (``plan.user_id == "ann"``, ``.isin([...])``, ``.tolist()``).  Use
        ``observed=True`` in ``groupby``.

    Raises
    ------
    ValidationError
        As :func:`normalise_weights` and :func:`slot_counts`, or ``field="item_ids"``
        for duplicate, missing (NaN/None) or non-1-D item ids.

    Notes
    -----
    The items are shuffled, the ``N*k`` slots laid out worker by worker (worker
    ``i`` owns ``c_i`` consecutive slots, see :func:`slot_counts`), and the item in
    shuffled position ``j`` gets slots ``j, j+N, j+2N, ...``.  As ``c_i <= N``, no
    worker's run of slots holds two slots of one item: every item gets ``k``
    distinct workers, and every worker gets within 1 of ``N*k*p_i`` items.

    Examples
    --------
    >>> plan = plan_partition(["a", "b", "c", "d"], ["ann", "bob"], weights=[3, 1], seed=1)
    >>> list(plan.columns), len(plan)
    (['item_id', 'user_id'], 4)
    >>> plan.user_id.value_counts().to_dict()
    {'ann': 3, 'bob': 1}
    >>> plan_partition(range(3), ["ann", "bob"], workers_per_input=2).groupby(
    ...     "item_id").user_id.nunique().tolist()
    [2, 2, 2]
    """
    ids = _check_workers(workers)
    shares = normalise_weights(ids, weights)
    items, n = _as_items(item_ids)
    counts = slot_counts(n, workers_per_input, shares, workers=ids)
    k = int(workers_per_input)
    code_dtype = np.int8 if len(ids) < 127 else np.int32
    # owner[s] = worker of slot s; slots s = j + r*N belong to shuffled position j.
    owner = np.repeat(np.arange(len(ids), dtype=code_dtype), counts).reshape(k, n)
    perm = np.random.default_rng(seed).permutation(n)
    # Row (original item t, r-th worker): t sits at shuffled position inv[t].
    inv = np.empty(n, dtype=np.intp)
    inv[perm] = np.arange(n, dtype=np.intp)
    user_codes = owner.T[inv].ravel()
    return _frame(items, k, user_codes, ids)


def plan_full(item_ids: Any, workers: Sequence[str]) -> pd.DataFrame:
    """Give every item to every worker.

    Parameters
    ----------
    item_ids : 1-D array-like
        Unique item ids.
    workers : sequence of str
        Worker ids, unique and non-empty.

    Returns
    -------
    pandas.DataFrame
        ``N * len(workers)`` rows, columns ``item_id`` and ``user_id`` (a Categorical,
        as in :func:`plan_partition`), grouped by item in input order.

    Examples
    --------
    >>> plan_full([10, 11], ["ann", "bob"]).to_dict("list")
    {'item_id': [10, 10, 11, 11], 'user_id': ['ann', 'bob', 'ann', 'bob']}
    """
    ids = _check_workers(workers)
    items, n = _as_items(item_ids)
    m = len(ids)
    code_dtype = np.int8 if m < 127 else np.int32
    user_codes = np.tile(np.arange(m, dtype=code_dtype), n)
    return _frame(items, m, user_codes, ids)


def partition_summary(
    plan: pd.DataFrame,
    workers: Sequence[str],
    shares: np.ndarray,
    n_items: int,
    workers_per_input: int,
) -> pd.DataFrame:
    """Compare how many items each worker got with its exact target.

    Parameters
    ----------
    plan : pandas.DataFrame
        A plan with a ``user_id`` column (e.g. from :func:`plan_partition`).
    workers : sequence of str
        Worker ids, in the order of ``shares``.
    shares : numpy.ndarray
        ``p_i`` from :func:`normalise_weights`.
    n_items, workers_per_input : int
        ``N`` and ``k`` the plan was made for.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``user_id`` (in the order of ``workers``), columns ``assigned``
        (int64, rows in the plan), ``target`` (float, exactly ``N*k*p_i``),
        ``target_share`` (``p_i``) and ``actual_share`` (``assigned / (N*k)``,
        NaN when ``N*k == 0``).

    Raises
    ------
    ValidationError
        ``field="plan"`` if the plan has no ``user_id`` column or names a worker not
        in ``workers``; ``field="weights"`` if ``shares`` and ``workers`` differ in length.

    Examples
    --------
    >>> shares = normalise_weights(["ann", "bob"], [3, 1])
    >>> plan = plan_partition(range(10), ["ann", "bob"], weights=[3, 1], seed=0)
    >>> partition_summary(plan, ["ann", "bob"], shares, 10, 1)  # doctest: +NORMALIZE_WHITESPACE
             assigned  target  target_share  actual_share
    user_id
    ann             8     7.5          0.75           0.8
    bob             2     2.5          0.25           0.2
    """
    ids = _check_workers(workers)
    p = np.asarray(shares, dtype=np.float64).ravel()
    if len(p) != len(ids):
        raise ValidationError(
            f"got {len(p)} share(s) for {len(ids)} worker(s)", field="weights", value=list(p)
        )
    if "user_id" not in plan.columns:
        raise ValidationError("plan has no user_id column", field="plan", value=list(plan.columns))
    counts = plan["user_id"].value_counts(sort=False)
    known = set(ids)
    unknown = [u for u in counts.index if u not in known and counts[u] > 0]
    if unknown:
        raise ValidationError(
            "plan names worker(s) not in workers", field="plan", value=list(unknown)
        )
    index = pd.Index(ids, name="user_id")
    assigned = counts.reindex(index, fill_value=0).to_numpy(dtype=np.int64)
    total = int(n_items) * int(workers_per_input)
    actual = assigned / total if total else np.full(len(ids), np.nan)
    return pd.DataFrame(
        {"assigned": assigned, "target": total * p, "target_share": p, "actual_share": actual},
        index=index,
    )
