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

from collections.abc import Mapping
from typing import Any, Union

import numpy as np
import pandas as pd

from dltasks.consensus import Votes, _check_int, _encode, _label_series
from dltasks.errors import ValidationError

__all__ = ["Gold", "as_votes", "gold_codes", "fix_gold", "check_params", "result_frames", "EPS"]

#: Known true labels: a Series (or mapping) item_id -> label, or a DataFrame with item_id and label.
Gold = Union[pd.Series, Mapping[Any, Any], pd.DataFrame]

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


def _gold_series(gold: Gold) -> pd.Series:
    if isinstance(gold, pd.DataFrame):
        missing = [c for c in ("item_id", "label") if c not in gold.columns]
        if missing:
            raise ValidationError("needs columns item_id and label", field="gold", value=list(gold.columns))
        return pd.Series(gold["label"].to_numpy(), index=pd.Index(gold["item_id"]))
    if isinstance(gold, pd.Series):
        return gold
    if isinstance(gold, Mapping):
        return pd.Series(list(gold.values()), index=pd.Index(list(gold.keys())), dtype=object)
    raise ValidationError("must be a Series item_id -> label, a mapping or a DataFrame(item_id, label)",
                          field="gold", value=type(gold).__name__)


def gold_codes(votes: Votes, gold: Gold | None) -> tuple[np.ndarray, np.ndarray]:
    """Item indexes and label codes of the known truths, for the items that have votes.

    Gold items nobody voted on carry no information and are left out.  A gold label no worker
    gave, a missing label or an item given twice raise ValidationError.

    >>> import pandas as pd
    >>> votes = as_votes(pd.DataFrame({"item_id": [1, 2], "worker": ["a", "a"], "label": ["x", "y"]}))
    >>> gold_codes(votes, pd.DataFrame({"item_id": [2, 1], "label": ["x", "x"]}))
    (array([1, 0]), array([0, 0]))
    >>> gold_codes(votes, {1: "z"})
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: gold: label is not among the workers' labels (got 'z')
    """
    empty = np.zeros(0, dtype=np.intp)
    if gold is None:
        return empty, empty
    series = _gold_series(gold)
    if not series.index.is_unique:
        raise ValidationError("an item_id is given twice", field="gold",
                              value=series.index[series.index.duplicated()][0])
    if series.isna().any():
        raise ValidationError("missing label", field="gold", value=series.index[series.isna().to_numpy()][0])
    items = votes.items.get_indexer(series.index)
    known = items >= 0
    try:
        labels = votes.labels.get_indexer(pd.Index(series.to_numpy()[known]))
    except TypeError as error:  # unorderable mix of label types
        raise ValidationError(f"labels do not match the votes' ({error})", field="gold") from error
    if (labels < 0).any():
        raise ValidationError("label is not among the workers' labels", field="gold",
                              value=series.to_numpy()[known][labels < 0][0])
    return items[known].astype(np.intp), labels.astype(np.intp)


def fix_gold(probas: np.ndarray, gold: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Posteriors of the gold items set to their known label (in place); returns ``probas``.

    >>> import numpy as np
    >>> fix_gold(np.full((2, 2), 0.5), (np.array([1]), np.array([0]))).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    items, labels = gold
    if len(items):
        probas[items] = 0.0
        probas[items, labels] = 1.0
    return probas


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
