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

from dltasks.consensus import DawidSkene

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
