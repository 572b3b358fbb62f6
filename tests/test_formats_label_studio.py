"""Label Studio JSON out and in: Label Studio's own converter turns the export into COCO (read by
pycocotools), and export -> import gives the same answers."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from label_studio_sdk.converter.utils import parse_config  # what the Converter reads the config with
from label_studio_sdk.converter import Converter
from PIL import Image
from pycocotools.coco import COCO

from dltasks.errors import ValidationError
from dltasks.formats import from_coco, from_label_studio, label_studio_config, to_coco, to_label_studio
from test_formats_frames import LABELS, all_answers, assert_same_answers, sample_items, shape_answers


def _items_on_disk(tmp_path: Path) -> pd.DataFrame:
    """The sample items with real image files of their sizes (item 4 has none)."""
    items = sample_items()
    paths: list[str | None] = []
    for item in items.itertuples():
        if pd.isna(item.width):
            paths.append(None)
            continue
        path = tmp_path / "images" / item.dir.strip("/") / item.name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (int(item.width), int(item.height))).save(path)
        paths.append(str(path))
    return items.assign(path=paths)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # inside label-studio-sdk and pycocotools
def test_label_studios_converter_makes_the_same_coco(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items_on_disk(tmp_path)
    answers = all_answers()
    tasks_file = tmp_path / "tasks.json"
    tasks_file.write_text(json.dumps(to_label_studio(answers, items, LABELS)))
    config = label_studio_config(LABELS, ["box", "polygon", "multi_class", "text"])
    monkeypatch.setenv("LABEL_STUDIO_FORCE_ANNOTATOR_EXPORT", "1")  # the converter then writes each annotator
    Converter(config, project_dir=str(tmp_path), download_resources=False).convert(
        str(tasks_file), str(tmp_path / "out"), "COCO", is_dir=False)

    coco = COCO(str(tmp_path / "out" / "result.json"))
    assert [(c["id"], c["name"]) for c in coco.loadCats(coco.getCatIds())] == [(1, "cat"), (2, "dog"), (3, "bird")]
    converted = coco.dataset
    # Label Studio's images are the files themselves, one entry per annotation, sized from the file;
    # item 4 has no file (an image of unknown size in the converter's cache folder)
    assert {(i["file_name"], i["width"], i["height"]) for i in converted["images"] if i["width"]} == {
        (items.path[0], 100, 80), (items.path[1], 64, 48), (items.path[2], 640, 480)}
    assert all(i["file_name"].endswith("d.jpg") for i in converted["images"] if not i["width"])
    shapes = answers[answers["kind"].isin(["box", "polygon"])]
    ours = {a["id"]: a for a in to_coco(shapes, items, LABELS)["annotations"]}
    assert len(converted["annotations"]) == len(ours) == 7
    by_worker_box = {(a["annotator"], tuple(round(v, 6) for v in a["bbox"])): a for a in converted["annotations"]}
    for mine in ours.values():
        theirs = by_worker_box[(mine["worker"], tuple(round(v, 6) for v in mine["bbox"]))]
        assert theirs["category_id"] == mine["category_id"]
        assert theirs["area"] == pytest.approx(mine["area"], rel=1e-9)
        assert len(theirs["segmentation"]) == len(mine["segmentation"])
        for a, b in zip(theirs["segmentation"], mine["segmentation"]):
            assert a == pytest.approx(b, rel=1e-9, abs=1e-9)
    # pycocotools rasterises the square polygon drawn on item 2 exactly
    (square,) = [a for a in converted["annotations"] if a["segmentation"] and a["bbox"][2] == pytest.approx(32)]
    assert coco.annToMask(square).sum() == 1024
    # and the converter's COCO reads back into the same shapes, with their workers
    assert_same_answers(from_coco(converted, items), answers[answers["kind"].isin(["box", "polygon"])])


def test_export_then_import_gives_the_same_answers_of_every_kind() -> None:
    answers = all_answers()
    tasks = json.loads(json.dumps(to_label_studio(answers, sample_items(), LABELS)))
    assert_same_answers(from_label_studio(tasks, sample_items()), answers)


def test_tasks_hold_one_annotation_per_worker_with_regions_in_percent() -> None:
    tasks = to_label_studio(all_answers(), sample_items().assign(path=["/p/a.jpg", None, None, None]))
    assert [(t["id"], t["data"]["image"]) for t in tasks] == [(1, "/p/a.jpg"), (2, "train/b.png"),
                                                              (3, "train/a.jpg"), (4, "d.jpg")]
    first = tasks[0]["annotations"]
    assert [(a["completed_by"], [r["type"] for r in a["result"]]) for a in first] == [
        ("ann", ["rectanglelabels", "rectanglelabels"]), ("bo", ["polygonlabels"])]
    box = first[0]["result"][0]
    assert (box["from_name"], box["to_name"], box["original_width"], box["original_height"]) == ("box", "image", 100, 80)
    assert box["value"] == {"x": 10.0, "y": 25.0, "width": 30.0, "height": 50.0, "rotation": 0,
                            "rectanglelabels": ["dog"]}
    assert first[1]["result"][0]["value"]["points"] == [[0.0, 0.0], [50.0, 0.0], [50.0, 50.0], [10.0, 37.5]]
    assert [(a["completed_by"], a["result"]) for a in tasks[1]["annotations"]][1] == ("bo", [])
    fourth = {a["completed_by"]: a["result"] for a in tasks[3]["annotations"]}
    assert [r["value"] for r in fourth["ann"]] == [{"choices": ["cat", "dog"]}]
    assert [r["value"] for r in fourth["bo"]] == [{"choices": ["bird"]}, {"text": ['a cat, "maybe"\nNA; ünïcode']}]
    assert fourth["cy"] == []


def test_shapes_need_the_image_size() -> None:
    moved = shape_answers().assign(item_id=lambda f: f["item_id"].replace(3, 4))
    with pytest.raises(ValidationError, match=r"image size of item 4 \('d.jpg'\)"):
        to_label_studio(moved, sample_items())
    with pytest.raises(ValidationError) as err:
        to_label_studio(shape_answers(), sample_items(), ["cat"])
    assert (err.value.field, err.value.value) == ("label", "dog")


def _task(*annotations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": 9, "data": {"image": "s3://bucket/train/b.png"}, "annotations": list(annotations), **extra}


def _box(x: float, label: str = "cat", **value: Any) -> dict[str, Any]:
    return {"type": "rectanglelabels", "original_width": 64, "original_height": 48,
            "value": {"x": x, "y": 50, "width": 25, "height": 50, "rectanglelabels": [label], **value}}


def test_import_reads_label_studios_own_files() -> None:
    items = sample_items()
    tasks = [
        _task({"completed_by": 7, "result": [_box(0)]},
              {"completed_by": {"id": 8, "email": "bo@x.org"}, "result": []},
              {"completed_by": {"id": 8, "email": "bo@x.org"}, "result": []},
              {"completed_by": 9, "was_cancelled": True, "result": [_box(10)]},
              {"result": [{"type": "labels", "value": {"x": 50, "y": 0, "width": 50, "height": 50,
                                                       "labels": ["dog", "bird"]}}]},
              predictions=[{"model_version": "yolo-v8", "result": [_box(75)]}]),
        {"data": {"img": "d.jpg"}, "annotations": [{"completed_by": 7, "result": []},
                                                   {"completed_by": 7, "result": [
                                                       {"type": "choices", "value": {"choices": ["cat"]}}]}]},
    ]
    got = from_label_studio(tasks, items, author="ls")
    assert got[["item_id", "worker", "kind", "label", "left", "right"]].fillna(-1).values.tolist() == [
        [2, "7", "box", "cat", 0.0, 16.0], [2, "bo@x.org", "none", -1, -1.0, -1.0],
        [2, "ls", "box", "dog", 32.0, 64.0], [2, "ls", "box", "bird", 32.0, 64.0],
        [4, "7", "class", "cat", -1.0, -1.0]]
    with_predictions = from_label_studio(tasks[0], items, predictions=True)
    assert with_predictions[with_predictions["worker"] == "yolo-v8"]["left"].tolist() == [48.0]


@pytest.mark.parametrize("result, field", [
    (_box(0, rotation=30), "rotation"),
    ({"type": "keypointlabels", "value": {"x": 1, "y": 1, "keypointlabels": ["cat"]}}, "type"),
    ({"type": "rectanglelabels", "value": {"x": 1, "rectanglelabels": ["cat"]}, "original_width": 9,
      "original_height": 9}, "value"),
    ({"type": "choices", "value": "cat"}, "value"),
])
def test_results_that_cannot_be_read_are_refused_by_field(result: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        from_label_studio([_task({"completed_by": 1, "result": [result]})], sample_items())
    assert err.value.field == field and "task 0 annotation 0" in str(err.value)


def test_tasks_whose_image_is_no_item_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        from_label_studio([{"data": {"image": "/upload/1/zebra.jpg"}, "annotations": []}], sample_items())
    assert (err.value.field, err.value.value) == ("file_name", "/upload/1/zebra.jpg")
    with pytest.raises(ValidationError, match="data needs the image"):
        from_label_studio([{"data": {"a": "x.jpg", "b": "y.jpg"}, "annotations": []}], sample_items())
    with pytest.raises(ValidationError, match="list of Label Studio tasks"):
        from_label_studio("tasks.json", sample_items())  # type: ignore[arg-type]


def test_the_config_is_one_label_studio_parses() -> None:
    parsed = parse_config(label_studio_config(LABELS, ["box", "polygon", "class", "text"]))
    assert {name: (tag["type"], tag["to_name"], tag["labels"]) for name, tag in parsed.items()} == {
        "box": ("RectangleLabels", ["image"], LABELS), "polygon": ("PolygonLabels", ["image"], LABELS),
        "class": ("Choices", ["image"], LABELS), "text": ("TextArea", ["image"], [])}
    assert parsed["box"]["labels_attrs"]["dog"]["category"] == "2"
    assert 'choice="multiple"' in label_studio_config(['a "quoted" & <odd> label'], ["multi_class"])
    assert parse_config(label_studio_config(['a "quoted" & <odd> label'], ["box"]))["box"]["labels"] == [
        'a "quoted" & <odd> label']
    with pytest.raises(ValidationError) as err:
        label_studio_config(LABELS, ["keypoint"])
    assert (err.value.field, err.value.value) == ("kinds", "keypoint")
