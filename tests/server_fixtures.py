"""Fixtures for the server, client and PostgreSQL tests.

``backend`` runs a test on three stores: a local SQLite file, a live ``dltasks serve``
(real uvicorn in a thread on a free 127.0.0.1 port, called by the real ``RemoteStore``),
and PostgreSQL (skipped unless ``DLTASKS_PG_URL`` is set, as ``.ci/setup-postgres.sh`` does).
Import what a test file needs: ``from server_fixtures import backend, live_server``.
"""
from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
import uuid
from typing import Any, Callable, Iterator

import pandas as pd
import pytest

import dltasks as dl

PG_ENV = "DLTASKS_PG_URL"


class LiveServer:
    """A real uvicorn server over ``store_url`` in a background thread (127.0.0.1, free port)."""

    def __init__(self, store_url: str, read_timeout: float | None = None, protocol: type | None = None,
                 **app_options: Any) -> None:
        import uvicorn

        from dltasks.server.app import create_app
        from dltasks.server.protocol import ServerProtocol, protocol_with_timeout

        self.store = dl.connect(store_url)
        self.app = create_app(self.store, **app_options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        http = protocol or ServerProtocol
        if read_timeout is not None:
            http = protocol_with_timeout(read_timeout, http)
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", timeout_keep_alive=30, http=http)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def token(self, user_id: str, admin: bool = False) -> str:
        """A new API token for ``user_id``."""
        return self.store.create_token(user_id, admin=admin)

    def connect(self, user_id: str = "admin@example.com", admin: bool = True) -> Any:
        """A ``RemoteStore`` acting as ``user_id``."""
        return dl.connect(self.url, token=self.token(user_id, admin=admin))

    def stop(self) -> None:
        """Stop the server and close its store."""
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
        self.store.close()


def pg_admin_url() -> str | None:
    """The PostgreSQL URL CI exports, or ``None``."""
    return os.environ.get(PG_ENV) or None


class PgDatabases:
    """Creates throwaway databases on the PostgreSQL server of ``DLTASKS_PG_URL``."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def _exec(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def new(self) -> str:
        """The URL of a new, empty database."""
        name = "dltasks_t_" + uuid.uuid4().hex[:12]
        self._exec(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def drop_all(self) -> None:
        """Drop every database made here."""
        for name in self.created:
            try:
                self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:  # pragma: no cover - best effort
                pass
        self.created.clear()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database URL (skips without ``DLTASKS_PG_URL``)."""
    admin = pg_admin_url()
    if admin is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (source .ci/setup-postgres.sh to start a local server)")
    dbs = PgDatabases(admin)
    yield dbs.new()
    dbs.drop_all()


@pytest.fixture
def live_server(tmp_path: Any) -> Iterator[LiveServer]:
    """A running server over a fresh SQLite file."""
    server = LiveServer(str(tmp_path / "server.db"))
    yield server
    server.stop()


@pytest.fixture
def server_factory(tmp_path: Any) -> Iterator[Callable[..., LiveServer]]:
    """Start servers over given store URLs (stopped at the end of the test)."""
    servers: list[LiveServer] = []

    def start(store_url: str | None = None, **options: Any) -> LiveServer:
        server = LiveServer(store_url or str(tmp_path / f"server{len(servers)}.db"), **options)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


@pytest.fixture(params=["sqlite", "server", "postgres"])
def backend(request: Any, tmp_path: Any) -> Iterator[Any]:
    """The same store API on a local SQLite file, a live server and PostgreSQL."""
    kind = request.param
    if kind == "sqlite":
        store = dl.connect(str(tmp_path / "local.db"))
        yield store
        store.close()
    elif kind == "server":
        server = LiveServer(str(tmp_path / "server.db"))
        store = server.connect()
        yield store
        store.close()
        server.stop()
    else:
        admin = pg_admin_url()
        if admin is None:
            pytest.skip(f"PostgreSQL tests need {PG_ENV} (source .ci/setup-postgres.sh to start a local server)")
        dbs = PgDatabases(admin)
        store = dl.connect(dbs.new())
        yield store
        store.close()
        dbs.drop_all()


def submit_labels(url: str, token: str | None, task_id: str, worker: str, item_ids: list[int], label: str,
                  barrier: Any, results: Any) -> None:
    """Run in a child process: wait for the others, then submit one label per item as ``worker``.

    ``url`` is a server URL (with ``token``) or a store URL.  Puts ``(worker, n_ok, errors)``
    on ``results``.
    """
    errors: list[str] = []
    ok = 0
    store = dl.connect(url, token=token) if token else dl.connect(url)
    task = store.tasks.get(task_id)
    barrier.wait(timeout=120)
    for item in item_ids:
        try:
            task.submit(item, worker, label)
            ok += 1
        except Exception as exc:  # every error counts as one a user would have seen
            errors.append(f"{type(exc).__name__}: {exc}")
    store.close()
    results.put((worker, ok, errors[:5]))


def full_task(store: Any, name: str, n_items: int, workers: list[str]) -> tuple[str, list[int]]:
    """A dataset of ``n_items`` items and a FULL task every one of ``workers`` labels: its id and items."""
    ds = store.datasets.create(name, labels=["yes", "no"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:04d}.jpg" for i in range(n_items)]}))
    task = ds.tasks.create(task_name="everyone labels everything", assignee_ids=workers, worker_strategy="full")
    return task.id, [int(i) for i in task.items_df()["item_id"]]


def run_submitters(url: str, tokens: dict[str, str | None], task_id: str, items: list[int], workers: list[str],
                   timeout: float) -> list[Any]:
    """One spawned process per worker, all starting together, each submitting every item
    (:func:`submit_labels`; alternate workers say yes and no): their ``(worker, n_ok, errors)``."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(workers)), ctx.Queue()
    procs = [ctx.Process(target=submit_labels, args=(url, tokens[w], task_id, w, items, "yes" if i % 2 else "no",
                                                     barrier, results)) for i, w in enumerate(workers)]
    for p in procs:
        p.start()
    out = [results.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return out


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeProcess:
    """``dltasks serve`` in a real subprocess over ``store_url`` on a free 127.0.0.1 port.

    Waits until the server answers (``GET /api/v1/me``, any status); ``kill()`` sends SIGKILL (a crash: no
    shutdown code runs), ``stop()`` asks it to stop.  ``extra`` is added to the command line
    (e.g. ``["--workers", "2"]``).
    """

    def __init__(self, store_url: str, extra: list[str] | None = None, start_timeout: float = 120.0) -> None:
        import subprocess
        import sys

        import requests

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", store_url, "--host",
                                      "127.0.0.1", "--port", str(self.port), "--log-level", "warning", *(extra or [])],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + start_timeout
        while True:
            try:  # any answer will do (401 without a token): the server is serving
                requests.get(self.url + "/api/v1/me", timeout=10)
                return
            except requests.RequestException:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"dltasks serve did not start: {self.proc.stderr.read() if self.proc.stderr else ''}")
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the server and wait until it is gone."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Ask the server to stop (SIGTERM); SIGKILL if it has not stopped in 30 s."""
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
