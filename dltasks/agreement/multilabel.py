"""Several labels per item (``multi_class`` tasks): per-label decisions and agreement.

Every function takes the long answers frame of issue 14: one row of kind ``"class"`` per label a
worker chose for an item, or one row of kind ``"none"`` when the worker chose none.  A label chosen
twice by one worker counts once.

A label is *in* on an item when ``approval_threshold`` workers chose it and *out* when that many
workers answered the item without it.  Agreement between two workers on an item is the Jaccard index
of their label sets (two empty sets agree fully).  Krippendorff's alpha is given per label (on the
label's presence: every worker who answered an item says yes or no) and overall, on the label sets
with the Jaccard or MASI distance (Passonneau 2006), as nltk's ``AnnotationTask.alpha`` computes it.

Examples
--------
>>> import pandas as pd
>>> answers = pd.DataFrame({
...     "item_id": [1, 1, 1, 1, 1],
...     "worker": ["a", "a", "b", "b", "c"],
...     "kind": ["class", "class", "class", "class", "none"],
...     "label": ["cat", "dog", "cat", "dog", None],
... })
>>> label_consensus(answers, approval_threshold=2)[["label", "votes", "decision"]].to_dict("list")
{'label': ['cat', 'dog'], 'votes': [2, 2], 'decision': ['in', 'in']}
>>> round(float(item_jaccard(answers).iloc[0]), 3)  # a-b: 1, a-c: 0, b-c: 0
0.333
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dltasks.agreement._arrays import pairs_within_runs
from dltasks.agreement._frame import (Answers, Uniques, agreed_from_units, as_index, check_threshold, encode_answers,
                                      given_labels)
from dltasks.errors import ValidationError

__all__ = ["label_consensus", "item_jaccard", "label_alpha", "set_alpha", "DISTANCES"]

#: Set distances :func:`set_alpha` knows.
DISTANCES: tuple[str, ...] = ("jaccard", "masi")


@dataclass(frozen=True)
class LabelSets:
    """The distinct (item, label, worker) choices, sorted, and the (item, worker) answers, sorted
    (see :func:`label_sets`); ``answer_size`` is the number of labels in each answer.
    """

    answers: Answers
    label_values: Uniques
    item: np.ndarray
    label: np.ndarray
    worker: np.ndarray
    answer_item: np.ndarray
    answer_worker: np.ndarray
    answer_size: np.ndarray

    @functools.cached_property
    def labels(self) -> pd.Index:
        """The labels, by code."""
        return as_index(self.label_values, "label")

    def units(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per (item, label) chosen by anybody: item code, label code, workers who chose it."""
        if not len(self.item):
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        new = np.ones(len(self.item), dtype=bool)
        new[1:] = (self.item[1:] != self.item[:-1]) | (self.label[1:] != self.label[:-1])
        starts = np.flatnonzero(new)
        return self.item[starts], self.label[starts], np.diff(np.append(starts, len(self.item)))

    def answer_index(self, item: np.ndarray, worker: np.ndarray) -> np.ndarray:
        width = np.int64(max(len(self.answers.worker_values), 1))
        return np.searchsorted(self.answer_item * width + self.answer_worker, item * width + worker)


def label_sets(answers: pd.DataFrame | Answers | LabelSets) -> LabelSets:
    """Check a multi_class answers frame and encode its label sets, once for several analyses.

    >>> answers = pd.DataFrame({"item_id": [1, 1, 1], "worker": ["a", "a", "b"], "kind": ["class", "class", "none"],
    ...                         "label": ["dog", "cat", None]})
    >>> sets = label_sets(answers)
    >>> list(sets.labels), sets.answer_size.tolist(), [a.tolist() for a in sets.units()]
    (['cat', 'dog'], [2, 0], [[0, 0], [0, 1], [1, 1]])
    >>> agreed(sets, 1, "outvoted").tolist(), agreed(sets, 2, "outvoted").tolist()  # cat, dog: 1 with, 1 without
    ([True], [False])
    """
    if isinstance(answers, LabelSets):
        return answers
    enc = answers if isinstance(answers, Answers) else encode_answers(answers, "multi_class")
    rows, label, labels = given_labels(enc)
    width_l, width_w = np.int64(max(len(labels), 1)), np.int64(max(len(enc.worker_values), 1))
    item = enc.item[rows].astype(np.int64)
    choice = np.unique((item * width_l + label) * width_w + enc.worker[rows])
    rest, worker = np.divmod(choice, width_w)
    item, label = np.divmod(rest, width_l)
    answer = np.unique(enc.item.astype(np.int64) * width_w + enc.worker)
    answer_item, answer_worker = np.divmod(answer, width_w)
    size = np.bincount(np.searchsorted(answer, item * width_w + worker), minlength=len(answer))
    return LabelSets(enc, labels, item, label, worker, answer_item, answer_worker, size)


def agreed(sets: LabelSets, approval_threshold: int, unmatched: str) -> np.ndarray:
    """Per item: every label in (``"review"``), or in or out (``"outvoted"``); see ``agreed_from_units``.

    >>> sets = label_sets(pd.DataFrame({"item_id": 1, "worker": ["a", "b", "c"], "kind": "class",
    ...                                 "label": ["cat", "cat", "dog"]}))
    >>> agreed(sets, 2, "outvoted").tolist(), agreed(sets, 2, "review").tolist()  # dog is outvoted
    ([True], [False])
    """
    unit_item, _, votes = sets.units()
    n_empty = np.bincount(sets.answer_item[sets.answer_size == 0], minlength=sets.answers.n_items)
    return agreed_from_units(unit_item, votes, sets.answers.n_workers, approval_threshold, unmatched, n_empty)


def label_consensus(answers: pd.DataFrame, approval_threshold: int) -> pd.DataFrame:
    """Each label any worker chose for an item, with its votes and its decision.

    Returns
    -------
    DataFrame
        One row per (item, label), by item then label: ``item_id``, ``label``, ``votes`` (workers
        who chose it), ``n_workers`` (workers who answered the item) and ``decision``: ``"in"``
        (``votes >= approval_threshold``), ``"out"`` (``n_workers - votes >= approval_threshold``)
        or ``"open"``.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": ["x"] * 4, "worker": ["a", "b", "b", "c"],
    ...                         "kind": "class", "label": ["cat", "cat", "fox", "cat"]})
    >>> label_consensus(answers, approval_threshold=2)
      item_id label  votes  n_workers decision
    0       x   cat      3          3       in
    1       x   fox      1          3      out
    """
    threshold = check_threshold(approval_threshold)
    sets = label_sets(answers)
    item, label, votes = sets.units()
    n_workers = sets.answers.n_workers[item]
    decision = np.where(votes >= threshold, "in", np.where(n_workers - votes >= threshold, "out", "open"))
    return pd.DataFrame({
        "item_id": sets.answers.items.take(item),
        "label": sets.labels.take(label),
        "votes": votes,
        "n_workers": n_workers,
        "decision": pd.Series(decision, dtype=object),
    })


def _worker_pairs(sets: LabelSets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every two workers who answered one item (answer positions ``p < q``) and the labels both chose."""
    p, q = pairs_within_runs(sets.answer_item)
    inter: np.ndarray = np.zeros(len(p), dtype=np.int64)
    if len(sets.item):
        new = np.ones(len(sets.item), dtype=bool)
        new[1:] = (sets.item[1:] != sets.item[:-1]) | (sets.label[1:] != sets.label[:-1])
        x, y = pairs_within_runs(np.cumsum(new))
        shared_p = sets.answer_index(sets.item[x], sets.worker[x])
        shared_q = sets.answer_index(sets.item[y], sets.worker[y])
        n = np.int64(len(sets.answer_item))
        pair = np.searchsorted(p * n + q, shared_p * n + shared_q)
        inter = np.bincount(pair, minlength=len(p))
    return p, q, inter


def _distance(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, distance: str) -> np.ndarray:
    """Jaccard or MASI distance of sets from their sizes and intersection (two empty sets: 0)."""
    union = size_a + size_b - inter
    jaccard = np.ones(len(inter))
    np.divide(inter, union, out=jaccard, where=union > 0)
    if distance == "masi":
        same = (inter == size_a) & (inter == size_b)
        monotone = inter == np.minimum(size_a, size_b)
        jaccard = jaccard * np.where(same, 1.0, np.where(monotone, 2 / 3, np.where(inter > 0, 1 / 3, 0.0)))
    return 1.0 - jaccard


def item_jaccard(answers: pd.DataFrame | LabelSets) -> pd.Series:
    """Per item: the mean Jaccard index of every two workers' label sets (NaN with fewer than two workers).

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": [1, 1, 1, 2], "worker": ["a", "a", "b", "a"],
    ...                         "kind": ["class", "class", "class", "none"], "label": ["x", "y", "x", None]})
    >>> item_jaccard(answers).to_dict()
    {1: 0.5, 2: nan}
    """
    sets = label_sets(answers)
    p, q, inter = _worker_pairs(sets)
    similarity = 1.0 - _distance(inter, sets.answer_size[p], sets.answer_size[q], "jaccard")
    n_items = sets.answers.n_items
    total = np.bincount(sets.answer_item[p], similarity, minlength=n_items)
    count = np.bincount(sets.answer_item[p], minlength=n_items)
    out = np.full(n_items, math.nan)
    np.divide(total, count, out=out, where=count > 0)
    return pd.Series(out, index=sets.answers.items, name="agreement")


def label_alpha(answers: pd.DataFrame) -> pd.Series:
    """Krippendorff's alpha (nominal) of each label's presence, by label.

    Every worker who answered an item gives the label a yes (chose it) or a no; items with fewer
    than two workers are not pairable.  NaN for a label every pairable answer agrees on by having
    only one value (always yes, or always no).  Matches ``krippendorff.alpha`` on the workers x items
    matrix of 1 / 0 (NaN where a worker did not answer).

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": [1, 1, 1, 2, 2], "worker": ["a", "a", "b", "a", "b"],
    ...                         "kind": ["class", "class", "class", "none", "class"],
    ...                         "label": ["cat", "dog", "cat", None, "dog"]})
    >>> label_alpha(answers).round(3).to_dict()
    {'cat': 1.0, 'dog': -0.5}
    """
    sets = label_sets(answers)
    item, label, votes = sets.units()
    m = sets.answers.n_workers.astype(float)
    pairable = m >= 2
    n = m[pairable].sum()
    n_labels = len(sets.labels)
    ok = pairable[item]
    mixed = votes[ok] * (m[item][ok] - votes[ok]) / (m[item][ok] - 1)
    observed = np.bincount(label[ok], mixed, minlength=n_labels)  # half the off-diagonal coincidences
    yes = np.bincount(label[ok], votes[ok], minlength=n_labels)
    expected = yes * (n - yes)
    alpha: np.ndarray = np.full(n_labels, math.nan)
    np.divide((n - 1) * observed, expected, out=alpha, where=(expected > 0) & (n > 1))
    alpha = np.where((expected > 0) & (n > 1), 1.0 - alpha, math.nan)
    return pd.Series(alpha, index=pd.Index(sets.labels, name="label"), name="alpha")


def set_alpha(answers: pd.DataFrame, distance: str = "jaccard") -> float:
    """Krippendorff's alpha over the label sets with the Jaccard or MASI distance.

    ``alpha = 1 - D_o / D_e``: ``D_o`` the mean distance within items (each item with ``m >= 2``
    answers weighs its ordered pairs by ``1 / (m - 1)``), ``D_e`` the mean distance between any
    two answers of the pooled pairable answers.  The distance of two empty sets is 0.  As nltk's
    ``AnnotationTask(distance=jaccard_distance | masi_distance).alpha()``, but NaN instead of 1 when
    every pairable answer is the same set.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "b", "a", "a", "b"],
    ...                         "kind": "class", "label": ["x", "x", "y", "x", "y", "x"]})
    >>> round(set_alpha(answers, "jaccard"), 4), round(set_alpha(answers, "masi"), 4)
    (-0.5, -0.5)
    """
    if distance not in DISTANCES:
        raise ValidationError(f"must be one of {DISTANCES}", field="distance", value=distance)
    sets = label_sets(answers)
    p, q, inter = _worker_pairs(sets)
    m = sets.answers.n_workers.astype(float)
    pair_item = sets.answer_item[p]
    within = _distance(inter, sets.answer_size[p], sets.answer_size[q], distance)
    observed = float((2 * within / (m[pair_item] - 1)).sum())
    pooled = m[sets.answer_item] >= 2
    n = float(pooled.sum())
    expected = _pooled_distance(sets, pooled, distance)
    if n <= 1 or expected <= 0:
        return math.nan
    return float(1.0 - (n - 1) * observed / expected)


def _pooled_distance(sets: LabelSets, pooled: np.ndarray, distance: str) -> float:
    """Sum of the distances over all ordered pairs of pooled answers (by distinct set)."""
    answer = sets.answer_index(sets.item, sets.worker)
    order = np.lexsort((sets.label, answer))
    answer, chosen = answer[order], sets.label[order]
    cuts = np.flatnonzero(np.diff(answer)) + 1
    key: list[Any] = [()] * len(sets.answer_item)
    if len(answer):
        for index, labels in zip(answer[np.r_[0, cuts]].tolist(), np.split(chosen, cuts)):
            key[index] = tuple(labels.tolist())
    code, distinct = pd.factorize(pd.Series(key, dtype=object)[pooled])
    count = np.bincount(code, minlength=len(distinct)).astype(float)
    width = max(len(sets.labels), 1)
    member = np.zeros((len(distinct), width))
    for row, labels in enumerate(distinct):
        member[row, list(labels)] = 1.0
    size = member.sum(axis=1)
    total = 0.0
    step = max(1, (1 << 22) // max(len(distinct), 1))
    for lo in range(0, len(distinct), step):
        inter = member[lo:lo + step] @ member.T
        pair = _distance(inter.ravel(), np.repeat(size[lo:lo + step], len(distinct)),
                         np.tile(size, len(inter)), distance).reshape(inter.shape)
        total += float(count[lo:lo + step] @ pair @ count)
    return total
