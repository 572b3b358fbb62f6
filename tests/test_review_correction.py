"""A reviewer approves with a different label: a correction, stored as the item's decided label and
recorded in the task's history; on SQLite and through a live server (the ``store`` fixture)."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

import dltasks as dl
from conftest import drop_column, sql_db
from dltasks.backends.sql import schema as S
from server_fixtures import live_server  # noqa: F401  (fixture)


def reviewed_task(dataset, votes):
    """A manual-review task with workers a and b on every item; ``votes`` (a's, b's) on the first two items."""
    task = dataset.tasks.create("m", assignee_ids=["a", "b"], workers_per_input=2, review_strategy="manual",
                                reviewer_ids=["r"], labels=["Adult", "Child"], seed=1)
    ids = [int(i) for i in task.items_df()["item_id"].iloc[:len(votes)]]
    for iid, (va, vb) in zip(ids, votes):
        task.submit(iid, "a", va)
        assert task.submit(iid, "b", vb) == "awaiting_review"
    return task, ids


def stored_label(store, task_id, iid):
    ti = S.task_items
    with sql_db(store).read() as conn:
        return conn.execute(sa.select(ti.c.label).where(ti.c.task_id == task_id, ti.c.item_id == iid)).scalar()


def test_approving_with_a_label_stores_it_as_the_decided_label_and_records_a_correction(store, dataset):
    task, (one, two) = reviewed_task(dataset, [("Adult", "Adult"), ("Child", "Child")])
    assert task.review(one, "r", label="Child") == "approved"
    assert task.review(two, "r") == "approved"
    df = task.items_df().set_index("item_id")
    assert df.loc[one, ["status", "label", "votes", "reviewer_label"]].tolist() == ["approved", "Child", 2, "Child"]
    assert df.loc[two, ["status", "label", "votes"]].tolist() == ["approved", "Child", 2]
    assert pd.isna(df.loc[two, "reviewer_label"])
    assert (stored_label(store, task.id, one), stored_label(store, task.id, two)) == ("Child", None)
    history = task.history_df(one)
    assert history[["item_id", "user_id", "action", "before", "after"]].values.tolist() == [
        [one, "a", "submit", None, "Adult"], [one, "b", "submit", None, "Adult"],
        [one, "r", "review", "awaiting_review", "approved"], [one, "r", "correct", "Adult", "Child"]]
    assert str(history["at"].dtype) == "datetime64[ns, UTC]"
    assert history["at"].is_monotonic_increasing
    assert set(task.history_df()["item_id"]) == {one, two}
    assert task.history_df(two)["action"].tolist() == ["submit", "submit", "review"]  # no correction


def test_a_correction_after_a_tie_records_no_before_label(store, dataset):
    task, (iid,) = reviewed_task(dataset, [("Adult", "Child")])
    assert task.review(iid, "r", approve=True, label="Adult") == "approved"
    assert task.history_df(iid).iloc[-1][["action", "before", "after"]].tolist() == ["correct", None, "Adult"]


def test_a_reopen_clears_the_correction_and_the_workers_labels_stand_again(store, dataset):
    task, (iid,) = reviewed_task(dataset, [("Adult", "Adult")])
    task.review(iid, "r", label="Child")
    assert task.reopen(iid, "r") == "awaiting_review"
    row = task.items_df().set_index("item_id").loc[iid]
    assert row["label"] == "Adult" and pd.isna(row["reviewer_label"])
    assert stored_label(store, task.id, iid) is None
    assert task.review(iid, "r", approve=False) == "rejected"
    assert stored_label(store, task.id, iid) is None
    assert task.history_df(iid)["action"].tolist()[-3:] == ["correct", "reopen", "review"]


def test_a_label_outside_the_task_or_on_a_rejection_is_refused_and_nothing_changes(store, dataset, unchanged):
    task, (iid,) = reviewed_task(dataset, [("Adult", "Adult")])
    check = unchanged()
    with pytest.raises(dl.ValidationError, match="is not one of this task's labels") as info:
        task.review(iid, "r", label="Cat")
    assert (info.value.field, info.value.value) == ("label", "Cat")
    with pytest.raises(dl.ValidationError, match="a rejection takes no label") as info:
        task.review(iid, "r", approve=False, label="Child")
    assert (info.value.field, info.value.value) == ("label", "Child")
    with pytest.raises(dl.ValidationError) as info:
        task.review(iid, "r", label="")
    assert info.value.field == "label"
    check()
    assert task.items_df().set_index("item_id").loc[iid, "status"] == "awaiting_review"


def test_workers_read_only_their_own_history_reviewers_all(live_server):  # noqa: F811
    admin = live_server.connect("lead@example.com")
    ds = admin.datasets.create("faces", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
    task = ds.tasks.create("t", assignee_ids=["ann", "bob"], workers_per_input=2, review_strategy="manual",
                           reviewer_ids=["rev"], seed=1)
    task.submit(1, "ann", "cat")
    task.submit(1, "bob", "cat")
    rev = live_server.connect("rev", admin=False).tasks.get(task.id)
    assert rev.review(1, "rev", label="dog") == "approved"
    bob = live_server.connect("bob", admin=False).tasks.get(task.id)
    assert bob.history_df()[["user_id", "action", "after"]].values.tolist() == [["bob", "submit", "cat"]]
    assert rev.history_df()["user_id"].tolist() == ["ann", "bob", "rev", "rev"]
    assert admin.tasks.get(task.id).history_df(1)["action"].tolist() == ["submit", "submit", "review", "correct"]
    with pytest.raises(dl.PermissionDeniedError):
        bob.review(1, "rev", label="cat")  # a token reviews only as its own user


def test_an_older_store_gets_the_label_column_when_opened(tmp_path):
    path = tmp_path / "old.db"
    s = dl.connect(path)
    ds = s.datasets.create("d", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
    task = ds.tasks.create("t", assignee_ids=["w"], review_strategy="manual", reviewer_ids=["r"], seed=1)
    task.submit(1, "w", "cat")
    s.close()
    drop_column(path, "task_items", "label")  # what a store written before the column looks like
    s = dl.connect(path)
    task = s.tasks.get(task.id)
    assert task.items_df()["reviewer_label"].isna().all()
    assert task.review(1, "r", label="dog") == "approved"
    assert task.items_df()["label"].tolist() == ["dog"]
    s.close()
