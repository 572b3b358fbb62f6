"""Truth inference beyond :mod:`dltasks.consensus`: GLAD, one-coin Dawid–Skene, MACE, Wawa, seeded Dawid–Skene.

Every estimator has the scikit-learn shape of :class:`dltasks.consensus.DawidSkene`:
``fit(votes)`` on the long votes table (``item_id``, ``worker``, ``label``) or an encoded
:class:`dltasks.consensus.Votes`, then ``labels_`` (Series by item, ties to the smallest
label), ``probas_`` (items x labels DataFrame) and ``skills_`` (Series by worker).
:data:`GOLD_METHODS` also take known true labels: ``fit(votes, gold={item_id: label})``.
:func:`make_estimator` builds one by the name ``task.consensus(method=...)`` would use, and
:func:`compare_methods` puts several side by side.

Examples
--------
>>> import pandas as pd
>>> from dltasks.inference import GLAD, compare_methods
>>> votes = pd.DataFrame({
...     "item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
...     "worker": ["a", "b", "c"] * 3,
...     "label": ["x", "x", "y", "y", "y", "x", "x", "x", "y"],
... })
>>> GLAD().fit(votes).labels_.tolist()
['x', 'y', 'x']
>>> compare_methods(votes, ["majority", "wawa"])  # doctest: +NORMALIZE_WHITESPACE
        majority wawa  agree
item_id
1              x    x   True
2              y    y   True
3              x    x   True
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import pandas as pd

from dltasks.consensus import Votes
from dltasks.errors import ValidationError
from dltasks.inference._common import Gold, as_votes
from dltasks.inference.glad import GLAD
from dltasks.inference.mace import MACE
from dltasks.inference.one_coin import OneCoinDawidSkene
from dltasks.inference.seeded import SeededDawidSkene
from dltasks.inference.wawa import MajorityVote, Wawa

__all__ = [
    "GLAD",
    "MACE",
    "OneCoinDawidSkene",
    "SeededDawidSkene",
    "MajorityVote",
    "Wawa",
    "Estimator",
    "Gold",
    "METHODS",
    "GOLD_METHODS",
    "make_estimator",
    "compare_methods",
]


class Estimator(Protocol):
    """What every estimator here has after ``fit``: ``labels_``, ``probas_``, ``skills_``."""

    labels_: pd.Series
    probas_: pd.DataFrame
    skills_: pd.Series

    def fit(self, labels: pd.DataFrame | Votes) -> Any: ...


#: Method name -> estimator class.  ``dawid_skene`` is :class:`SeededDawidSkene`: plain
#: :class:`dltasks.consensus.DawidSkene` without gold.
METHODS: dict[str, type] = {
    "majority": MajorityVote,
    "wawa": Wawa,
    "dawid_skene": SeededDawidSkene,
    "one_coin": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": MACE,
}

#: Methods whose ``fit`` takes ``gold=``.
GOLD_METHODS: tuple[str, ...] = ("dawid_skene", "one_coin", "glad")


def make_estimator(method: str, **params: Any) -> Estimator:
    """A new estimator by method name, with its parameters.

    >>> make_estimator("glad", n_iter=20)
    GLAD(n_iter=20, tol=1e-05, m_step_max_iter=25, m_step_tol=0.01)
    >>> make_estimator("magic")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: method: unknown; one of majority, wawa, dawid_skene, ..., mace (got 'magic')
    """
    if method not in METHODS:
        raise ValidationError(f"unknown; one of {', '.join(METHODS)}", field="method", value=method)
    try:
        estimator: Estimator = METHODS[method](**params)
    except TypeError as error:
        raise ValidationError(f"bad parameters for {method} ({error})", field="params", value=params) from error
    return estimator


def compare_methods(
    labels: pd.DataFrame | Votes,
    methods: Iterable[str] = tuple(METHODS),
    gold: Gold | None = None,
) -> pd.DataFrame:
    """The label of every item by each method, and whether they all agree (the votes encoded once).

    ``gold`` goes to the methods that take it (:data:`GOLD_METHODS`); the others ignore it.

    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
    ...                       "label": ["x", "y", "x", "y"]})
    >>> compare_methods(votes, ["majority", "dawid_skene"], gold={1: "y"})["agree"].to_dict()
    {1: False, 2: False}
    """
    votes = as_votes(labels)
    names = list(methods)
    columns: dict[str, pd.Series] = {}
    for name in names:
        estimator = make_estimator(name)
        if gold is not None and name in GOLD_METHODS:
            estimator.fit(votes, gold=gold)  # type: ignore[call-arg]
        else:
            estimator.fit(votes)
        columns[name] = estimator.labels_
    out = pd.DataFrame(columns, index=votes.items)
    out["agree"] = out.nunique(axis=1, dropna=False) <= 1
    return out
