"""Dawid–Skene seeded with known true labels (gold), on top of :class:`dltasks.consensus.DawidSkene`.

Examples
--------
>>> import pandas as pd
>>> from dltasks.inference import SeededDawidSkene
>>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
...                       "label": ["x", "y", "x", "y"]})
>>> SeededDawidSkene().fit(votes, gold={1: "y"}).labels_.to_dict()
{1: 'y', 2: 'y'}
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dltasks.consensus import DawidSkene, Votes
from dltasks.inference._common import Gold, as_votes, check_params, fix_gold, gold_codes

__all__ = ["SeededDawidSkene"]


class SeededDawidSkene(DawidSkene):
    """:class:`~dltasks.consensus.DawidSkene` whose ``fit`` also takes known true labels.

    ``fit(votes, gold=...)`` sets the posterior of every gold item to its known label before the
    first M-step and after every E-step, as crowd-kit's ``DawidSkene.fit(data, true_labels)``
    does: the gold items count as certain in the class priors and in each worker's confusion
    matrix, which anchors the estimates of workers who labelled them (an adversarial worker's
    swapped labels are learned from the gold instead of being voted in).  Without gold it is
    ``DawidSkene`` itself.  Same attributes as ``DawidSkene``.

    Examples
    --------
    Two workers who always disagree: on its own EM cannot tell which one to trust; one gold item
    says ``b`` is right:

    >>> import pandas as pd
    >>> votes = pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3], "worker": ["a", "b"] * 3,
    ...                       "label": ["x", "y", "y", "x", "x", "y"]})
    >>> seeded = SeededDawidSkene().fit(votes, gold={1: "y"})
    >>> seeded.labels_.to_dict(), seeded.skills_.round(2).to_dict()
    ({1: 'y', 2: 'x', 3: 'y'}, {'a': 0.0, 'b': 1.0})
    """

    def __repr__(self) -> str:
        return f"SeededDawidSkene(n_iter={self.n_iter!r}, tol={self.tol!r})"

    def fit(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> SeededDawidSkene:
        """Run EM on a votes table or ``Votes``; ``gold`` (item_id -> label) fixes those items; return self."""
        n_iter = check_params(self.n_iter, self.tol)
        votes = as_votes(labels)
        known = gold_codes(votes, gold)
        if not len(known[0]):
            super().fit(votes)
            return self
        w, k = votes.n_workers, votes.n_labels
        onehot = votes.onehot()
        onehot_t = onehot.T
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
            new_loss = self._lower_bound(item_log_errors, probas, priors, per_item, scratch) / len(votes)
            history.append(float(new_loss))
            if new_loss - loss < self.tol:
                break
            loss = new_loss
        self._store(votes, probas, priors, errors, history)
        return self

    def fit_predict(self, labels: pd.DataFrame | Votes, gold: Gold | None = None) -> pd.Series:
        """Fit and return :attr:`labels_`."""
        return self.fit(labels, gold).labels_
