"""Gold (honeypot) accuracy per worker with a Wilson score interval, vectorised.

A worker's answers on gold items are right or wrong; :func:`gold_accuracy` counts them per
``user_id`` (one factorise and two ``bincount`` calls, whatever the number of rows) and gives the
share right with its Wilson score interval, which stays inside [0, 1] and is sensible for the
few gold answers a worker has early on (3 of 3 right: 0.44 to 1.0 at 95 %).

>>> import pandas as pd
>>> answers = pd.DataFrame({"user_id": ["ann"] * 10, "correct": [True] * 7 + [False] * 3})
>>> gold_accuracy(answers).round(3).iloc[0].to_dict()
{'user_id': 'ann', 'gold_n': 10, 'gold_correct': 7, 'gold_accuracy': 0.7, 'gold_low': 0.397, 'gold_high': 0.892}
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from dltasks.errors import ValidationError

__all__ = ["gold_accuracy", "wilson_interval", "COLUMNS"]

#: The columns of :func:`gold_accuracy`'s result, in order.
COLUMNS = ["user_id", "gold_n", "gold_correct", "gold_accuracy", "gold_low", "gold_high"]


def _z(confidence: Any) -> float:
    """The two-sided normal quantile for ``confidence`` (0.95 -> 1.96), checked.

    >>> round(_z(0.95), 4)
    1.96
    """
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)) or not (
        0.0 < float(confidence) < 1.0
    ):
        raise ValidationError("must be a number strictly between 0 and 1", "confidence", confidence)
    return float(norm.ppf(0.5 + float(confidence) / 2.0))


def wilson_interval(
    correct: np.ndarray, n: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``correct`` successes out of ``n`` trials, element-wise.

    Where ``n`` is 0 both bounds are NaN.  With no successes the lower bound is exactly 0, with
    ``n`` successes the upper bound exactly 1 (the formula misses them by a rounding step).

    >>> low, high = wilson_interval(np.array([7, 0, 3]), np.array([10, 5, 3]))
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.3968, 0.0, 0.4385], [0.8922, 0.4345, 1.0])
    """
    z = _z(confidence)
    n = np.asarray(n, dtype=float)
    k = np.asarray(correct, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2n = z * z / n
        denom = 1.0 + z2n
        centre = (p + z2n / 2.0) / denom
        half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / denom
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    empty = n == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _correct_array(column: pd.Series) -> np.ndarray:
    """``correct`` as a bool array: bool values, or integers 1/0; the first other value is named.

    >>> _correct_array(pd.Series([1, 0])).tolist()
    [True, False]
    >>> _correct_array(pd.Series([True, "yes"]))
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: correct: must be True or False (got 'yes')
    """
    if column.dtype == bool:
        return column.to_numpy()
    values = column.to_numpy(dtype=object)
    if pd.api.types.is_integer_dtype(column.dtype):
        bad = (column.to_numpy() != 0) & (column.to_numpy() != 1)
    elif column.dtype == object or pd.api.types.is_bool_dtype(column.dtype):
        bad = np.fromiter((type(v) not in (bool, np.bool_) for v in values), bool, len(values))
    else:
        bad = np.ones(len(values), dtype=bool)
    if bad.any():
        raise ValidationError("must be True or False", "correct", values[int(np.argmax(bad))])
    return values.astype(bool)


def gold_accuracy(answers: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Gold answers right per worker, with the Wilson score interval of the accuracy.

    Parameters
    ----------
    answers
        One row per gold answer: ``user_id`` (any hashable, not missing) and ``correct``
        (bool; integer 1/0 is accepted).  Other columns are ignored.
    confidence
        Coverage of the interval, 0.95 by default.

    Returns
    -------
    DataFrame
        One row per ``user_id`` (sorted), columns ``user_id``, ``gold_n``, ``gold_correct``
        (int), ``gold_accuracy``, ``gold_low``, ``gold_high`` (float).  No rows for no answers.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"user_id": ["bob", "ann", "ann", "bob", "ann"],
    ...                         "correct": [False, True, True, False, False]})
    >>> gold_accuracy(answers).round(3)
      user_id  gold_n  gold_correct  gold_accuracy  gold_low  gold_high
    0     ann       3             2          0.667     0.208      0.939
    1     bob       2             0          0.000     0.000      0.658
    >>> gold_accuracy(answers.rename(columns={"user_id": "worker"}))
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: answers: needs a column 'user_id' (got ['worker', 'correct'])
    """
    if not isinstance(answers, pd.DataFrame):
        raise ValidationError("must be a DataFrame with columns user_id and correct", "answers", type(answers).__name__)
    for column in ("user_id", "correct"):
        if column not in answers.columns:
            raise ValidationError(f"needs a column {column!r}", "answers", list(answers.columns))
    correct = _correct_array(answers["correct"])
    codes, users = pd.factorize(answers["user_id"], sort=True, use_na_sentinel=True)
    if len(codes) and codes.min() < 0:
        raise ValidationError("must not be missing", "user_id", answers["user_id"].iloc[int(np.argmin(codes))])
    n = np.bincount(codes, minlength=len(users))
    right = np.bincount(codes[correct], minlength=len(users))
    low, high = wilson_interval(right, n, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = right / n
    return pd.DataFrame({
        "user_id": users, "gold_n": n.astype(np.int64), "gold_correct": right.astype(np.int64),
        "gold_accuracy": accuracy.astype(float), "gold_low": low, "gold_high": high,
    }, columns=COLUMNS)
