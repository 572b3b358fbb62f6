"""The task history is complete (issue 15, "Time and history", started): replaying its answer actions
rebuilds the current answers exactly, after submits, replacements, retractions, reviews, corrections
and reopenings; one history row per action; on every backend (the ``store`` fixture)."""
from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import dltasks as dl
from dltasks.domain.history import replay_answers


def test_replaying_a_class_tasks_history_rebuilds_its_labels(store, dataset):
    task = dataset.tasks.create("t", assignee_ids=["a", "b"], workers_per_input=2, review_strategy="manual",
                                reviewer_ids=["r"], seed=1)
    one, two, three = [int(i) for i in task.statuses_df()["item_id"][:3]]
    task.submit(one, "a", "Adult")
    task.submit(one, "b", "Child")
    task.submit(one, "a", "Child", replace=True)
    task.review(one, "r", label="Adult")  # a correction: the workers' labels stay
    task.reopen(one, "r")
    task.submit(one, "b", "Adult", replace=True)
    task.submit(two, "a", "Adult")
    task.retract(two, "a")
    task.submit(three, "b", "Child")
    history = task.history_df()
    assert history["action"].tolist() == ["submit", "submit", "replace", "review", "correct", "reopen", "replace",
                                          "submit", "retract", "submit"]
    assert_frame_equal(replay_answers(history, "class"), task.labels_df().drop(columns="seconds"), check_dtype=False)
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[one, "a", "Child"], [one, "b", "Adult"], [three, "b", "Child"]]


def test_replaying_a_box_tasks_history_rebuilds_its_answers(store):
    ds = store.datasets.create("street", labels=["car", "bus"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
    task = ds.tasks.create("boxes", assignee_ids=["a", "b"], worker_strategy="full", annotation_type="box")
    task.submit(1, "a", annotations=[dl.Box(1, 1, 5, 5, "car"), dl.Box(10, 10, 20, 30, "bus")])
    task.submit(1, "b", annotations=[])
    task.submit(1, "a", annotations=[dl.Box(2, 2, 6, 6, "car")], replace=True)
    task.submit(2, "a", annotations=[dl.Box(0.5, 0.25, 7, 8, "bus")])
    task.retract(2, "a")
    task.submit(2, "b", annotations=[dl.Box(3, 3, 9, 9, "bus")])
    replayed = replay_answers(task.history_df(), "box")
    assert_frame_equal(replayed, task.labels_df().drop(columns="seconds"))
    assert len(task.history_df()) == 6


def test_a_history_without_its_columns_is_refused():
    with pytest.raises(dl.ValidationError) as err:
        replay_answers(pd.DataFrame({"item_id": [1]}), "class")
    assert err.value.field == "history"
