"""Work inside a task: submit, statuses, reviews, consensus, pools, progress."""
from __future__ import annotations

import pytest

from dltasks.errors import NotFoundError, PermissionDeniedError, ValidationError


def item_of(task, user):
    a = task.assignments_df()
    return int(a[a["user_id"] == user]["item_id"].iloc[0])


def status(task, iid):
    df = task.items_df().set_index("item_id")
    return df.loc[iid, "status"]


def test_submit_completes_an_item_without_review(dataset):
    task = dataset.tasks.create("t", assignee_ids=["a", "b"], seed=1)
    iid = item_of(task, "a")
    assert task.submit(iid, "a", "Adult") == "completed"
    assert task.submit(iid, "a", "Child", replace=True) == "completed"
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[iid, "a", "Child"]]
    row = task.items_df().set_index("item_id").loc[iid]
    assert (row["status"], row["label"], row["votes"]) == ("completed", "Child", 1)


def test_only_the_assigned_worker_may_submit(dataset, unchanged):
    task = dataset.tasks.create("t", assignee_ids=["a", "b"], seed=1)
    iid = item_of(task, "a")
    check = unchanged()
    with pytest.raises(PermissionDeniedError, match="not assigned to 'b'"):
        task.submit(iid, "b", "Adult")
    with pytest.raises(ValidationError) as info:
        task.submit(iid, "a", "Dog")
    assert info.value.field == "label"
    with pytest.raises(NotFoundError):
        task.submit(123456, "a", "Adult")
    check()


def test_manual_review_approve_and_reject(dataset):
    task = dataset.tasks.create("m", assignee_ids=["a"], review_strategy="manual", reviewer_ids=["r"], seed=1)
    iid = item_of(task, "a")
    assert task.submit(iid, "a", "Adult") == "awaiting_review"
    with pytest.raises(PermissionDeniedError):
        task.review(iid, "a", approve=True)
    assert task.review(iid, "r", approve=False) == "rejected"
    assert task.assignments_df().query("item_id == @iid and role == 'worker'")["status"].tolist() == ["pending"]
    with pytest.raises(ValidationError, match="not awaiting review"):
        task.review(iid, "r", approve=True)
    assert task.submit(iid, "a", "Child", replace=True) == "awaiting_review"  # back to its worker, who relabels
    assert task.review(iid, "r", approve=True) == "approved"
    assert task.assignments_df().query("role == 'reviewer'")[["user_id", "status"]].values.tolist() == [["r", "approved"]]


@pytest.mark.parametrize("votes,after_each", [
    (["Adult", "Adult"], ["awaiting_consensus", "approved"]),
    (["Adult", "Child", "Adult"], ["awaiting_consensus", "awaiting_consensus", "approved"]),
    (["Adult", "Child", "Other"], ["awaiting_consensus", "awaiting_consensus", "awaiting_review"]),
], ids=["two-agree", "majority", "no-agreement"])
def test_consensus_approves_when_enough_workers_agree(dataset, votes, after_each):
    task = dataset.tasks.create("c", assignee_ids=["a", "b", "c"], workers_per_input=3, review_strategy="consensus",
                                reviewer_ids=["r"], approval_threshold=2, labels=["Adult", "Child", "Other"], seed=1)
    iid = int(task.items_df()["item_id"].iloc[0])
    got = [task.submit(iid, w, v) for w, v in zip(["a", "b", "c"], votes)]
    assert got == after_each
    cons = task.consensus().loc[iid]
    assert cons["status"] == ("approved" if after_each[-1] == "approved" else "awaiting_review")


def test_set_status_with_custom_actions(dataset):
    task = dataset.tasks.create("s", assignee_ids=["a"], seed=1,
                                available_actions=[{"name": "needs_fix", "display_name": "Needs fix", "color": "#f00"}])
    ids = task.items_df()["item_id"].tolist()
    assert [a["name"] for a in task.available_actions] == ["completed", "discard", "needs_fix"]
    assert task.set_status(ids[:2], "needs_fix", "a") == 2
    task.set_status(ids[2], "discard", "a")
    task.set_status(ids[3], "completed", "a")
    assert task.status_counts().to_dict() == {"completed": 1, "discarded": 1, "needs_fix": 2, "pending": 6}
    with pytest.raises(ValidationError) as info:
        task.set_status(ids[4], "done-ish", "a")
    assert info.value.field == "status"


def test_pool_task_lets_workers_claim_items(dataset):
    task = dataset.tasks.create("pool", workers_per_input=1)
    iid = int(task.items_df()["item_id"].iloc[0])
    assert task.submit(iid, "walk-in@x.io", "Adult") == "completed"
    with pytest.raises(PermissionDeniedError):
        task.submit(iid, "late@x.io", "Adult")
    assert task.progress().loc["walk-in@x.io", "done"] == 1


def test_progress_and_partition_per_assignee(dataset):
    task = dataset.tasks.create("p", assignee_ids=["a", "b"], weights={"a": 3, "b": 2}, seed=4)
    for iid in task.assignments_df().query("user_id == 'a'")["item_id"][:3]:
        task.submit(int(iid), "a", "Adult")
    prog = task.progress()
    assert prog.loc["a", ["assigned", "done", "percent"]].tolist() == [6, 3, 50.0]
    assert prog.loc["total", ["assigned", "done", "percent"]].tolist() == [10, 3, 30.0]
    part = task.partition()
    assert part.loc["a", "target"] == pytest.approx(6.0) and part.loc["b", "assigned"] == 4


def test_agreement_and_worker_quality_from_task_labels(dataset):
    task = dataset.tasks.create("q", assignee_ids=["a", "b", "c"], workers_per_input=3, seed=1)
    for iid in task.items_df()["item_id"]:
        for w in ("a", "b"):
            task.submit(int(iid), w, "Adult")
        task.submit(int(iid), "c", "Child")
    agree = task.agreement()
    assert agree["percent_agreement"] == pytest.approx(1 / 3)
    quality = task.worker_quality()
    assert quality.loc["a", "agreement_with_consensus"] == 1.0
    assert quality.loc["c", "agreement_with_consensus"] == 0.0


def test_retract_withdraws_a_label(dataset):
    task = dataset.tasks.create("r", assignee_ids=["a"], seed=1)
    iid = item_of(task, "a")
    task.submit(iid, "a", "Adult")
    assert task.retract(iid, "a") == "pending"
    assert task.labels_df().empty
    assert task.assignments_df(user_id="a", status="pending")["item_id"].tolist().count(iid) == 1
    with pytest.raises(NotFoundError):
        task.retract(iid, "a")


def test_assignments_df_filters_by_user_and_status(dataset):
    task = dataset.tasks.create("f", assignee_ids=["a", "b"], seed=1)
    iid = item_of(task, "a")
    task.submit(iid, "a", "Adult")
    mine = task.assignments_df(user_id="a")
    assert set(mine["user_id"]) == {"a"} and len(mine) == 5
    assert task.assignments_df(status="done")["item_id"].tolist() == [iid]


def test_assignments_df_filters_by_role(dataset, unchanged):
    task = dataset.tasks.create("r", assignee_ids=["a"], review_strategy="manual", reviewer_ids=["a"], seed=1)
    iid = item_of(task, "a")
    task.submit(iid, "a", "Adult")
    task.review(iid, "a", approve=True)  # "a" both labels and reviews
    assert len(task.assignments_df(user_id="a")) == 11
    worker = task.assignments_df(user_id="a", role="worker")
    assert set(worker["role"]) == {"worker"} and worker["item_id"].tolist() == sorted(worker["item_id"]) \
        and len(worker) == 10
    assert task.assignments_df(role="reviewer")[["item_id", "status"]].values.tolist() == [[iid, "approved"]]
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        task.assignments_df(role="boss")
    assert (info.value.field, info.value.value) == ("role", "boss")
    check()


def test_analyses_reuse_one_read_of_the_labels(dataset):
    task = dataset.tasks.create("l", assignee_ids=["a", "b"], workers_per_input=2, seed=1)
    for iid in task.items_df()["item_id"]:
        task.submit(int(iid), "a", "Adult")
        task.submit(int(iid), "b", "Adult")
    labels = task.labels_df()
    assert task.consensus(labels=labels)["status"].eq("approved").all()
    assert task.agreement(labels=labels)["percent_agreement"] == 1.0
    assert "skill" not in task.worker_quality(labels=labels, skill=False).columns


def test_a_stale_task_handle_obeys_the_tasks_current_options(dataset, unchanged):
    """Work reads the task inside its transaction: a handle holding old options cannot bypass new ones."""
    stale = dataset.tasks.create("t", assignee_ids=["u1"], labels=["a", "b"], review_strategy="manual",
                                 reviewer_ids=["r"], seed=1)
    fresh = dataset.tasks.get(task_id=stale.id)
    fresh.labels = ["a"]
    fresh.review_strategy, fresh.reviewer_ids = "none", []
    fresh.update()
    iid = item_of(stale, "u1")
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        stale.submit(iid, "u1", "b")
    assert (info.value.field, info.value.value) == ("label", "b")
    assert "['a']" in str(info.value)
    check()
    assert stale.submit(iid, "u1", "a") == "completed"  # the stored review is "none" now, not the handle's "manual"
    assert status(stale, iid) == "completed"


def test_statuses_df_is_the_stored_status_page_by_page(dataset):
    task = dataset.tasks.create("s", assignee_ids=["w"], review_strategy="manual", reviewer_ids=["r"], seed=1)
    ids = task.items_df()["item_id"].tolist()
    task.submit(ids[0], "w", "Adult")
    task.submit(ids[1], "w", "Adult")
    task.review(ids[1], "r", label="Child")
    whole = task.statuses_df()
    assert list(whole.columns) == ["item_id", "status", "label"] and whole["item_id"].tolist() == ids
    assert whole.set_index("item_id").loc[ids[:3]].values.tolist() == [
        ["awaiting_review", None], ["approved", "Child"], ["pending", None]]
    assert task.statuses_df(offset=1, limit=2)["item_id"].tolist() == ids[1:3]
    assert whole["status"].tolist() == task.items_df()["status"].tolist()
    assert whole["status"].value_counts().sort_index().to_dict() == task.status_counts().to_dict()
