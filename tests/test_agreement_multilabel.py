"""dltasks.agreement for multi_class answers: per-label decisions, Jaccard agreement and alphas.

The alphas are checked against the ``krippendorff`` package (per label) and against values nltk's
``AnnotationTask`` gives (overall, Jaccard and MASI distance), plus a hand-computed example.
"""
from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltasks.agreement import agreed_items, decide, item_jaccard, label_alpha, label_consensus, set_alpha
from dltasks.errors import ValidationError


def answers(*rows: tuple) -> pd.DataFrame:
    """A multi_class frame from (item, worker, set of labels) rows; an empty set is a "none" row."""
    out = []
    for item, worker, labels in rows:
        out += [(item, worker, "class", label) for label in sorted(labels)] or [(item, worker, "none", None)]
    return pd.DataFrame(out, columns=["item_id", "worker", "kind", "label"])


# --------------------------------------------------------------------------- decisions


def test_labels_in_and_out_decide_the_item():
    frame = answers((1, "ann", {"cat", "dog"}), (1, "bob", {"cat"}), (1, "cid", {"cat"}))
    out = label_consensus(frame, approval_threshold=2)
    assert out.to_dict("list") == {"item_id": [1, 1], "label": ["cat", "dog"], "votes": [3, 1],
                                   "n_workers": [3, 3], "decision": ["in", "out"]}
    assert agreed_items(frame, "multi_class", 2).tolist() == [True]  # dog is outvoted
    assert agreed_items(frame, "multi_class", 2, unmatched="review").tolist() == [False]
    assert decide(frame, "multi_class", 2, 3, unmatched="review")["status"].tolist() == ["awaiting_review"]


def test_a_label_stays_open_until_enough_workers_answered_without_it():
    frame = answers((1, "ann", {"cat", "dog"}), (1, "bob", {"cat"}))
    assert label_consensus(frame, 2)["decision"].tolist() == ["in", "open"]
    assert decide(frame, "multi_class", 2, 3)["status"].tolist() == ["awaiting_consensus"]
    frame = answers((1, "ann", {"cat", "dog"}), (1, "bob", {"cat"}), (1, "cid", {"cat", "fox"}))
    assert decide(frame, "multi_class", 2, 3)["status"].tolist() == ["approved"]


@pytest.mark.parametrize("rule", ["outvoted", "review"])
def test_workers_who_chose_no_label_agree_on_nothing(rule):
    frame = answers((1, "ann", set()), (1, "bob", set()), (2, "ann", set()), (3, "ann", set()), (3, "bob", {"cat"}))
    out = decide(frame, "multi_class", 2, 2, unmatched=rule)
    assert out["status"].tolist() == ["approved", "awaiting_consensus", "awaiting_review"]
    assert out["agreement"].tolist()[0] == 1.0 and math.isnan(out["agreement"].tolist()[1])
    assert out["agreement"].tolist()[2] == 0.0


def test_workers_who_each_chose_a_different_label_do_not_agree_that_none_applies():
    frame = answers((1, "ann", {"cat"}), (1, "bob", {"dog"}), (1, "cid", {"fox"}))
    assert label_consensus(frame, 2)["decision"].tolist() == ["out", "out", "out"]
    assert agreed_items(frame, "multi_class", 2).tolist() == [False]
    assert decide(frame, "multi_class", 2, 3)["status"].tolist() == ["awaiting_review"]
    frame = answers((1, "ann", {"cat"}), (1, "bob", set()), (1, "cid", set()))
    assert agreed_items(frame, "multi_class", 2).tolist() == [True]  # two said "no label applies"


def test_agreement_is_the_mean_jaccard_of_every_two_workers():
    frame = answers((1, "ann", {"a", "b"}), (1, "bob", {"b", "c"}), (1, "cid", {"a", "b", "c"}))
    expected = np.mean([1 / 3, 2 / 3, 2 / 3])  # ann-bob, ann-cid, bob-cid
    assert item_jaccard(frame).tolist() == [pytest.approx(expected)]
    assert decide(frame, "multi_class", 2, 3)["agreement"].tolist() == [pytest.approx(expected)]


def test_a_label_chosen_twice_by_one_worker_counts_once():
    frame = pd.concat([answers((1, "ann", {"cat"})), answers((1, "ann", {"cat"})), answers((1, "bob", {"dog"}))])
    assert label_consensus(frame, 2)["votes"].tolist() == [1, 1]
    assert item_jaccard(frame).tolist() == [0.0]


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["a", "b", "c", "d"]),
                               st.frozensets(st.sampled_from(["x", "y", "z"]), max_size=3)), min_size=1, max_size=20),
       threshold=st.integers(1, 3), rule=st.sampled_from(["outvoted", "review"]))
def test_item_decisions_follow_the_label_rule(rows, threshold, rule):
    latest = {(item, worker): labels for item, worker, labels in rows}  # one answer per worker
    frame = answers(*[(item, worker, labels) for (item, worker), labels in latest.items()])
    out = agreed_items(frame, "multi_class", threshold, unmatched=rule)
    for item, agreed in out.items():
        sets = [labels for (i, _), labels in latest.items() if i == item]
        chosen = set().union(*sets)
        inside = {label for label in chosen if sum(label in s for s in sets) >= threshold}
        outside = {label for label in chosen if sum(label not in s for s in sets) >= threshold}
        decided = inside if rule == "review" else inside | outside
        # an empty consensus needs that many workers who chose nothing
        nothing_agreed = bool(inside) or not chosen or sum(not s for s in sets) >= threshold
        assert agreed == (len(sets) >= threshold and decided == chosen and nothing_agreed)


# --------------------------------------------------------------------------- alphas


def _reliability(frame: pd.DataFrame, label: str) -> np.ndarray:
    """krippendorff's input for one label: workers x items of 1 / 0, NaN where a worker did not answer."""
    workers, items = sorted(frame["worker"].unique()), sorted(frame["item_id"].unique())
    matrix = np.full((len(workers), len(items)), np.nan)
    for row in frame.itertuples():
        i, j = workers.index(row.worker), items.index(row.item_id)
        matrix[i, j] = max(0.0 if np.isnan(matrix[i, j]) else matrix[i, j], float(row.label == label))
    return matrix


@pytest.mark.parametrize("seed", range(6))
def test_label_alpha_matches_the_krippendorff_package(seed):
    rng = np.random.default_rng(seed)
    rows = [(item, f"w{w}", {label for label in "xyz" if rng.random() < 0.3 + 0.4 * (label == "x")})
            for item in range(25) for w in range(4) if rng.random() < 0.8]
    frame = answers(*rows)
    ours = label_alpha(frame)
    for label in ours.index:
        expected = krippendorff.alpha(reliability_data=_reliability(frame, label), level_of_measurement="nominal")
        assert ours[label] == pytest.approx(expected, abs=1e-12)


def test_label_alpha_is_nan_when_a_label_has_one_value():
    frame = answers((1, "ann", {"cat"}), (1, "bob", {"cat"}), (2, "ann", {"cat", "dog"}), (2, "bob", {"cat"}))
    alpha = label_alpha(frame)
    assert math.isnan(alpha["cat"])  # everybody always chose cat
    # dog: 4 values, one "yes" (item 2): alpha = 1 - (4 - 1) * (1 * 1 / (2 - 1)) / (1 * 3) = 0
    assert alpha["dog"] == 0.0


def test_set_alpha_by_hand():
    # item 1: {x} and {x, y}; item 2: {x, y} and {x}.  Jaccard distance of the two sets: 1/2.
    # D_o = (2 pairs * 1/2 / (2 - 1)) * 2 items / 4 values = 1/2
    # D_e = (8 ordered pairs across the two sets * 1/2) / (4 * 3) = 1/3;  alpha = 1 - (1/2) / (1/3) = -1/2
    frame = answers((1, "a", {"x"}), (1, "b", {"x", "y"}), (2, "a", {"x", "y"}), (2, "b", {"x"}))
    assert set_alpha(frame, "jaccard") == pytest.approx(-0.5)
    # MASI: {x} is a subset of {x, y}: distance 1 - 1/2 * 2/3 = 2/3 in both D_o and D_e, alpha the same
    assert set_alpha(frame, "masi") == pytest.approx(-0.5)
    same = answers((1, "a", {"x"}), (1, "b", {"x"}), (2, "a", {"y"}), (2, "b", {"y"}))
    assert set_alpha(same) == 1.0


def test_set_alpha_matches_nltk():
    frame = answers((1, "ann", {"cat"}), (1, "bob", {"cat"}), (1, "cid", {"cat", "dog"}),
                    (2, "ann", {"dog"}), (2, "bob", {"dog", "fox"}), (2, "cid", {"fox"}),
                    (3, "ann", {"cat", "fox"}), (3, "bob", {"cat", "fox"}),
                    (4, "ann", {"fox"}), (4, "bob", {"dog"}), (4, "cid", {"fox"}), (5, "ann", {"cat"}))
    # nltk 3.10.4: AnnotationTask(data=[(worker, item, frozenset(labels)), ...], distance=...).alpha()
    # (item 5 has one answer and is left out by both)
    assert set_alpha(frame, "jaccard") == pytest.approx(0.33920704845814964, abs=1e-12)
    assert set_alpha(frame, "masi") == pytest.approx(0.3271767810026385, abs=1e-12)


def test_set_alpha_counts_two_empty_sets_as_equal():
    frame = answers((1, "a", set()), (1, "b", set()), (2, "a", {"x"}), (2, "b", {"x"}))
    assert set_alpha(frame) == 1.0
    assert math.isnan(set_alpha(answers((1, "a", {"x"}))))  # nothing pairable


# --------------------------------------------------------------------------- bad input


def test_bad_input_is_named():
    frame = answers((1, "ann", {"cat"}))
    with pytest.raises(ValidationError) as info:
        set_alpha(frame, distance="cosine")
    assert (info.value.field, info.value.value) == ("distance", "cosine")
    with pytest.raises(ValidationError) as info:
        agreed_items(frame.assign(kind="box"), "multi_class", 1)
    assert (info.value.field, info.value.value) == ("kind", "box")
    with pytest.raises(ValidationError) as info:
        label_consensus(frame.drop(columns="kind"), 1)
    assert info.value.field == "kind" and "missing column" in str(info.value)
    with pytest.raises(ValidationError) as info:
        label_consensus(frame, 0)
    assert (info.value.field, info.value.value) == ("approval_threshold", 0)
    with pytest.raises(ValidationError) as info:
        decide(frame.assign(worker=None), "multi_class", 1, 1)
    assert info.value.field == "worker"
    with pytest.raises(ValidationError) as info:
        item_jaccard([1, 2])
    assert (info.value.field, info.value.value) == ("answers", "list")
