"""GLAD: worker abilities and item difficulties (Whitehill et al. 2009); see :class:`GLAD`."""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special

from dltasks.consensus import Votes, _check_int, _pair
from dltasks.inference._common import Gold, as_votes, check_number, check_params, fix_gold, gold_codes, result_frames

__all__ = ["GLAD"]

_HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


class GLAD:
    """GLAD EM: ability ``alpha_w`` per worker and inverse difficulty ``exp(beta_i)`` per item.

    A worker answers an item right with probability ``a = sigmoid(alpha_w * exp(beta_i))`` and
    each of the ``K - 1`` wrong labels with ``(1 - a) / (K - 1)``; the true label's prior is
    uniform.  ``alpha`` and ``beta`` have normal priors ``N(alpha_prior_mean, 1)`` and
    ``N(beta_prior_mean, 1)``.  EM as crowd-kit's ``GLAD``: alphas and betas start at 1, the
    E-step is the posterior of the true labels, the M-step maximises the expected log-likelihood
    plus the log priors with scipy's conjugate gradient (``m_step_max_iter`` iterations, ``tol``
    ``m_step_tol``), and EM stops when that objective (per vote and label) rises by less than
    ``tol``.  The objective and its gradient are ``np.bincount`` sums over the votes, with no loop
    over items or workers; the posteriors are computed once more after the last M-step, so
    ``probas_`` agree with ``alphas_`` and ``betas_``.

    Parameters
    ----------
    n_iter : int
        Maximum number of EM iterations.
    tol : float
        Stop when the objective per (vote, label) improves by less than ``tol``.
    m_step_max_iter : int
        Conjugate-gradient iterations per M-step.
    m_step_tol : float
        Tolerance of the conjugate gradient.
    alpha_prior_mean, beta_prior_mean : float
        Means of the normal priors of the abilities and log inverse difficulties.

    Attributes
    ----------
    labels_ : Series
        Most probable label per ``item_id`` (ties: the smallest label).
    probas_ : DataFrame
        Posterior of the true label, ``item_id`` x label.
    skills_ : Series
        Per worker, the probability of a right answer on an item of median difficulty:
        ``sigmoid(alpha_w * median(exp(beta)))``.
    alphas_ : Series
        Ability per worker (negative: worse than chance, adversarial).
    betas_ : Series
        Log inverse difficulty per item (larger: easier).
    loss_history_ : list of float
        The objective per (vote, label) after each M-step.
    n_iter_ : int
        Iterations run.

    Examples
    --------
    >>> import pandas as pd
    >>> votes = pd.DataFrame({
    ...     "item_id": [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4],
    ...     "worker": ["a", "b", "c"] * 4,
    ...     "label": ["x", "x", "y", "y", "y", "x", "x", "x", "y", "y", "y", "y"],
    ... })
    >>> glad = GLAD().fit(votes)
    >>> glad.labels_.tolist()
    ['x', 'y', 'x', 'y']
    >>> glad.alphas_.round(2).to_dict(), glad.skills_.round(2).to_dict()
    ({'a': 1.22, 'b': 1.22, 'c': -0.3}, {'a': 0.99, 'b': 0.99, 'c': 0.24})

    A known true label fixes its item and moves the abilities (``a`` and ``b`` were wrong on it):

    >>> seeded = GLAD().fit(votes, gold={1: "y"})
    >>> seeded.labels_.tolist(), seeded.alphas_.round(2).to_dict()
    (['y', 'y', 'x', 'y'], {'a': 0.84, 'b': 0.84, 'c': -0.07})
    """

    def __init__(
        self,
        n_iter: int = 100,
        tol: float = 1e-5,
        m_step_max_iter: int = 25,
        m_step_tol: float = 1e-2,
        alpha_prior_mean: float = 1.0,
        beta_prior_mean: float = 1.0,
    ) -> None:
        self.n_iter = n_iter
        self.tol = tol
        self.m_step_max_iter = m_step_max_iter
        self.m_step_tol = m_step_tol
        self.alpha_prior_mean = alpha_prior_mean
        self.beta_prior_mean = beta_prior_mean

    def __repr__(self) -> str:
        return (f"GLAD(n_iter={self.n_iter!r}, tol={self.tol!r}, m_step_max_iter={self.m_step_max_iter!r}, "
                f"m_step_tol={self.m_step_tol!r})")

    def fit(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> GLAD:
        """Run EM on a votes table (``item_id``, ``worker``, ``label``) or ``Votes``; return self.

        ``gold`` (item_id -> label) fixes the posteriors of those items at every E-step, so the
        abilities of the workers who labelled them are learned against the known labels.
        """
        n_iter = check_params(self.n_iter, self.tol)
        m_iter = _check_int(self.m_step_max_iter, "m_step_max_iter", 1)
        check_number(self.m_step_tol, "m_step_tol", 0.0)
        prior_means = (check_number(self.alpha_prior_mean, "alpha_prior_mean", -np.inf),
                       check_number(self.beta_prior_mean, "beta_prior_mean", -np.inf))
        votes = as_votes(labels)
        model = _Model(votes, gold_codes(votes, gold), prior_means)
        x = np.ones(votes.n_workers + votes.n_items)
        loss, history = -np.inf, []
        for _ in range(n_iter):
            given = model.e_step(x)
            x = optimize.minimize(model.objective, x, args=(given,), method="CG", jac=True, tol=self.m_step_tol,
                                  options={"maxiter": m_iter, "disp": False}).x
            new_loss = -model.objective(x, given)[0] / (len(votes) * votes.n_labels)
            history.append(float(new_loss))
            if new_loss - loss < self.tol:
                break
            loss = new_loss
        model.e_step(x)
        alphas, betas = x[: votes.n_workers], x[votes.n_workers:]
        skills = special.expit(alphas * np.median(np.exp(betas)))
        self.labels_, self.probas_, self.skills_ = result_frames(votes, model.probas, skills)
        self.alphas_ = pd.Series(alphas, index=votes.workers, name="alpha")
        self.betas_ = pd.Series(betas, index=votes.items, name="beta")
        self.loss_history_ = history
        self.n_iter_ = len(history)
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels, gold).labels_


class _Model:
    """The votes as arrays, and GLAD's E-step and M-step objective over ``x = [alphas, betas]``."""

    def __init__(self, votes: Votes, gold: tuple[np.ndarray, np.ndarray], prior_means: tuple[float, float]) -> None:
        self.votes = votes
        self.gold = gold
        self.cell = _pair(votes.item, votes.label, votes.n_labels)
        self.log_wrong = np.log(max(votes.n_labels - 1, 1))
        self.prior_means = prior_means
        self.probas = np.empty((votes.n_items, votes.n_labels))
        self.wrong_mass = 0.0  # sum over votes of 1 - the posterior of the label given

    def _terms(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """alphas, betas, and per vote: ``exp(beta)``, ``z = alpha * exp(beta)``, ``exp(-|z|)``, ``log sigmoid(z)``.

        ``log P(right) = log sigmoid(z)`` and ``log P(one given wrong label) = log sigmoid(z) - z -
        log(K - 1)``: one exp and one log1p per vote serve both, and the gradient's ``sigmoid(z)``.
        """
        alphas, betas = x[: self.votes.n_workers], x[self.votes.n_workers:]
        scale = np.exp(betas)[self.votes.item]
        z = alphas[self.votes.worker] * scale
        small = np.exp(-np.abs(z))
        log_right = np.minimum(z, 0.0) - np.log1p(small)
        return alphas, betas, scale, z, small, log_right

    def e_step(self, x: np.ndarray) -> np.ndarray:
        """Posteriors of the true labels (kept in ``self.probas``); returns each vote's label's posterior."""
        votes, k = self.votes, self.votes.n_labels
        _, _, _, z, _, log_right = self._terms(x)
        log_wrong = log_right - z - self.log_wrong
        lik: np.ndarray = np.bincount(self.cell, z + self.log_wrong, minlength=votes.n_items * k)
        lik = lik.reshape(votes.n_items, k)
        lik += np.bincount(votes.item, log_wrong, minlength=votes.n_items)[:, None]
        lik -= lik.max(axis=1, keepdims=True)  # the uniform prior cancels out
        np.exp(lik, out=lik)
        lik /= lik.sum(axis=1, keepdims=True)
        self.probas = fix_gold(lik, self.gold)
        given = self.probas.ravel()[self.cell]
        self.wrong_mass = len(given) - float(given.sum())
        return given

    def objective(self, x: np.ndarray, given: np.ndarray) -> tuple[float, np.ndarray]:
        """Minus the expected log-likelihood plus log priors, and its gradient (for the minimiser).

        ``given`` is each vote's posterior of the label the worker gave; with posteriors summing to
        one per item, a vote adds ``p log a + (1 - p) log((1 - a) / (K - 1))``.
        """
        votes = self.votes
        alphas, betas, scale, z, small, log_right = self._terms(x)
        da, db = alphas - self.prior_means[0], betas - self.prior_means[1]
        expected = float(log_right.sum() - (1.0 - given) @ z) - self.log_wrong * self.wrong_mass
        value = expected - 0.5 * (da @ da + db @ db) - _HALF_LOG_2PI * len(x)
        sigmoid = np.where(z >= 0, 1.0, small) / (1.0 + small)
        slope = (given - sigmoid) * scale  # d/dz times dz/d(alpha) = exp(beta)
        grad_alpha = np.bincount(votes.worker, slope, minlength=votes.n_workers) - da
        slope *= alphas[votes.worker]  # dz/d(beta) = alpha * exp(beta)
        grad_beta = np.bincount(votes.item, slope, minlength=votes.n_items) - db
        if not np.isfinite(value):
            return np.inf, -np.concatenate([grad_alpha, grad_beta])
        return -value, -np.concatenate([grad_alpha, grad_beta])
