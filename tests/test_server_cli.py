"""``dltasks token`` and ``dltasks serve`` as a user runs them (subprocesses)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

import dltasks as dl
from conftest import sql_db
from dltasks.server.cli import _is_loopback
from dltasks.backends.sql.tokens import hash_token


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dltasks.cli", *args], capture_output=True, text=True, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_token_create_list_revoke(tmp_path):
    db = str(tmp_path / "team.db")
    made = run("token", "create", "ann@example.com", "--admin", "--store", db)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("dlt_") and len(token) > 40
    store = dl.connect(db)
    with sql_db(store).read() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash, user_id, admin FROM api_tokens").all()
    assert [tuple(r) for r in stored] == [(hash_token(token), "ann@example.com", 1)]  # only the hash is kept
    assert store.users.get("ann@example.com").id == "ann@example.com"
    listed = run("token", "list", "--store", db)
    assert listed.stdout.startswith("ann@example.com\tadmin\t")
    assert run("token", "revoke", "ann@example.com", "--store", db).stdout.strip() == "revoked 1 token(s) of ann@example.com"
    assert run("token", "list", "--store", db).stdout == ""


def test_token_errors_are_one_line(tmp_path):
    bad = run("token", "create", " ", "--store", str(tmp_path / "x.db"))
    assert bad.returncode == 1 and bad.stderr.startswith("dltasks: user_id: must be a non-empty string")
    memory = run("serve", "--store", "sqlite://")
    assert memory.returncode == 1 and "in-memory store would vanish" in memory.stderr


@pytest.mark.slow
def test_serve_answers_on_loopback(tmp_path):
    db = str(tmp_path / "team.db")
    token = run("token", "create", "lead@example.com", "--admin", "--store", db).stdout.strip()
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", db, "--port", str(port),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                r = requests.get(url + "/api/v1/me", headers={"Authorization": f"Key {token}"}, timeout=2)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        assert r.json() == {"status": {"code": 10000, "description": "Ok"}, "user_id": "lead@example.com", "admin": True}
        store = dl.connect(url, token=token)
        assert store.datasets.create("shared").name == "shared"
        assert dl.connect(db).datasets.get(name="shared").id == store.datasets.get(name="shared").id
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert f"on http://127.0.0.1:{port}" in (proc.stderr.read() if proc.stderr else "")


def test_only_loopback_counts_as_local():
    assert _is_loopback("127.0.0.1") and _is_loopback("localhost") and _is_loopback("::1")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.5")


def test_serve_runs_sqlite_in_one_process(tmp_path):
    db = str(tmp_path / "team.db")
    refused = run("serve", "--store", db, "--workers", "2")
    assert refused.returncode == 1
    assert refused.stderr.startswith("dltasks: --workers: SQLite is served by one process")
    assert "PostgreSQL" in refused.stderr and "(got 2)" in refused.stderr
    zero = run("serve", "--store", db, "--workers", "0")
    assert zero.returncode == 1
    assert zero.stderr.startswith("dltasks: --workers: must be a whole number from 1 to 64 (got 0)")
    assert "--workers N" in run("serve", "--help").stdout
