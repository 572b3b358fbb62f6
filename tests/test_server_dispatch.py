"""The short way in for the write operations (``dltasks.server.dispatch``), over real HTTP.

A labeller's submit is answered straight from the operation table, in front of FastAPI's
routing.  What a team would notice if the two ways in differed: a path that reaches another
operation, a malformed body answered differently or half-written, a refused call that leaves
something behind.  Each case below is sent as raw HTTP to a real server over a SQLite file, and
the store is read afterwards.
"""
from __future__ import annotations

import re
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pandas as pd
import pytest
import requests
from starlette.routing import Match

import dltasks as dl
from dltasks.backends.ops import OPS
from dltasks.errors import StoreBusyError
from dltasks.server.app import create_app
from dltasks.server.dispatch import find_route, write_routes
from dltasks.server.handlers import is_big_read
from server_fixtures import LiveServer

WORKER = "ann@example.com"


def _concrete(path: str) -> str:
    """A request path for a route path: each ``{name}`` filled with a value of that name's type."""
    return re.sub(r"\{(\w+)\}", lambda m: "7" if m.group(1).endswith("_id") and "item" in m.group(1) else "x-1", path)


def test_every_write_path_reaches_the_operation_fastapi_would_route_it_to(tmp_path):
    app = create_app(str(tmp_path / "routes.db"))
    table = write_routes()
    writes = [op for op in OPS.values() if op.method != "GET" and not is_big_read(op)]
    assert len(writes) >= 25 and sum(len(routes) for routes in table.values()) == len(writes)
    for op in writes:
        path = _concrete("/api/v1" + op.path)
        found = find_route(table, op.method, path)
        assert found is not None, path
        scope = {"type": "http", "method": op.method, "path": path, "root_path": ""}
        fastapi_route = next(r for r in app.router.routes if r.matches(scope)[0] == Match.FULL)
        assert found[0].op.name == fastapi_route.name == op.name, path
    # literal segments win over a value, as in FastAPI: /items/delete is not an item called "delete"
    assert find_route(table, "POST", "/api/v1/datasets/d1/items/delete")[0].op.name == "delete_items"
    assert find_route(table, "DELETE", "/api/v1/datasets/d1/items/delete")[0].op.name == "delete_item"
    for method, path in [("POST", "/api/v1/tasks//submit"), ("POST", "/api/v1/tasks/t1/submit/"),
                         ("GET", "/api/v1/tasks/t1"), ("POST", "/v2/tasks"), ("PATCH", "/api/v1/tasks/t1/submit")]:
        assert find_route(table, method, path) is None, (method, path)


@pytest.fixture
def served(tmp_path: Any) -> Iterator[tuple[LiveServer, str, list[int], requests.Session]]:
    """A running server over a task of 3 items for one worker, and that worker's session."""
    path = str(tmp_path / "dispatch.db")
    store = dl.connect(path)
    ds = store.datasets.create("photos", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg", "c.jpg"]}))
    task = ds.tasks.create(task_name="label", assignee_ids=[WORKER])
    items = sorted(int(i) for i in task.items_df()["item_id"])
    store.close()
    server = LiveServer(path)
    session = requests.Session()
    session.headers["Authorization"] = f"Key {server.token(WORKER)}"
    yield server, task.id, items, session
    server.stop()


def _labels(server: LiveServer, task_id: str) -> list[tuple[int, str]]:
    df = server.store.tasks.get(task_id=task_id).labels_df()
    return sorted(zip(df["item_id"].astype(int), df["label"]))


def test_a_submit_through_the_short_way_is_stored_and_answered_as_before(served):
    server, task_id, items, session = served
    answer = session.post(f"{server.url}/api/v1/tasks/{task_id}/submit",
                          json={"item_id": items[0], "user_id": WORKER, "label": "cat"})
    assert answer.status_code == 200
    assert answer.json() == {"status": {"code": 10000, "description": "Ok"}, "item_status": "completed"}
    assert _labels(server, task_id) == [(items[0], "cat")]
    again = session.post(f"{server.url}/api/v1/tasks/{task_id}/submit",
                         json={"item_id": items[0], "user_id": WORKER, "label": "dog"})  # no replace: refused
    assert again.status_code == 409 and "replace" in again.json()["status"]["description"]
    assert _labels(server, task_id) == [(items[0], "cat")]
    replaced = session.post(f"{server.url}/api/v1/tasks/{task_id}/submit",
                            json={"item_id": items[0], "user_id": WORKER, "label": "dog", "replace": True})
    assert replaced.status_code == 200 and _labels(server, task_id) == [(items[0], "dog")]


@pytest.mark.parametrize("body, content_type, field", [
    (b'{"item_id": "seven", "user_id": "ann@example.com", "label": "cat"}', "application/json", "item_id"),
    (b'{"user_id": "ann@example.com", "label": "cat"}', "application/json", "item_id"),
    (b'{"item_id": 1, "user_id": "ann@example.com", "label": "cat"', "application/json", "body"),
    (b'', "application/json", "body"),
    (b'item_id=1', "application/x-www-form-urlencoded", "body"),
], ids=["bad-type", "missing", "not-json", "empty", "not-json-type"])
def test_a_malformed_submit_gets_a_400_naming_the_field_and_nothing_is_written(served, body, content_type, field):
    server, task_id, items, session = served
    answer = session.post(f"{server.url}/api/v1/tasks/{task_id}/submit", data=body,
                          headers={"Content-Type": content_type})
    assert answer.status_code == 400, answer.text
    assert answer.json()["status"]["field"] == field
    assert _labels(server, task_id) == []


def test_refused_submits_are_answered_with_the_reason_and_leave_the_store_unchanged(served):
    server, task_id, items, session = served
    url = f"{server.url}/api/v1/tasks/{task_id}/submit"
    body = {"item_id": items[0], "user_id": WORKER, "label": "cat"}
    cases = [
        (requests.post(url, json=body), 401, "Authorization"),  # no token
        (session.post(url, json={**body, "label": "horse"}), 400, "horse"),  # not one of the task's labels
        (session.post(url, json={**body, "user_id": "bob@example.com"}), 403, "bob@example.com"),  # another's name
        (session.post(f"{server.url}/api/v1/tasks/no-such-task/submit", json=body), 404, "no-such-task"),
        (session.post(url, json={**body, "item_id": 999_999}), 404, "999999"),
    ]
    for answer, status, named in cases:
        assert answer.status_code == status, answer.text
        assert named in answer.text
    assert _labels(server, task_id) == []


def test_a_write_that_must_not_wait_is_refused_at_once_and_leaves_nothing(tmp_path):
    path = tmp_path / "busy.db"
    store = dl.connect(str(path))
    ds = store.datasets.create("photos", labels=["cat"])
    db = store.backend.db
    other = sqlite3.connect(path, isolation_level=None)  # another process's kernel, writing
    other.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(StoreBusyError, match="busy"), db.without_waiting():
        ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
    assert time.monotonic() - started < 10  # not the 60 s busy timeout
    other.execute("ROLLBACK")
    with db.write_lock:  # a writer of this process holds the store
        with pytest.raises(StoreBusyError, match="this process"), db.without_waiting():
            ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
    assert len(ds.items.to_df()) == 0
    with db.read() as conn:  # the pooled connections still wait for other writers
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000
    with db.without_waiting():  # the store is free now: the write is done at once
        ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
    ds.items.import_df(pd.DataFrame({"name": ["b.jpg"]}))
    assert sorted(ds.items.to_df()["name"]) == ["a.jpg", "b.jpg"]
    other.close()
    store.close()


def test_a_submit_that_finds_the_store_taken_waits_its_turn_and_the_server_answers_meanwhile(served):
    server, task_id, items, session = served
    other = sqlite3.connect(server.store.backend.db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a notebook writing to the same file
    with ThreadPoolExecutor(1) as pool:
        submit = pool.submit(session.post, f"{server.url}/api/v1/tasks/{task_id}/submit",
                             json={"item_id": items[1], "user_id": WORKER, "label": "dog"}, timeout=60)
        with pytest.raises(TimeoutError):
            submit.result(timeout=1.0)  # it waits for the other writer ...
        task = session.get(f"{server.url}/api/v1/tasks/{task_id}", timeout=10)  # ... in a thread, not the loop
        assert task.status_code == 200 and task.json()["task"]["name"] == "label"
        clarifai = session.get(f"{server.url}/v2/tasks/{task_id}", timeout=10)  # reads on the loop do not wait
        assert clarifai.status_code == 200 and clarifai.json()["task"]["name"] == "label"
        page = session.get(f"{server.url}/v2/tasks", params={"per_page": 5}, timeout=10)
        assert page.status_code == 200 and [t["id"] for t in page.json()["tasks"]] == [task_id]
        other.execute("COMMIT")
        answer = submit.result(timeout=60)
    assert answer.status_code == 200 and answer.json()["item_status"] == "completed"
    assert _labels(server, task_id) == [(items[1], "dog")]
    other.close()
