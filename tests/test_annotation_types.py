"""Tasks of every annotation type, end to end on every backend (the ``store`` fixture: SQLite, a
live server, PostgreSQL when configured): definitions checked, answers stored exactly, replaced
whole, withdrawn, shown in the long answers frame, and refused with nothing written."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import dltasks as dl
from conftest import snapshot_rows


@pytest.fixture
def images(store):
    """A dataset 'street' (labels car, bus, bike) with 4 images of 100 x 80 pixels and one of unknown size."""
    ds = store.datasets.create("street", labels=["car", "bus", "bike"])
    sized = [{"system": {"width": 100, "height": 80}}] * 4 + [None]
    ds.items.import_df(pd.DataFrame({"name": [f"s{i}.jpg" for i in range(5)], "metadata": sized}))
    return ds


def make_task(ds, annotation_type, **options):
    options.setdefault("assignee_ids", ["ann", "bob"])
    options.setdefault("worker_strategy", "full")
    return ds.tasks.create(f"{annotation_type} task", annotation_type=annotation_type, **options)


def test_a_box_task_stores_each_workers_boxes_exactly(store, images):
    task = make_task(images, "box")
    assert (task.annotation_type, task.iou_threshold, task.unmatched) == ("box", 0.5, "outvoted")
    assert store.tasks.get(task.id).annotation_type == "box"
    assert task.submit(1, "ann", annotations=[dl.Box(10, 20, 50, 60, "car"), dl.Box(0.5, 1.25, 99.5, 80, "bus")]) \
        == "pending"
    assert task.submit(1, "bob", annotations=[]) == "completed"  # "nothing here" is an answer
    df = task.labels_df()
    assert list(df.columns) == ["item_id", "worker", "kind", "label", "left", "top", "right", "bottom", "geo", "text",
                                "seconds"]
    assert df[["item_id", "worker", "kind", "label", "left", "top", "right", "bottom"]].iloc[:2].values.tolist() == [
        [1, "ann", "box", "car", 10.0, 20.0, 50.0, 60.0], [1, "ann", "box", "bus", 0.5, 1.25, 99.5, 80.0]]
    assert df.loc[2, ["item_id", "worker", "kind"]].tolist() == [1, "bob", "none"]
    assert df.loc[2, "label"] is None and df.loc[2, ["left", "top", "right", "bottom"]].isna().all()
    assert df["item_id"].dtype == np.int64


def test_one_submission_replaces_the_workers_whole_answer_and_the_history_keeps_the_old_one(store, images):
    task = make_task(images, "box", assignee_ids=["ann"])
    task.submit(2, "ann", annotations=[dl.Box(1, 1, 9, 9, "car"), dl.Box(20, 20, 40, 40, "bus")])
    with pytest.raises(dl.ConflictError, match="replace=True"):
        task.submit(2, "ann", annotations=[dl.Box(1, 1, 5, 5, "bike")])
    task.submit(2, "ann", annotations=[dl.Box(1, 1, 5, 5, "bike")], replace=True)
    assert task.labels_df()[["label", "right"]].values.tolist() == [["bike", 5.0]]
    history = task.history_df(2)
    assert history["action"].tolist() == ["submit", "replace"]
    before = json.loads(history.iloc[1]["before"])
    assert [(d["label"], d["geo"]) for d in before] == [("car", [[1, 1], [9, 9]]), ("bus", [[20, 20], [40, 40]])]
    assert json.loads(history.iloc[1]["after"]) == [{"kind": "box", "label": "bike", "geo": [[1, 1], [5, 5]]}]
    assert task.retract(2, "ann") == "pending"
    assert task.labels_df().empty
    assert task.history_df(2)["action"].tolist() == ["submit", "replace", "retract"]


def test_polygon_multi_class_and_text_tasks(store, images):
    poly = make_task(images, "polygon")
    poly.submit(1, "ann", annotations=[dl.Polygon([[10, 10], [50, 10], [30, 40]], "bike")])
    assert poly.labels_df()[["kind", "label", "geo"]].values.tolist() == [
        ["polygon", "bike", [[10.0, 10.0], [50.0, 10.0], [30.0, 40.0]]]]

    multi = make_task(images, "multi_class")
    multi.submit(1, "ann", annotations=[dl.Classification("car"), dl.Classification("bike")])
    multi.submit(1, "bob", annotations=[])
    assert multi.labels_df()[["worker", "kind", "label"]].values.tolist() == [
        ["ann", "class", "car"], ["ann", "class", "bike"], ["bob", "none", None]]

    text = make_task(images, "text")
    assert text.submit(1, "ann", annotations=[dl.FreeText("A red car")]) == "pending"
    assert text.labels_df()[["kind", "label", "text"]].values.tolist() == [["text", None, "A red car"]]


def test_a_class_task_takes_a_label_or_one_classification(store, images):
    task = make_task(images, "class")
    task.submit(1, "ann", "car")
    task.submit(1, "bob", annotations=[dl.Classification("bus")])
    assert list(task.labels_df().columns) == ["item_id", "worker", "label", "seconds"]
    assert task.labels_df()["label"].tolist() == ["car", "bus"]


@pytest.mark.parametrize("annotation_type, answer, field, message", [
    ("box", [dl.Box(10, 10, 120, 50, "car")], "annotations", "outside the image (0 to 100 pixels wide)"),
    ("box", [dl.Box(10, 10, 50, 50, "truck")], "label", "is not one of this task's labels"),
    ("box", [dl.Polygon([[1, 1], [5, 1], [5, 5]], "car")], "annotations", "takes box annotations, not polygon"),
    ("polygon", [dl.Polygon([[1, 1], [5, 1], [1, 1]], "car")], "annotations", "at least 3 distinct points"),
    ("polygon", [dl.Polygon([[1, 1], [5, 1], [5, 90]], "car")], "annotations", "y = 90 outside the image"),
    ("multi_class", [dl.Classification("car"), dl.Classification("car")], "label", "gives a label twice"),
    ("class", [], "annotations", "exactly one label"),
    ("text", [dl.FreeText("a"), dl.FreeText("b")], "annotations", "exactly one text"),
])
def test_a_bad_answer_names_what_is_wrong_and_writes_nothing(store, images, annotation_type, answer, field, message):
    task = make_task(images, annotation_type)
    before = snapshot_rows(store)
    with pytest.raises(dl.ValidationError, match=re.escape(message)) as err:
        task.submit(1, "ann", annotations=answer)
    assert err.value.field == field
    assert snapshot_rows(store) == before


def test_a_bad_definition_is_refused_where_it_is_made():
    with pytest.raises(dl.ValidationError, match="finite numbers"):
        dl.Box(float("nan"), 5, 6, 9, "car")
    with pytest.raises(dl.ValidationError, match="numbers"):
        dl.Box("1", 5, 6, 9, "car")
    with pytest.raises(dl.ValidationError, match=r"\[x, y\] pairs"):
        dl.Polygon([[1, 2, 3]], "car")


@pytest.mark.parametrize("annotation_type, definition, message", [
    ("box", dl.Box(5, 5, 5, 9, "car"), "positive area"),
    ("text", dl.FreeText("   "), "non-empty string"),
    ("box", dl.Box(1, 1, 9, 9, " "), "non-empty string"),
])
def test_a_bad_definition_is_refused_at_submit(store, images, annotation_type, definition, message):
    task = make_task(images, annotation_type)
    before = snapshot_rows(store)
    with pytest.raises(dl.ValidationError, match=message):
        task.submit(1, "ann", annotations=[definition])
    assert snapshot_rows(store) == before


def test_a_box_on_an_image_of_unknown_size_is_only_checked_for_its_own_shape(store, images):
    task = make_task(images, "box", assignee_ids=["ann"])
    assert task.submit(5, "ann", annotations=[dl.Box(0, 0, 5000, 4000, "car")]) == "completed"
    assert images.items.get(item_id=5).width is None
    assert images.items.get(item_id=1).width == 100.0


def test_the_annotation_type_cannot_change_once_workers_answered(store, images):
    task = make_task(images, "box")
    task.annotation_type = "polygon"
    assert task.update().annotation_type == "polygon"  # nobody answered yet
    task.submit(1, "ann", annotations=[dl.Polygon([[1, 1], [5, 1], [5, 5]], "car")])
    task.annotation_type = "box"
    with pytest.raises(dl.ValidationError, match="once workers have answered") as err:
        task.update()
    assert err.value.field == "annotation_type"
    assert store.tasks.get(task.id).annotation_type == "polygon"


@pytest.mark.parametrize("option, value", [("annotation_type", "boxes"), ("iou_threshold", 0),
                                           ("iou_threshold", 1.5), ("unmatched", "ignore")])
def test_bad_task_options_are_named(store, images, option, value):
    before = snapshot_rows(store)
    with pytest.raises(dl.ValidationError) as err:
        images.tasks.create("t", **{option: value})
    assert err.value.field == option and err.value.value == value
    assert snapshot_rows(store) == before


def test_workers_see_only_their_own_shapes_and_reviewers_see_all(store, images):
    task = make_task(images, "box", review_strategy="manual", reviewer_ids=["rev"])
    task.submit(1, "ann", annotations=[dl.Box(1, 1, 9, 9, "car")])
    task.submit(1, "bob", annotations=[dl.Box(2, 2, 8, 8, "bus")])
    assert store.ops.labels_frame(task.id, viewer="bob")[["worker", "label"]].values.tolist() == [["bob", "bus"]]
    assert store.ops.labels_frame(task.id, viewer="rev")["worker"].tolist() == ["ann", "bob"]
    assert store.ops.labels_frame(task.id, offset=1, limit=1)["worker"].tolist() == ["bob"]
    assert task.status_counts().to_dict() == {"awaiting_review": 1, "pending": 4}


def test_a_correction_label_applies_to_class_tasks_only(store, images):
    task = make_task(images, "box", review_strategy="manual", reviewer_ids=["rev"], assignee_ids=["ann"])
    task.submit(1, "ann", annotations=[dl.Box(1, 1, 9, 9, "car")])
    with pytest.raises(dl.ValidationError, match="applies to class tasks") as err:
        task.review(1, "rev", label="bus")
    assert err.value.field == "label"
    assert task.review(1, "rev") == "approved"
    with pytest.raises(dl.ConflictError, match="approved by rev"):
        task.submit(1, "ann", annotations=[], replace=True)

