"""dltasks.agreement for free text (and the class rule it shares with class tasks)."""
from __future__ import annotations

import math
from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltasks.agreement import agreed_items, decide, normalise_text, text_consensus
from dltasks.domain.workflow import consensus_reached
from dltasks.errors import ValidationError


def texts(*rows: tuple) -> pd.DataFrame:
    """A text frame from (item, worker, text) rows; text None is a "none" row."""
    return pd.DataFrame([(item, worker, "none" if text is None else "text", text) for item, worker, text in rows],
                        columns=["item_id", "worker", "kind", "text"])


@pytest.mark.parametrize("raw, expected", [
    ("  New   York ", "new york"),
    ("New\tYork\n", "new york"),
    ("STRASSE", "strasse"),
    ("Straße", "strasse"),
    ("e\u0301", "\u00e9"),  # decomposed and composed é compare equal
    ("\u00a0x\u2003y", "x y"),  # no-break and em spaces are whitespace too
    ("", ""),
])
def test_normalise_text(raw, expected):
    assert normalise_text(raw) == expected


def test_equal_answers_after_normalising_agree():
    frame = texts((1, "ann", "The Cat"), (1, "bob", " the  cat"), (1, "cid", "a dog"),
                  (2, "ann", "yes"), (2, "bob", "no"), (2, "cid", "maybe"))
    out = text_consensus(frame, approval_threshold=2)
    assert out.to_dict("index") == {1: {"text": "the cat", "votes": 2, "agreed": True},
                                    2: {"text": "maybe", "votes": 1, "agreed": False}}  # a tie: the smallest
    decision = decide(frame, "text", 2, 3)
    assert decision["status"].tolist() == ["approved", "awaiting_review"]
    assert decision["agreement"].tolist() == [pytest.approx(2 / 3), pytest.approx(1 / 3)]
    assert decision["n_workers"].tolist() == [3, 3]


def test_answers_of_nothing_count_as_the_empty_text():
    frame = texts((1, "ann", None), (1, "bob", "  "), (2, "ann", None))
    assert agreed_items(frame, "text", 2).to_dict() == {1: True, 2: False}
    assert text_consensus(frame, 2).loc[1, "text"] == ""


def test_two_texts_each_with_the_threshold_do_not_agree():
    frame = texts((1, "a", "x"), (1, "b", "y"))
    assert agreed_items(frame, "text", 1).tolist() == [False]  # the class rule: one answer, no other as many
    assert agreed_items(texts((1, "a", "x")), "text", 1).tolist() == [True]


def test_one_text_per_worker_and_item():
    with pytest.raises(ValidationError) as info:
        text_consensus(texts((1, "ann", "a"), (1, "ann", "b")), 1)
    assert info.value.field == "text" and "row 1: item 1, worker 'ann'" in str(info.value)


@pytest.mark.parametrize("value", [3, b"bytes", math.nan])
def test_a_text_answer_must_be_a_string(value):
    frame = texts((1, "ann", "x"), (1, "bob", "y"))
    frame["text"] = pd.Series(["x", value], dtype=object)
    with pytest.raises(ValidationError) as info:
        decide(frame, "text", 1, 2)
    assert info.value.field == "text" and "worker 'bob'" in str(info.value)


def test_a_text_frame_with_other_kinds_is_refused():
    with pytest.raises(ValidationError) as info:
        agreed_items(texts((1, "ann", "x")).assign(kind="class"), "text", 1)
    assert (info.value.field, info.value.value) == ("kind", "class")


# --------------------------------------------------------------------------- class tasks


class_votes = st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["cat", "dog", "fox"])), min_size=1, max_size=14)


@settings(max_examples=80, deadline=None)
@given(votes=class_votes, threshold=st.integers(1, 3))
def test_class_items_agree_as_the_store_decides(votes, threshold):
    frame = pd.DataFrame([(item, f"w{i}", label) for i, (item, label) in enumerate(votes)],
                         columns=["item_id", "worker", "label"])
    whole = agreed_items(frame, "class", threshold)
    for item, agreed in whole.items():
        counts = Counter(label for i, label in votes if i == item)
        assert agreed == (consensus_reached(counts, threshold) is not None)
        one = agreed_items(frame[frame["item_id"] == item], "class", threshold)  # the store's one-item call
        assert one.tolist() == [agreed]


def test_class_decide_gives_status_agreement_and_workers():
    frame = pd.DataFrame({"item_id": [1, 1, 1, 2], "worker": ["a", "b", "c", "a"], "label": ["x", "x", "y", "x"]})
    out = decide(frame, "class", approval_threshold=2, workers_per_input=3)
    assert out["status"].tolist() == ["approved", "awaiting_consensus"]
    assert out["agreement"].tolist() == [pytest.approx(2 / 3), 1.0] and out["n_workers"].tolist() == [3, 1]
    with pytest.raises(ValidationError) as info:
        decide(frame.assign(label=[None, "x", "x", "x"]), "class", 2, 3)
    assert info.value.field == "label"
