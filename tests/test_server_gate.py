"""The big-read gate (``dltasks.server.gate``) as a slow client meets it.

The app is called as uvicorn calls it (ASGI), on a real SQLite store; a client that reads its
answer slowly is an ASGI ``send`` that does not return until the test lets it.  What a team
would notice: a slow reader of a big page makes the next big read wait, never a small request;
and the place comes back when the answer is sent, or when its request is dropped.
"""
from __future__ import annotations

import asyncio
import gc
import threading
import time
import json
from types import SimpleNamespace
from typing import Any, Iterator

import pandas as pd
import pytest

import dltasks as dl
from dltasks.server.app import create_app
from dltasks.server.gate import BigReadGate

WAIT = 30.0  # seconds a step may take on a loaded machine before the test fails


def _scope(method: str, path: str, token: str) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Key {token}".encode()),
                        (b"content-length", b"0")],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765)}


class Client:
    """One request through the app; its ``send`` waits for ``reading`` before taking each body part."""

    def __init__(self, app: Any, method: str, path: str, token: str, slow: bool = False) -> None:
        self.app, self.scope = app, _scope(method, path, token)
        self.reading = asyncio.Event()
        if not slow:
            self.reading.set()
        self.started = asyncio.Event()
        self.status: int | None = None
        self.body = b""

    async def __call__(self) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # the client stays connected
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.started.set()
            else:
                await self.reading.wait()
                self.body += message.get("body", b"")

        await self.app(self.scope, receive, send)


async def _until(condition: Any) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


async def _slow_read(app: Any, path: str, token: str) -> tuple[Client, asyncio.Task[None]]:
    """A big read whose answer is built and being sent to a client that is not reading yet."""
    slow = Client(app, "GET", path, token, slow=True)
    task = asyncio.create_task(slow())
    await asyncio.wait_for(slow.started.wait(), WAIT)
    return slow, task


@pytest.fixture
def served(tmp_path: Any) -> Iterator[SimpleNamespace]:
    """An app with a one-place gate over a store of 300 items in one task; ``big`` is that task's
    assignments (a big read), ``token`` an admin's."""
    store = dl.connect(str(tmp_path / "gate.db"))
    ds = store.datasets.create("photos", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(300)]}))
    task = ds.tasks.create(task_name="label", assignee_ids=["ann@example.com"])
    app = create_app(store, big_reads=1)
    yield SimpleNamespace(app=app, gate=app.state.big_reads, task_id=task.id,
                          big=f"/api/v1/tasks/{task.id}/assignments",
                          token=store.create_token("admin@example.com", admin=True))
    store.close()


def test_a_slow_reader_of_a_big_page_holds_its_place_and_small_requests_pass(served):
    app, gate, big, token, task_id = served.app, served.gate, served.big, served.token, served.task_id

    async def scenario() -> None:
        slow, first = await _slow_read(app, big, token)
        assert gate.in_use == 1  # built, not yet read: still holding the one place

        waiting = Client(app, "GET", big, token)
        second = asyncio.create_task(waiting())
        await asyncio.sleep(0.3)
        assert not second.done() and waiting.status is None  # the next big read waits its turn

        small = Client(app, "GET", f"/api/v1/tasks/{task_id}", token)
        await asyncio.wait_for(small(), WAIT)  # ... a small request does not
        assert small.status == 200 and json.loads(small.body)["task"]["name"] == "label"

        slow.reading.set()
        await asyncio.wait_for(asyncio.gather(first, second), WAIT)
        assert gate.in_use == 0
        for client in (slow, waiting):
            assert client.status == 200
            assert len(json.loads(client.body)["frame"]["data"]) == 300  # every assignment, whole

    asyncio.run(scenario())


def test_a_dropped_request_gives_its_place_back(served):
    app, gate, big, token = served.app, served.gate, served.big, served.token

    async def scenario() -> None:
        _, first = await _slow_read(app, big, token)
        assert gate.in_use == 1
        first.cancel()  # the client went away mid-answer
        await _until(lambda: first.done())
        assert gate.in_use == 0

        after = Client(app, "GET", big, token)
        await asyncio.wait_for(after(), WAIT)  # the place is free: the next big read is answered
        assert after.status == 200 and gate.in_use == 0

    asyncio.run(scenario())


def test_a_big_read_refused_while_building_gives_its_place_back(served):
    app, token = served.app, served.token

    async def scenario() -> None:
        missing = Client(app, "GET", "/api/v1/tasks/no-such-task/assignments", token)
        await asyncio.wait_for(missing(), WAIT)
        assert missing.status == 404 and "no-such-task" in json.loads(missing.body)["status"]["description"]
        assert app.state.big_reads.in_use == 0

    asyncio.run(scenario())


def test_a_response_dropped_outside_the_loop_gives_its_place_back_on_the_loop():
    """A big answer never sent (its request was cancelled) may be collected in another thread; its
    place must still reach a request waiting on the serving loop (asyncio's semaphore is the loop's)."""
    gate = BigReadGate(1)
    loop = asyncio.new_event_loop()
    serving = threading.Thread(target=loop.run_forever, daemon=True)
    serving.start()
    try:
        dropped = asyncio.run_coroutine_threadsafe(gate.run(lambda cls: cls(b"first")), loop).result(10)
        waiting = asyncio.run_coroutine_threadsafe(gate.run(lambda cls: cls(b"second")), loop)
        time.sleep(0.3)
        assert gate.in_use == 1 and not waiting.done()  # the one place is taken
        del dropped  # collected here, in the test's thread, not the loop's
        gc.collect()
        assert waiting.result(10).body == b"second" and gate.in_use == 1
    finally:
        loop.call_soon_threadsafe(loop.stop)
        serving.join(10)
        loop.close()
