"""Inputs that must get a clear error and write nothing, on every backend (SDK: ValidationError naming
the field and the value; through a server the same error from a 400), and strings drawn literally."""
from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

import dltasks as dl
from dltasks.domain.values import MAX_DEPTH, MAX_METADATA_BYTES
from dltasks.timeutil import from_epoch


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"k": value}
    return value


def obj(*values):
    return pd.Series(list(values), dtype=object)


# -- 5. dates out of range -----------------------------------------------------------------------
@pytest.mark.parametrize("due", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00",
                                 dt.datetime(2400, 1, 1, tzinfo=dt.timezone.utc)], ids=["year-9999", "year-1", "2400"])
def test_a_due_date_out_of_range_is_refused_and_listings_still_work(dataset, unchanged, due):
    check = unchanged()
    with pytest.raises(dl.ValidationError) as info:
        dataset.tasks.create("t", due_date=due)
    assert info.value.field == "due_date" and "1653 to 2286" in str(info.value)
    check()
    assert len(dataset.store.tasks.list()) == 0


def test_a_stored_time_beyond_any_datetime_still_reads():
    assert from_epoch(1e20).year == 9999 and from_epoch(-1e20).year == 1


# -- 6. metadata nesting ---------------------------------------------------------------------
@pytest.mark.parametrize("path", ["import", "update", "item", "task"])
def test_one_depth_limit_on_every_input_path(dataset, unchanged, path):
    deep, ok = nested(MAX_DEPTH + 1), nested(MAX_DEPTH - 2)
    writes = {
        "import": lambda v: dataset.items.import_df(pd.DataFrame({"name": ["x.jpg"], "metadata": [{"user": v}]})),
        "update": lambda v: dataset.items.update(filters=dl.Filters(), update_values={"user": v}),
        "item": lambda v: _edit_item(dataset, v),
        "task": lambda v: dataset.tasks.create("t", metadata=v),
    }
    check = unchanged()
    with pytest.raises(dl.ValidationError, match=f"deeper than {MAX_DEPTH} levels") as info:
        writes[path](deep)
    assert info.value.field in ("metadata", "update_values")
    check()
    writes[path](ok)  # just under the limit: stored, and readable
    assert len(dataset.items.to_df(metadata="dict")) >= 10


def _edit_item(dataset, user):
    item = dataset.items.get(item_id=1)
    item.metadata["user"] = user
    return item.update()


def test_3000_deep_metadata_is_a_validation_error_not_a_recursion_error(dataset):
    with pytest.raises(dl.ValidationError):
        dataset.items.update(filters=dl.Filters(), update_values={"user": nested(3000)})


# -- 7. metadata keys ----------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["nul\x00key", "camera.model", 'size"in', "back\\slash", ""],
                         ids=["nul", "dot", "quote", "backslash", "empty"])
def test_a_metadata_key_that_could_not_be_read_back_is_refused_at_write(dataset, unchanged, key):
    check = unchanged()
    with pytest.raises(dl.ValidationError) as info:
        dataset.items.update(filters=dl.Filters(), update_values={"user": {key: 1}})
    assert info.value.field == "update_values" and info.value.value == key
    with pytest.raises(dl.ValidationError):
        dataset.items.import_df(pd.DataFrame({"name": ["k.jpg"], "metadata": [{"user": {key: 1}}]}))
    check()
    assert "metadata.user.colour" in dataset.items.to_df().columns


def test_any_other_key_is_stored_read_and_filtered(dataset):
    dataset.items.update(filters=dl.Filters(field="name", values="img00.jpg"),
                         update_values={"user": {"größe": 3, "a;b c": "x"}})
    df = dataset.items.to_df().set_index("name")
    assert df.loc["img00.jpg", "metadata.user.größe"] == 3 and df.loc["img00.jpg", "metadata.user.a;b c"] == "x"
    assert dataset.items.count(dl.Filters(field="metadata.user.größe", values=3)) == 1


# -- 8. numbers beyond 64 bits, lone surrogates, wrong types, numpy scalars ------------------------
@pytest.mark.parametrize("write, field", [
    (lambda ds: ds.items.count(dl.Filters(field="metadata.user.size", values=10**30)), "values"),
    (lambda ds: ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "size": obj(10**30)})), "size"),
    (lambda ds: ds.items.update(filters=dl.Filters(), update_values={"user": {"n": 10**30}}), "update_values"),
    (lambda ds: ds.items.import_df(pd.DataFrame({"name": obj("\ud800.jpg")})), "name"),
    (lambda ds: ds.items.update(filters=dl.Filters(), update_values={"user": {"s": "\ud800"}}), "update_values"),
    (lambda ds: ds.tasks.create("t\ud800"), "task_name"),
    (lambda ds: ds.add_labels(["\ud800"]), "labels"),
    (lambda ds: ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "path": [5]})), "path"),
    (lambda ds: ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "metadata": ["text"]})), "metadata"),
    (lambda ds: ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "size": ["big"]})), "size"),
    (lambda ds: ds.items.import_df(pd.DataFrame([["a.jpg", 1, 2]], columns=["name", "user.a", "user.a"])), "df"),
    (lambda ds: ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "user.a": [1], "metadata.user.a": [2]})), "df"),
], ids=["filter-value", "size", "metadata-int", "name-surrogate", "metadata-surrogate", "task-name", "label",
        "path-type", "metadata-type", "size-type", "duplicate-column", "same-key-twice"])
def test_values_that_cannot_be_stored_are_refused(dataset, unchanged, write, field):
    check = unchanged()
    with pytest.raises(dl.ValidationError) as info:
        write(dataset)
    assert info.value.field == field
    check()


def test_numpy_scalars_are_the_numbers_they_are(dataset):
    task = dataset.tasks.create("t", assignee_ids=["a", "b"], weights={"a": np.int64(3), "b": np.float32(1)},
                                workers_per_input=np.int64(1), seed=np.int64(4))
    assert task.weights == {"a": 3.0, "b": 1.0} and task.seed == 4
    assert dataset.items.count(dl.Filters(field="metadata.user.size", values=np.int64(3))) == 1


def test_metadata_over_the_size_limit_is_refused_on_every_path(dataset, unchanged):
    big = "x" * MAX_METADATA_BYTES
    check = unchanged()
    for write in (lambda: dataset.items.import_df(pd.DataFrame({"name": ["big.jpg"], "user.blob": [big]})),
                  lambda: dataset.items.update(filters=dl.Filters(), update_values={"user": {"blob": big}}),
                  lambda: _edit_item(dataset, {"blob": big}),
                  lambda: dataset.tasks.create("t", metadata={"blob": big})):
        with pytest.raises(dl.ValidationError, match=f"the most is {MAX_METADATA_BYTES:,}"):
            write()
    check()


def test_a_merge_that_would_outgrow_the_limit_is_refused(dataset, unchanged):
    half = "x" * (MAX_METADATA_BYTES // 2 + 100)
    dataset.items.update(filters=dl.Filters(field="name", values="img00.jpg"), update_values={"user": {"a": half}})
    check = unchanged()
    with pytest.raises(dl.ValidationError, match="would make item") as info:
        dataset.items.update(filters=dl.Filters(), update_values={"user": {"b": half}})
    assert info.value.field == "update_values"
    check()


# -- 9. user strings are drawn literally ---------------------------------------------------------
def test_charts_draw_a_user_id_with_dollars_literally(dataset):
    from dltasks.widgets import PartitionView, TaskBoard

    odd = "ann$x^$@example.com"
    task = dataset.tasks.create("t", assignee_ids=[odd, "bob@example.com"], seed=1)
    view = PartitionView(task)
    assert bytes(view.partition_chart.value).startswith(b"\x89PNG")
    board = TaskBoard(dataset.store)
    board.open_box.value = task.id
    fig = __import__("dltasks.plots", fromlist=["plot_partition"]).plot_partition(task.partition())
    fig.savefig(io.BytesIO(), format="png")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == r"ann\$x^\$@example.com"
