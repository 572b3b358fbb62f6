"""Annotations outside tasks: boxes, polygons and texts by hand, by dtlpy's builder and by import, with
free metadata; on every backend (the ``store`` fixture)."""
from __future__ import annotations

import pandas as pd
import pytest

import dltasks as dl
from conftest import snapshot_rows


@pytest.fixture
def item(store):
    ds = store.datasets.create("street", labels=["car", "bus"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
    return ds.items.get(item_id=1)


def test_create_with_a_definition_and_metadata_and_read_it_back(store, item):
    box = item.annotations.create(annotation_definition=dl.Box(1, 2, 30, 40, "car"), author="ann",
                                  metadata={"user": {"score": 0.75}})
    assert (box.type, box.label, box.author, box.metadata) == ("box", "car", "ann", {"user": {"score": 0.75}})
    assert box.annotation_definition == dl.Box(1, 2, 30, 40, "car")
    text = item.annotations.create(annotation_definition=dl.FreeText("two cars"))
    assert (text.type, text.label, text.text, text.author) == ("text", None, "two cars", "import")
    label = item.annotations.create(label="bus")
    assert (label.type, label.label, label.metadata) == ("class", "bus", {"user": {}})
    assert [a.type for a in item.annotations.list()] == ["box", "text", "class"]


def test_annotation_metadata_is_free_and_update_persists_it(store, item):
    a = item.annotations.create(annotation_definition=dl.Polygon([[0, 0], [9, 0], [9, 9]], "car"))
    a.metadata["user"]["checked"] = True
    a.metadata["user"]["note"] = {"by": "rev"}
    fresh = a.update()
    assert fresh.metadata["user"] == {"checked": True, "note": {"by": "rev"}}
    again = store.datasets.get(dataset_id=item.dataset_id).annotations.get(a.id)
    assert again.metadata["user"] == {"checked": True, "note": {"by": "rev"}}
    assert again.geo == [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0]]


def test_to_df_has_the_kind_the_geometry_and_the_metadata_flat(store, item):
    item.annotations.create(annotation_definition=dl.Box(1, 2, 30, 40, "car"), metadata={"user": {"score": 0.5}})
    item.annotations.create(annotation_definition=dl.Polygon([[0, 0], [9, 0], [9, 9]], "bus"))
    item.annotations.create(annotation_definition=dl.FreeText("hello"))
    df = store.datasets.get(dataset_id=item.dataset_id).annotations.to_df()
    assert list(df.columns) == ["id", "item_id", "kind", "label", "left", "top", "right", "bottom", "geo", "text",
                                "author", "task_id", "created_at", "metadata.user.score"]
    assert df["kind"].tolist() == ["box", "polygon", "text"]
    assert df.loc[0, ["label", "left", "top", "right", "bottom"]].tolist() == ["car", 1.0, 2.0, 30.0, 40.0]
    assert df.loc[1, "geo"] == [[0.0, 0.0], [9.0, 0.0], [9.0, 9.0]]
    assert df.loc[2, "text"] == "hello" and df.loc[2, "label"] is None
    assert df.loc[0, "metadata.user.score"] == 0.5 and pd.isna(df.loc[1, "metadata.user.score"])


def test_the_builder_uploads_all_or_nothing(store, item):
    builder = item.annotations.builder()
    builder.add(annotation_definition=dl.Box(left=1, top=2, right=30, bottom=40, label="car"))
    builder.add(annotation_definition=dl.Classification("bus"), metadata={"user": {"source": "model"}})
    uploaded = item.annotations.upload(builder)
    assert [(a.type, a.label) for a in uploaded] == [("box", "car"), ("class", "bus")]
    assert uploaded[1].metadata["user"] == {"source": "model"}
    with pytest.raises(dl.ValidationError, match="positive area"):
        builder.add(annotation_definition=dl.Box(5, 5, 1, 9, "car"))  # checked when added
    assert len(builder) == 2


def test_import_df_takes_the_long_frame_and_refuses_a_bad_row_whole(store, item):
    ds = store.datasets.get(dataset_id=item.dataset_id)
    frame = pd.DataFrame({"item_id": [1, 2, 2], "kind": ["box", "polygon", "text"], "label": ["car", "bus", None],
                          "left": [1.0, None, None], "top": [2.0, None, None], "right": [3.0, None, None],
                          "bottom": [4.0, None, None], "geo": [None, "[[0,0],[5,0],[5,5]]", None],
                          "text": [None, None, "hi"], "author": ["model", "model", "ann"]})
    assert ds.annotations.import_df(frame) == 3
    back = ds.annotations.to_df()
    assert back[["item_id", "kind", "label", "right", "text", "author"]].astype(object).fillna("-").values.tolist() == [
        [1, "box", "car", 3.0, "-", "model"], [2, "polygon", "bus", "-", "-", "model"], [2, "text", "-", "-", "hi", "ann"]]
    assert back.loc[1, "geo"] == [[0.0, 0.0], [5.0, 0.0], [5.0, 5.0]]
    before = snapshot_rows(store)
    bad = frame.assign(right=[0.5, None, None])
    with pytest.raises(dl.ValidationError, match="row 0: a box needs left < right"):
        ds.annotations.import_df(bad)
    assert snapshot_rows(store) == before
    # a round trip: what to_df gives, import_df takes
    assert ds.annotations.import_df(back) == 3
    assert len(ds.annotations.to_df()) == 6


def test_a_task_label_cannot_change_by_hand_but_its_metadata_can(store, item):
    ds = store.datasets.get(dataset_id=item.dataset_id)
    task = ds.tasks.create("t", assignee_ids=["ann"], annotation_type="box")
    task.submit(1, "ann", annotations=[dl.Box(1, 1, 5, 5, "car")])
    (a,) = ds.annotations.of_item(1)
    a.metadata["user"]["flag"] = "blurry"
    assert a.update().metadata["user"] == {"flag": "blurry"}
    a.label = "bus"
    with pytest.raises(dl.ConflictError, match="is a label of task"):
        a.update()
    assert ds.annotations.get(a.id).label == "car"


def test_annotations_outside_tasks_take_the_datasets_labels(store, item):
    ds = store.datasets.get(dataset_id=item.dataset_id)
    before = snapshot_rows(store)
    with pytest.raises(dl.ValidationError, match=r"is not one of the dataset's labels \['car', 'bus'\]") as err:
        item.annotations.create(annotation_definition=dl.Box(1, 1, 5, 5, "truck"))
    assert (err.value.field, err.value.value) == ("label", "truck")
    with pytest.raises(dl.ValidationError, match="dataset's labels"):
        ds.annotations.import_df(pd.DataFrame({"item_id": [1, 2], "label": ["car", "truck"]}))
    a = item.annotations.create(label="car")
    a.label = "truck"
    with pytest.raises(dl.ValidationError, match="dataset's labels"):
        a.update()
    assert snapshot_rows(store) != before and ds.annotations.get(a.id).label == "car"
    assert item.annotations.create(annotation_definition=dl.FreeText("any text")).text == "any text"
