"""The SDK, unchanged, on three backends: a local SQLite file, a live server (RemoteStore over
HTTP) and PostgreSQL.  Each test is written once and asserts what a notebook user sees."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import dltasks as dl
from dltasks.datasets import Dataset
from dltasks.tasks import Task, TaskPage
from server_fixtures import backend  # noqa: F401  (fixture)

W = ["ann@example.com", "bob@example.com", "cat@example.com"]


@pytest.fixture
def faces(backend):  # noqa: F811
    ds = backend.datasets.create("faces", labels=["Adult", "Child"])
    ds.items.import_df(pd.DataFrame({
        "name": [f"img{i:02d}.jpg" for i in range(12)],
        "dir": ["/train"] * 8 + ["/test"] * 4,
        "user.colour": ["red", "blue", "green"] * 4,
        "user.size": list(range(1, 13)),
    }))
    return ds


def test_datasets(backend):  # noqa: F811
    ds = backend.datasets.create("cats", labels=["cat"])
    assert isinstance(ds, Dataset)
    assert backend.datasets.get(name="cats") == ds and backend.datasets.get(dataset_id=ds.id).name == "cats"
    assert ds.add_labels(["dog", "cat"]) == ["cat", "dog"] and ds.labels == ["cat", "dog"]
    with pytest.raises(dl.ConflictError, match="already exists"):
        backend.datasets.create("cats")
    with pytest.raises(dl.NotFoundError, match="no dataset named 'dogs'"):
        backend.datasets.get(name="dogs")
    with pytest.raises(dl.ValidationError, match="name"):
        backend.datasets.create("  ")
    frame = backend.datasets.to_df()
    assert list(frame.columns) == ["id", "name", "items_count", "created_at"]
    assert frame["created_at"].dt.tz is not None
    assert [d.name for d in backend.datasets.list()] == ["cats"]
    assert ds.delete() is True and backend.datasets.list() == []


def test_items_import_read_filter_update(faces):
    assert faces.items.count() == 12
    df = faces.items.to_df()
    assert list(df["name"][:2]) == ["img00.jpg", "img01.jpg"]
    assert df["metadata.user.size"].tolist() == list(range(1, 13))
    assert df["created_at"].dtype == "datetime64[ns, UTC]"
    f = dl.Filters()
    f.add(field="metadata.user.colour", values="red")
    f.add(field="dir", values="/train")
    assert faces.items.count(f) == 3
    assert faces.items.update(filters=f, update_values={"user": {"checked": True}}) == 3
    assert faces.items.to_df(filters=f)["metadata.user.checked"].tolist() == [True, True, True]
    assert "user.checked" in faces.items.metadata_keys()
    s = dl.Filters()
    s.sort_by("metadata.user.size", dl.FiltersOrderByDirection.DESCENDING)
    assert faces.items.to_df(filters=s)["name"].tolist()[:2] == ["img11.jpg", "img10.jpg"]
    page = faces.items.list(page_size=5)
    assert (page.items_count, page.total_pages_count, page.has_next_page) == (12, 3, True)
    assert [len(p) for p in page] == [5, 5, 2]
    assert len(faces.items.get_all_items()) == 12
    with pytest.raises(dl.ValidationError, match="update_values"):
        faces.items.update(filters=f, update_values={"system": {}})


def test_item_entity_round_trip(faces):
    item = faces.items.get(filepath="/train/img01.jpg")
    assert isinstance(item, dl.Item) and item.type == "file"
    now = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc).isoformat()
    item.metadata["user"]["dateTime"] = now
    item = item.update()
    assert faces.items.get(item_id=item.id).metadata["user"]["dateTime"] == now
    ann = item.annotations.create("Adult", author="ann@example.com")
    assert isinstance(ann, dl.Annotation) and ann.label == "Adult"
    ann.label = "Child"
    assert ann.update().label == "Child"
    assert [a.label for a in item.annotations.list()] == ["Child"]
    assert faces.items.get(item_id=item.id).annotations_count == 1
    assert ann.delete() is True and item.annotations.list() == []
    with pytest.raises(dl.NotFoundError):
        faces.items.get(item_id=9999)
    with pytest.raises(dl.ValidationError, match="item_id"):
        faces.items.get(item_id="x1")
    assert item.delete() is True and faces.items.count() == 11


def test_annotations_import_and_join_filter(faces):
    ids = faces.items.to_df()["id"]
    n = faces.annotations.import_df(pd.DataFrame({"item_id": ids[:4], "label": ["Adult", "Child", "Adult", "Adult"]}))
    assert n == 4
    frame = faces.annotations.to_df()
    assert frame["label"].tolist() == ["Adult", "Child", "Adult", "Adult"] and set(frame["author"]) == {"import"}
    f = dl.Filters()
    f.add_join(field="label", values="Adult")
    assert faces.items.count(f) == 3
    with pytest.raises(dl.NotFoundError, match="item_id 999"):
        faces.annotations.import_df(pd.DataFrame({"item_id": [ids[0], 999], "label": ["Adult", "Child"]}))
    assert len(faces.annotations.to_df()) == 4  # all or nothing


def test_upload_files(backend, tmp_path):  # noqa: F811
    ds = backend.datasets.create("files")
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    for name in ("a.jpg", "b.png", "sub/c.jpg"):
        (folder / name).write_bytes(b"x" * 10)
    items = ds.items.upload(local_path=str(folder), remote_path="/raw", item_metadata={"batch": 1})
    assert sorted(i.filename for i in items) == ["/raw/a.jpg", "/raw/b.png", "/raw/sub/c.jpg"]
    one = ds.items.upload(local_path=str(folder / "a.jpg"), remote_path="/raw")
    assert isinstance(one, dl.Item) and one.metadata["user"] == {"batch": 1} and ds.items.count() == 3


def test_task_partition_submit_progress_consensus(faces):
    task = faces.tasks.create(task_name="label", assignee_ids=W, workers_per_input=3, review_strategy="consensus",
                              reviewer_ids=["rev@example.com"], approval_threshold=2, seed=7)
    assert isinstance(task, Task) and task.labels == ["Adult", "Child"]
    assert faces.tasks.get(task_name="label") == task
    items = task.items_df()["item_id"].tolist()
    assert task.submit(items[0], W[0], "Adult") == "awaiting_consensus"
    assert task.submit(np.int64(items[0]), W[1], "Adult") == "approved"
    assert task.submit(items[1], W[0], "Adult") == "awaiting_consensus"
    assert task.submit(items[1], W[1], "Child") == "awaiting_consensus"
    assert task.submit(items[1], W[2], "Child") == "approved"
    progress = task.progress()
    assert progress.loc["total", "assigned"] == 36 and progress.loc[W[0], "done"] == 2
    assert task.status_counts().to_dict() == {"approved": 2, "pending": 10}
    consensus = task.consensus()
    assert consensus.loc[items[1], "label"] == "Child" and consensus.loc[items[1], "status"] == "approved"
    labels = task.labels_df()
    assert list(labels.columns) == ["item_id", "worker", "label", "seconds"] and len(labels) == 5
    assert task.assignments_df()["role"].eq("worker").all()
    assert task.agreement()["n_items"] == 2
    with pytest.raises(dl.ValidationError, match="label"):
        task.submit(items[2], W[0], "Cat")
    with pytest.raises(dl.PermissionDeniedError, match="not assigned"):
        faces.tasks.create(task_name="solo", assignee_ids=[W[0]]).submit(items[0], W[1], "Adult")


def test_task_review_and_qa(faces):
    task = faces.tasks.create(task_name="manual", assignee_ids=W[:1], review_strategy="manual",
                              reviewer_ids=["rev@example.com"])
    items = task.items_df()["item_id"].tolist()
    assert task.submit(items[0], W[0], "Adult") == "awaiting_review"
    assert task.review(items[0], "rev@example.com", approve=True) == "approved"
    assert task.submit(items[1], W[0], "Child") == "awaiting_review"
    assert task.review(items[1], "rev@example.com", approve=False) == "rejected"
    with pytest.raises(dl.PermissionDeniedError, match="not a reviewer"):
        task.review(items[1], W[0])
    assert task.set_status(items[2:4], "completed", W[0]) == 2
    assert task.status_counts().to_dict() == {"approved": 1, "awaiting_review": 2, "pending": 8, "rejected": 1}
    qa = faces.tasks.create_qa_task(task=task, due_date=dt.datetime(2031, 1, 1), assignee_ids=["qa@example.com"])
    assert qa.type == "qa" and qa.parent_task_id == task.id
    assert qa.items_df()["item_id"].tolist() == [items[0]]  # the approved item


def test_task_update_list_delete(faces, backend):  # noqa: F811
    a = faces.tasks.create(task_name="a", assignee_ids=W[:2], seed=1)
    b = faces.tasks.create(task_name="b", assignee_ids=W[1:], due_date=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    assert b.due_date == dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    page = backend.tasks.list(worker_id=W[0])
    assert isinstance(page, TaskPage) and [t.id for t in page] == [a.id]
    assert [t.id for t in backend.tasks.list(worker_id=W[1])] == [b.id, a.id]
    assert [t.id for t in backend.tasks.list(page=2, per_page=1)] == [a.id]
    assert backend.tasks.to_df()["name"].tolist() == ["b", "a"]
    a.name, a.priority = "a2", "high"
    a = a.add_assignees([W[2]])
    assert (a.name, a.priority, a.assignee_ids) == ("a2", "high", W)
    assert a.progress().loc["total", "assigned"] == 12
    a.workers_per_input = 4
    with pytest.raises(dl.ValidationError, match="workers_per_input"):
        a.update()
    assert backend.tasks.get(a.id).workers_per_input == 1
    with pytest.raises(dl.NotFoundError, match="nothing was deleted"):
        backend.tasks.delete([a.id, "nope"])
    assert backend.tasks.delete([a.id, b.id]) == 2 and len(backend.tasks.list()) == 0


def test_bad_task_options_name_the_field_and_write_nothing(faces, backend):  # noqa: F811
    cases = [
        (dict(assignee_ids=W[:2], weights={W[0]: 9, W[1]: 1}, workers_per_input=2), "weights"),
        (dict(assignee_ids=W, workers_per_input=4), "workers_per_input"),
        (dict(assignee_ids=W, review_strategy="consensus", reviewer_ids=["r"]), "approval_threshold"),
        (dict(due_date=1.7e12), "due_date"),
        (dict(assignee_ids=[""]), "assignee_ids"),
    ]
    for options, field in cases:
        with pytest.raises(dl.ValidationError) as info:
            faces.tasks.create(task_name="bad", **options)
        assert info.value.field == field and str(info.value).startswith(field)
    assert len(backend.tasks.list()) == 0


def test_retract_and_filtered_assignments(faces):
    task = faces.tasks.create(task_name="r", assignee_ids=W[:2], seed=2)
    mine = task.assignments_df(user_id=W[0])
    assert set(mine["user_id"]) == {W[0]} and len(mine) == 6
    item = int(mine["item_id"].iloc[0])
    assert task.submit(item, W[0], "Adult") == "completed"
    assert task.assignments_df(status="done")["item_id"].tolist() == [item]
    assert task.retract(item, W[0]) == "pending"
    assert task.labels_df().empty and task.assignments_df(status="done").empty
    with pytest.raises(dl.NotFoundError, match="has no label"):
        task.retract(item, W[0])
