"""Free text (``text`` tasks): answers compared after normalising case and whitespace.

The answers frame has one row of kind ``"text"`` per worker and item (its ``text`` column), or one
row of kind ``"none"``, which counts as the empty answer ``""``.  Two answers are equal when their
:func:`normalise_text` forms are.  An item is agreed when ``approval_threshold`` answers are equal and
no other answer also has that many: the class rule, with the normalised text as the label.

Examples
--------
>>> import pandas as pd
>>> answers = pd.DataFrame({"item_id": [1, 1, 1], "worker": ["a", "b", "c"], "kind": "text",
...                         "text": ["New  York", "new york ", "Boston"]})
>>> text_consensus(answers, approval_threshold=2)  # doctest: +NORMALIZE_WHITESPACE
           text  votes  agreed
item_id
1        new york      2    True
"""
from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from dltasks.agreement._frame import Answers, check_threshold, class_decision, encode_answers
from dltasks.errors import ValidationError

__all__ = ["normalise_text", "text_consensus"]


def normalise_text(text: str) -> str:
    """The form answers are compared in: Unicode NFC, whitespace runs collapsed to one space, stripped, casefolded.

    >>> normalise_text("  Straße\\t\\n 12 ")
    'strasse 12'
    >>> normalise_text("Cafe\\u0301") == normalise_text("CAFÉ")
    True
    """
    if not isinstance(text, str):
        raise ValidationError("must be a string", field="text", value=text)
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def normalised_answers(answers: pd.DataFrame | Answers) -> tuple[Answers, np.ndarray]:
    """The encoded frame and one normalised answer per row ("" for a "none" row); one answer per worker.

    >>> answers = pd.DataFrame({"item_id": 1, "worker": ["a", "b"], "kind": ["text", "none"], "text": [" Hi ", None]})
    >>> normalised_answers(answers)[1].tolist()
    ['hi', '']
    """
    enc = answers if isinstance(answers, Answers) else encode_answers(answers, "text")
    texts = enc.values("text")
    out = np.empty(len(texts), dtype=object)
    for row, (given, text) in enumerate(zip(enc.given.tolist(), texts)):
        if not given:
            out[row] = ""
        elif not isinstance(text, str):
            raise ValidationError(f"must be a string ({enc.where(row)})", field="text", value=text)
        else:
            out[row] = normalise_text(text)
    key = enc.item.astype(np.int64) * max(len(enc.worker_values), 1) + enc.worker
    if len(pd.unique(key)) < len(key):
        seen = pd.Series(key).duplicated().to_numpy()
        raise ValidationError(f"one answer per worker and item ({enc.where(int(np.flatnonzero(seen)[0]))})",
                              field="text", value="a second answer")
    return enc, out


def text_consensus(answers: pd.DataFrame, approval_threshold: int) -> pd.DataFrame:
    """The most common normalised answer of each item, its votes, and whether the item agrees.

    Returns
    -------
    DataFrame
        Indexed by ``item_id`` (sorted): ``text`` (the most common normalised answer; a tie goes to
        the smallest text), ``votes`` (answers equal to it) and ``agreed`` (``votes >=
        approval_threshold`` and no other answer has that many).

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"],
    ...                         "kind": ["text", "none", "text", "text"],
    ...                         "text": ["Yes", None, "OK", "ok"]})
    >>> text_consensus(answers, approval_threshold=2).to_dict("index")
    {1: {'text': '', 'votes': 1, 'agreed': False}, 2: {'text': 'ok', 'votes': 2, 'agreed': True}}
    """
    threshold = check_threshold(approval_threshold)
    enc, texts = normalised_answers(answers)
    agreed, _ = class_decision(enc.item, texts, enc.n_items, threshold)
    text, votes = _most_common(enc, texts)
    return pd.DataFrame({"text": text, "votes": votes, "agreed": agreed}, index=enc.items)


def _most_common(enc: Answers, texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item: the most common text (ties: the smallest) and its count."""
    codes, values = pd.factorize(pd.Series(texts, dtype=object), sort=True)
    width = np.int64(max(len(values), 1))
    pair, count = np.unique(enc.item.astype(np.int64) * width + codes, return_counts=True)
    item, code = np.divmod(pair, width)
    order = np.lexsort((code, -count, item))
    first = order[np.r_[True, item[order][1:] != item[order][:-1]]] if len(order) else order
    text = np.empty(enc.n_items, dtype=object)
    votes = np.zeros(enc.n_items, dtype=np.int64)
    text[item[first]] = np.asarray(values, dtype=object)[code[first]]
    votes[item[first]] = count[first]
    return text, votes
