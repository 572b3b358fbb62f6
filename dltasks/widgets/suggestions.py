"""The model's suggestion on each card of the LabelingWidget (``show_predictions=True``).

A task's predictions (``task.predictions_df()``: item_id, model, label, score) are read once per
refresh of the widget into :class:`ModelSuggestions`; each card asks it for its item's
suggestion, which the browser shows pre-selected.  A suggestion is only shown: the store gets
an answer when the worker confirms it (Enter) or picks another.

* ``class``: the model's top label (:func:`dltasks.domain.predictions.top_predictions`: the
  highest score; a tie goes to the first label in alphabetical order);
* ``multi_class``: every label scored at least :data:`MIN_SCORE` (0.5), each at its highest
  score over the models read; an item whose labels all score lower is suggested "no label
  applies";
* ``box``, ``polygon``, ``text``: none (predictions are labels of whole items, not shapes or texts).

>>> import pandas as pd
>>> preds = pd.DataFrame({"item_id": [1, 1, 2], "model": "m", "label": ["cat", "dog", "dog"],
...                       "score": [0.8, 0.2, 0.6]})
>>> s = ModelSuggestions(preds, "class")
>>> s.get(1)
{'labels': ['cat'], 'scores': [0.8], 'text': 'cat (0.80)'}
>>> s.get(3) is None, len(s)
(True, 2)
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dltasks.domain.predictions import top_predictions

__all__ = ["ModelSuggestions", "MIN_SCORE", "SUGGESTING_TYPES"]

#: multi_class: the labels a model scores at least this start toggled on.
MIN_SCORE = 0.5
#: The annotation types whose cards show a suggestion.
SUGGESTING_TYPES = ("class", "multi_class")


class ModelSuggestions:
    """The suggestion for each item of one read of a task's predictions (``model``: only that
    model's; None: every model's).

    Prepared once (vectorised), looked up per card in :meth:`get`: a refresh costs one sort of
    the predictions, whatever the number of cards.

    >>> import pandas as pd
    >>> preds = pd.DataFrame({"item_id": [1, 1, 1, 2], "model": ["a", "a", "b", "a"],
    ...                       "label": ["cat", "dog", "dog", "cat"], "score": [0.7, 0.4, 0.9, 0.1]})
    >>> multi = ModelSuggestions(preds, "multi_class")
    >>> multi.get(1)["labels"], multi.get(1)["text"]
    (['cat', 'dog'], 'cat (0.70), dog (0.90)')
    >>> multi.get(2)["labels"], multi.get(2)["text"]
    ([], 'no label applies (none scored 0.5 or more)')
    >>> ModelSuggestions(preds, "multi_class", model="a").get(1)["labels"]
    ['cat']
    >>> len(ModelSuggestions(preds, "box"))
    0
    """

    def __init__(self, predictions: pd.DataFrame, annotation_type: str, model: str | None = None) -> None:
        preds = predictions if model is None else predictions[predictions["model"] == model]
        if annotation_type not in SUGGESTING_TYPES:
            preds = preds.iloc[:0]
        self.annotation_type = annotation_type
        self._items = np.unique(preds["item_id"].to_numpy(dtype="int64"))
        self._top = pd.DataFrame()
        self._chosen = pd.Series(dtype="float64")
        if annotation_type == "class":
            self._top = top_predictions(preds).set_index("item_id")
        elif annotation_type == "multi_class":
            kept = preds[preds["score"] >= MIN_SCORE]
            self._chosen = kept.groupby(["item_id", "label"])["score"].max().sort_index()

    def __len__(self) -> int:
        """The number of items with a suggestion."""
        return int(len(self._items))

    def __contains__(self, item_id: object) -> bool:
        if not isinstance(item_id, (int, np.integer)) or not len(self._items):
            return False
        at = int(np.searchsorted(self._items, item_id))
        return at < len(self._items) and int(self._items[at]) == int(item_id)

    def get(self, item_id: int) -> dict[str, Any] | None:
        """The suggestion on ``item_id``'s card: ``labels`` (pre-selected), their ``scores`` and the
        ``text`` shown; None when the model says nothing about the item."""
        if item_id not in self:
            return None
        if self.annotation_type == "class":
            row = self._top.loc[int(item_id)]
            labels, scores = [str(row["label"])], [float(row["score"])]
        else:
            try:
                mine = self._chosen.xs(int(item_id), level="item_id")
            except KeyError:
                mine = pd.Series(dtype="float64")
            labels, scores = [str(x) for x in mine.index], [float(x) for x in mine.to_numpy()]
        text = ", ".join(f"{label} ({score:.2f})" for label, score in zip(labels, scores))
        return {"labels": labels, "scores": scores,
                "text": text or f"no label applies (none scored {MIN_SCORE:g} or more)"}
