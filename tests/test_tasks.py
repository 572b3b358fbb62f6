"""Tasks: creation options, exact splits, validation (nothing written), get/list/update/delete, QA."""
from __future__ import annotations

import datetime

import pandas as pd
import pytest

import dltasks as dl
from dltasks.errors import ConflictError, NotFoundError, ValidationError

W3 = ["a@x.io", "b@x.io", "c@x.io"]


def counts(task):
    return task.assignments_df().query("role == 'worker'").groupby("user_id").size().to_dict()


def test_assignees_alone_divide_items_equally(dataset):
    task = dataset.tasks.create(task_name="t", assignee_ids=W3, seed=1)
    assert (task.worker_strategy, task.workers_per_input) == ("partitioned", 1)
    assert sorted(counts(task).values()) == [3, 3, 4]
    assert task.assignee_ids == W3 and task.labels == ["Adult", "Child"]


def test_weighted_split_is_exact_and_seeded(store):
    ds = store.datasets.create("big")
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(1000)]}))
    t1 = ds.tasks.create("w", assignee_ids=["u1", "u2"], weights={"u1": 90, "u2": 10}, seed=7)
    t2 = ds.tasks.create("w2", assignee_ids=["u1", "u2"], weights={"u1": 9, "u2": 1}, seed=7)
    assert counts(t1) == {"u1": 900, "u2": 100}
    pd.testing.assert_frame_equal(t1.assignments_df()[["item_id", "user_id"]], t2.assignments_df()[["item_id", "user_id"]])


def test_workers_per_input_gives_distinct_workers(dataset):
    task = dataset.tasks.create("k3", assignee_ids=W3 + ["d@x.io"], workers_per_input=3, seed=3)
    a = task.assignments_df()
    assert (a.groupby("item_id")["user_id"].nunique() == 3).all() and len(a) == 30
    assert sorted(counts(task).values()) == [7, 7, 8, 8]


def test_full_strategy_gives_everyone_everything(dataset):
    task = dataset.tasks.create("full", assignee_ids=W3, worker_strategy="full")
    assert counts(task) == {u: 10 for u in W3} and task.workers_per_input == 3


def test_workload_percentages(dataset):
    task = dataset.tasks.create("wl", workload=dl.Workload.generate(W3), seed=1)
    assert task.weights == {"a@x.io": 34.0, "b@x.io": 33.0, "c@x.io": 33.0}
    assert sum(counts(task).values()) == 10


def test_filters_and_items_select_the_task_items(dataset):
    f = dl.Filters(field="metadata.user.colour", values="red")
    assert len(dataset.tasks.create("f", assignee_ids=W3, filters=f).items_df()) == 5
    some = dataset.items.get_all_items()[:2]
    assert dataset.tasks.create("i", assignee_ids=W3, items=some).items_df()["item_id"].tolist() == [i.id for i in some]


@pytest.mark.parametrize("due,expected_overdue", [
    (datetime.datetime(day=11, month=3, year=2025).timestamp(), True),
    (datetime.datetime(2029, 1, 1, tzinfo=datetime.timezone.utc), False),
    (datetime.date(2029, 1, 1), False),
    ("2029-01-01T00:00:00Z", False),
], ids=["seconds", "datetime", "date", "iso"])
def test_due_date_forms(dataset, due, expected_overdue):
    task = dataset.tasks.create("d", due_date=due, assignee_ids=W3)
    assert task.overdue is expected_overdue
    assert task.due_date.tzinfo is not None


def test_default_due_date_is_a_week_away(dataset):
    task = dataset.tasks.create("d", assignee_ids=W3)
    delta = task.due_date - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=6, hours=23) < delta <= datetime.timedelta(days=7)


def test_non_assigned_task_keeps_items_in_a_pool(dataset):
    task = dataset.tasks.create("pool")
    assert task.assignments_df().empty and len(task.items_df()) == 10
    assert store_task_ids(dataset, worker_id="a@x.io") == []


def store_task_ids(dataset, **kw):
    return [t.id for t in dataset.tasks.list(**kw)]


BAD = [
    (dict(task_name=""), "task_name", ""),
    (dict(task_name="t", due_date=1741651200000), "due_date", 1741651200000),
    (dict(task_name="t", due_date="next week"), "due_date", "next week"),
    (dict(task_name="t", assignee_ids=W3, weights={"a@x.io": 1, "b@x.io": 1, "zed@x.io": 1}), "weights", "zed@x.io"),
    (dict(task_name="t", assignee_ids=W3, weights={"a@x.io": -1, "b@x.io": 1, "c@x.io": 1}), "weights", -1),
    (dict(task_name="t", assignee_ids=W3, weights={"a@x.io": 0, "b@x.io": 0, "c@x.io": 0}), "weights", None),
    (dict(task_name="t", assignee_ids=W3, workers_per_input=0), "workers_per_input", 0),
    (dict(task_name="t", assignee_ids=W3, workers_per_input=4), "workers_per_input", 4),
    (dict(task_name="t", assignee_ids=W3, workers_per_input=2, weights={"a@x.io": 8, "b@x.io": 1, "c@x.io": 1}),
     "weights", None),
    (dict(task_name="t", assignee_ids=W3, review_strategy="consensus", reviewer_ids=["r"], workers_per_input=2,
          approval_threshold=3), "approval_threshold", 3),
    (dict(task_name="t", assignee_ids=W3, review_strategy="consensus", reviewer_ids=["r"], approval_threshold=0),
     "approval_threshold", 0),
    (dict(task_name="t", assignee_ids=W3, review_strategy="manual"), "reviewer_ids", None),
    (dict(task_name="t", assignee_ids=W3, review_strategy="sometimes"), "review_strategy", "sometimes"),
    (dict(task_name="t", assignee_ids=W3, worker_strategy="random"), "worker_strategy", "random"),
    (dict(task_name="t", assignee_ids=["a", "a"]), "assignee_ids", "a"),
    (dict(task_name="t", assignee_ids=W3, priority="urgent"), "priority", "urgent"),
    (dict(task_name="t", assignee_ids=W3, filters=dl.Filters(field="name", values="nothing")), "filters", None),
    (dict(task_name="t", assignee_ids=W3, items=[424242]), "items", 424242),
    (dict(task_name="t", assignee_ids=W3, metadata={"x": {1, 2}}), "metadata", None),
    (dict(task_name="t", assignee_ids=W3, labels=[""]), "labels", ""),
]


@pytest.mark.parametrize("kwargs,field,value", BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_options_name_the_field_and_write_nothing(dataset, unchanged, kwargs, field, value):
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        dataset.tasks.create(**kwargs)
    assert info.value.field == field
    if value is not None:
        assert repr(value) in str(info.value)
    check()


def test_impossible_share_says_why(dataset):
    with pytest.raises(ValidationError, match="workers_per_input"):
        dataset.tasks.create("t", assignee_ids=["a", "b"], workers_per_input=2, weights={"a": 9, "b": 1})


def test_milliseconds_due_date_says_so(dataset):
    with pytest.raises(ValidationError, match="milliseconds"):
        dataset.tasks.create("t", due_date=datetime.datetime(2025, 3, 11).timestamp() * 1000)


def test_get_by_id_and_name(dataset, store):
    task = dataset.tasks.create("one", assignee_ids=W3)
    assert store.tasks.get(task_id=task.id) == task == dataset.tasks.get(task_name="one")
    dataset.tasks.create("one", assignee_ids=W3)
    with pytest.raises(ConflictError):
        dataset.tasks.get(task_name="one")
    with pytest.raises(NotFoundError):
        dataset.tasks.get(task_name="none")
    with pytest.raises(NotFoundError):
        store.tasks.get(task_id="nope")


def test_list_pages_and_by_worker_or_reviewer(dataset, store):
    for i in range(5):
        dataset.tasks.create(f"t{i}", assignee_ids=["w1" if i % 2 else "w2"], review_strategy="manual",
                             reviewer_ids=["r1" if i < 2 else "r2"])
    page = store.tasks.list(page=1, per_page=2)
    assert (len(page), page.total, page.has_next, page.total_pages) == (2, 5, True, 3)
    assert store.tasks.list(page=3, per_page=2).has_next is False
    assert sorted(t.name for t in store.tasks.list(worker_id="w1")) == ["t1", "t3"]
    assert sorted(t.name for t in store.tasks.list(reviewer_id="r1")) == ["t0", "t1"]
    assert store.tasks.list(per_page=1000).to_df()["name"].tolist() == ["t4", "t3", "t2", "t1", "t0"]
    with pytest.raises(ValidationError) as info:
        store.tasks.list(per_page=1001)
    assert info.value.field == "per_page"


def test_update_is_a_validated_full_overwrite(dataset, store, unchanged):
    task = dataset.tasks.create("u", assignee_ids=W3, seed=5)
    task.name, task.priority, task.status = "renamed", "high", "done"
    task.due_date = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    fresh = task.update()
    assert (fresh.name, fresh.priority, fresh.status, fresh.due_date.year) == ("renamed", "high", "done", 2030)
    assert store.tasks.get(task.id).name == "renamed"
    check = unchanged()
    fresh.workers_per_input = 5
    with pytest.raises(ValidationError) as info:
        fresh.update()
    assert info.value.field == "workers_per_input"
    check()


def test_update_refuses_to_change_the_item_filter(dataset, unchanged):
    task = dataset.tasks.create("f", assignee_ids=W3, filters=dl.Filters(field="dir", values="/train"))
    task.filters = dl.Filters(field="dir", values="/test")
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        task.update()
    assert info.value.field == "filters" and "create a new task" in str(info.value)
    check()


def test_changing_assignees_replans_only_unworked_items(dataset):
    task = dataset.tasks.create("r", assignee_ids=["a", "b"], seed=2)
    before = task.assignments_df()
    worked = before.iloc[0]
    task.submit(worked["item_id"], worked["user_id"], "Adult")
    task = task.add_assignees(["c", "d"])
    after = task.assignments_df().query("role == 'worker'")
    assert after.query("item_id == @worked.item_id")["user_id"].tolist() == [worked["user_id"]]
    assert len(after) == 10 and set(after["user_id"]) == {"a", "b", "c", "d"}
    others = after.query("item_id != @worked.item_id").groupby("user_id").size()
    assert sorted(others.tolist()) == [2, 2, 2, 3]
    task = task.redistribute({"a": 1, "b": 0, "c": 0, "d": 0})
    assert task.assignments_df().query("user_id == 'b' and status == 'pending'").empty


def test_delete_many_is_atomic(dataset, store, unchanged):
    t1 = dataset.tasks.create("d1", assignee_ids=W3)
    t2 = dataset.tasks.create("d2", assignee_ids=W3)
    check = unchanged()
    with pytest.raises(NotFoundError):
        store.tasks.delete(task_ids=[t1.id, "missing"])
    check()
    assert store.tasks.delete(task_ids=[t1.id, t2.id]) == 2
    assert store.tasks.list().total == 0
    with pytest.raises(NotFoundError):
        t1.delete()


def test_qa_task_reviews_completed_items(dataset):
    task = dataset.tasks.create("ann", assignee_ids=["a"], seed=1)
    ids = task.items_df()["item_id"].tolist()
    for iid in ids[:4]:
        task.submit(iid, "a", "Adult")
    task.set_status(ids[4], "discard", "a")
    qa = dataset.tasks.create_qa_task(task=task, assignee_ids=["q1", "q2"],
                                      due_date=datetime.datetime(2029, 1, 1).timestamp())
    assert (qa.name, qa.type, qa.parent_task_id) == ("ann_qa", "qa", task.id)
    assert qa.items_df()["item_id"].tolist() == ids[:4]
    assert [a["name"] for a in qa.available_actions] == ["approved", "discard"]
    f = dl.Filters(field="metadata.user.colour", values="red")
    narrowed = dataset.tasks.create_qa_task(task=task, assignee_ids=["q1"], filters=f)
    assert set(narrowed.items_df()["item_id"]) <= set(ids[:4])


def test_qa_task_without_completed_items_is_refused(dataset, unchanged):
    task = dataset.tasks.create("ann", assignee_ids=["a"])
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        dataset.tasks.create_qa_task(task=task, assignee_ids=["q"])
    assert info.value.field == "task" and "no completed items" in str(info.value)
    check()


def test_an_empty_items_list_makes_an_empty_task_unless_it_has_assignees(dataset, unchanged):
    assert dataset.tasks.create("empty", items=[]).items_df().empty
    check = unchanged()
    with pytest.raises(ValidationError) as info:
        dataset.tasks.create("nothing to do", items=[], assignee_ids=["a"])
    assert info.value.field == "items"
    check()
    assert len(dataset.tasks.create("twice", items=[1, 1, 2]).items_df()) == 2
