"""Big reads over HTTP come in pages: the server never sends more than a page (rows, and for items a
budget of metadata bytes), and the client joins them into the frame a local store gives."""
from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest
import sqlalchemy as sa
from pandas.testing import assert_frame_equal, assert_series_equal

import dltasks as dl
from dltasks.backends import ops
from dltasks.backends.dtypes import column_of, join_pages
from dltasks.backends.sql import items as sql_items
from dltasks.backends.sql.frames import paged, records_frame, result_frame
from server_fixtures import LiveServer


@pytest.fixture
def small_pages(monkeypatch, tmp_path):
    """A live server whose frame reads send at most 4 rows, and items pages at most 2 KB of metadata."""
    for name, op in ops.OPS.items():
        if op.page_rows is not None:
            monkeypatch.setitem(ops.OPS, name, dataclasses.replace(op, page_rows=4))
    monkeypatch.setattr(sql_items, "PAGE_BYTES", 2000)
    server = LiveServer(str(tmp_path / "server.db"))
    yield server
    server.stop()


def test_frames_read_in_pages_equal_the_stores_own(small_pages):
    admin = small_pages.connect()
    ds = admin.datasets.create("d", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(11)], "user.blob": ["x" * 500] * 11}))
    task = ds.tasks.create("t", assignee_ids=["a", "b"], workers_per_input=2, seed=1)
    for item in range(1, 11):
        task.submit(item, "a", "cat")
    local_ds = small_pages.store.datasets.get(dataset_id=ds.id)
    local_task = small_pages.store.tasks.get(task.id)
    assert_frame_equal(ds.items.to_df(), local_ds.items.to_df())
    assert_frame_equal(ds.items.to_df(metadata="dict"), local_ds.items.to_df(metadata="dict"))
    assert_frame_equal(ds.annotations.to_df(), local_ds.annotations.to_df())
    for name in ("labels_df", "assignments_df", "items_df"):
        assert_frame_equal(getattr(task, name)(), getattr(local_task, name)(), obj=name)
    assert len(task.labels_df()) == 10 and len(task.assignments_df()) == 22


def test_a_page_holds_at_most_its_rows_and_its_metadata_budget(small_pages):
    import requests

    admin = small_pages.connect()
    ds = admin.datasets.create("d")
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(11)], "user.blob": ["x" * 500] * 11}))
    headers = {"Authorization": f"Key {small_pages.token('admin@example.com', admin=True)}"}
    url = f"{small_pages.url}/api/v1/datasets/{ds.id}/items/frame"
    body = requests.post(url, json={"metadata": "dict", "limit": 1000}, headers=headers, timeout=10).json()
    assert len(body["frame"]["data"]) == 3 and body["next_offset"] == 3  # 3 x ~530 bytes fit in 2 000
    last = requests.post(url, json={"metadata": "dict", "offset": 9}, headers=headers, timeout=10).json()
    assert len(last["frame"]["data"]) == 2 and last["next_offset"] is None


def test_a_local_read_with_a_limit_says_where_the_next_page_starts(dataset):
    backend = dataset.store.backend
    if not dataset.store.local:
        pytest.skip("the HTTP backend joins pages itself")
    page = backend.items_frame(dataset.id, limit=4)
    assert len(page) == 4 and page.attrs["next_offset"] == 4
    last = backend.items_frame(dataset.id, offset=8, limit=4)
    assert last["name"].tolist() == ["img08.jpg", "img09.jpg"] and last.attrs["next_offset"] is None


def test_a_limit_reads_only_that_many_rows_through_a_server(small_pages):
    admin = small_pages.connect()
    ds = admin.datasets.create("d")
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(11)]}))
    assert len(admin.backend.items_frame(ds.id, limit=6)) == 6


# -- a column typed differently on two pages ----------------------------------------------------
#: Values of one metadata key over 8 items, read in pages of 4: each page is typed by its own rows.
TYPED_BY_PAGE = {
    "mixed, then text": [1, "a", None, 2.5, None, None, "b", "c"],  # object, then str
    "nothing, then floats": [None, None, None, None, 1.5, 2.0, None, 3.25],  # object, then float64
    "floats, then nothing": [1.5, None, 2.0, 3.25, None, None, None, None],  # float64, then object
    "ints, then floats and nothing": [1, 2, 3, 4, 2.5, None, 3.0, None],  # int64, then float64
    "ints, then nothing": [1, 2, 3, 4, None, None, None, None],  # int64, then object: float64 in all
    "text, then nothing": ["a", None, "b", "c", None, None, None, None],  # str, then object
    "booleans, then nothing": [True, False, None, True, None, None, None, None],  # boolean, then object
    "nothing, then booleans": [None, None, None, None, False, None, True, True],
    "booleans, then other numbers": [True, False, True, True, 2, None, 0, None],  # SQLite: 1/0 then float64
    "booleans, then text": [True, False, True, None, "yes", None, "no", None],
}


def _seen(column):
    """A column's values as a user sees them: each value's type and the value (NaN as "NaN")."""
    return [(type(v).__name__, "NaN" if isinstance(v, float) and math.isnan(v) else v) for v in column.tolist()]


@pytest.mark.parametrize("frames", ["arrow", "json"])
@pytest.mark.parametrize("values", TYPED_BY_PAGE.values(), ids=TYPED_BY_PAGE.keys())
def test_a_column_typed_differently_on_two_pages_joins_as_one_read(small_pages, frames, values):
    admin = small_pages.connect()
    ds = admin.datasets.create("d")
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(8)], "user.v": values}))
    client = dl.connect(small_pages.url, token=small_pages.token("admin@example.com", admin=True), frames=frames)
    pages = [client.backend.items_frame(ds.id, offset=offset, limit=4) for offset in (0, 4)]
    assert [len(page) for page in pages] == [4, 4]
    local = small_pages.store.datasets.get(dataset_id=ds.id).items.to_df()
    remote = client.datasets.get(dataset_id=ds.id).items.to_df()
    assert_frame_equal(remote, local, check_exact=True)
    assert remote["metadata.user.v"].dtype == local["metadata.user.v"].dtype
    assert _seen(remote["metadata.user.v"]) == _seen(local["metadata.user.v"])


def test_the_mixed_column_reads_as_its_values_with_none(small_pages):
    admin = small_pages.connect()
    ds = admin.datasets.create("d")
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(8)],
                                     "user.v": TYPED_BY_PAGE["mixed, then text"]}))
    assert ds.items.to_df()["metadata.user.v"].tolist() == [1, "a", None, 2.5, None, None, "b", "c"]


def _box_task_with_a_page_of_empty_answers(admin, seconds):
    ds = admin.datasets.create("d", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(8)]}))
    task = ds.tasks.create("t", assignee_ids=["a"], annotation_type="box", seed=1)
    for n, item in enumerate(task.items_df()["item_id"]):  # a page of no boxes and no label, then boxes
        boxes = [] if n < 4 else [dl.Box(0.1, 0.2, 0.5, 0.6, label="cat")]
        task.submit(int(item), "a", annotations=boxes, seconds=seconds if n >= 4 else None)
    return task


def test_labels_paged_with_a_page_of_empty_answers_equal_the_local_read(small_pages):
    task = _box_task_with_a_page_of_empty_answers(small_pages.connect(), seconds=None)
    local = small_pages.store.tasks.get(task.id)
    for name in ("labels_df", "assignments_df", "items_df"):
        assert_frame_equal(getattr(task, name)(), getattr(local, name)(), obj=name, check_exact=True)
    assert _seen(task.labels_df()["label"]) == [("NoneType", None)] * 4 + [("str", "cat")] * 4


def test_a_box_tasks_labels_with_seconds_read_every_page(small_pages):
    task = _box_task_with_a_page_of_empty_answers(small_pages.connect(), seconds=1.5)
    local = small_pages.store.tasks.get(task.id)
    assert len(local.labels_df()) == 8
    assert_frame_equal(task.labels_df(), local.labels_df(), check_exact=True)


# -- the rule: one read's column, by pages or at once --------------------------------------------
@pytest.mark.parametrize("values", TYPED_BY_PAGE.values(), ids=TYPED_BY_PAGE.keys())
def test_the_store_types_a_column_by_column_of_whole_or_by_page(values):
    """result_frame and records_frame both type a column as ``column_of`` does; the pages, joined,
    give the whole read's column (booleans aside: SQLite has none, it keeps them as 1/0)."""
    engine = sa.create_engine("sqlite://")
    raw = [int(v) if isinstance(v, bool) else v for v in values]  # what SQLite's driver gives
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER, v)"))
        conn.execute(sa.text("INSERT INTO t VALUES (:n, :v)"), [{"n": n, "v": v} for n, v in enumerate(raw)])
        query = sa.text("SELECT v FROM t ORDER BY n")
        whole = column_of(raw, name="v")
        assert_series_equal(result_frame(conn.execute(query))["v"], whole, check_exact=True)
        assert_series_equal(records_frame(conn, query)["v"], whole, check_exact=True)
        pages = [paged(conn, sa.select(sa.column("v")).select_from(sa.table("t")).order_by(sa.column("n")),
                       offset, 4, lambda c, q: result_frame(c.execute(q))) for offset in (0, 4)]
    joined = join_pages(pages)
    assert_series_equal(joined["v"], whole, check_exact=True)
    if values is not TYPED_BY_PAGE["booleans, then text"]:  # 1/0 on a float64 page: see the test below
        assert _seen(joined["v"]) == _seen(whole)


def test_pages_typed_alike_are_joined_as_they_are():
    pages = [pd.DataFrame({"id": [1, 2], "score": [0.5, None], "label": ["cat", None]}),
             pd.DataFrame({"id": [3], "score": [1.0], "label": ["dog"]})]
    joined = join_pages(pages)
    assert_frame_equal(joined, pd.concat(pages, ignore_index=True))
    assert joined["label"].dtype == pages[0]["label"].dtype and joined["score"].isna().tolist() == [False, True, False]
    assert join_pages(pages[:1]) is pages[0]


def test_columns_of_one_name_are_joined_each_by_its_own_pages():
    pages = [pd.DataFrame([[1, None]], columns=["a", "a"]), pd.DataFrame([[None, "x"]], columns=["a", "a"])]
    joined = join_pages(pages)
    assert_series_equal(joined.iloc[:, 0], column_of([1, None], name="a"))  # int64 and nothing: float64
    assert_series_equal(joined.iloc[:, 1], column_of([None, "x"], name="a"))  # nothing and text: str
    assert joined.iloc[:, 0].tolist()[0] == 1.0 and math.isnan(joined.iloc[:, 0].tolist()[1])


def test_a_whole_number_on_a_float_page_comes_back_a_float_in_an_object_column():
    """The limit of joining typed pages: a float64 page cannot say that its 1.0 was the int 1."""
    pages = [pd.DataFrame({"v": column_of([1, None])}), pd.DataFrame({"v": column_of(["a", 2])})]
    joined = join_pages(pages)["v"]
    assert joined.tolist() == [1, None, "a", 2] and joined.dtype == object
    assert [type(v) for v in joined] == [float, type(None), str, int]
