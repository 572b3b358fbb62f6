"""Frames travel as Arrow IPC streams to a client that asks for them (issue 16, big reads): every
dtype the frames use comes back exact, a paged read through a live server equals the local
read, a JSON client (curl, another tool) still gets JSON, and bad input keeps its 4xx errors."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import requests
from pandas.testing import assert_frame_equal, assert_series_equal

import dltasks as dl
from dltasks.backends.columnar import ARROW, frame_from_arrow, frame_to_arrow
from dltasks.server import handlers
from server_fixtures import live_server  # noqa: F401  (a fixture)
from test_paging import small_pages  # noqa: F401  (a fixture)


def _round_trip(data):
    back, meta = frame_from_arrow(frame_to_arrow(data, next_offset=7))
    assert meta["next_offset"] == 7
    return back


# -- every dtype, by value ------------------------------------------------------------------------
def test_numbers_and_booleans_keep_dtype_nan_infinities_and_64_bit_extremes():
    df = pd.DataFrame({"i": np.array([1, -2**63, 2**63 - 1], dtype="int64"),
                       "u8": np.array([0, 255, 7], dtype="uint8"),
                       "f": [1.5, math.nan, -math.inf], "f32": np.array([0.1, 2, 3], dtype="float32"),
                       "b": [True, False, True]})
    back = _round_trip(df)
    assert_frame_equal(back, df, check_exact=True)
    assert back["i"].tolist() == [1, -2**63, 2**63 - 1]
    assert math.isnan(back["f"][1]) and back["f"][2] == -math.inf
    back.loc[0, "f"] = 2.5  # the user may change the frame they got
    assert back["f"][0] == 2.5


def test_datetimes_of_every_unit_and_zone_come_back_exact_with_nat():
    utc_ns = pd.Series(pd.to_datetime([1_700_000_000.123456789, None], unit="s", utc=True)).astype(
        "datetime64[ns, UTC]")
    utc_ns.iloc[0] = pd.Timestamp(1_700_000_000_123_456_789, tz="UTC")
    df = pd.DataFrame({"ns": utc_ns,
                       "s": pd.Series(pd.to_datetime([0, 86400], unit="s", utc=True)).astype("datetime64[s, UTC]"),
                       "naive": pd.Series(pd.to_datetime(["2020-02-29 12:00", None])).astype("datetime64[us]"),
                       "paris": pd.Series(pd.to_datetime(["2024-06-01 08:00", "2024-12-01 00:00"])).dt.tz_localize(
                           "Europe/Paris")})
    back = _round_trip(df)
    assert_frame_equal(back, df, check_exact=True)
    assert back["ns"][0].value == 1_700_000_000_123_456_789 and back["ns"][1] is pd.NaT


def test_nullable_extension_dtypes_keep_their_missing_values():
    df = pd.DataFrame({"Int64": pd.array([2**62 + 1, None, -1], dtype="Int64"),
                       "boolean": pd.array([True, None, False], dtype="boolean"),
                       "Float64": pd.array([1.5, None, 2.0], dtype="Float64"),
                       "str": pd.Series(["cat", None, "é"], dtype="str"),
                       "string": pd.Series(["a", None, "c"], dtype="string"),
                       "category": pd.Categorical(["x", "y", "x"]),
                       "timedelta": pd.to_timedelta([1, None, 3], unit="s")})
    back = _round_trip(df)
    assert_frame_equal(back, df, check_exact=True)
    assert back["Int64"][0] == 2**62 + 1 and back["Int64"][1] is pd.NA  # exact past 2**53: never through float
    assert back["str"].isna().tolist() == [False, True, False] and back["str"][2] == "é"


def test_object_columns_keep_their_python_values_and_missing_marker():
    obj = lambda *values: pd.Series(list(values), dtype=object)  # noqa: E731
    df = pd.DataFrame({"text_none": obj("a", None, "c"), "text_nan": obj("a", math.nan, "c"),
                       "ints": obj(1, None, 2**62 + 1), "floats": obj(1.5, None, 2.0), "bools": obj(True, None, False),
                       "nothing": obj(None, None, None), "huge": obj(2**70, 1, None),
                       "dicts": obj({"a": [1, {"b": None}]}, None, [1, 2]), "mixed": obj(1, "a", None)})
    back = _round_trip(df)
    assert (back.dtypes == object).all()
    values = {c: back[c].tolist() for c in back}
    assert values["text_none"] == ["a", None, "c"]
    assert values["text_nan"][0] == "a" and isinstance(values["text_nan"][1], float) and math.isnan(
        values["text_nan"][1])
    assert values["ints"] == [1, None, 2**62 + 1] and [type(v) for v in values["ints"]] == [int, type(None), int]
    assert values["floats"] == [1.5, None, 2.0] and values["bools"] == [True, None, False]
    assert values["nothing"] == [None, None, None] and values["huge"] == [2**70, 1, None]
    assert values["dicts"] == [{"a": [1, {"b": None}]}, None, [1, 2]] and values["mixed"] == [1, "a", None]


def test_an_index_a_series_and_empty_frames_come_back():
    counts = pd.Series([3, 1], index=pd.Index(["done", "pending"], dtype="str", name="status"), name="count")
    assert_series_equal(_round_trip(counts), counts)
    progress = pd.DataFrame({"done": [1, 2]}, index=pd.Index(["ann", "bob"], name="user_id"))
    assert_frame_equal(_round_trip(progress), progress)
    empty = pd.DataFrame({"item_id": pd.Series([], dtype="int64"), "label": pd.Series([], dtype="str"),
                          "at": pd.Series([], dtype="datetime64[ns, UTC]")})
    assert_frame_equal(_round_trip(empty), empty)
    no_columns = pd.DataFrame(index=pd.RangeIndex(3))
    assert _round_trip(no_columns).shape == (3, 0)
    assert _round_trip(pd.DataFrame()).equals(pd.DataFrame())
    named = pd.DataFrame([[1, 2]], columns=["a", "a"])  # repeated names survive
    assert_frame_equal(_round_trip(named), named)


def test_compressed_streams_come_back_the_same_and_smaller():
    df = pd.DataFrame({"item_id": np.arange(10_000), "worker": pd.Series(["ann@example.com", "bob@example.com"] * 5_000,
                                                                        dtype="str"),
                       "label": pd.Series(["cat", "dog", None, "fox"] * 2_500, dtype=object)})
    plain = frame_to_arrow(df)
    for codec in ("zstd", "lz4"):
        packed = frame_to_arrow(df, compression=codec)
        assert len(packed) < len(plain) / 3, codec
        back, _ = frame_from_arrow(packed)
        assert_frame_equal(back, df, check_exact=True)


def test_a_stream_without_dltasks_metadata_is_refused():
    sink = pa.BufferOutputStream()
    table = pa.table({"a": [1]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(ValueError, match="without dltasks metadata"):
        frame_from_arrow(sink.getvalue().to_pybytes())


# -- through a live server ------------------------------------------------------------------------
def _mixed_store(admin):
    """A dataset whose items have text, number, boolean and mixed metadata; a class task with
    labels and seconds; a box task with boxes and an empty answer."""
    ds = admin.datasets.create("d", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:02d}.jpg" for i in range(11)],
                                     "user.colour": ["red", None, "blue"] * 3 + ["red", "é"],
                                     "user.n": [1.5, None] * 5 + [3.0], "user.flag": [True, False, None] * 3 + [True, True],
                                     "user.mixed": [1, "a", None, 2.5] * 2 + [None, 3, {"k": 1}]}))
    task = ds.tasks.create("t", assignee_ids=["a@x.io", "b@x.io"], workers_per_input=2, seed=1)
    for n, item in enumerate(task.items_df()["item_id"]):
        task.submit(int(item), "a@x.io", "cat", seconds=1.25 * n if n % 3 else None)
        if n % 2:
            task.submit(int(item), "b@x.io", "dog")
    boxes = ds.tasks.create("boxes", assignee_ids=["a@x.io"], annotation_type="box", seed=1)
    first, second = boxes.items_df()["item_id"][:2]
    boxes.submit(int(first), "a@x.io", annotations=[dl.Box(0.1, 0.2, 0.5, 0.6, label="cat")], seconds=2.0)
    boxes.submit(int(second), "a@x.io", annotations=[])
    return ds, task, boxes


def test_paged_reads_through_a_server_equal_the_local_reads(small_pages):  # noqa: F811
    admin = small_pages.connect()
    assert admin.backend.frames == "arrow"
    ds, task, boxes = _mixed_store(admin)
    local = small_pages.store
    local_ds, local_task, local_boxes = (local.datasets.get(dataset_id=ds.id), local.tasks.get(task.id),
                                         local.tasks.get(boxes.id))
    for metadata in ("flat", "dict", "none"):
        assert_frame_equal(ds.items.to_df(metadata=metadata), local_ds.items.to_df(metadata=metadata), obj=metadata)
    assert_frame_equal(ds.annotations.to_df(), local_ds.annotations.to_df())
    for name in ("labels_df", "assignments_df", "items_df", "history", "progress"):
        for remote, here in ((task, local_task), (boxes, local_boxes)):
            assert_frame_equal(getattr(remote, name)(), getattr(here, name)(), obj=name)
    assert_series_equal(admin.backend.status_counts(task.id), local.backend.status_counts(task.id))
    labels = task.labels_df()
    assert len(labels) == 16 and labels["seconds"].isna().sum() == 9  # read in 4 pages of at most 4 rows
    assert ds.items.to_df()["metadata.user.mixed"].tolist()[:4] == [1, "a", None, 2.5]
    assert boxes.labels_df()["kind"].tolist()[:2] == ["box", "none"]


def test_the_server_sends_arrow_only_to_a_client_that_asks(small_pages):  # noqa: F811
    admin = small_pages.connect()
    ds, task, _ = _mixed_store(admin)
    headers = {"Authorization": f"Key {small_pages.token('admin@example.com', admin=True)}"}
    url = f"{small_pages.url}/api/v1/tasks/{task.id}/labels"
    want = small_pages.store.tasks.get(task.id).labels_df().iloc[4:8].reset_index(drop=True)
    for accept in (ARROW, f"{ARROW};codec=zstd", f"{ARROW}; codec=lz4; q=0.9, application/json", f"{ARROW};codec=rar"):
        page = requests.get(url, params={"offset": 4}, headers={**headers, "Accept": accept}, timeout=10)
        assert page.headers["content-type"] == ARROW, accept
        frame, meta = frame_from_arrow(page.content)
        assert meta["next_offset"] == 8
        assert_frame_equal(frame, want)
    for accept in (None, "*/*", "application/json", f"{ARROW};q=0, application/json"):
        plain = requests.get(url, params={"offset": 4}, headers={**headers, **({"Accept": accept} if accept else {})},
                             timeout=10)
        assert plain.headers["content-type"] == "application/json", accept
        assert len(plain.json()["frame"]["data"]) == 4 and plain.json()["next_offset"] == 8
    other = requests.get(f"{small_pages.url}/api/v1/tasks/{task.id}", headers={**headers, "Accept": ARROW},
                         timeout=10)  # not a frame: JSON whatever was asked
    assert other.headers["content-type"] == "application/json" and other.json()["task"]["id"] == task.id


def test_a_json_client_reads_the_same_frames(small_pages):  # noqa: F811
    admin = small_pages.connect()
    ds, task, boxes = _mixed_store(admin)
    json_client = dl.connect(small_pages.url, token=small_pages.token("admin@example.com", admin=True), frames="json")
    assert json_client.backend.frames == "json"
    remote_task, remote_ds = json_client.tasks.get(task.id), json_client.datasets.get(dataset_id=ds.id)
    assert_frame_equal(remote_task.labels_df(), task.labels_df())
    assert_frame_equal(remote_ds.items.to_df(metadata="dict"), ds.items.to_df(metadata="dict"))
    assert_frame_equal(json_client.tasks.get(boxes.id).labels_df(), boxes.labels_df())


def test_an_arrow_client_reads_a_server_that_answers_json(small_pages, monkeypatch):  # noqa: F811
    admin = small_pages.connect()
    ds, task, _ = _mixed_store(admin)
    want = task.labels_df()
    monkeypatch.setattr(handlers, "accepted_arrow", lambda accept: None)  # a server from before issue 16
    assert_frame_equal(task.labels_df(), want)
    assert_frame_equal(ds.items.to_df(), small_pages.store.datasets.get(dataset_id=ds.id).items.to_df())


def test_bad_input_keeps_its_errors_when_arrow_is_asked_for(live_server):  # noqa: F811
    admin = live_server.connect()
    ds = admin.datasets.create("d")
    headers = {"Authorization": f"Key {live_server.token('admin@example.com', admin=True)}", "Accept": ARROW}
    missing = requests.get(f"{live_server.url}/api/v1/tasks/nope/labels", headers=headers, timeout=10)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    bad = requests.post(f"{live_server.url}/api/v1/datasets/{ds.id}/items/frame", json={"offset": -1},
                        headers=headers, timeout=10)
    assert bad.status_code == 400 and bad.json()["status"]["field"] == "offset"
    with pytest.raises(dl.NotFoundError):
        admin.backend.labels_frame("nope")
    with pytest.raises(dl.ValidationError) as exc:
        admin.backend.items_frame(ds.id, metadata="all")
    assert exc.value.field == "metadata"
    with pytest.raises(dl.ValidationError) as exc:
        dl.connect(live_server.url, token="dlt_x", frames="csv")
    assert exc.value.field == "frames" and exc.value.value == "csv"
