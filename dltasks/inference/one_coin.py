"""One-coin Dawid–Skene: one accuracy per worker instead of a confusion matrix; see :class:`OneCoinDawidSkene`."""
from __future__ import annotations

import numpy as np
import pandas as pd

from dltasks.consensus import DawidSkene, Votes, _pair
from dltasks.inference._common import EPS, Gold, as_votes, check_params, fix_gold, gold_codes, result_frames

__all__ = ["OneCoinDawidSkene"]


class OneCoinDawidSkene:
    """Dawid–Skene with one skill per worker: right with probability ``s_w``, else any wrong label alike.

    ``P(answer l | true c) = s_w`` if ``l == c`` else ``(1 - s_w) / (K - 1)``.  EM as crowd-kit's
    ``OneCoinDawidSkene`` (Zhang et al. 2016): a majority-vote start, priors the mean posterior,
    ``s_w`` the mean posterior of the labels the worker gave, both probabilities clipped to
    ``[1e-10, 1 - 1e-10]``, the same evidence lower bound and stopping rule.  Each step is a few
    ``np.bincount`` over the votes, with no loop over items or workers.

    Parameters
    ----------
    n_iter : int
        Maximum number of EM iterations.
    tol : float
        Stop when the lower bound (per vote) improves by less than ``tol``.

    Attributes
    ----------
    labels_ : Series
        Most probable label per ``item_id`` (ties: the smallest label).
    probas_ : DataFrame
        Posterior of the true label, ``item_id`` x label.
    skills_ : Series
        ``s_w`` per worker: the expected share of the worker's answers that are right.
    priors_ : Series
        Class prior per label.
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
    ...     "label": ["x", "x", "y", "y", "y", "x", "x", "x", "x"],
    ... })
    >>> model = OneCoinDawidSkene().fit(votes)
    >>> model.labels_.tolist(), model.skills_.round(2).to_dict()
    (['x', 'y', 'x'], {'a': 1.0, 'b': 1.0, 'c': 0.33})

    Known true labels fix their items and anchor the skills:

    >>> OneCoinDawidSkene().fit(votes, gold={2: "x"}).skills_.round(2).to_dict()
    {'a': 0.67, 'b': 0.67, 'c': 0.67}
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-5) -> None:
        self.n_iter = n_iter
        self.tol = tol

    def __repr__(self) -> str:
        return f"OneCoinDawidSkene(n_iter={self.n_iter!r}, tol={self.tol!r})"

    def fit(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> OneCoinDawidSkene:
        """Run EM on a votes table (``item_id``, ``worker``, ``label``) or ``Votes``; return self.

        ``gold`` (item_id -> label) fixes the posteriors of those items at every step.
        """
        n_iter = check_params(self.n_iter, self.tol)
        votes = as_votes(labels)
        known = gold_codes(votes, gold)
        cell = _pair(votes.item, votes.label, votes.n_labels)  # (item, label) of each vote
        per_worker = np.bincount(votes.worker, minlength=votes.n_workers).astype(float)
        probas = fix_gold(votes.counts() / votes.votes_per_item()[:, None], known)
        priors = probas.mean(axis=0)
        skills = self._m_step(votes, probas, cell, per_worker)
        log_errors = self._item_log_errors(votes, skills, cell)
        per_item, scratch = votes.votes_per_item().astype(float), np.empty_like(probas)
        loss, history = -np.inf, []
        for _ in range(n_iter):
            probas = fix_gold(DawidSkene._e_step(log_errors, priors), known)  # consumes log_errors
            priors = probas.mean(axis=0)
            skills = self._m_step(votes, probas, cell, per_worker)
            log_errors = self._item_log_errors(votes, skills, cell)
            new_loss = DawidSkene._lower_bound(log_errors, probas, priors, per_item, scratch) / len(votes)
            history.append(float(new_loss))
            if new_loss - loss < self.tol:
                break
            loss = new_loss
        self.labels_, self.probas_, self.skills_ = result_frames(votes, probas, skills)
        self.priors_ = pd.Series(priors, index=self.probas_.columns, name="prior")
        self.loss_history_ = history
        self.n_iter_ = len(history)
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels, gold).labels_

    @staticmethod
    def _m_step(votes: Votes, probas: np.ndarray, cell: np.ndarray, per_worker: np.ndarray) -> np.ndarray:
        """Each worker's mean posterior of the labels they gave."""
        given = probas.ravel()[cell]
        return np.bincount(votes.worker, given, minlength=votes.n_workers) / np.maximum(per_worker, 1)

    @staticmethod
    def _item_log_errors(votes: Votes, skills: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """``sum over the item's votes of log P(answer | true c)``, shape (items, labels)."""
        k = votes.n_labels
        right = np.log(np.clip(skills, EPS, 1 - EPS))
        wrong = np.log(np.clip((1 - skills) / max(k - 1, 1), EPS, 1 - EPS))
        out = np.bincount(cell, (right - wrong)[votes.worker], minlength=votes.n_items * k).reshape(votes.n_items, k)
        out += np.bincount(votes.item, wrong[votes.worker], minlength=votes.n_items)[:, None]
        return out
