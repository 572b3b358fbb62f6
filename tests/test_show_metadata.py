"""The task option ``show_metadata``: which ``metadata['user']`` keys workers and reviewers see.
On SQLite and through a live server (the ``store`` fixture)."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import dltasks as dl
from conftest import drop_column
from dltasks.domain.visibility import HIDDEN_METADATA, MAX_SHOWN_KEYS


@pytest.fixture
def shapes(store):
    ds = store.datasets.create("shapes", labels=["circle", "square"])
    ds.items.import_df(pd.DataFrame({
        "name": ["a.png", "b.png"], "user.truth": ["circle", "square"], "user.gold": [True, False],
        "user.prediction": ["circle", "circle"], "user.colour": ["red", "blue"], "user.camera.model": ["X", "Y"],
    }))
    return ds


def test_show_metadata_is_stored_read_back_listed_and_updated(store, shapes):
    task = shapes.tasks.create("t", assignee_ids=["ann"], show_metadata=["colour", "camera.model", "colour"], seed=1)
    assert task.show_metadata == ["colour", "camera.model"]  # each once, in order
    assert store.tasks.get(task.id).show_metadata == ["colour", "camera.model"]
    assert shapes.tasks.get(task_name="t").show_metadata == ["colour", "camera.model"]
    assert [t.show_metadata for t in store.tasks.list()] == [["colour", "camera.model"]]
    task.show_metadata = ["truth"]
    assert task.update().show_metadata == ["truth"]
    assert store.tasks.get(task.id).show_metadata == ["truth"]
    task.show_metadata = None
    assert task.update().show_metadata is None and store.tasks.get(task.id).show_metadata is None
    task.show_metadata = []
    assert store.tasks.get(task.update().id).show_metadata == []
    task.submit(1, "ann", "circle")
    qa = shapes.tasks.create_qa_task(task, assignee_ids=["rev"], show_metadata=["truth", "gold"])
    assert store.tasks.get(qa.id).show_metadata == ["truth", "gold"]


def test_by_default_workers_see_every_key_but_the_answers(store, shapes):
    task = store.tasks.get(shapes.tasks.create("t", assignee_ids=["ann"], seed=1).id)
    assert task.show_metadata is None
    item = shapes.items.get(item_id=1)
    assert set(item.metadata["user"]) >= {"truth", "gold", "prediction"}
    assert task.visible_metadata(item) == {"colour": "red", "camera": {"model": "X"}}
    assert not set(task.visible_metadata(item)) & set(HIDDEN_METADATA)
    chosen = shapes.tasks.create("c", assignee_ids=["ann"], show_metadata=["prediction", "camera.model", "nope"])
    assert chosen.visible_metadata(shapes.items.get(item_id=2)) == {"prediction": "circle", "camera.model": "Y"}
    assert shapes.tasks.create("none", assignee_ids=["ann"], show_metadata=[]).visible_metadata(item) == {}


@pytest.mark.parametrize("bad", ["colour", {"colour": 1}, [1], ["a..b"], [""], ["a.b\x00"], ['say"'], ["x" * 600],
                                 ["k"] * (MAX_SHOWN_KEYS + 1)], ids=repr)
def test_bad_show_metadata_is_refused_naming_the_field_and_nothing_is_written(store, shapes, unchanged, bad):
    task = shapes.tasks.create("t", assignee_ids=["ann"], seed=1)
    check = unchanged()
    with pytest.raises(dl.ValidationError) as info:
        shapes.tasks.create("bad", assignee_ids=["ann"], show_metadata=bad)
    assert info.value.field == "show_metadata"
    task.show_metadata = bad
    with pytest.raises(dl.ValidationError) as info:
        task.update()
    assert info.value.field == "show_metadata"
    check()


def test_the_server_checks_show_metadata_again(store, shapes, unchanged):
    """A spec that skipped the SDK's checks (sent by the raw backend) is refused at the trust boundary."""
    if store.local:
        pytest.skip("the trust boundary is the server's")
    from dltasks.domain.task_options import build_spec

    spec = dataclasses.replace(build_spec(task_name="raw", assignee_ids=["ann"], labels=["circle"], seed=1),
                               show_metadata=["a..b"])
    check = unchanged()
    with pytest.raises(dl.ValidationError) as info:
        store.backend.create_task(shapes.id, spec)
    assert (info.value.field, info.value.value) == ("show_metadata", "a..b")
    check()


def test_an_older_store_gets_the_show_metadata_column_when_opened(tmp_path):
    path = tmp_path / "old.db"
    s = dl.connect(path)
    task = s.datasets.create("d", labels=["cat"]).tasks.create("t")
    s.close()
    drop_column(path, "tasks", "show_metadata")  # what a store written before the column looks like
    s = dl.connect(path)
    old = s.tasks.get(task.id)
    assert old.show_metadata is None
    old.show_metadata = ["site"]
    assert s.tasks.get(old.update().id).show_metadata == ["site"]
    s.close()
