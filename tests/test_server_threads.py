"""The store threads of a running server (``dltasks.server.threads``), seen from its clients.

A real ``dltasks serve`` app under uvicorn (started as the CLI starts it, so its startup step
sizes the threads) over a SQLite file; one store call is held in its thread until the test lets
it go.  What a team would notice: a store call waits for a free thread, a big read does not
take the thread a small request needs, and every request is answered once the call returns.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pandas as pd
import pytest
import requests

import dltasks as dl
from dltasks.errors import ValidationError
from dltasks.server.app import create_app
from server_fixtures import LiveServer

WAIT = 30.0  # seconds a step may take on a loaded machine before the test fails


class HeldCall:
    """Wraps one backend method so that its first call waits until :meth:`release`."""

    def __init__(self, backend: Any, name: str) -> None:
        self.original = getattr(backend, name)
        self.started, self.released = threading.Event(), threading.Event()
        self.calls = 0
        setattr(backend, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            assert self.released.wait(WAIT), "the test never released the held call"
        return self.original(*args, **kwargs)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def one_thread(tmp_path: Any) -> Iterator[Any]:
    """A running server with one store thread, over a task of 50 items; yields it, the task id and
    an admin's session."""
    path = str(tmp_path / "threads.db")
    store = dl.connect(path)
    ds = store.datasets.create("photos", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(50)]}))
    task = ds.tasks.create(task_name="label", assignee_ids=["ann@example.com"])
    store.close()
    server = LiveServer(path, threads=1)
    session = requests.Session()
    session.headers["Authorization"] = f"Key {server.token('admin@example.com', admin=True)}"
    assert session.get(f"{server.url}/api/v1/me", timeout=WAIT).status_code == 200  # the token is known now
    yield server, task.id, session
    server.stop()


def test_a_store_call_waits_for_a_free_thread_and_a_big_read_does_not_take_it(one_thread):
    server, task_id, session = one_thread
    held = HeldCall(server.app.state.backend, "get_task")
    url = f"{server.url}/api/v1/tasks/{task_id}"
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(session.get, url, timeout=WAIT)
        assert held.started.wait(WAIT)  # the one store thread is taken

        big = session.get(f"{url}/assignments", timeout=WAIT)  # a big read builds on the gate's own thread
        assert big.status_code == 200 and len(big.json()["frame"]["data"]) == 50

        second = pool.submit(session.get, url, timeout=WAIT)
        with pytest.raises(TimeoutError):
            second.result(timeout=0.5)  # a second store call waits for the thread ...
        held.release()
        for answer in (first.result(WAIT), second.result(WAIT)):  # ... and both are answered
            assert answer.status_code == 200 and answer.json()["task"]["name"] == "label"
    assert held.calls == 2


def test_the_server_sizes_its_threads_by_store_and_refuses_a_bad_count(tmp_path):
    assert create_app(str(tmp_path / "a.db")).state.threads == 2
    assert create_app(str(tmp_path / "b.db"), threads=6).state.threads == 6
    for bad in (0, 65, True, "4"):
        with pytest.raises(ValidationError, match="threads") as refused:
            create_app(str(tmp_path / "c.db"), threads=bad)
        assert str(bad) in str(refused.value)
    assert not (tmp_path / "c.db").exists()  # refused before the store was opened: no file left behind
