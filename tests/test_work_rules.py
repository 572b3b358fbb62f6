"""The work rules of a task, on every backend: decided is decided, task labels change only through
task work, nothing is overwritten silently, workers are blind to each other's votes."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

import dltasks as dl
from conftest import sql_db
from dltasks.backends.sql import schema as S
from server_fixtures import LiveServer, live_server  # noqa: F401  (fixture)


def history(store, task_id):
    h = S.history
    with sql_db(store).read() as conn:
        rows = conn.execute(sa.select(h.c.item_id, h.c.user_id, h.c.action, h.c.before, h.c.after)
                            .where(h.c.task_id == task_id).order_by(h.c.id)).all()
    return [tuple(r) for r in rows]


def manual_task(dataset):
    task = dataset.tasks.create("m", assignee_ids=["w"], review_strategy="manual", reviewer_ids=["r"],
                                labels=["cat", "dog"], seed=1)
    return task, int(task.items_df()["item_id"].iloc[0])


# -- 1. decided is decided ---------------------------------------------------------------------
def test_an_approved_item_refuses_its_workers_submit_and_retract(store, dataset, unchanged):
    task, iid = manual_task(dataset)
    task.submit(iid, "w", "cat")
    assert task.review(iid, "r", approve=True) == "approved"
    check = unchanged()
    for attempt in (lambda: task.submit(iid, "w", "dog", replace=True), lambda: task.retract(iid, "w"),
                    lambda: task.set_status(iid, "discard", "w")):
        with pytest.raises(dl.ConflictError, match=f"item {iid} was approved by r"):
            attempt()
    check()
    row = task.items_df().set_index("item_id").loc[iid]
    assert (row["status"], row["label"], row["n_labels"]) == ("approved", "cat", 1)


def test_a_reviewer_reopens_an_item_and_it_is_recorded(store, dataset):
    task, iid = manual_task(dataset)
    task.submit(iid, "w", "cat")
    task.review(iid, "r", approve=True)
    with pytest.raises(dl.PermissionDeniedError, match="not a reviewer"):
        task.reopen(iid, "w")
    assert task.reopen(iid, "r") == "awaiting_review"
    assert task.submit(iid, "w", "dog", replace=True) == "awaiting_review"
    assert task.review(iid, "r", approve=True) == "approved"
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[iid, "w", "dog"]]
    assert history(store, task.id) == [(iid, "w", "submit", None, "cat"), (iid, "r", "review", "awaiting_review", "approved"),
                                       (iid, "r", "reopen", "approved", None), (iid, "w", "replace", "cat", "dog"),
                                       (iid, "r", "review", "awaiting_review", "approved")]
    with pytest.raises(dl.ValidationError, match="is not approved or rejected") as info:
        task.reopen(int(task.items_df()["item_id"].iloc[1]), "r")
    assert info.value.field == "item_id"


def test_a_rejection_can_be_taken_back(store, dataset):
    """Undo of a mis-clicked Reject: the item awaits review again with its labels, its workers done."""
    task, iid = manual_task(dataset)
    task.submit(iid, "w", "cat")
    assert task.review(iid, "r", approve=False) == "rejected"
    assert task.assignments_df(user_id="w").set_index("item_id").loc[iid, "status"] == "pending"
    assert task.reopen(iid, "r") == "awaiting_review"
    assert task.assignments_df(user_id="w").set_index("item_id").loc[iid, "status"] == "done"
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[iid, "w", "cat"]]
    assert task.review(iid, "r", approve=True) == "approved"
    assert history(store, task.id)[-2:] == [(iid, "r", "reopen", "rejected", None),
                                            (iid, "r", "review", "awaiting_review", "approved")]


def test_a_consensus_approval_is_decided_until_reopened(store, dataset):
    task = dataset.tasks.create("c", assignee_ids=["a", "b", "c"], workers_per_input=3, review_strategy="consensus",
                                reviewer_ids=["r"], approval_threshold=2, labels=["cat", "dog"], seed=1)
    iid = int(task.items_df()["item_id"].iloc[0])
    task.submit(iid, "a", "cat")
    assert task.submit(iid, "b", "cat") == "approved"
    with pytest.raises(dl.ConflictError, match="approved by the consensus of its workers"):
        task.submit(iid, "c", "dog")
    assert task.reopen(iid, "r") == "pending"  # c has not labelled: it waits for c, then for a reviewer
    assert task.submit(iid, "c", "dog") == "awaiting_review"
    assert task.review(iid, "r", approve=False) == "rejected"
    assert task.submit(iid, "a", "dog", replace=True) == "approved"  # dog, cat, dog: two agree after the reject


def test_after_a_reject_the_item_goes_back_to_its_workers(store, dataset):
    task, iid = manual_task(dataset)
    task.submit(iid, "w", "cat")
    task.review(iid, "r", approve=False)
    assert task.assignments_df(role="worker").set_index("item_id").loc[iid, "status"] == "pending"
    assert task.submit(iid, "w", "dog", replace=True) == "awaiting_review"


# -- 2. task labels change only through task work ------------------------------------------------
def test_a_task_label_cannot_be_changed_or_deleted_as_a_plain_annotation(store, dataset, unchanged):
    task, iid = manual_task(dataset)
    task.submit(iid, "w", "cat")
    ann = dataset.items.get(item_id=iid).annotations.list()[0]
    check = unchanged()
    ann.label = "zebra"
    with pytest.raises(dl.ConflictError, match=r"label of task .*task.submit\(item_id, user_id, label, replace=True\)"):
        ann.update()
    with pytest.raises(dl.ConflictError, match=r"task.retract\(item_id, user_id\)"):
        dataset.annotations.delete(ann.id)
    check()
    free = dataset.items.get(item_id=iid).annotations.create("Adult", author="w")  # outside any task: free
    free.label = "Child"  # (one of the dataset's labels, as any annotation's)
    assert free.update().label == "Child" and free.delete()


# -- 3. nothing is overwritten silently ---------------------------------------------------------
def test_a_second_label_needs_replace_and_the_first_is_kept_in_the_history(store, dataset, unchanged):
    task = dataset.tasks.create("t", assignee_ids=["w"], labels=["cat", "dog"], seed=1)
    iid = int(task.items_df()["item_id"].iloc[0])
    task.submit(iid, "w", "cat")
    check = unchanged()
    with pytest.raises(dl.ConflictError, match=f"w already labelled item {iid} as 'cat': pass replace=True"):
        task.submit(iid, "w", "dog")
    check()
    assert task.submit(iid, "w", "dog", replace=True) == "completed"
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[iid, "w", "dog"]]
    assert history(store, task.id)[-1] == (iid, "w", "replace", "cat", "dog")


def test_a_failed_submit_inside_a_transaction_leaves_nothing(dataset, unchanged):
    if not dataset.store.local:
        pytest.skip("a remote store has no client-side transactions")
    task = dataset.tasks.create("pool", labels=["cat"], workers_per_input=1, seed=1)  # no assignees: a pool
    task.submit(1, "w", "cat")
    check = unchanged()
    with dataset.store.atomic():
        with pytest.raises(dl.ConflictError):
            task.submit(1, "w", "cat")
    check()


# -- 4. workers are blind ------------------------------------------------------------------------
@pytest.fixture
def votes(live_server):  # noqa: F811
    admin = live_server.connect("lead@example.com")
    ds = admin.datasets.create("faces", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
    task = ds.tasks.create("t", assignee_ids=["ann", "bob"], workers_per_input=2, review_strategy="consensus",
                           reviewer_ids=["rev"], approval_threshold=2, seed=1)
    task.submit(1, "ann", "cat")
    task.submit(1, "bob", "dog")
    return live_server, ds, task


def test_a_worker_sees_only_their_own_votes(votes):
    server, ds, task = votes
    bob = server.connect("bob", admin=False)
    mine = bob.tasks.get(task.id)
    assert mine.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[1, "bob", "dog"]]
    theirs = bob.datasets.get(dataset_id=ds.id)
    assert theirs.annotations.to_df()["author"].tolist() == ["bob"]
    assert theirs.annotations.to_df(task_id=task.id)["author"].tolist() == ["bob"]
    assert [a.author for a in theirs.items.get(item_id=1).annotations.list()] == ["bob"]
    ann_id = ds.annotations.to_df().query("author == 'ann'")["id"].iloc[0]
    with pytest.raises(dl.NotFoundError):
        theirs.annotations.get(int(ann_id))


def test_reviewers_and_admins_see_every_vote(votes):
    server, ds, task = votes
    for store in (server.connect("rev", admin=False), server.connect("lead@example.com")):
        assert store.tasks.get(task.id).labels_df()["worker"].tolist() == ["ann", "bob"]
        assert sorted(store.datasets.get(dataset_id=ds.id).annotations.to_df()["author"]) == ["ann", "bob"]
