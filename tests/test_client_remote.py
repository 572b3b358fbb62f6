"""A store on the HTTP backend against a live server: the frames it returns equal the server store's own,
tokens and permissions, connecting, and the widgets on a remote store."""
from __future__ import annotations

import pandas as pd
import pytest
import requests
from pandas.testing import assert_frame_equal, assert_series_equal

import dltasks as dl
from dltasks.backends.http import HttpBackend
from server_fixtures import LiveServer, live_server  # noqa: F401  (fixture)

LEAD, ANN, BOB, REV = "lead@example.com", "ann@example.com", "bob@example.com", "rev@example.com"


@pytest.fixture
def team(live_server: LiveServer):  # noqa: F811
    """An admin's remote store with a dataset of 8 items and a 2-worker consensus task."""
    admin = live_server.connect(LEAD)
    ds = admin.datasets.create("faces", labels=["Adult", "Child"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(8)], "user.n": range(8),
                                     "user.when": pd.to_datetime(["2024-01-01"] * 8, utc=True)}))
    task = ds.tasks.create(task_name="t", assignee_ids=[ANN, BOB], workers_per_input=2, review_strategy="consensus",
                           reviewer_ids=[REV], approval_threshold=2, seed=3)
    return live_server, admin, ds, task


def test_frames_equal_the_server_stores_own(team):
    server, admin, ds, task = team
    items = task.items_df()["item_id"].tolist()
    task.submit(items[0], ANN, "Adult")
    task.submit(items[0], BOB, "Child")
    task.submit(items[1], ANN, "Adult")
    local_ds = server.store.datasets.get(dataset_id=ds.id)
    local_task = server.store.tasks.get(task.id)
    f = dl.Filters()
    f.add(field="metadata.user.n", values=3, operator="gte")
    assert_frame_equal(ds.items.to_df(), local_ds.items.to_df())
    assert_frame_equal(ds.items.to_df(filters=f, metadata="dict"), local_ds.items.to_df(filters=f, metadata="dict"))
    assert_frame_equal(ds.annotations.to_df(), local_ds.annotations.to_df())
    assert_frame_equal(admin.datasets.to_df(), server.store.datasets.to_df())
    assert_frame_equal(admin.users.to_df(), server.store.users.to_df())
    assert_frame_equal(admin.tasks.to_df(), server.store.tasks.to_df())
    for name in ("assignments_df", "labels_df", "items_df", "progress", "consensus", "worker_quality", "partition"):
        assert_frame_equal(getattr(task, name)(), getattr(local_task, name)(), obj=name)
    assert_series_equal(task.status_counts(), local_task.status_counts())
    assert_series_equal(task.agreement(), local_task.agreement())
    assert task == local_task and task.weights == local_task.weights and task.due_date == local_task.due_date


def test_connect_needs_a_valid_token(live_server):  # noqa: F811
    with pytest.raises(dl.ValidationError, match="token"):
        dl.connect(live_server.url)
    with pytest.raises(dl.PermissionDeniedError, match="Invalid API key"):
        dl.connect(live_server.url, token="dlt_wrong")
    token = live_server.token(ANN)
    with dl.connect(live_server.url + "/", token=token) as store:
        assert isinstance(store.backend, HttpBackend) and (store.user_id, store.admin) == (ANN, False)
        assert repr(store) == f"Store('{live_server.url}', user_id='{ANN}', admin=False)"


def test_unreachable_server_is_an_api_error(live_server):  # noqa: F811
    url = live_server.url
    live_server.stop()
    with pytest.raises(dl.errors.ApiError, match="cannot reach"):
        dl.connect(url, token="dlt_x", retries=1, timeout=2)


def test_workers_submit_only_their_own_assignments(team):
    server, admin, ds, task = team
    ann = dl.connect(server.url, token=server.token(ANN))
    mine = ann.tasks.get(task.id)
    item = mine.items_df()["item_id"].tolist()[0]
    assert mine.submit(item, ANN, "Adult") == "awaiting_consensus"
    with pytest.raises(dl.PermissionDeniedError, match=f"token of '{ANN}' cannot submit labels for '{BOB}'"):
        mine.submit(item, BOB, "Adult")
    outsider = dl.connect(server.url, token=server.token("eve@example.com"))
    with pytest.raises(dl.PermissionDeniedError, match="not assigned"):
        outsider.tasks.get(task.id).submit(item, "eve@example.com", "Adult")
    with pytest.raises(dl.PermissionDeniedError, match="admin token"):
        ann.datasets.create("mine")
    with pytest.raises(dl.PermissionDeniedError, match="admin token"):
        ann.datasets.get(name="faces").tasks.create(task_name="x")
    with pytest.raises(dl.PermissionDeniedError, match="admin token"):
        mine.delete()
    assert task.labels_df()["worker"].tolist() == [ANN]  # only the allowed label was written


def test_reviewers_review_only_their_tasks(team):
    server, admin, ds, task = team
    items = task.items_df()["item_id"].tolist()
    task.submit(items[0], ANN, "Adult")
    task.submit(items[0], BOB, "Child")  # no consensus: awaiting review
    bob = dl.connect(server.url, token=server.token(BOB))
    with pytest.raises(dl.PermissionDeniedError, match="not a reviewer"):
        bob.tasks.get(task.id).review(items[0], BOB)
    with pytest.raises(dl.PermissionDeniedError, match="cannot review items for"):
        bob.tasks.get(task.id).review(items[0], REV)
    rev = dl.connect(server.url, token=server.token(REV))
    assert rev.tasks.get(task.id).review(items[0], REV, approve=True) == "approved"


def test_annotations_by_users_are_their_own(team):
    server, admin, ds, task = team
    ann = dl.connect(server.url, token=server.token(ANN))
    item = ann.datasets.get(name="faces").items.get(item_id=task.items_df()["item_id"][0])
    mark = item.annotations.create("Adult", author=ANN)
    with pytest.raises(dl.PermissionDeniedError, match="cannot label items for 'import'"):
        item.annotations.create("Adult")
    theirs = ds.items.get(item_id=item.id).annotations.create("Child", author=BOB)
    with pytest.raises(dl.PermissionDeniedError):
        ann.datasets.get(name="faces").annotations.delete(theirs.id)
    assert mark.delete() is True


def test_admin_creates_users_and_tokens(live_server):  # noqa: F811
    admin = live_server.connect(LEAD)
    user = admin.users.create("new@example.com", name="New")
    assert admin.users.get("new@example.com") == user
    token = admin.create_token("new@example.com")
    assert dl.connect(live_server.url, token=token).user_id == "new@example.com"
    with pytest.raises(dl.ConflictError, match="already exists"):
        admin.users.create("new@example.com")
    with pytest.raises(dl.PermissionDeniedError):
        dl.connect(live_server.url, token=token).create_token("x@example.com", admin=True)


def test_errors_name_the_field_like_the_local_store(team, tmp_path):
    server, admin, ds, task = team
    local = dl.connect(tmp_path / "local.db").datasets.create("faces", labels=["Adult", "Child"])
    for store_ds in (ds, local):
        with pytest.raises(dl.ValidationError) as info:
            store_ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "colour": ["red"]}))
        assert (info.value.field, str(info.value)) == ("df", "df: unknown column; use name, dir, path, url, mime, "
                                                       "size, metadata or user.<key> (got 'colour')")


def test_widgets_work_on_a_remote_store(team):
    pytest.importorskip("ipywidgets")
    server, admin, ds, task = team
    from dltasks.widgets import LabelingWidget, TaskBoard

    board = TaskBoard(admin)
    assert "t" in board.table.value and task.id in [v for _, v in board.open_box.options]
    ann = dl.connect(server.url, token=server.token(ANN))
    widget = LabelingWidget(ann.tasks.get(task.id), ANN)
    first = widget.item_id
    assert widget.label("Adult") == "awaiting_consensus"
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[first, ANN, "Adult"]]


def test_openapi_is_served(live_server):  # noqa: F811
    spec = requests.get(live_server.url + "/openapi.json", timeout=10).json()
    assert "/v2/tasks" in spec["paths"] and "/api/v1/tasks/{task_id}/submit" in spec["paths"]
    post = spec["paths"]["/v2/tasks"]["post"]
    assert {"400", "401", "403", "404", "409", "413"} <= set(post["responses"]) and "422" not in post["responses"]
