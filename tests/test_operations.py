"""The operation table, walked: every operation is declared once, implemented by both backends
with the protocol's signature, served by the server at its row's path, and typed (mypy)."""
from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from dltasks.backends.base import OPERATIONS, Backend
from dltasks.backends.http import HttpBackend
from dltasks.backends.ops import OPS, Checked
from dltasks.backends.sql import SqlBackend
from server_fixtures import live_server  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parent.parent


def _params(function):
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_the_table_has_one_row_per_protocol_operation_in_its_order():
    assert tuple(OPS) == OPERATIONS
    assert len(OPERATIONS) >= 40


@pytest.mark.parametrize("name", OPERATIONS)
def test_each_operation_is_implemented_by_both_backends_with_the_protocols_signature(name):
    declared = _params(getattr(Backend, name))
    assert _params(getattr(SqlBackend, name)) == declared
    assert _params(getattr(HttpBackend, name)) == declared
    assert inspect.signature(getattr(HttpBackend, name)).return_annotation == \
        inspect.signature(getattr(Backend, name)).return_annotation


def test_each_operation_is_served_at_its_rows_path_and_method():
    from dltasks.server.app import create_app

    paths = create_app(SqlBackend("sqlite://")).openapi()["paths"]
    served = {name: paths.get("/api/v1" + op.path, {}).get(op.method.lower(), {}).get("operationId")
              for name, op in OPS.items()}
    assert served == {name: name for name in OPS}


def test_a_literal_path_segment_is_not_read_as_an_id(live_server):
    """``/items/by-path`` and ``/items/metadata-keys`` are routes of their own, not item ids."""
    store = live_server.connect()
    ds = store.datasets.create("d")
    ds.items.import_df(__import__("pandas").DataFrame({"name": ["a.jpg"], "user.k": [1]}))
    assert ds.items.get(filepath="/a.jpg").name == "a.jpg"
    assert ds.items.metadata_keys() == ["user.k"]


def test_checked_runs_the_rules_before_the_backend_is_called():
    class Recorder:
        calls: list[tuple[str, dict]] = []

        def submit(self, **kwargs):
            self.calls.append(("submit", kwargs))
            return "pending"

    checked = Checked(Recorder())
    assert checked.submit("t1", "7", " ann ", "cat") == "pending"
    assert Recorder.calls == [("submit", {"task_id": "t1", "item_id": 7, "user_id": "ann", "label": "cat"})]
    with pytest.raises(Exception, match="label"):
        checked.submit("t1", 7, "ann", "")
    assert len(Recorder.calls) == 1  # refused before any call


@pytest.mark.slow
def test_the_package_type_checks_both_backends_against_the_protocol():
    pytest.importorskip("mypy")
    result = subprocess.run([sys.executable, "-m", "mypy", "dltasks"], cwd=REPO, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
