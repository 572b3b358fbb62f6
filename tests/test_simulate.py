"""dltasks.quality.simulate: a simulated crowd through a real store, fixed 3 workers vs dynamic overlap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dltasks as dl
from dltasks.errors import ValidationError
from dltasks.quality.simulate import Crowd, compare_strategies, decided_labels, simulate

SKILLED = tuple(np.round(np.linspace(0.85, 0.99, 10), 3))


@pytest.fixture(scope="module")
def skilled_200():
    """Both strategies on 200 items, 3 classes, workers of accuracy 0.85-0.99 (about 10 s)."""
    return compare_strategies(n_items=200, accuracies=SKILLED, n_classes=3, seed=3)


def test_dynamic_overlap_saves_a_quarter_of_the_labels_at_the_accuracy_of_three_fixed_workers(skilled_200):
    fixed, dynamic = skilled_200.loc["fixed"], skilled_200.loc["dynamic"]
    assert (fixed["items"], fixed["labels"], fixed["labels_per_item"]) == (200, 600, 3.0)
    assert dynamic["items"] == 200 and 2.0 < dynamic["labels_per_item"] < 2.25
    assert 1 - dynamic["labels"] / fixed["labels"] >= 0.25
    assert round(dynamic["accuracy"] - fixed["accuracy"], 6) >= -0.005
    assert fixed["accuracy"] > 0.9  # the crowd is good; the simulation is not guessing
    # fixed: three labels on every item, majority; a 1-1-1 split is left to review (and counted wrong)
    assert fixed["reviewed"] >= 1 and dynamic["reviewed"] == 0  # 3 classes: 4 labels always hold a pair


def test_dynamic_store_afterwards_two_workers_where_they_agree_more_only_where_they_did_not(tmp_path):
    url = str(tmp_path / "crowd.db")
    result = simulate("dynamic", n_items=200, accuracies=np.linspace(0.6, 0.95, 10), n_classes=3, seed=5, url=url)
    store = dl.connect(url)
    try:
        task = store.datasets.get("crowd-dynamic-5").tasks.get("dynamic")
        labels = task.labels_df()
    finally:
        store.close()
    assert len(labels) == result.labels and result.items == 200
    assert not labels.duplicated(["item_id", "worker"]).any()  # never twice to one worker
    per_item = labels.groupby("item_id")["label"]
    n = per_item.size()
    assert len(n) == 200 and n.between(2, 5).all()
    top = per_item.agg(lambda s: s.value_counts().iloc[0])
    assert (top[n == 2] == 2).all()  # two labels only where the first two agreed
    assert (n > 2).sum() >= 20  # the mixed crowd disagrees often enough to need more workers
    # a third worker or more only while no label had two votes: the last label made the consensus
    assert (top[n > 2] == 2).all()
    assert result.labels_per_item == round(len(labels) / 200, 4)


def test_decided_labels_take_the_majority_and_leave_ties_undecided():
    labels = pd.DataFrame({"item_id": [1, 1, 1, 2, 2, 3, 3, 3], "worker": list("abcabxyz"),
                           "label": ["x", "y", "x", "x", "y", "z", "y", "x"]})
    assert decided_labels(labels).to_dict() == {1: "x", 2: None, 3: None}


def test_the_crowd_answers_by_each_workers_accuracy_and_spreads_wrong_answers():
    crowd = Crowd.make(20_000, [0.6, 0.9], n_classes=3, slots=3, seed=1)
    rows = np.arange(20_000)
    for worker, accuracy in enumerate([0.6, 0.9]):
        for slot in range(3):
            assert (crowd.answer(rows, worker, slot) == crowd.truth).mean() == pytest.approx(accuracy, abs=0.01)
    given = crowd.answer(rows, 0, 1)
    wrong = given != crowd.truth
    shift = (given[wrong] - crowd.truth[wrong]) % 3
    assert np.bincount(shift, minlength=3)[1:] / wrong.sum() == pytest.approx([0.5, 0.5], abs=0.02)
    # a better worker is right wherever a worse one is, on the same draw (common random numbers)
    assert not ((crowd.answer(rows, 0, 2) == crowd.truth) & (crowd.answer(rows, 1, 2) != crowd.truth)).any()
    again = Crowd.make(20_000, [0.6, 0.9], n_classes=3, slots=3, seed=1)
    assert (again.truth == crowd.truth).all() and (again.draws == crowd.draws).all()


def test_a_perfect_crowd_needs_two_labels_dynamic_and_three_fixed():
    df = compare_strategies(n_items=30, accuracies=[1.0] * 5, n_classes=4, seed=2)
    assert df["labels"].to_dict() == {"fixed": 90, "dynamic": 60}
    assert df["accuracy"].to_dict() == {"fixed": 1.0, "dynamic": 1.0}
    assert df["reviewed"].to_dict() == {"fixed": 0, "dynamic": 0}


@pytest.mark.parametrize("kwargs, field", [
    ({"strategy": "both"}, "strategy"),
    ({"n_items": 0}, "n_items"),
    ({"n_classes": 1}, "n_classes"),
    ({"accuracies": [0.9, 1.2, 0.8, 0.7, 0.6]}, "accuracies"),
    ({"accuracies": [0.9] * 4}, "accuracies"),  # max_workers=5 needs five workers
    ({"max_workers": True}, "max_workers"),
], ids=["strategy", "n_items", "n_classes", "accuracy>1", "too-few-workers", "bool"])
def test_bad_arguments_are_named(kwargs, field):
    args = {"strategy": "dynamic", **kwargs}
    with pytest.raises(ValidationError) as err:
        simulate(args.pop("strategy"), **args)
    assert err.value.field == field
