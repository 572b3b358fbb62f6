"""Consensus and agreement from a long table of votes.

Every public function takes the same column contract: a long
:class:`pandas.DataFrame` with one row per vote and the columns ``item_id``,
``worker`` and ``label`` (ids may be strings or integers, labels are strings;
other columns are ignored).  Results are indexed by ``item_id`` in order of
first appearance (or by sorted ``worker`` for per-worker tables).

The module is pure: numpy, scipy and pandas in, DataFrames out.  Ids are
factorised to integer codes once (:func:`_encode`); everything after that is
``np.bincount`` and ``scipy.sparse`` products, with no Python loop over items
or votes.  Ties between labels are always broken towards the
lexicographically smallest label, so results are deterministic.

Examples
--------
>>> import pandas as pd
>>> from dltasks.consensus import majority_vote, threshold_consensus
>>> votes = pd.DataFrame({
...     "item_id": ["a", "a", "a", "b", "b"],
...     "worker": ["w1", "w2", "w3", "w1", "w2"],
...     "label": ["cat", "cat", "dog", "dog", "cat"],
... })
>>> majority_vote(votes).to_dict()
{'a': 'cat', 'b': 'cat'}
>>> threshold_consensus(votes, approval_threshold=2, workers_per_input=3)["status"].tolist()
['approved', 'awaiting_consensus']
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import pandas as pd
from scipy import sparse, special

from dltasks.errors import ValidationError

__all__ = [
    "STATUSES",
    "Votes",
    "encode_votes",
    "threshold_consensus",
    "majority_vote",
    "DawidSkene",
    "Gold",
    "gold_codes",
    "fix_gold",
    "percent_agreement",
    "item_agreement",
    "worker_agreement",
    "pairwise_cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "agreement_summary",
]

#: Values of the ``status`` column of :func:`threshold_consensus`, in order.
STATUSES: tuple[str, ...] = ("approved", "awaiting_review", "awaiting_consensus")

_COLUMNS = ("item_id", "worker", "label")
_TIE_POLICIES = ("review", "first")
_EPS = 1e-10  # probability floor, the same as crowd-kit's

#: Known true labels: a Series (or mapping) item_id -> label, or a DataFrame with item_id and label.
Gold = Union[pd.Series, Mapping[Any, Any], pd.DataFrame]


# --------------------------------------------------------------------------- encoding


@dataclass(frozen=True)
class Votes:
    """Votes as integer codes plus the ids the codes point into (see :func:`encode_votes`).

    ``items`` are in order of first appearance; ``workers`` and ``labels`` sorted.  Every
    function of this module takes a ``Votes`` wherever it takes a votes DataFrame, so several
    analyses of one table encode it once.
    """

    item: np.ndarray
    worker: np.ndarray
    label: np.ndarray
    items: pd.Index
    workers: pd.Index
    labels: pd.Index

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """Votes (or summed vote weights) per item and label, shape (items, labels)."""
        k = self.n_labels
        flat = np.bincount(_pair(self.item, self.label, k), weights, minlength=self.n_items * k)
        return flat.reshape(self.n_items, k)

    def onehot(self) -> sparse.csr_matrix:
        """Vote counts as a sparse ``item x (worker, label)`` matrix."""
        k = self.n_labels
        if self.n_workers * k < 2**31:  # int32 column codes: half the memory
            column = self.worker * np.int32(k) + self.label
        else:
            column = _pair(self.worker, self.label, k)
        matrix = sparse.csr_matrix(
            (np.ones(len(self.item)), (self.item, column)),
            shape=(self.n_items, self.n_workers * k),
        )
        matrix.sum_duplicates()
        return matrix

    def votes_per_item(self) -> np.ndarray:
        return np.bincount(self.item, minlength=self.n_items)

    def __len__(self) -> int:
        """The number of votes."""
        return len(self.item)


def _pair(major: np.ndarray, minor: np.ndarray, width: int) -> np.ndarray:
    """``major * width + minor`` as int64 (codes are stored as int32)."""
    key = major.astype(np.int64)
    key *= max(width, 1)
    key += minor
    return key


def _factorize(values: pd.Series, field: str, sort: bool) -> tuple[np.ndarray, pd.Index]:
    try:
        codes, uniques = pd.factorize(values, sort=sort)
    except TypeError:  # mixed, unorderable types: keep first-seen order
        codes, uniques = pd.factorize(values, sort=False)
    if len(codes) and codes.min() < 0:
        bad = int(np.flatnonzero(codes < 0)[0])
        raise ValidationError("missing value in a vote", field=field, value=f"row {bad}")
    small = len(uniques) < 2**31
    return codes.astype(np.int32 if small else np.int64), pd.Index(uniques, name=field)


def encode_votes(labels: pd.DataFrame) -> Votes:
    """Check a votes table and factorise its id columns, for several analyses of one table.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = encode_votes(pd.DataFrame({"item_id": [1, 1, 2], "worker": ["b", "a", "a"],
    ...                                    "label": ["x", "y", "x"]}))
    >>> len(votes), list(votes.workers), percent_agreement(votes), majority_vote(votes).to_dict()
    (3, ['a', 'b'], 0.0, {1: 'x', 2: 'x'})
    """
    return _encode(labels)


def _encode(labels: pd.DataFrame | Votes, workers: bool = True) -> Votes:
    """Check the column contract and factorise the id columns once (a ``Votes`` passes through).

    With ``workers=False`` (item-level statistics) the worker column is only
    checked for missing values, not factorised.
    """
    if isinstance(labels, Votes):
        return labels
    if not isinstance(labels, pd.DataFrame):
        raise ValidationError(
            "must be a DataFrame with columns item_id, worker, label",
            field="labels",
            value=type(labels).__name__,
        )
    for column in _COLUMNS:
        if column not in labels.columns:
            raise ValidationError(
                f"missing column {column!r} (need item_id, worker, label)",
                field=column,
                value=list(labels.columns),
            )
    # Items keep first-seen order: sorting a million unique ids would cost as much as
    # hashing them.  Workers and labels are few; labels must be sorted for tie-breaking.
    item, items = _factorize(labels["item_id"], "item_id", sort=False)
    if workers:
        worker, worker_ids = _factorize(labels["worker"], "worker", sort=True)
    else:
        missing = labels["worker"].isna().to_numpy()
        if missing.any():
            raise ValidationError("missing value in a vote", field="worker",
                                  value=f"row {int(np.flatnonzero(missing)[0])}")
        worker, worker_ids = np.zeros(0, dtype=np.int32), pd.Index([], name="worker")
    label, label_values = _factorize(labels["label"], "label", sort=True)
    return Votes(item, worker, label, items, worker_ids, label_values)


def _check_unique_votes(votes: Votes) -> None:
    """One vote per (item, worker): needed where a worker's vote is a single cell."""
    key = _pair(votes.item, votes.worker, votes.n_workers)
    if len(key) and len(np.unique(key)) != len(key):
        raise ValidationError(
            "a worker voted more than once on the same item",
            field="labels",
        )


def _top_label(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index of the first (= smallest) top label, the top count, and whether it is tied."""
    if counts.shape[1] == 0:
        empty = np.zeros(counts.shape[0], dtype=np.int64)
        return empty, empty.astype(counts.dtype), empty.astype(bool)
    top = counts.argmax(axis=1)
    best = np.take_along_axis(counts, top[:, None], axis=1)[:, 0]
    tie = (counts == best[:, None]).sum(axis=1) > 1
    return top, best, tie


def _label_series(votes: Votes, codes: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    values = votes.labels.take(codes) if votes.n_labels else pd.Index([], dtype=object)
    out = pd.Series(values, index=votes.items, name="label")
    return out if missing is None else out.where(~missing)


def _check_int(value: Any, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError("must be an integer", field=field, value=value)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(f"must be {bound}", field=field, value=value)
    return int(value)


# --------------------------------------------------------------------------- consensus


def threshold_consensus(
    labels: pd.DataFrame | Votes,
    approval_threshold: int,
    workers_per_input: int,
    tie_policy: str = "review",
) -> pd.DataFrame:
    """Consensus review: approve an item once one label reaches the threshold.

    Per item, with threshold ``t`` and ``k`` workers per input: *approved* when
    one label has at least ``t`` votes and no other label also has ``t``;
    otherwise *awaiting_review* once ``k`` or more votes are in, and
    *awaiting_consensus* before that.

    Parameters
    ----------
    labels : DataFrame
        Long votes table with columns ``item_id``, ``worker``, ``label``.
    approval_threshold : int
        Votes one label needs, ``1 <= t <= workers_per_input``.
    workers_per_input : int
        Votes each item is meant to receive (``k``).
    tie_policy : {"review", "first"}
        ``"review"``: a tied item gets no top label (NA) and its fate is left to
        reviewers; ``"first"``: the lexicographically smallest tied label.

    Returns
    -------
    DataFrame
        Indexed by ``item_id`` with columns ``label`` (top label or NA),
        ``votes`` (votes of the top label), ``n_labels``, ``agreement``
        (``votes / n_labels``), ``tie`` (two or more labels share the top
        count) and ``status`` (categorical over :data:`STATUSES`).

    Raises
    ------
    ValidationError
        Missing columns or values, a threshold outside ``1..workers_per_input``
        or an unknown ``tie_policy``.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "item_id": [1, 1, 1, 2, 2, 3, 3, 3],
    ...     "worker": ["a", "b", "c", "a", "b", "a", "b", "c"],
    ...     "label": ["cat", "cat", "dog", "cat", "dog", "cat", "dog", "fox"],
    ... })
    >>> out = threshold_consensus(votes, approval_threshold=2, workers_per_input=3)
    >>> out[["label", "votes", "tie", "status"]]  # doctest: +NORMALIZE_WHITESPACE
            label  votes    tie           status
    item_id
    1         cat      2  False         approved
    2         NaN      1   True  awaiting_consensus
    3         NaN      1   True  awaiting_review
    """
    k = _check_int(workers_per_input, "workers_per_input", 1)
    t = _check_int(approval_threshold, "approval_threshold", 1, k)
    if tie_policy not in _TIE_POLICIES:
        raise ValidationError(f"must be one of {_TIE_POLICIES}", field="tie_policy", value=tie_policy)
    votes = _encode(labels, workers=False)
    counts = votes.counts()
    n_labels = votes.votes_per_item()
    top, best, tie = _top_label(counts)
    approved = (counts >= t).sum(axis=1) == 1
    status = np.where(approved, 0, np.where(n_labels >= k, 1, 2)).astype(np.int8)
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = best / n_labels
    return pd.DataFrame(
        {
            "label": _label_series(votes, top, tie if tie_policy == "review" else None),
            "votes": best,
            "n_labels": n_labels,
            "agreement": agreement,
            "tie": tie,
            "status": pd.Categorical.from_codes(status, categories=pd.Index(STATUSES)),
        },
        index=votes.items,
        copy=False,
    )


def _worker_weights(votes: Votes, weights: Mapping[str, float] | pd.Series) -> np.ndarray:
    try:
        series = weights if isinstance(weights, pd.Series) else pd.Series(dict(weights), dtype=float)
        aligned = series.reindex(votes.workers)
        values = aligned.to_numpy(dtype=float)
    except (TypeError, ValueError) as error:
        raise ValidationError(f"must map worker -> number ({error})", field="weights") from error
    missing = np.isnan(values)
    if missing.any():
        raise ValidationError(
            "no weight for some workers", field="weights", value=list(votes.workers[missing][:5])
        )
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValidationError("weights must be finite and >= 0", field="weights", value=series.to_dict())
    return values[votes.worker]


def majority_vote(
    labels: pd.DataFrame | Votes,
    weights: Mapping[str, float] | pd.Series | None = None,
) -> pd.Series:
    """(Weighted) majority vote per item.

    Ties go to the lexicographically smallest label.  On items without a tie
    the result equals crowd-kit's ``MajorityVote().fit_predict``; on tied
    items crowd-kit picks whichever tied label comes first in its
    ``value_counts`` order (the most frequent label overall), which depends
    on the whole dataset.

    Parameters
    ----------
    labels : DataFrame
        Long votes table with columns ``item_id``, ``worker``, ``label``.
    weights : mapping or Series, optional
        Weight per worker (finite, ``>= 0``); every voting worker needs one.
        Default: every vote weighs 1.

    Returns
    -------
    Series
        Named ``"label"``, indexed by ``item_id``.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "item_id": ["x", "x", "x"],
    ...     "worker": ["ann", "bob", "cid"],
    ...     "label": ["yes", "no", "no"],
    ... })
    >>> majority_vote(votes).tolist()
    ['no']
    >>> majority_vote(votes, weights={"ann": 3.0, "bob": 1.0, "cid": 1.0}).tolist()
    ['yes']
    """
    votes = _encode(labels, workers=weights is not None)
    w = None if weights is None else _worker_weights(votes, weights)
    top, _, _ = _top_label(votes.counts(w))
    return _label_series(votes, top)


# --------------------------------------------------------------------------- gold


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
    >>> votes = encode_votes(pd.DataFrame({"item_id": [1, 2], "worker": ["a", "a"], "label": ["x", "y"]}))
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



# --------------------------------------------------------------------------- Dawid-Skene


class DawidSkene:
    """Dawid–Skene EM estimate of true labels and per-worker confusion matrices.

    Follows crowd-kit's ``DawidSkene`` step for step (majority-vote start,
    probability floor ``1e-10``, the same evidence lower bound and stopping
    rule) but runs the E and M steps as sparse products of a one-hot
    ``item x (worker, label)`` matrix, in log space.

    Parameters
    ----------
    n_iter : int
        Maximum number of EM iterations.
    tol : float
        Stop when the lower bound (per vote) improves by less than ``tol``.

    Attributes
    ----------
    labels_ : Series
        Most probable label per ``item_id`` (ties: smallest label).
    probas_ : DataFrame
        Posterior of the true label, ``item_id`` x label.
    priors_ : Series
        Class prior per label.
    errors_ : DataFrame
        Confusion matrices in crowd-kit's layout: index ``(worker, label)``
        where ``label`` is the *observed* label, one column per *true* label;
        ``errors_.loc[(w, seen), true]`` is P(w answers ``seen`` | ``true``).
        Each (worker, true label) column sums to 1.  Pairs a worker never
        answered are 0 (crowd-kit leaves those rows out).
    skills_ : Series
        Per-worker accuracy: ``sum_k priors_[k] * errors_[w, k, k]``.
    loss_history_ : list of float
        Evidence lower bound per vote after each iteration.
    n_iter_ : int
        Iterations run.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...     "worker": ["a", "b", "c"] * 3,
    ...     "label": ["x", "x", "y", "y", "y", "y", "x", "x", "x"],
    ... })
    >>> ds = DawidSkene().fit(votes)
    >>> ds.labels_.tolist()
    ['x', 'y', 'x']
    >>> ds.skills_.round(2).to_dict()
    {'a': 1.0, 'b': 1.0, 'c': 0.67}
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-5) -> None:
        self.n_iter = n_iter
        self.tol = tol

    def __repr__(self) -> str:
        return f"DawidSkene(n_iter={self.n_iter!r}, tol={self.tol!r})"

    def fit(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> DawidSkene:
        """Run EM on a long votes table (``item_id``, ``worker``, ``label``); return self.

        ``gold`` (item_id -> label, see :func:`gold_codes`) fixes those items' posteriors before the
        first M-step and after every E-step, as crowd-kit's ``fit(data, true_labels)``.
        """
        n_iter = _check_int(self.n_iter, "n_iter", 1)
        if not np.isfinite(self.tol) or self.tol < 0:
            raise ValidationError("must be a finite number >= 0", field="tol", value=self.tol)
        votes = _encode(labels)
        if not len(votes.item):
            raise ValidationError("no votes to fit", field="labels")
        known = gold_codes(votes, gold)
        w, k = votes.n_workers, votes.n_labels
        onehot = votes.onehot()
        onehot_t = onehot.T  # a CSC view of the same arrays, not a copy
        seen = np.asarray(onehot.sum(axis=0)).reshape(w, k) > 0
        per_item = votes.votes_per_item().astype(float)

        probas = fix_gold(votes.counts() / per_item[:, None], known)
        priors = probas.mean(axis=0)
        errors = self._m_step(onehot_t, probas, seen)
        item_log_errors = onehot @ self._log_errors(errors, seen)
        scratch = np.empty_like(probas)
        loss, history = -np.inf, []
        for _ in range(n_iter):
            probas = fix_gold(self._e_step(item_log_errors, priors), known)  # consumes item_log_errors
            priors = probas.mean(axis=0)
            errors = self._m_step(onehot_t, probas, seen)
            item_log_errors = onehot @ self._log_errors(errors, seen)
            new_loss = self._lower_bound(item_log_errors, probas, priors, per_item, scratch) / len(votes.item)
            history.append(float(new_loss))
            if new_loss - loss < self.tol:
                break
            loss = new_loss
        self._store(votes, probas, priors, errors, history)
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels, gold).labels_

    @staticmethod
    def _m_step(onehot_t: sparse.spmatrix, probas: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """Confusion matrices (worker, observed, true) from the posteriors."""
        w, k = seen.shape
        counts: np.ndarray = np.asarray(onehot_t @ probas).reshape(w, k, k)
        counts = np.where(seen[:, :, None], np.maximum(counts, _EPS), 0.0)
        return counts / counts.sum(axis=1, keepdims=True)

    @staticmethod
    def _log_errors(errors: np.ndarray, seen: np.ndarray) -> np.ndarray:
        """log P(observed | true) as a ((worker, observed) x true) matrix; 0 where never seen."""
        w, k, _ = errors.shape
        safe = np.where(seen[:, :, None], errors, 1.0)
        return np.log(safe).reshape(w * k, k)

    @staticmethod
    def _e_step(item_log_errors: np.ndarray, priors: np.ndarray) -> np.ndarray:
        """Posterior of the true label per item (log-sum-exp normalised), in place."""
        lik = item_log_errors
        lik += np.log(np.maximum(priors, _EPS))
        lik -= lik.max(axis=1, keepdims=True)
        np.exp(lik, out=lik)
        lik /= lik.sum(axis=1, keepdims=True)
        return lik

    @staticmethod
    def _lower_bound(
        item_log_errors: np.ndarray,
        probas: np.ndarray,
        priors: np.ndarray,
        per_item: np.ndarray,
        scratch: np.ndarray,
    ) -> float:
        """crowd-kit's ELBO: the log prior is counted once per vote, as crowd-kit does."""
        joint = np.einsum("ij,ij->", probas, item_log_errors)
        joint += (per_item @ probas) @ np.log(np.maximum(priors, _EPS))
        np.maximum(probas, _EPS, out=scratch)
        special.xlogy(scratch, scratch, out=scratch)
        return float(joint - scratch.sum())

    def _store(
        self, votes: Votes, probas: np.ndarray, priors: np.ndarray, errors: np.ndarray, history: list[float]
    ) -> None:
        true = pd.Index(votes.labels, name="label")
        self.probas_ = pd.DataFrame(probas, index=votes.items, columns=true, copy=False)
        self.labels_ = _label_series(votes, probas.argmax(axis=1))
        self.priors_ = pd.Series(priors, index=true, name="prior")
        w, k = votes.n_workers, votes.n_labels
        rows = pd.MultiIndex.from_product([votes.workers, votes.labels], names=["worker", "label"])
        self.errors_ = pd.DataFrame(errors.reshape(w * k, k), index=rows, columns=true)
        diagonal = errors[:, np.arange(k), np.arange(k)]
        self.skills_ = pd.Series(diagonal @ priors, index=votes.workers, name="skill")
        self.loss_history_ = history
        self.n_iter_ = len(history)


# --------------------------------------------------------------------------- agreement


def _agreeing_pairs(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item: ordered pairs of votes that agree, and all ordered pairs."""
    n = counts.sum(axis=1)
    return (counts * (counts - 1)).sum(axis=1), n * (n - 1)


def _item_agreement(counts: np.ndarray) -> np.ndarray:
    agree, pairs = _agreeing_pairs(counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, agree / np.where(pairs > 0, pairs, 1), np.nan)


def item_agreement(labels: pd.DataFrame | Votes) -> pd.Series:
    """Share of agreeing pairs of votes per item.

    ``sum_l c_l (c_l - 1) / (n (n - 1))`` for an item with ``n`` votes of which
    ``c_l`` say label ``l``; NaN for items with fewer than two votes.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 1, 2], "worker": ["a", "b", "c", "a"],
    ...                       "label": ["x", "x", "y", "x"]})
    >>> item_agreement(votes).round(3).tolist()
    [0.333, nan]
    """
    votes = _encode(labels, workers=False)
    return pd.Series(_item_agreement(votes.counts()), index=votes.items, name="agreement")


def _percent_agreement(counts: np.ndarray) -> float:
    per_item = _item_agreement(counts)
    scored = per_item[~np.isnan(per_item)]
    return float(scored.mean()) if len(scored) else float("nan")


def percent_agreement(labels: pd.DataFrame | Votes) -> float:
    """Mean over items with at least two votes of the share of agreeing vote pairs.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
    ...                       "label": ["x", "x", "x", "y"]})
    >>> percent_agreement(votes)
    0.5
    """
    return _percent_agreement(_encode(labels, workers=False).counts())


def _fleiss_kappa(counts: np.ndarray) -> float:
    n = counts.sum(axis=1)
    rated = counts[n >= 2]
    if not len(rated):
        return float("nan")
    p_bar = _item_agreement(rated).mean()
    p_cat = rated.sum(axis=0) / rated.sum()
    p_exp = float((p_cat * p_cat).sum())
    return float((p_bar - p_exp) / (1 - p_exp)) if p_exp < 1 else float("nan")


def fleiss_kappa(labels: pd.DataFrame | Votes) -> float:
    """Fleiss' kappa, generalised to a varying number of votes per item.

    Over the items ``i`` with ``n_i >= 2`` votes (``c_il`` for label ``l``)::

        P_i   = sum_l c_il (c_il - 1) / (n_i (n_i - 1))     # agreeing pairs
        P_bar = mean_i P_i
        p_l   = sum_i c_il / sum_i n_i                      # vote-weighted marginals
        P_e   = sum_l p_l ** 2
        kappa = (P_bar - P_e) / (1 - P_e)

    With the same ``n`` for every item this is exactly Fleiss (1971) and
    statsmodels' ``fleiss_kappa(table, method="fleiss")``.  NaN when
    ``P_e == 1`` (a single label used) or no item has two votes.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
    ...                       "label": ["x", "x", "y", "y"]})
    >>> fleiss_kappa(votes)
    1.0
    """
    return _fleiss_kappa(_encode(labels, workers=False).counts())


def _coincidences(counts: np.ndarray) -> np.ndarray:
    """Krippendorff's coincidence matrix ``o[c, k]`` over units with >= 2 values."""
    n = counts.sum(axis=1)
    weight = np.zeros(len(n))
    np.divide(1.0, n - 1, out=weight, where=n >= 2)  # 1 / (m_u - 1); 0 for units with < 2 values
    values = counts.astype(float)
    weighted = values * weight[:, None]
    return values.T @ weighted - np.diag(weighted.sum(axis=0))


def _krippendorff_alpha(counts: np.ndarray) -> float:
    o = _coincidences(counts)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    expected = n * n - (n_c * n_c).sum()  # sum over c != k of n_c n_k
    if n <= 1 or expected <= 0:
        return float("nan")
    observed = n - np.trace(o)  # sum over c != k of o_ck
    return float(1.0 - (n - 1) * observed / expected)


def krippendorff_alpha(labels: pd.DataFrame | Votes) -> float:
    """Krippendorff's alpha for nominal data, missing votes allowed.

    Built from the coincidence matrix ``o[c, k] = sum_u n_uc (n_uk - [c == k])
    / (m_u - 1)`` over units with ``m_u >= 2`` votes, then ``alpha = 1 - (n - 1)
    sum_{c != k} o_ck / sum_{c != k} n_c n_k``.  Matches
    ``krippendorff.alpha(..., level_of_measurement="nominal")``.  NaN when
    fewer than two pairable values or only one label.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2, 3], "worker": ["a", "b", "a", "b", "a"],
    ...                       "label": ["x", "x", "y", "y", "x"]})
    >>> krippendorff_alpha(votes)
    1.0
    """
    return _krippendorff_alpha(_encode(labels, workers=False).counts())


def pairwise_cohen_kappa(labels: pd.DataFrame | Votes) -> pd.DataFrame:
    """Cohen's kappa between every two workers, over the items both labelled.

    The co-occurrence counts of all worker pairs come from one sparse product
    ``A.T @ A`` of the one-hot ``item x (worker, label)`` matrix.  Needs at most
    one vote per (item, worker).

    Returns
    -------
    DataFrame
        Symmetric ``worker x worker``; NaN where two workers share fewer than two
        items or kappa is undefined (expected agreement 1).  The diagonal is a
        worker against itself (1, or NaN when undefined).

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "item_id": [1, 1, 2, 2, 3, 3, 4, 4],
    ...     "worker": ["a", "b"] * 4,
    ...     "label": ["x", "x", "y", "y", "x", "y", "y", "y"],
    ... })
    >>> pairwise_cohen_kappa(votes).loc["a", "b"]
    np.float64(0.5)
    """
    votes = _encode(labels)
    _check_unique_votes(votes)
    w, k = votes.n_workers, votes.n_labels
    onehot = votes.onehot()
    co = (onehot.T @ onehot).tocoo()
    wa, la = np.divmod(co.row, max(k, 1))
    wb, lb = np.divmod(co.col, max(k, 1))
    pair = wa * w + wb
    shared = np.bincount(pair, co.data, minlength=w * w)
    agree = np.bincount(pair[la == lb], co.data[la == lb], minlength=w * w)
    rows = np.bincount(pair * k + la, co.data, minlength=w * w * k).reshape(w * w, k)
    cols = np.bincount(pair * k + lb, co.data, minlength=w * w * k).reshape(w * w, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_obs = agree / shared
        p_exp = (rows * cols).sum(axis=1) / (shared * shared)
        kappa = (p_obs - p_exp) / (1 - p_exp)
    kappa[(shared < 2) | (p_exp >= 1)] = np.nan
    return pd.DataFrame(kappa.reshape(w, w), index=votes.workers, columns=votes.workers.copy())


def worker_agreement(
    labels: pd.DataFrame | Votes,
    consensus: pd.Series | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """How often each worker's votes match the consensus label.

    Parameters
    ----------
    labels : DataFrame
        Long votes table with columns ``item_id``, ``worker``, ``label``.
    consensus : Series or DataFrame, optional
        Consensus label per ``item_id`` (a DataFrame's ``label`` column is used,
        e.g. :func:`threshold_consensus` output).  Default: :func:`majority_vote`.
        Votes on items with no (or NA) consensus are not compared.

    Returns
    -------
    DataFrame
        Indexed by ``worker``: ``n_labels`` (votes cast), ``n_compared`` (votes
        on items with a consensus) and ``agreement_with_consensus``
        (matching / compared; NaN if nothing compared).

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "c"] * 2,
    ...                       "label": ["x", "x", "y", "y", "y", "y"]})
    >>> worker_agreement(votes)["agreement_with_consensus"].tolist()
    [1.0, 1.0, 0.5]
    """
    votes = _encode(labels)
    if consensus is None:
        top, _, _ = _top_label(votes.counts())
        item_label = top
    else:
        if isinstance(consensus, pd.DataFrame):
            if "label" not in consensus.columns:
                raise ValidationError("needs a 'label' column", field="consensus", value=list(consensus.columns))
            consensus = consensus["label"]
        if not isinstance(consensus, pd.Series):
            raise ValidationError("must be a Series indexed by item_id", field="consensus",
                                  value=type(consensus).__name__)
        if not consensus.index.is_unique:
            raise ValidationError("item_id index has duplicates", field="consensus")
        aligned = consensus.reindex(votes.items)
        item_label = votes.labels.get_indexer(pd.Index(aligned))  # -1: NA or a label nobody used
        item_label = np.where(aligned.isna().to_numpy(), -2, item_label)
    compared = item_label[votes.item] != -2
    match = item_label[votes.item] == votes.label
    n_labels = np.bincount(votes.worker, minlength=votes.n_workers)
    n_compared = np.bincount(votes.worker[compared], minlength=votes.n_workers)
    n_match = np.bincount(votes.worker[match], minlength=votes.n_workers)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_compared > 0, n_match / np.maximum(n_compared, 1), np.nan)
    return pd.DataFrame(
        {"n_labels": n_labels, "n_compared": n_compared, "agreement_with_consensus": share},
        index=votes.workers,
    )


def agreement_summary(labels: pd.DataFrame | Votes) -> pd.Series:
    """All dataset-level agreement numbers in one Series (one encoding pass).

    Returns
    -------
    Series
        ``percent_agreement``, ``fleiss_kappa``, ``krippendorff_alpha``,
        ``n_items``, ``n_workers``, ``n_labels`` (votes).

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
    ...                       "label": ["x", "x", "y", "y"]})
    >>> agreement_summary(votes).to_dict()
    {'percent_agreement': 1.0, 'fleiss_kappa': 1.0, 'krippendorff_alpha': 1.0, 'n_items': 2.0, 'n_workers': 2.0, 'n_labels': 4.0}
    """
    votes = _encode(labels)
    counts = votes.counts()
    return pd.Series(
        {
            "percent_agreement": _percent_agreement(counts),
            "fleiss_kappa": _fleiss_kappa(counts),
            "krippendorff_alpha": _krippendorff_alpha(counts),
            "n_items": float(votes.n_items),
            "n_workers": float(votes.n_workers),
            "n_labels": float(len(votes.item)),
        },
        name="agreement",
    )
