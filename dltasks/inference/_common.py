"""What every estimator of :mod:`dltasks.inference` shares: input checks, gold, result frames.

Examples
--------
>>> import pandas as pd
>>> votes = as_votes(pd.DataFrame({"item_id": [1, 1, 2], "worker": ["a", "b", "a"],
...                                "label": ["x", "y", "y"]}))
>>> gold_codes(votes, {2: "y", 9: "x"})  # item 9 has no votes: left out
(array([1]), array([1]))
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dltasks.consensus import Gold, Votes, _check_int, _encode, _label_series, fix_gold, gold_codes
from dltasks.errors import ValidationError

__all__ = ["Gold", "as_votes", "gold_codes", "fix_gold", "check_params", "result_frames", "EPS"]

EPS = 1e-10  # probability floor, the same as crowd-kit's and dltasks.consensus's


def as_votes(labels: pd.DataFrame | Votes) -> Votes:
    """The votes table checked and encoded (a :class:`~dltasks.consensus.Votes` passes through).

    Raises ValidationError when there is no vote to fit.

    >>> import pandas as pd
    >>> as_votes(pd.DataFrame({"item_id": [], "worker": [], "label": []}))
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: labels: no votes to fit
    """
    votes = _encode(labels)
    if not len(votes.item):
        raise ValidationError("no votes to fit", field="labels")
    return votes


def check_params(n_iter: Any, tol: Any) -> int:
    """``n_iter`` (an integer >= 1) and ``tol`` (a finite number >= 0) checked; returns ``n_iter``.

    >>> check_params(10, -1.0)
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: tol: must be a finite number >= 0 (got -1.0)
    """
    n = _check_int(n_iter, "n_iter", 1)
    check_number(tol, "tol", 0.0)
    return n


def check_number(value: Any, field: str, low: float, strict: bool = False) -> float:
    """A finite real number ``>= low`` (``> low`` when ``strict``), else ValidationError.

    >>> check_number(0.5, "alpha", 0.0, strict=True)
    0.5
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value < low or (strict and value == low):
        raise ValidationError(f"must be a finite number {'>' if strict else '>='} {low:g}", field=field, value=value)
    return float(value)


def result_frames(
    votes: Votes, probas: np.ndarray, skills: np.ndarray, top: np.ndarray | None = None
) -> tuple[pd.Series, pd.DataFrame, pd.Series]:
    """``labels_``, ``probas_`` and ``skills_`` as pandas objects.

    ``labels_`` are the label codes ``top``; by default the most probable label (ties: the
    smallest label).

    >>> import numpy as np, pandas as pd
    >>> votes = as_votes(pd.DataFrame({"item_id": ["i"], "worker": ["w"], "label": ["x"]}))
    >>> labels, probas, skills = result_frames(votes, np.array([[1.0]]), np.array([0.9]))
    >>> labels.to_dict(), probas.columns.tolist(), skills.to_dict()
    ({'i': 'x'}, ['x'], {'w': 0.9})
    """
    columns = pd.Index(votes.labels, name="label")
    frame = pd.DataFrame(probas, index=votes.items, columns=columns, copy=False)
    skill = pd.Series(skills, index=votes.workers, name="skill")
    return _label_series(votes, probas.argmax(axis=1) if top is None else top), frame, skill
