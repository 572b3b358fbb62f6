"""The client's transport: errors mapped in one place, retries only where a repeat is safe,
timeouts.  A scripted HTTP server on 127.0.0.1 plays the dltasks server."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

import dltasks as dl
from dltasks.errors import ApiError
from dltasks.backends.http.transport import Transport


class Script:
    """Answers requests in order from a list of (status, body or None, delay seconds)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, float]] = []
        self.calls: list[tuple[str, str, str]] = []


@pytest.fixture
def fake() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            script.calls.append((self.command, self.path, self.headers.get("Authorization", "")))
            status, payload, delay = script.answers.pop(0) if script.answers else (200, {"status": {"code": 10000}}, 0)
            time.sleep(delay)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            del body

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


def err(code: int, description: str, **extra: Any) -> dict[str, Any]:
    return {"status": {"code": code, "description": description, **extra}}


BUSY = (503, err(10030, "busy"), 0)


def test_idempotent_calls_are_retried(fake):
    url, script = fake
    script.answers = [BUSY, BUSY, (200, {"status": {"code": 10000}, "x": 1}, 0)]
    t = Transport(url, "dlt_t", retries=3, backoff=0.01)
    assert t.request("GET", "/api/v1/me")["x"] == 1
    assert [c[0] for c in script.calls] == ["GET"] * 3
    assert script.calls[0][2] == "Key dlt_t"


def test_label_submissions_are_never_repeated(fake):
    url, script = fake
    script.answers = [BUSY, (200, {"status": {"code": 10000}}, 0)]
    t = Transport(url, "dlt_t", retries=3, backoff=0.01)
    with pytest.raises(ApiError, match="503") as info:
        t.request("POST", "/api/v1/tasks/t/submit", {"item_id": 1})
    assert info.value.response.status_code == 503 and len(script.calls) == 1
    script.answers = [BUSY, (200, {"status": {"code": 10000}, "count": 3}, 0)]
    assert t.request("POST", "/api/v1/datasets/d/items/count", {}, retry=True)["count"] == 3  # a read


def test_timeouts_and_retries_give_up(fake):
    url, script = fake
    script.answers = [(200, {}, 1.0), (200, {}, 1.0)]
    t = Transport(url, "dlt_t", retries=1, timeout=0.2, backoff=0.01)
    start = time.monotonic()
    with pytest.raises(ApiError, match="cannot reach"):
        t.request("GET", "/slow")
    gave_up_after = time.monotonic() - start
    # The server may accept the retry's connection only after the client gave up on it (a loaded
    # machine schedules its thread late): wait for it to log the call before counting.
    deadline = time.monotonic() + 5
    while len(script.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(script.calls) == 2 and gave_up_after < 3


@pytest.mark.parametrize("status, body, error, text", [
    (400, err(11102, "tasks[0].name: must be a non-empty string", field="tasks[0].name",
              message="must be a non-empty string"), dl.ValidationError, "tasks[0].name: must be"),
    (401, err(11008, "Invalid API key"), dl.PermissionDeniedError, "Invalid API key"),
    (403, err(11007, "this needs an admin token"), dl.PermissionDeniedError, "admin token"),
    (404, err(54102, "no task with id 'x'"), dl.NotFoundError, "no task with id 'x'"),
    (409, err(54100, "a dataset named 'a' already exists"), dl.ConflictError, "already exists"),
    (413, err(40033, "the request body is larger than the server's limit"), dl.ValidationError, "limit"),
    (500, err(98004, "internal server error"), ApiError, "500: internal server error"),
    (502, "<html>bad gateway</html>", ApiError, "502"),
], ids=["400", "401", "403", "404", "409", "413", "500", "502-html"])
def test_status_codes_map_to_dltasks_errors(fake, status, body, error, text):
    url, script = fake
    script.answers = [(status, body, 0)]
    with pytest.raises(error, match=text.replace("[", r"\[").replace("]", r"\]")) as info:
        Transport(url, "dlt_t", retries=0).request("GET", "/x")
    assert isinstance(info.value, dl.DltasksError)
    if status == 400:
        assert info.value.field == "tasks[0].name" and info.value.message == "must be a non-empty string"


def test_numpy_values_are_sent_as_json(fake):
    import numpy as np

    url, script = fake
    t = Transport(url, "dlt_t")
    t.request("POST", "/x", {"item_id": np.int64(4), "w": np.float64(0.5), "nan": float("nan")})
    assert script.calls[0][0] == "POST"
