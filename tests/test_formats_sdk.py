"""Exports and imports through the SDK (``task.export``, ``dataset.export``,
``dataset.annotations.import_file``: :mod:`dltasks.exports`), on every backend: tasks of each type worked by several
workers, their consensus exported (COCO read back by pycocotools), every answer exported, and
files imported into a dataset (the store afterwards)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest
from pycocotools.coco import COCO

import dltasks as dl
from dltasks.errors import ValidationError
from dltasks.formats import answers_table, from_label_studio, read_yolo
from test_formats_frames import assert_same_answers

# pycocotools 2.0.11's mask decoding under numpy >= 2.3 says so; the masks are right
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

LABELS = ["car", "bus", "bike"]
WORKERS = ["ann", "bob", "cy"]


@pytest.fixture
def pictures(store: dl.Store) -> Any:
    """Four pictures: a.jpg and b.jpg (100 x 80), night/a.jpg (640 x 480), d.jpg (size unknown)."""
    ds = store.datasets.create("pictures", labels=LABELS)
    sizes: list[dict[str, Any]] = [{"width": 100, "height": 80}, {"width": 100, "height": 80},
                                   {"width": 640, "height": 480}, {}]
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg", "a.jpg", "d.jpg"], "dir": ["/", "/", "/night", "/"],
                                     "metadata": [{"system": s} for s in sizes]}))
    return ds


def _task(ds: Any, kind: str) -> Any:
    """Three workers per item; two who agree approve it."""
    return ds.tasks.create(kind, assignee_ids=WORKERS, workers_per_input=3, review_strategy="consensus",
                           approval_threshold=2, annotation_type=kind, reviewer_ids=["rev"])


def _box_task(ds: Any) -> Any:
    task = _task(ds, "box")
    # item 1: three cars a pixel apart and cy's bus, which the other two outvote
    assert task.submit(1, "cy", annotations=[dl.Box(12, 10, 52, 40, "car"), dl.Box(60, 10, 90, 30, "bus")]) \
        == "awaiting_consensus"
    task.submit(1, "ann", annotations=[dl.Box(10, 10, 50, 40, "car")])
    assert task.submit(1, "bob", annotations=[dl.Box(11, 10, 51, 40, "car")]) == "approved"
    # item 2: nothing to draw, say two workers; item 3: one worker so far
    task.submit(2, "ann", annotations=[])
    assert task.submit(2, "bob", annotations=[]) == "approved"
    task.submit(3, "ann", annotations=[dl.Box(100.25, 200.5, 300.75, 400.125, "bike")])
    return task


def test_box_consensus_to_coco_read_by_pycocotools(pictures: Any, tmp_path: Path) -> None:
    task = _box_task(pictures)
    path = task.export(tmp_path / "boxes.json", "coco")
    coco = COCO(str(path))
    assert [(c["id"], c["name"]) for c in coco.loadCats(coco.getCatIds())] == [(1, "car"), (2, "bus"), (3, "bike")]
    # the decided items only: item 3 awaits its other workers
    assert [(i["id"], i["file_name"], i["width"]) for i in coco.loadImgs(coco.getImgIds())] == [(1, "a.jpg", 100),
                                                                                              (2, "b.jpg", 100)]
    (car,) = coco.loadAnns(coco.getAnnIds())
    assert (car["image_id"], car["category_id"], car["bbox"], car["area"], car["worker"]) == (
        1, 1, [11.0, 10.0, 40.0, 30.0], 1200.0, "consensus")  # the per-coordinate median


def test_box_answers_to_label_studio_and_yolo(pictures: Any, tmp_path: Path) -> None:
    task = _box_task(pictures)
    tasks = json.loads(task.export(tmp_path / "all.json", "label_studio", what="all").read_text())
    assert [t["data"]["image"] for t in tasks] == ["a.jpg", "b.jpg", "night/a.jpg", "d.jpg"]
    assert [a["completed_by"] for a in tasks[0]["annotations"]] == ["ann", "bob", "cy"]
    items = pictures.items.to_df().assign(width=[100, 100, 640, None], height=[80, 80, 480, None])
    assert_same_answers(from_label_studio(tasks, items), answers_table(task.labels_df()))

    folder = task.export(tmp_path / "yolo", "yolo")
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt", "classes.txt"]
    assert (folder / "a.txt").read_text() == "0 0.31 0.3125 0.4 0.375\n" and (folder / "b.txt").read_text() == ""
    every = task.export(tmp_path / "yolo-all", "yolo", what="all")
    assert (every / "night" / "a.txt").read_text().startswith("2 ")
    assert len(read_yolo(every, items)) == 5


def test_polygon_consensus_to_coco_with_its_mask(pictures: Any, tmp_path: Path) -> None:
    task = _task(pictures, "polygon")
    square = [[8, 8], [40, 8], [40, 40], [8, 40]]
    task.submit(1, "ann", annotations=[dl.Polygon(geo=square, label="bus")])
    assert task.submit(1, "bob", annotations=[dl.Polygon(geo=[[8, 8], [40, 8], [40, 39], [8, 39]], label="bus")]) \
        == "approved"
    coco = COCO(str(task.export(tmp_path / "poly.json", "coco")))
    (bus,) = coco.loadAnns(coco.getAnnIds())
    assert bus["category_id"] == 2 and bus["bbox"][2] == 32.0 and bus["area"] in (32 * 32, 32 * 31)
    assert coco.annToMask(bus).sum() == bus["area"]
    with pytest.raises(ValidationError) as err:
        task.export(tmp_path / "poly-yolo", "yolo")
    assert (err.value.field, err.value.value) == ("kind", "polygon")


def test_multi_class_text_and_class_consensus(pictures: Any, tmp_path: Path) -> None:
    multi = _task(pictures, "multi_class")
    multi.submit(1, "ann", annotations=[dl.Classification("car"), dl.Classification("bus")])
    assert multi.submit(1, "bob", annotations=[dl.Classification("car"), dl.Classification("bus")]) == "approved"
    tasks = json.loads(multi.export(tmp_path / "multi.json", "label_studio").read_text())
    assert [(a["completed_by"], a["result"][0]["value"]) for a in tasks[0]["annotations"]] == [
        ("consensus", {"choices": ["bus", "car"]})]
    with pytest.raises(ValidationError) as err:
        multi.export(tmp_path / "multi-coco.json", "coco")
    assert (err.value.field, err.value.value) == ("kind", "class")

    text = _task(pictures, "text")
    text.submit(2, "ann", annotations=[dl.FreeText("A red  Car")])
    assert text.submit(2, "bob", annotations=[dl.FreeText("a red car")]) == "approved"
    rows = pd.read_csv(text.export(tmp_path / "text.csv", "csv"))
    assert rows[["item_id", "file_name", "worker", "kind", "text"]].values.tolist() == [
        [2, "b.jpg", "consensus", "text", "A red  Car"]]  # a worker's own words, not the normalised text

    classes = pictures.tasks.create("class", assignee_ids=WORKERS, workers_per_input=3, review_strategy="consensus",
                                    approval_threshold=2, reviewer_ids=["rev"])
    classes.submit(3, "ann", "bike")
    classes.submit(3, "bob", "bike")
    classes.submit(4, "cy", "car")
    agreed = pd.read_csv(classes.export(tmp_path / "class.csv", "csv"))
    assert agreed[["item_id", "file_name", "label"]].values.tolist() == [[3, "night/a.jpg", "bike"]]
    every = pd.read_csv(classes.export(tmp_path / "class-all.csv", "csv", what="all"))
    assert every[["item_id", "worker", "kind", "label"]].values.tolist() == [
        [3, "ann", "class", "bike"], [3, "bob", "class", "bike"], [4, "cy", "class", "car"]]


def _annotate(ds: Any) -> None:
    """Annotations of every kind, by hand, from two authors."""
    a, b, night, d = (ds.items.get(item_id=i) for i in (1, 2, 3, 4))
    a.annotations.create(annotation_definition=dl.Box(10, 20, 40, 60, "car"), author="ann")
    a.annotations.create(annotation_definition=dl.Polygon(geo=[[0, 0], [50, 0], [50, 40], [10, 30]], label="bus"),
                         author="bob")
    night.annotations.create(annotation_definition=dl.Box(100.123456789, 200.5, 300.25, 400.75, "bike"),
                             author="ann")
    d.annotations.create(annotation_definition=dl.Classification("car"), author="bob")
    d.annotations.create(annotation_definition=dl.FreeText("two cars, one \"parked\""), author="ann")
    b.annotations.create(label="bus", author="cy")


def _long(ds: Any) -> pd.DataFrame:
    return answers_table(ds.annotations.to_df())


@pytest.mark.parametrize("fmt, suffix", [("label_studio", ".json"), ("csv", ".csv"), ("coco", ".json"),
                                         ("yolo", "")])
def test_dataset_export_then_import_into_a_copy(store: dl.Store, pictures: Any, tmp_path: Path, fmt: str,
                                                suffix: str) -> None:
    _annotate(pictures)
    path = pictures.export(tmp_path / f"export{suffix}", fmt)
    copy = store.datasets.create("copy", labels=LABELS)
    copy.items.import_df(pictures.items.to_df(metadata="dict")[["name", "dir", "metadata"]])
    added = copy.annotations.import_file(path, fmt, author="from-file")
    expected = _long(pictures)
    kinds = {"coco": ["box", "polygon"], "yolo": ["box"]}.get(fmt)
    if kinds is not None:  # those formats hold shapes only; YOLO has no authors
        expected = expected[expected["kind"].isin(kinds)]
    if fmt == "yolo":
        expected = expected.assign(worker="from-file")
    assert added == len(expected)
    # the copy's items have ids of their own: the same file names
    same_item = {c: p for c, p in zip(copy.items.to_df()["id"], pictures.items.to_df()["id"])}
    assert_same_answers(_long(copy).assign(item_id=lambda f: f["item_id"].map(same_item)), expected)


def test_a_models_predictions_come_in_by_file_name(pictures: Any, tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "labels"
    (folder / "night").mkdir(parents=True)
    (folder / "night" / "a.txt").write_text("2 0.5 0.5 0.25 0.5 0.91\n")
    (folder / "b.txt").write_text("")
    assert pictures.annotations.import_file(folder, "yolo", author="yolo-v8") == 1  # no classes.txt: the labels
    frame = pictures.annotations.to_df()
    assert frame[["item_id", "kind", "label", "left", "top", "right", "bottom", "author"]].values.tolist() == [
        [3, "box", "bike", 240.0, 120.0, 400.0, 360.0, "yolo-v8"]]


def test_a_file_that_names_no_item_adds_nothing(pictures: Any, tmp_path: Path,
                                                unchanged: Callable[[], Any]) -> None:
    coco = {"images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "zebra.jpg"}],
            "categories": [{"id": 1, "name": "car"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
                            {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 2, 3, 4]}]}
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco))
    check = unchanged()
    with pytest.raises(ValidationError) as err:
        pictures.annotations.import_file(path, "coco")
    assert (err.value.field, err.value.value) == ("file_name", "zebra.jpg")
    coco["categories"][0]["name"] = "tram"  # not one of the dataset's labels
    coco["annotations"].pop()
    path.write_text(json.dumps(coco))
    with pytest.raises(ValidationError, match="tram"):
        pictures.annotations.import_file(path, "coco")
    with pytest.raises(ValidationError, match="no such file"):
        pictures.annotations.import_file(tmp_path / "missing.json", "coco")
    path.write_text("{not json")
    with pytest.raises(ValidationError, match="not JSON"):
        pictures.annotations.import_file(path, "label_studio")
    check()


def test_bad_format_and_what_are_refused(pictures: Any, tmp_path: Path) -> None:
    task = _task(pictures, "box")
    with pytest.raises(ValidationError) as err:
        task.export(tmp_path / "x", "pascal_voc")
    assert (err.value.field, err.value.value) == ("format", "pascal_voc")
    with pytest.raises(ValidationError) as err:
        task.export(tmp_path / "x", "coco", what="some")
    assert (err.value.field, err.value.value) == ("what", "some")
    with pytest.raises(ValidationError) as err:
        pictures.annotations.import_file(tmp_path, "voc")
    assert err.value.field == "format"
