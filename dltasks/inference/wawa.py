"""Majority vote and Wawa (Worker Agreement With Aggregate) as estimators.

Examples
--------
>>> import pandas as pd
>>> from dltasks.inference import MajorityVote, Wawa
>>> votes = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 2], "worker": ["a", "b", "c"] * 2,
...                       "label": ["x", "x", "y", "y", "y", "y"]})
>>> MajorityVote().fit(votes).labels_.to_dict(), Wawa().fit(votes).labels_.to_dict()
({1: 'x', 2: 'y'}, {1: 'x', 2: 'y'})
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dltasks.consensus import Votes, _top_label
from dltasks.inference._common import as_votes, result_frames

__all__ = ["MajorityVote", "Wawa"]


def _agreement_with(votes: Votes, item_label: np.ndarray) -> np.ndarray:
    """Each worker's share of votes equal to ``item_label`` of the item."""
    agree = (item_label[votes.item] == votes.label).astype(float)
    return np.bincount(votes.worker, agree, minlength=votes.n_workers) / np.bincount(
        votes.worker, minlength=votes.n_workers
    )


def _weighted_vote(votes: Votes, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Top label per item (ties: the smallest) and the vote shares, by per-vote ``weights``.

    Items whose votes all weigh 0 fall back to plain vote counts.  Sums are rounded to 12
    decimals before the top label is chosen, so ties do not depend on the order of the votes.
    """
    counts = votes.counts().astype(float)
    scores = counts if weights is None else votes.counts(weights)
    total = scores.sum(axis=1)
    none = total <= 0
    if none.any():
        scores[none], total[none] = counts[none], counts[none].sum(axis=1)
    top = _top_label(np.round(scores, 12))[0]
    return top, scores / total[:, None]


class MajorityVote:
    """Majority vote in the estimator shape: vote shares as probabilities, agreement as skill.

    Attributes
    ----------
    labels_ : Series
        The label most workers gave, per ``item_id`` (ties: the smallest label), as
        :func:`dltasks.consensus.majority_vote`.
    probas_ : DataFrame
        Each label's share of the item's votes, ``item_id`` x label.
    skills_ : Series
        Per worker, the share of their votes equal to the majority label.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 1, 2, 2], "worker": ["a", "b", "c", "a", "b"],
    ...                       "label": ["x", "x", "y", "y", "x"]})
    >>> mv = MajorityVote().fit(votes)
    >>> mv.labels_.to_dict(), mv.skills_.to_dict()
    ({1: 'x', 2: 'x'}, {'a': 0.5, 'b': 1.0, 'c': 0.0})
    >>> mv.probas_.loc[1].round(2).to_dict()
    {'x': 0.67, 'y': 0.33}
    """

    def __repr__(self) -> str:
        return "MajorityVote()"

    def fit(self, labels: pd.DataFrame | Votes) -> MajorityVote:
        """Count the votes of a votes table (``item_id``, ``worker``, ``label``) or ``Votes``; return self."""
        votes = as_votes(labels)
        top, probas = _weighted_vote(votes, None)
        self.labels_, self.probas_, self.skills_ = result_frames(votes, probas, _agreement_with(votes, top), top)
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels).labels_


class Wawa:
    """Wawa: majority vote weighted by each worker's agreement with the plain majority vote.

    1. the majority label per item (ties: the smallest label);
    2. each worker's skill: the share of their votes equal to it;
    3. per item, the label with the largest sum of its voters' skills.

    The same three steps as crowd-kit's ``Wawa`` (whose ``predict`` fails under scikit-learn
    1.6 and later), by ``np.bincount`` over the votes.  Items whose voters all have skill 0 keep
    the plain majority.

    Attributes
    ----------
    labels_ : Series
        The label with the largest summed skill per ``item_id`` (ties: the smallest label).
    probas_ : DataFrame
        Each label's share of the item's summed skill, ``item_id`` x label.
    skills_ : Series
        Per worker, the share of their votes equal to the majority label.

    Examples
    --------
    ``b`` and ``c`` often disagree with the majority, so on item 5 ``a`` outweighs them both:

    >>> import pandas as pd
    >>> votes = pd.DataFrame(
    ...     [(1, "a", "x"), (1, "b", "y"), (1, "d", "x"), (2, "a", "y"), (2, "b", "x"), (2, "d", "y"),
    ...      (3, "a", "x"), (3, "c", "y"), (3, "d", "x"), (4, "a", "y"), (4, "c", "x"), (4, "d", "y"),
    ...      (5, "a", "x"), (5, "b", "y"), (5, "c", "y")],
    ...     columns=["item_id", "worker", "label"])
    >>> wawa = Wawa().fit(votes)
    >>> wawa.skills_.round(2).to_dict()
    {'a': 0.8, 'b': 0.33, 'c': 0.33, 'd': 1.0}
    >>> wawa.labels_[5], MajorityVote().fit(votes).labels_[5]
    ('x', 'y')
    """

    def __repr__(self) -> str:
        return "Wawa()"

    def fit(self, labels: pd.DataFrame | Votes) -> Wawa:
        """Fit on a votes table (``item_id``, ``worker``, ``label``) or ``Votes``; return self."""
        votes = as_votes(labels)
        majority = _top_label(votes.counts())[0]
        skills = _agreement_with(votes, majority)
        top, probas = _weighted_vote(votes, skills[votes.worker])
        self.labels_, self.probas_, self.skills_ = result_frames(votes, probas, skills, top)
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels).labels_
