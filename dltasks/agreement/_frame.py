"""The long answers frame, checked and encoded once, and the item rule every annotation type shares.

The frame is the column contract of issue 14 (``task.labels_df()`` of a non-class task): one row per
label, shape or text a worker gave, and ONE row of kind ``"none"`` for a worker who answered with
nothing.  :func:`encode_answers` checks it and factorises its id columns: items are sorted (first-seen
order when ids of mixed types cannot be sorted), workers and labels sorted.

:func:`agreed_from_units` is the rule that decides an item from its *units* (a multi_class label, or
a cluster of matched shapes): a unit is *in* when ``approval_threshold`` workers gave it and *out*
when that many workers answered the item without it.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"item_id": [2, 2, 1], "worker": ["b", "a", "a"], "kind": ["class", "none", "class"],
...                       "label": ["cat", None, "dog"]})
>>> enc = encode_answers(frame, "multi_class")
>>> list(enc.items), list(enc.workers), enc.n_workers.tolist(), enc.given.tolist()
([1, 2], ['a', 'b'], [1, 2], [True, False, True])
"""
from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pandas as pd

from dltasks.agreement._arrays import SMALL
from dltasks.consensus import STATUSES, _check_int, _factorize, threshold_consensus
from dltasks.domain.workflow import consensus_reached
from dltasks.errors import ValidationError

__all__ = [
    "ANNOTATION_TYPES",
    "UNMATCHED",
    "Answers",
    "encode_answers",
    "agreed_from_units",
    "agreed_whole_answers",
    "class_decision",
    "check_threshold",
    "check_iou_threshold",
    "check_unmatched",
    "status_frame",
]

#: The task option ``annotation_type``, in the contract's order.
ANNOTATION_TYPES: tuple[str, ...] = ("class", "multi_class", "text", "box", "polygon")
#: The task option ``unmatched``: what a unit fewer than ``approval_threshold`` workers gave does.
UNMATCHED: tuple[str, ...] = ("outvoted", "review")

_ROW_KIND = {"class": "class", "multi_class": "class", "text": "text", "box": "box", "polygon": "polygon"}
_COLUMNS = {
    "class": ("item_id", "worker", "label"),
    "multi_class": ("item_id", "worker", "kind", "label"),
    "text": ("item_id", "worker", "kind", "text"),
    "box": ("item_id", "worker", "kind", "label", "left", "top", "right", "bottom"),
    "polygon": ("item_id", "worker", "kind", "label", "geo"),
}


#: Uniques of a factorised column: an Index, or for a small column a list (made an Index when needed).
Uniques = Union[pd.Index, list]
_OPTIONAL = {"class": ("kind",), "multi_class": (), "text": (), "box": (), "polygon": ()}


@dataclass(frozen=True)
class Answers:
    """An answers frame checked and encoded (see :func:`encode_answers`).

    ``item`` and ``worker`` hold one code per row of ``frame``; ``given`` is False on the rows of
    kind ``"none"``; ``n_workers`` counts the distinct workers who answered each item.  ``columns``
    holds the columns the annotation type reads (numpy arrays for small frames, else Series).
    """

    frame: pd.DataFrame
    annotation_type: str
    columns: dict[str, Any]
    item: np.ndarray
    worker: np.ndarray
    item_values: Uniques
    worker_values: Uniques
    given: np.ndarray
    n_workers: np.ndarray

    @functools.cached_property
    def items(self) -> pd.Index:
        """The item ids, by code."""
        return as_index(self.item_values, "item_id")

    @functools.cached_property
    def workers(self) -> pd.Index:
        """The workers, by code."""
        return as_index(self.worker_values, "worker")

    @property
    def n_items(self) -> int:
        return len(self.item_values)

    def where(self, row: int) -> str:
        """Which answer a row is, for error messages."""
        item, worker = self.items[self.item[row]], self.workers[self.worker[row]]
        return f"row {row}: item {_plain(item)!r}, worker {_plain(worker)!r}"

    def values(self, name: str) -> np.ndarray:
        """A column as a numpy array."""
        column = self.columns[name]
        return column if isinstance(column, np.ndarray) else column.to_numpy()


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def check_annotation_type(annotation_type: Any) -> str:
    if not isinstance(annotation_type, str) or annotation_type not in ANNOTATION_TYPES:
        raise ValidationError(f"must be one of {ANNOTATION_TYPES}", field="annotation_type", value=annotation_type)
    return annotation_type


def check_threshold(value: Any, workers_per_input: int | None = None) -> int:
    """``approval_threshold``: an integer >= 1 (and <= ``workers_per_input`` when given)."""
    return _check_int(value, "approval_threshold", 1, workers_per_input)


def check_workers_per_input(value: Any) -> int:
    """``workers_per_input``: an integer >= 1."""
    return _check_int(value, "workers_per_input", 1)


def check_iou_threshold(value: Any) -> float:
    """``iou_threshold``: a number in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValidationError("must be a number in (0, 1]", field="iou_threshold", value=value)
    if not (0 < float(value) <= 1):  # NaN fails too
        raise ValidationError("must be in (0, 1]", field="iou_threshold", value=value)
    return float(value)


def check_unmatched(value: Any) -> str:
    if not isinstance(value, str) or value not in UNMATCHED:
        raise ValidationError(f"must be one of {UNMATCHED}", field="unmatched", value=value)
    return value


def encode_answers(answers: Any, annotation_type: str) -> Answers:
    """Check the column contract for ``annotation_type`` and factorise items and workers once.

    A class frame may lack ``kind`` (today's ``labels_df``); every other type needs it, and its rows
    must be of the type's kind or ``"none"``.
    """
    check_annotation_type(annotation_type)
    need = _COLUMNS[annotation_type]
    if not isinstance(answers, pd.DataFrame):
        raise ValidationError(f"must be a DataFrame with columns {', '.join(need)}", field="answers",
                              value=type(answers).__name__)
    for column in need:
        if column not in answers.columns:
            raise ValidationError(f"missing column {column!r} (need {', '.join(need)})", field=column,
                                  value=list(answers.columns))
    names = need + tuple(c for c in _OPTIONAL[annotation_type] if c in answers.columns)
    columns = _read(answers, names)
    item, items = factorize(columns["item_id"], "item_id")
    worker, workers = factorize(columns["worker"], "worker")
    given = _given_rows(columns.get("kind"), annotation_type, len(answers))
    n_items, n_workers = len(items), max(len(workers), 1)
    per_item = _workers_per_item(item, worker, n_items, n_workers)
    return Answers(answers, annotation_type, columns, item, worker, items, workers, given, per_item)


def _workers_per_item(item: np.ndarray, worker: np.ndarray, n_items: int, n_workers: int) -> np.ndarray:
    """How many distinct workers answered each item."""
    key = item.astype(np.int64) * n_workers + worker
    if len(key) <= SMALL:
        pairs = np.unique(key)
    elif n_items * n_workers <= 4 * len(key):  # a dense (item, worker) table: no hashing
        seen = np.zeros(n_items * n_workers, dtype=bool)
        seen[key] = True
        return np.count_nonzero(seen.reshape(n_items, n_workers), axis=1)
    else:
        pairs = pd.unique(key)
    return np.bincount(pairs // n_workers, minlength=n_items)


def _read(answers: pd.DataFrame, names: tuple[str, ...]) -> dict[str, Any]:
    if len(answers) <= SMALL and answers.columns.is_unique:
        table = answers.to_numpy(dtype=object)
        position = {name: at for at, name in enumerate(answers.columns.tolist())}
        return {name: table[:, position[name]] for name in names}
    return {name: answers[name] for name in names}


def as_index(uniques: Uniques, name: str) -> pd.Index:
    if isinstance(uniques, pd.Index):
        return uniques
    if uniques and all(type(value) is int for value in uniques):  # the usual item ids: skip inference
        return pd.Index(np.array(uniques, dtype=np.int64), name=name)
    return pd.Index(uniques, name=name)


def factorize(values: Any, field: str, sort: bool = True) -> tuple[np.ndarray, Uniques]:
    """Integer codes and uniques (sorted when they can be, else in first-seen order); a missing value
    is a ValidationError.  Small arrays are factorised in Python (their uniques a list, see
    :func:`as_index`), the rest by pandas.

    >>> codes, uniques = factorize(np.array(["b", "a", "b"], dtype=object), "worker")
    >>> codes.tolist(), list(uniques)
    ([1, 0, 1], ['a', 'b'])
    """
    if not isinstance(values, np.ndarray) or len(values) > SMALL:
        return _factorize(values if isinstance(values, pd.Series) else pd.Series(values), field, sort)
    missing = pd.isna(values)
    if missing.any():
        raise ValidationError("missing value in a vote", field=field, value=f"row {int(np.flatnonzero(missing)[0])}")
    listed = values.tolist()
    uniques = list(dict.fromkeys(listed))
    if sort:
        try:
            uniques = sorted(uniques)
        except TypeError:  # mixed, unorderable types: keep first-seen order
            pass
    code = {value: i for i, value in enumerate(uniques)}
    return np.array([code[value] for value in listed], dtype=np.int32), uniques


def _given_rows(kind: Any, annotation_type: str, n: int) -> np.ndarray:
    if kind is None:  # a class frame of today's shape
        return np.ones(n, dtype=bool)
    values = kind if isinstance(kind, np.ndarray) else None
    kinds = pd.unique(kind) if values is None else list(dict.fromkeys(values.tolist()))
    allowed = (_ROW_KIND[annotation_type], "none")
    for value in kinds:
        if value not in allowed:
            if pd.isna(value):
                at = int(np.flatnonzero(pd.isna(np.asarray(kind, dtype=object)))[0])
                raise ValidationError("missing value", field="kind", value=f"row {at}")
            raise ValidationError(f"must be {allowed[0]!r} or 'none' in a {annotation_type} task", field="kind",
                                  value=value)
    if "none" not in kinds:
        return np.ones(n, dtype=bool)
    return values != "none" if values is not None else (kind != "none").to_numpy(dtype=bool)


def given_labels(enc: Answers) -> tuple[np.ndarray, np.ndarray, Uniques]:
    """Positions of the given (not "none") rows and their label codes (labels sorted)."""
    rows = np.flatnonzero(enc.given)
    labels = enc.columns["label"]
    if len(rows) < len(labels):
        labels = labels[rows] if isinstance(labels, np.ndarray) else labels.iloc[rows]
    try:
        codes, values = factorize(labels, "label")
    except ValidationError:
        missing = np.flatnonzero(pd.isna(labels))
        raise ValidationError(f"missing value ({enc.where(int(rows[missing[0]]))})", field="label",
                              value=None) from None
    return rows, codes, values


def floats(column: Any, field: str, rows: np.ndarray, enc: Answers) -> np.ndarray:
    """The rows' values of a number column as float64 (missing values as NaN)."""
    try:
        values = np.asarray(column if isinstance(column, np.ndarray) else column.to_numpy(), dtype=float)
    except (TypeError, ValueError):
        series = pd.Series(column)
        values = pd.to_numeric(series.where(series.notna(), np.nan), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isnan(values) & series.notna().to_numpy())
        if len(bad):
            at = int(bad[0])
            raise ValidationError(f"must be a number ({enc.where(at)})", field=field, value=series.iloc[at]) from None
    values = values if len(rows) == len(values) else values[rows]
    check_finite(values, field, rows, enc)
    return values


def check_finite(values: np.ndarray, field: str, rows: np.ndarray, enc: Answers) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"must be a finite number ({enc.where(int(rows[at]))})", field=field,
                              value=float(values[at]))


# --------------------------------------------------------------------------- the item rule


def agreed_from_units(unit_item: np.ndarray, unit_votes: np.ndarray, n_workers: np.ndarray, threshold: int,
                      unmatched: str, n_empty: np.ndarray | None = None) -> np.ndarray:
    """Per item: do its units (multi_class labels, decided one by one) reach agreement?

    A unit is *in* when ``unit_votes >= threshold`` and *out* when ``n_workers - unit_votes >=
    threshold``.  ``"outvoted"``: agreed when every unit is in or out, and, when none is in, at
    least ``threshold`` workers answered with nothing (``n_empty`` per item; workers who each chose
    a different label do not agree that no label applies); ``"review"``: when every unit is in.  Either way at least
    ``threshold`` workers must have answered, so an item on which that many workers answered with
    nothing agrees on nothing, and one lone "nothing" does not.

    >>> agreed_from_units(np.array([0, 0, 1]), np.array([3, 1, 1]), np.array([3, 2]), 2, "outvoted").tolist()
    [True, False]
    >>> agreed_from_units(np.array([0, 0]), np.array([3, 1]), np.array([3, 1]), 2, "review").tolist()
    [False, False]
    >>> agreed_from_units(np.array([0, 0, 0]), np.array([1, 1, 1]), np.array([3]), 2, "outvoted", np.array([0])).tolist()
    [False]
    """
    n_items = len(n_workers)
    votes_in = unit_votes >= threshold
    decided = votes_in | (n_workers[unit_item] - unit_votes >= threshold)
    open_units = ~votes_in if unmatched == "review" else ~decided
    blocked = np.bincount(unit_item[open_units], minlength=n_items) > 0
    agreed = (n_workers >= threshold) & ~blocked
    if unmatched == "outvoted" and n_empty is not None:
        n_in = np.bincount(unit_item[votes_in], minlength=n_items)
        with_units = np.bincount(unit_item, minlength=n_items) > 0
        agreed &= (n_in > 0) | ~with_units | (n_empty >= threshold)  # an empty consensus needs its workers
    return agreed


def agreed_whole_answers(unit_item: np.ndarray, unit_votes: np.ndarray, n_workers: np.ndarray, threshold: int,
                         unmatched: str, member_unit: np.ndarray, member_worker: np.ndarray) -> np.ndarray:
    """Per item: do its units (clusters of matched shapes) reach agreement?

    A unit is *in* when ``unit_votes >= threshold``; the item's consensus is its units that are in.
    ``"review"``: agreed when every unit is in.  ``"outvoted"``: also agreed when at least
    ``threshold`` workers' whole answers are the consensus (each of their shapes in it, and a shape
    of theirs in each of its clusters): a shape fewer workers drew is outvoted by workers who agree
    without it, while workers who each draw their box somewhere else do not agree that nothing is
    there.  ``member_unit`` / ``member_worker``: one entry per shape, its cluster and its worker.
    Either way at least ``threshold`` workers must have answered.

    Item 0: clusters of 3 and 1 of 3 workers (the lone one is worker 2's); item 1: one cluster of
    1 of 2 workers.

    >>> args = np.array([0, 0, 1]), np.array([3, 1, 1]), np.array([3, 2]), 2
    >>> members = np.array([0, 0, 0, 1, 2]), np.array([0, 1, 2, 2, 0])
    >>> agreed_whole_answers(*args, "outvoted", *members).tolist(), agreed_whole_answers(*args, "review", *members).tolist()
    ([True, False], [False, False])
    """
    n_items = len(n_workers)
    votes_in = unit_votes >= threshold
    blocked = np.bincount(unit_item[~votes_in], minlength=n_items) > 0
    every_unit_in = (n_workers >= threshold) & ~blocked
    if unmatched == "review":
        return every_unit_in
    n_in = np.bincount(unit_item[votes_in], minlength=n_items)
    width = np.int64(max(int(member_worker.max(initial=0)) + 1, 1))
    key = unit_item[member_unit].astype(np.int64) * width + member_worker
    if n_items * int(width) <= 4 * len(key) + 1024:  # a dense (item, worker) table: no sort
        units = np.bincount(key, minlength=n_items * int(width))
        answer = np.flatnonzero(units)
        units = units[answer]
        units_in = np.bincount(key, weights=votes_in[member_unit], minlength=n_items * int(width))[answer]
    else:
        answer, position = np.unique(key, return_inverse=True)
        units = np.bincount(position, minlength=len(answer))
        units_in = np.bincount(position, weights=votes_in[member_unit], minlength=len(answer))
    answer_item = answer // width
    equal = (units == units_in) & (units == n_in[answer_item])
    agreeing = np.bincount(answer_item[equal], minlength=n_items)
    empty = n_workers - np.bincount(answer_item, minlength=n_items)  # answered with nothing
    agreeing = agreeing + np.where(n_in == 0, empty, 0)
    return every_unit_in | ((n_workers >= threshold) & (agreeing >= threshold))


def class_decision(item: np.ndarray, label: np.ndarray, n_items: int, threshold: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One vote per row (``item`` codes, ``label`` values): whether each item agrees, and the share
    of its votes that the most common label has (NaN for an item without votes).

    The rule is the store's: one label has ``threshold`` votes and no other label also has
    (:func:`dltasks.domain.workflow.consensus_reached`, and for many items its vectorised twin
    :func:`dltasks.consensus.threshold_consensus`).

    >>> class_decision(np.array([0, 0, 0]), np.array(["cat", "cat", "dog"]), 1, 2)
    (array([ True]), array([0.66666667]))
    >>> class_decision(np.array([0, 0, 1, 1]), np.array(["a", "b", "a", "a"]), 3, 2)[0].tolist()
    [False, True, False]
    """
    if n_items == 1:
        counts = Counter(label.tolist())
        reached = consensus_reached(counts, threshold) is not None
        top = max(counts.values()) / len(label) if len(label) else math.nan
        return np.array([reached]), np.array([top])
    agreed, share = np.zeros(n_items, dtype=bool), np.full(n_items, math.nan)
    if len(item):
        votes = pd.DataFrame({"item_id": item, "worker": 0, "label": label})
        out = threshold_consensus(votes, approval_threshold=threshold, workers_per_input=threshold)
        where = out.index.to_numpy(dtype=np.int64)
        agreed[where] = (out["status"] == STATUSES[0]).to_numpy()
        share[where] = out["agreement"].to_numpy()
    return agreed, share


def status_frame(items: pd.Index, agreed: np.ndarray, agreement: np.ndarray, n_workers: np.ndarray,
                 workers_per_input: int) -> pd.DataFrame:
    """``status`` (approved / awaiting_review / awaiting_consensus), ``agreement``, ``n_workers``."""
    codes = np.where(agreed, 0, np.where(n_workers >= workers_per_input, 1, 2)).astype(np.int8)
    return pd.DataFrame(
        {
            "status": pd.Categorical.from_codes(codes, categories=pd.Index(STATUSES)),
            "agreement": np.asarray(agreement, dtype=float),
            "n_workers": np.asarray(n_workers, dtype=np.int64),
        },
        index=items,
    )
