"""Task reads answered from the server's cache (``dltasks.server.answer_cache``) are never stale.

A dashboard polls ``GET /v2/tasks`` every few seconds; the server keeps each answer while the
store's catalog version (``dltasks.backends.sql.catalog``) is unchanged.  What a team would
notice if the cache were wrong: a task created, renamed or deleted by someone else (another
connection to the same file: another process) still missing or still shown, a task that fell
overdue still shown as on time.  Each case asks a real server over HTTP and checks the answer.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import time
from typing import Any, Iterator

import pandas as pd
import pytest
import requests

import dltasks as dl
from dltasks.backends.sql import SqlBackend
from dltasks.server.answer_cache import AnswerCache
from server_fixtures import LiveServer, pg_url  # noqa: F401  (fixture)

WORKER = "ann@example.com"


@pytest.fixture
def served(tmp_path: Any) -> Iterator[tuple[LiveServer, Any, requests.Session]]:
    """A server over a SQLite file, another connection to the same file (as another process would
    have), and an admin session."""
    path = str(tmp_path / "cache.db")
    server = LiveServer(path)
    other = dl.connect(path)
    ds = other.datasets.create("photos", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg", "c.jpg"]}))
    ds.tasks.create(task_name="first", assignee_ids=[WORKER], worker_strategy="full")
    session = requests.Session()
    session.headers["Authorization"] = f"Key {server.token('lead@example.com', admin=True)}"
    yield server, other, session
    other.close()
    server.stop()


def _names(session: requests.Session, url: str) -> list[str]:
    answer = session.get(url + "/v2/tasks", params={"per_page": 20}, timeout=30)
    assert answer.status_code == 200, answer.text
    return [t["name"] for t in answer.json()["tasks"]]


def test_a_kept_page_is_read_again_after_another_process_changes_a_task(served):
    server, other, session = served
    cache: AnswerCache = server.app.state.answers
    assert _names(session, server.url) == ["first"]
    assert _names(session, server.url) == ["first"]
    assert (cache.misses, cache.hits) == (1, 1)  # the second read was the kept answer

    ds = other.datasets.get(name="photos")
    second = ds.tasks.create(task_name="second", assignee_ids=[WORKER])
    assert _names(session, server.url) == ["second", "first"]  # created elsewhere: seen at once

    second.name = "renamed"
    second.update()
    assert _names(session, server.url) == ["renamed", "first"]
    got = session.get(f"{server.url}/v2/tasks/{second.id}", timeout=30).json()["task"]
    assert got["name"] == "renamed"

    other.tasks.delete([second.id])
    assert _names(session, server.url) == ["first"]
    assert session.get(f"{server.url}/v2/tasks/{second.id}", timeout=30).status_code == 404


def test_work_on_items_keeps_the_page(served):
    server, other, session = served
    cache: AnswerCache = server.app.state.answers
    first = _names(session, server.url)
    task = list(other.tasks.list())[0]
    item_id = int(task.items_df()["item_id"].iloc[0])
    worker = requests.Session()
    worker.headers["Authorization"] = f"Key {server.token(WORKER)}"
    answer = worker.post(f"{server.url}/api/v1/tasks/{task.id}/submit",
                         json={"item_id": item_id, "user_id": WORKER, "label": "cat"}, timeout=30)
    assert answer.status_code == 200, answer.text
    hits = cache.hits
    assert _names(session, server.url) == first
    assert cache.hits == hits + 1  # a label is not a change of the task list
    assert other.tasks.get(task.id).labels_df()["label"].tolist() == ["cat"]


def test_a_dataset_created_elsewhere_is_seen_on_the_app_route(served):
    server, other, session = served
    url = f"{server.url}/v2/users/me/apps/animals/tasks"
    # no dataset (app) is named animals yet: the app is the whole store
    assert [t["name"] for t in session.get(url, timeout=30).json()["tasks"]] == ["first"]
    animals = other.datasets.create("animals", labels=["cat"])
    assert session.get(url, timeout=30).json()["tasks"] == []  # the app is that dataset now: no tasks yet
    animals.items.import_df(pd.DataFrame({"name": ["x.jpg"]}))
    animals.tasks.create(task_name="zoo", assignee_ids=[WORKER])
    answer = session.get(url, timeout=30)
    assert answer.status_code == 200, answer.text
    assert [t["name"] for t in answer.json()["tasks"]] == ["zoo"]


def test_a_kept_answer_ends_when_a_task_on_it_falls_overdue(served):
    server, other, session = served
    ds = other.datasets.get(name="photos")
    due = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=2)
    task = ds.tasks.create(task_name="soon", assignee_ids=[WORKER], due_date=due)

    def overdue() -> bool:
        tasks = session.get(server.url + "/v2/tasks", timeout=30).json()["tasks"]
        return next(t for t in tasks if t["id"] == task.id)["dltasks"]["overdue"]

    assert overdue() is False and overdue() is False
    time.sleep(max(0.0, (due - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 0.2)
    assert overdue() is True  # nothing in the store changed: the clock did
    got = session.get(f"{server.url}/v2/tasks/{task.id}", timeout=30).json()["task"]
    assert got["dltasks"]["overdue"] is True


def test_the_cache_holds_at_most_its_bytes_and_drops_the_least_recently_used():
    cache = AnswerCache(max_bytes=24, max_entry_bytes=12)  # each entry below: 4 bytes of body, 3 of key
    cache.put("a", 1, b"aaaa", float("inf"))
    cache.put("b", 1, b"bbbb", float("inf"))
    cache.put("c", 1, b"cccc", float("inf"))
    assert cache.get("a", 1, 0.0) == b"aaaa"  # a is now the most recently used
    cache.put("d", 1, b"dddd", float("inf"))
    assert cache.size == 21 and cache.get("b", 1, 0.0) is None and cache.get("a", 1, 0.0) == b"aaaa"
    cache.put("big", 1, b"x" * 8, float("inf"))  # 8 + 5 bytes: more than one entry may take
    assert cache.get("big", 1, 0.0) is None and cache.size == 21
    cache.put(("ids",) + ("x" * 20,), 1, b"", float("inf"))  # a long key counts too: not kept
    assert cache.size == 21


def test_an_answer_read_while_the_catalog_changed_is_never_given_again():
    cache, versions, reads = AnswerCache(), iter([1, 2, 2]), []

    def read() -> tuple[bytes, list[float]]:
        reads.append(1)  # a write commits while this read runs: the store is at version 2 after it
        return b"page", []

    assert cache.answer("k", lambda: next(versions), read) == b"page"
    assert cache.answer("k", lambda: next(versions), read) == b"page" and len(reads) == 2  # kept at 1: read again
    assert cache.answer("k", lambda: next(versions), read) == b"page" and len(reads) == 2  # kept at 2 now


# -- the catalog version itself -------------------------------------------------------------------
def _catalog_changes(store: Any) -> list[tuple[str, int]]:
    """Each store call and how much it moved the catalog version."""
    out = []

    def step(name: str, call: Any) -> Any:
        before = store.backend.catalog_version()
        result = call()
        out.append((name, store.backend.catalog_version() - before))
        return result

    ds = step("create_dataset", lambda: store.datasets.create("d", labels=["cat", "dog"]))
    step("import", lambda: ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]})))
    task = step("create_task", lambda: ds.tasks.create(task_name="t", assignee_ids=[WORKER], worker_strategy="full"))
    item = int(task.items_df()["item_id"].iloc[0])
    step("submit", lambda: task.submit(item, WORKER, "cat"))
    task.name = "t2"
    step("update_task", task.update)
    step("delete_tasks", lambda: store.tasks.delete([task.id]))
    step("delete_dataset", ds.delete)
    return out


EXPECTED = [("create_dataset", 1), ("import", 0), ("create_task", 1), ("submit", 0), ("update_task", 1),
            ("delete_tasks", 1), ("delete_dataset", 1)]


def test_the_catalog_version_moves_on_catalog_writes_only_sqlite(tmp_path):
    store = dl.connect(str(tmp_path / "v.db"))
    assert _catalog_changes(store) == EXPECTED
    store.close()


def test_the_catalog_version_moves_on_catalog_writes_only_postgres(pg_url):
    store = dl.connect(pg_url)
    assert _catalog_changes(store) == EXPECTED
    store.close()


def test_a_refused_catalog_write_leaves_the_version(tmp_path):
    with SqlBackend(str(tmp_path / "v.db")) as backend:
        backend.create_dataset("d", ["cat"])
        before = backend.catalog_version()
        with pytest.raises(dl.ConflictError):
            backend.create_dataset("d", ["cat"])  # the name is taken: nothing is written
        assert backend.catalog_version() == before


def test_a_version_4_store_gets_the_catalog_version_when_opened(tmp_path):
    path = tmp_path / "old.db"
    SqlBackend(str(path)).close()
    with sqlite3.connect(path) as conn:  # as dltasks with schema 4 left it
        conn.execute("DELETE FROM dltasks_meta WHERE key = 'catalog_version'")
        conn.execute("UPDATE dltasks_meta SET value = '4' WHERE key = 'schema_version'")
    with SqlBackend(str(path)) as backend:
        assert backend.catalog_version() == 0
        backend.create_dataset("d", ["cat"])
        assert backend.catalog_version() == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM dltasks_meta WHERE key = 'schema_version'").fetchone() == ("5",)
