"""MACE: Multi-Annotator Competence Estimation (Hovy et al. 2013); see :class:`MACE`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from dltasks.consensus import Votes, _check_int, _pair
from dltasks.errors import ValidationError
from dltasks.inference._common import EPS, as_votes, check_number, result_frames

__all__ = ["MACE"]

_METHODS = ("vb", "em")


class MACE:
    """MACE: each worker either knows the true label or spams a label from their own distribution.

    A worker ``w`` is spamming on an item with probability ``1 - c_w`` (``c_w``: competence) and
    then answers label ``l`` with probability ``theta_w[l]``; otherwise they answer the true label,
    whose prior is uniform.  EM as crowd-kit's ``MACE``: ``n_restarts`` runs of ``n_iter``
    iterations each from a random start (uniform in ``[1, 1 + default_noise]``, rows normalised),
    the run with the highest marginal likelihood kept; the M-step is variational Bayes with
    ``Beta(alpha, beta)`` priors on the spamming probability and ``Dirichlet(10)`` on the strategies
    (``method="vb"``), or counts smoothed by ``0.01 / K`` (``method="em"``).  The E-step is in log
    space (no underflow on items with many votes) and a few ``np.bincount`` over the votes.

    Unlike crowd-kit 1.4.2, every restart starts from a different random point (crowd-kit seeds each
    restart the same, so its restarts repeat one run) and the strategies stay aligned with their
    workers and labels (crowd-kit reads its strategy table, which groupby sorts, with codes in order
    of first appearance).

    Parameters
    ----------
    n_restarts : int
        Runs from different random starts; the best by marginal likelihood is kept.
    n_iter : int
        EM iterations per run.
    method : {"vb", "em"}
        Variational Bayes with priors, or plain EM with smoothing.
    default_noise : float
        Spread of the random starts.
    alpha, beta : float
        Beta prior parameters of the spamming and knowing probabilities (``"vb"``).
    random_state : int
        Seed of the random starts.

    Attributes
    ----------
    labels_ : Series
        Most probable label per ``item_id`` (ties: the smallest label).
    probas_ : DataFrame
        Posterior of the true label, ``item_id`` x label.
    skills_ : Series
        Competence per worker: the probability that they answer from knowledge, not spam.
    spamming_ : DataFrame
        Per worker, columns ``spam`` and ``know``: the fitted (variational) parameters.
    thetas_ : DataFrame
        Per worker, the distribution of the labels they give when spamming (worker x label).
    log_likelihood_ : float
        Log marginal likelihood of the votes under the kept run.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4],
    ...     "worker": ["a", "b", "c"] * 4,
    ...     "label": ["x", "x", "y", "y", "y", "y", "x", "x", "y", "y", "y", "y"],
    ... })
    >>> mace = MACE(n_restarts=2).fit(votes)
    >>> mace.labels_.tolist(), mace.skills_.round(2).to_dict()
    (['x', 'y', 'x', 'y'], {'a': 0.95, 'b': 0.95, 'c': 0.1})
    """

    def __init__(
        self,
        n_restarts: int = 10,
        n_iter: int = 50,
        method: str = "vb",
        default_noise: float = 0.5,
        alpha: float = 0.5,
        beta: float = 0.5,
        random_state: int = 0,
    ) -> None:
        self.n_restarts = n_restarts
        self.n_iter = n_iter
        self.method = method
        self.default_noise = default_noise
        self.alpha = alpha
        self.beta = beta
        self.random_state = random_state

    def __repr__(self) -> str:
        return (f"MACE(n_restarts={self.n_restarts!r}, n_iter={self.n_iter!r}, method={self.method!r}, "
                f"random_state={self.random_state!r})")

    def fit(self, labels: pd.DataFrame | Votes) -> MACE:
        """Fit on a votes table (``item_id``, ``worker``, ``label``) or ``Votes``; return self."""
        restarts = _check_int(self.n_restarts, "n_restarts", 1)
        n_iter = _check_int(self.n_iter, "n_iter", 0)
        if self.method not in _METHODS:
            raise ValidationError(f"must be one of {_METHODS}", field="method", value=self.method)
        noise = check_number(self.default_noise, "default_noise", 0.0)
        priors = np.array([check_number(self.alpha, "alpha", 0.0, strict=True),
                           check_number(self.beta, "beta", 0.0, strict=True)])
        seed = _check_int(self.random_state, "random_state", 0)
        votes = as_votes(labels)
        w, k = votes.n_workers, votes.n_labels
        cells = (_pair(votes.item, votes.label, k), _pair(votes.worker, votes.label, k))
        rng = np.random.default_rng(seed)
        best, kept = -np.inf, None
        for _ in range(restarts):
            spamming = _normalise(rng.uniform(1, 1 + noise, (w, 2)))
            thetas = _normalise(rng.uniform(1, 1 + noise, (w, k)))
            log_likelihood, knowing, strategy = self._e_step(votes, cells, spamming, thetas)[:3]
            for _ in range(n_iter):
                if self.method == "vb":
                    spamming = _variational_normalise(knowing + priors)
                    thetas = _variational_normalise(strategy + 10.0)
                else:
                    spamming = _normalise(knowing + 0.01 / k)
                    thetas = _normalise(strategy + 0.01 / k)
                log_likelihood, knowing, strategy = self._e_step(votes, cells, spamming, thetas)[:3]
            if kept is None or log_likelihood > best:
                best, kept = log_likelihood, (spamming, thetas)
        assert kept is not None  # n_restarts >= 1
        spamming, thetas = kept
        self.log_likelihood_, _, _, probas = self._e_step(votes, cells, spamming, thetas)
        competence = spamming[:, 1] / spamming.sum(axis=1)
        self.labels_, self.probas_, self.skills_ = result_frames(votes, probas, competence)
        self.spamming_ = pd.DataFrame(spamming, index=votes.workers, columns=["spam", "know"])
        self.thetas_ = pd.DataFrame(thetas, index=votes.workers, columns=self.probas_.columns.copy())
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels).labels_

    @staticmethod
    def _e_step(
        votes: Votes, cells: tuple[np.ndarray, np.ndarray], spamming: np.ndarray, thetas: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """Log marginal likelihood, expected (spam, know) counts per worker, expected spam counts
        per (worker, label), and the posteriors of the true labels.

        A vote for ``l`` has probability ``spam * theta[l] + know * [l == true]``; what depends on
        the vote only through its (worker, label) is computed per pair and gathered (``cells``:
        each vote's (item, label) and (worker, label) codes).
        """
        n, k, w = votes.n_items, votes.n_labels, votes.n_workers
        item_cell, worker_cell = cells
        spam = np.maximum(spamming[:, :1] * thetas, EPS * EPS)  # (worker, label)
        both = spam + spamming[:, 1:]
        log_spam = np.log(spam).ravel()
        lik: np.ndarray = np.bincount(item_cell, (np.log(both).ravel() - log_spam)[worker_cell], minlength=n * k)
        lik = lik.reshape(n, k)
        lik += np.bincount(votes.item, log_spam[worker_cell], minlength=n)[:, None] - np.log(k)
        top = lik.max(axis=1)
        lik -= top[:, None]
        probas = np.exp(lik, out=lik)
        total = probas.sum(axis=1)
        probas /= total[:, None]
        log_marginal = float(top.sum() + np.log(total).sum())
        # the posterior that a vote came from knowledge, summed per (worker, label)
        knew = probas.ravel()[item_cell]
        knew *= (spamming[:, 1:] / both).ravel()[worker_cell]
        knew_pairs = np.bincount(worker_cell, knew, minlength=w * k).reshape(w, k)
        strategy = np.bincount(worker_cell, minlength=w * k).reshape(w, k) - knew_pairs
        counts = np.stack([strategy.sum(axis=1), knew_pairs.sum(axis=1)], axis=1)
        return log_marginal, counts, strategy, probas


def _normalise(x: np.ndarray) -> np.ndarray:
    """Rows divided by their sums."""
    return x / x.sum(axis=1, keepdims=True)


def _variational_normalise(x: np.ndarray) -> np.ndarray:
    """``exp(digamma(x)) / exp(digamma(row sum))``: the variational mean-field update."""
    return np.exp(special.digamma(x) - special.digamma(x.sum(axis=1, keepdims=True)))
