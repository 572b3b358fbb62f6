"""Truth inference on a task's votes (issue 15, started): ``task.consensus(method=...)`` and
``task.compare_methods()`` call :mod:`dltasks.inference` on the task's labels, on every backend."""
from __future__ import annotations

import pandas as pd
import pytest

import dltasks as dl
from dltasks.demo import simulate_labels


@pytest.fixture
def voted(store):
    """50 items, truth in metadata, three workers (one poor) labelling every item."""
    ds = store.datasets.create("votes", labels=["cat", "dog"])
    truth = ["cat" if i % 3 else "dog" for i in range(50)]
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(50)], "user.truth": truth}))
    task = ds.tasks.create("t", assignee_ids=["good", "fair", "poor"], worker_strategy="full", seed=3)
    simulate_labels(task, {"good": 0.95, "fair": 0.8, "poor": 0.55},
                    pd.Series(truth, index=range(1, 51), name="truth"), seed=1)
    return task, pd.Series(truth, index=pd.Index(range(1, 51), name="item_id"))


@pytest.mark.parametrize("method", ["majority", "wawa", "dawid_skene", "one_coin", "glad", "mace"])
def test_every_method_labels_every_item_and_beats_chance(voted, method):
    task, truth = voted
    out = task.consensus(method=method)
    assert list(out.columns) == ["label", "probability"] and len(out) == 50
    assert ((out["probability"] > 0) & (out["probability"] <= 1)).all()
    assert (out["label"] == truth.reindex(out.index)).mean() >= 0.8


def test_gold_fixes_the_known_items(voted):
    task, truth = voted
    flipped = {1: "dog" if truth[1] == "cat" else "cat"}  # a gold answer the crowd disagrees with
    out = task.consensus(method="dawid_skene", gold=flipped)
    assert out.loc[1, "label"] == flipped[1] and out.loc[1, "probability"] == pytest.approx(1.0)


def test_compare_methods_says_where_they_disagree(voted):
    task, _ = voted
    table = task.compare_methods(["majority", "glad"])
    assert list(table.columns) == ["majority", "glad", "agree"]
    assert table["agree"].equals(table["majority"] == table["glad"])


def test_bad_method_and_gold_are_named(voted):
    task, _ = voted
    with pytest.raises(dl.ValidationError) as err:
        task.consensus(method="magic")
    assert (err.value.field, err.value.value) == ("method", "magic")
    with pytest.raises(dl.ValidationError, match="takes no gold") as err:
        task.consensus(method="mace", gold={1: "cat"})
    assert err.value.field == "method"
