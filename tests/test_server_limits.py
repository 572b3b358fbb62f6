"""Load one caller must not be able to impose: bounded id lists, long lists that still work, permanent
errors said as such, and connections that stall closed in time."""
from __future__ import annotations

import socket
import time

import pandas as pd
import pytest
import requests

import dltasks as dl
from dltasks.domain.types import MAX_STATUS_ITEMS
from server_fixtures import LiveServer, live_server  # noqa: F401  (fixture)


# -- 10. id lists are de-duplicated and bounded ---------------------------------------------------
def test_a_status_request_with_one_id_repeated_100000_times_is_refused_at_once(live_server):  # noqa: F811
    admin = live_server.connect()
    ds = admin.datasets.create("d")
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(5)]}))
    task = ds.tasks.create("t", assignee_ids=["w"], seed=1)
    token = live_server.token("w")
    started = time.monotonic()
    r = requests.post(f"{live_server.url}/api/v1/tasks/{task.id}/status", timeout=30,
                      json={"item_ids": [1] * 100_000, "status": "completed", "user_id": "w"},
                      headers={"Authorization": f"Key {token}"})
    assert r.status_code == 400 and r.json()["status"]["field"] == "item_ids"
    assert time.monotonic() - started < 5
    assert task.status_counts().to_dict() == {"pending": 5}


def test_the_sdk_sends_each_id_once_and_refuses_more_than_the_maximum(dataset):
    task = dataset.tasks.create("t", assignee_ids=["w"], seed=1)
    assert task.set_status([1] * 100_000, "completed", "w") == 1
    with pytest.raises(dl.ValidationError) as info:
        task.set_status(list(range(1, MAX_STATUS_ITEMS + 2)), "completed", "w")
    assert info.value.field == "item_ids" and info.value.value == MAX_STATUS_ITEMS + 1


# -- 12. long id lists work; permanent errors are not "try again" -----------------------------------
def test_an_in_filter_of_300000_values_works(dataset):
    f = dl.Filters(field="id", values=list(range(1, 300_001)), operator=dl.FiltersOperations.IN)
    assert dataset.items.count(f) == 10
    f = dl.Filters(field="metadata.user.size", values=list(range(3, 300_003)), operator="in")
    assert dataset.items.count(f) == 8


def test_a_task_over_300000_item_ids_is_checked_not_a_database_error(dataset, unchanged):
    check = unchanged()
    with pytest.raises(dl.ValidationError) as info:
        dataset.tasks.create("t", items=list(range(1, 300_001)))
    assert info.value.field == "items" and info.value.value == 11
    check()


def test_a_write_to_a_read_only_store_is_a_permanent_error(tmp_path, monkeypatch):
    path = tmp_path / "ro.db"
    dl.connect(path).datasets.create("d")
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    monkeypatch.chdir(tmp_path)
    dl.connect(url).close()
    assert not (tmp_path / "file:").exists()  # a URI names a file: no folder is made for it
    with pytest.raises(dl.DltasksError, match="readonly") as info:
        dl.connect(url).datasets.create("e")
    assert not isinstance(info.value, dl.errors.StoreBusyError)
    server = LiveServer(url)
    try:
        token = dl.connect(path).create_token("lead", admin=True)
        store = dl.connect(server.url, token=token)
        started = time.monotonic()
        with pytest.raises(dl.errors.ApiError, match="500.*readonly"):
            store.datasets.create("e")
        assert time.monotonic() - started < 2  # answered once, not retried
    finally:
        server.stop()


# -- 13. stalled connections are closed --------------------------------------------------------------
@pytest.fixture(params=["httptools", "h11"])
def quick_server(tmp_path, request):
    """A server with a 1 s read deadline, on the protocol ``dltasks serve`` uses (httptools) and on
    the h11 one it falls back to without httptools."""
    from dltasks.server.protocol import DeadlineH11Protocol, ServerProtocol

    protocol = ServerProtocol if request.param == "httptools" else DeadlineH11Protocol
    assert request.param != "httptools" or protocol.__name__ == "DeadlineHttpToolsProtocol"
    server = LiveServer(str(tmp_path / "server.db"), read_timeout=1.0, protocol=protocol)
    yield server
    server.stop()


@pytest.mark.parametrize("sent", [b"", b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n",
                                  b"POST /api/v1/datasets HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na"],
                         ids=["nothing", "half-a-header", "half-a-body"])
def test_a_connection_that_stalls_is_closed_after_the_read_timeout(quick_server, sent):
    with socket.create_connection(("127.0.0.1", quick_server.port), timeout=10) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        assert sock.recv(4096) == b""  # the server closed it
        assert time.monotonic() - started < 5


def test_a_request_that_arrives_whole_is_answered(quick_server):
    token = quick_server.token("lead", admin=True)
    with socket.create_connection(("127.0.0.1", quick_server.port), timeout=10) as sock:
        sock.sendall(f"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Key {token}\r\n\r\n".encode())
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")


# -- 8. crafted values sent as JSON: a 400 naming the field, never a 500 -------------------------------
@pytest.mark.parametrize("route, body, field", [
    ("items/count", '{"filters": {"and": [{"field": "metadata.user.n", "values": 1000000000000000000000000000000}]}}',
     "values"),
    ("items/update", '{"filters": null, "update_values": {"user": {"s": "\\ud800"}}}', "update_values"),
    ("items/update", '{"filters": null, "update_values": {"user": {"n": 1000000000000000000000000000000}}}',
     "update_values"),
    ("items/import", '{"rows": {"columns": ["name", "size"], "dtypes": ["object", "object"], '
                     '"data": [["a.jpg", 1000000000000000000000000000000]]}}', "size"),
    ("items/import", '{"rows": {"columns": ["name", "path"], "dtypes": ["object", "object"], "data": [["a.jpg", 5]]}}',
     "path"),
    ("items/import", '{"rows": {"columns": ["name"], "dtypes": ["object"], "data": [["\\ud800.jpg"]]}}', "name"),
    ("items/import", '{"rows": {"columns": ["name", "metadata"], "dtypes": ["object", "object"], '
                     '"data": [["a.jpg", "text"]]}}', "metadata"),
    ("items/import", '{"rows": {"columns": ["name", "user.a", "user.a"], "dtypes": ["object", "int64", "int64"], '
                     '"data": [["a.jpg", 1, 2]]}}', "rows"),
    ("labels", '{"labels": ["\\ud800"]}', "labels[0]"),
], ids=["filter-int", "metadata-surrogate", "metadata-int", "size", "path-type", "name-surrogate", "metadata-type",
        "duplicate-column", "label-surrogate"])
def test_crafted_values_get_a_400_naming_the_field(live_server, route, body, field):  # noqa: F811
    admin = live_server.connect()
    ds = admin.datasets.create("d")
    ds.items.import_df(pd.DataFrame({"name": ["x.jpg"]}))
    token = live_server.token("admin@example.com", admin=True)
    r = requests.post(f"{live_server.url}/api/v1/datasets/{ds.id}/{route}", data=body.encode(), timeout=30,
                      headers={"Authorization": f"Key {token}", "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["status"]["field"] == field
    assert len(ds.items.to_df()) == 1 and ds.labels == []
