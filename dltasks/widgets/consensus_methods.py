"""The ConsensusView's choice of truth-inference method, and where the methods disagree (class tasks).

The view's labels come from the task's rule (threshold consensus) unless a method of
:mod:`dltasks.inference` is chosen: then each item's label is that method's
(``task.consensus(method=...)``), and its votes and agreement are counted for that label
(:func:`relabel`).  *Compare methods* runs every method on the same votes
(:func:`dltasks.inference.compare_methods`) and shows on how many items they disagree, and which.
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets as T

from dltasks.inference import METHODS
from dltasks.widgets._common import TABLE_CSS, fmt_share, html_table, message

__all__ = ["MethodChoice", "METHOD_NAMES", "method_name", "relabel", "disagreement_text"]

#: How a method is named on screen (the option's text).
METHOD_NAMES = {"majority": "majority vote", "wawa": "Wawa", "dawid_skene": "Dawid-Skene",
                "one_coin": "one-coin Dawid-Skene", "glad": "GLAD", "mace": "MACE"}
#: Disagreeing items listed under the count (the items table lists them all: "methods disagree").
SHOWN = 10


def method_name(method: str) -> str:
    """A method as shown: its name on screen, "the task's rule" for ``""``.

    >>> method_name("dawid_skene"), method_name("")
    ('Dawid-Skene', "the task's rule")
    """
    return METHOD_NAMES.get(method, method) if method else "the task's rule"


def relabel(consensus: pd.DataFrame, labels: pd.DataFrame, inferred: pd.DataFrame) -> pd.DataFrame:
    """The view's consensus table with each item's label from a truth-inference method.

    ``consensus``: the threshold table (``task.consensus()``: label, votes, n_labels, agreement,
    tie, status by item); ``labels``: the votes (item_id, worker, label); ``inferred``:
    ``task.consensus(method=...)`` (label, probability by item).  ``label`` becomes the
    method's, ``votes`` the votes for it and ``agreement`` their share; ``probability`` is
    added; ``tie`` (two labels share the most votes) and ``status`` (the task's rule) stay.

    >>> votes = pd.DataFrame({"item_id": [1, 1, 1], "worker": ["a", "b", "c"], "label": ["x", "y", "y"]})
    >>> threshold = pd.DataFrame({"label": ["y"], "votes": [2], "n_labels": [3], "agreement": [2 / 3],
    ...                           "tie": [False], "status": ["approved"]}, index=pd.Index([1], name="item_id"))
    >>> inferred = pd.DataFrame({"label": ["x"], "probability": [0.8]}, index=pd.Index([1], name="item_id"))
    >>> relabel(threshold, votes, inferred)[["label", "votes", "n_labels", "probability", "status"]]
    ... # doctest: +NORMALIZE_WHITESPACE
            label  votes  n_labels  probability    status
    item_id
    1           x      1         3          0.8  approved
    """
    out = consensus.copy()
    chosen = inferred["label"].reindex(out.index)
    out["label"] = chosen
    out["probability"] = inferred["probability"].reindex(out.index).astype(float)
    item_ids = labels["item_id"].to_numpy()
    same = labels["label"].astype(object).to_numpy() == chosen.reindex(item_ids).astype(object).to_numpy()
    votes = pd.Series(same.astype("int64")).groupby(item_ids).sum()
    out["votes"] = votes.reindex(out.index, fill_value=0).astype("int64")
    n = out["n_labels"].to_numpy(dtype=float)
    out["agreement"] = np.where(n > 0, out["votes"].to_numpy(dtype=float) / np.where(n > 0, n, 1), np.nan)
    return out


def disagreement_text(comparison: pd.DataFrame) -> str:
    """How many items the methods of a comparison label differently, in words.

    >>> comparison = pd.DataFrame({"majority": ["x", "y"], "glad": ["x", "x"], "agree": [True, False]})
    >>> disagreement_text(comparison)
    '2 methods disagree on 1 of 2 items (50.0%)'
    >>> disagreement_text(comparison.iloc[:0])
    'no votes to compare yet'
    """
    n = len(comparison)
    if not n:
        return "no votes to compare yet"
    methods = len(comparison.columns) - 1
    apart = int((~comparison["agree"].astype(bool)).sum())
    return f"{methods} methods disagree on {apart:,} of {n:,} items ({fmt_share(apart / n)})"


class MethodChoice(W.VBox):
    """The comparison's count and its first disagreeing items (:meth:`show`), and :attr:`controls`:
    a dropdown of truth-inference methods and a *Compare methods* toggle, for the host to place
    (the ConsensusView puts them beside its items table's filter).

    ``method`` is ``""`` (the task's rule) or a key of :data:`dltasks.inference.METHODS`;
    ``compare`` asks for the comparison of every method.

    >>> choice = MethodChoice()
    >>> choice.dropdown.value = "glad"
    >>> choice.method, choice.compare
    ('glad', False)
    >>> choice.show(pd.DataFrame({"majority": ["x"], "glad": ["y"], "agree": [False]},
    ...                          index=pd.Index([7], name="item_id")))
    >>> "2 methods disagree on 1 of 1 items" in choice.summary.value, "<td>y</td>" in choice.table.value
    (True, True)
    """

    method = T.Unicode("", help="the method giving each item's label ('' for the task's rule)")
    compare = T.Bool(False, help="run every method and show where they disagree")

    def __init__(self, method: str = "", compare: bool = False, **kwargs: Any) -> None:
        options = [("the task's rule", "")] + [(METHOD_NAMES.get(m, m), m) for m in METHODS]
        self.dropdown = W.Dropdown(options=options, value="", description="Labels by",
                                   layout=W.Layout(width="270px", margin="0 0 0 24px"))
        self.toggle = W.ToggleButton(description="Compare methods", icon="balance-scale",
                                     tooltip="run every method on the votes and show the items where they disagree "
                                             "(seconds on a big task)", layout=W.Layout(width="170px"))
        #: The method dropdown and the comparison toggle, in one row.
        self.controls = W.HBox([self.dropdown, self.toggle])
        self.summary = W.HTML()
        self.table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%", margin="0 0 12px 0"))
        super().__init__([self.summary, self.table], **kwargs)
        self.add_class("dlt-methods")
        T.link((self.dropdown, "value"), (self, "method"))
        T.link((self.toggle, "value"), (self, "compare"))
        self.method, self.compare = method, compare

    @T.validate("method")
    def _known(self, proposal: Any) -> str:
        from dltasks.errors import ValidationError

        value = str(proposal["value"])
        if value and value not in METHODS:
            raise ValidationError(f"unknown; one of {', '.join(METHODS)}", "method", value)
        return value

    def show(self, comparison: pd.DataFrame | None, error: str = "") -> None:
        """Draw a comparison (:func:`dltasks.inference.compare_methods`), or nothing when None."""
        if error:
            self.summary.value, self.table.value = message("error", error), ""
            return
        if comparison is None:
            self.summary.value, self.table.value = "", ""
            return
        apart = comparison[~comparison["agree"].astype(bool)].drop(columns="agree")
        more = (f" <span class='dlt-muted'>(the first {SHOWN}; the items table lists them all: "
                f"show “methods disagree”)</span>" if len(apart) > SHOWN else "")
        self.summary.value = f"<span>{html.escape(disagreement_text(comparison))}</span>{more}"
        shown = apart.head(SHOWN).rename(columns=METHOD_NAMES)
        shown.index = pd.Index([f"#{i}" for i in shown.index], name="item")
        self.table.value = "" if shown.empty else TABLE_CSS + html_table(shown.astype(str))
