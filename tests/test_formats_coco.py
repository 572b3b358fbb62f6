"""COCO out and in: the export is read by pycocotools' own COCO class; export -> import is the same."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pycocotools.coco import COCO

from dltasks.errors import ValidationError
from dltasks.formats import answers_from_rows, from_coco, to_coco
from test_formats_frames import LABELS, all_answers, assert_same_answers, sample_items, shape_answers


def _written(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(data))
    return str(path)


# pycocotools 2.0.11's mask decoding under numpy >= 2.3 says so; the mask is right
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
def test_pycocotools_reads_categories_images_boxes_and_polygons(tmp_path: Path) -> None:
    coco = COCO(_written(tmp_path, to_coco(shape_answers(), sample_items(), LABELS)))
    assert [(c["id"], c["name"]) for c in coco.loadCats(coco.getCatIds())] == [(1, "cat"), (2, "dog"), (3, "bird")]
    assert coco.getCatIds(catNms=["dog"]) == [2]
    images = coco.loadImgs(coco.getImgIds())
    assert [(i["id"], i["file_name"], i["width"], i["height"]) for i in images] == [
        (1, "a.jpg", 100, 80), (2, "train/b.png", 64, 48), (3, "train/a.jpg", 640, 480), (4, "d.jpg", None, None)]

    first = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [(a["category_id"], a["bbox"], a["area"], a["segmentation"], a["iscrowd"], a["worker"]) for a in first] == [
        (2, [10.0, 20.0, 30.0, 40.0], 1200.0, [], 0, "ann"),
        (1, [50.5, 10.25, 48.5, 69.25], 48.5 * 69.25, [], 0, "ann"),
        (1, [0.0, 0.0, 50.0, 40.0], 1550.0, [[0.0, 0.0, 50.0, 0.0, 50.0, 40.0, 10.0, 30.0]], 0, "bo")]
    # COCO's own area filter and category index see the same numbers
    assert coco.getAnnIds(imgIds=[1], areaRng=[1500, 1600]) == [first[2]["id"]]
    assert len(coco.getAnnIds(catIds=[3])) == 1
    assert coco.getImgIds(catIds=[3]) == [3]

    # a polygon as pycocotools rasterises it: the 32 x 32 square on item 2's 64 x 48 image
    (square,) = coco.loadAnns(coco.getAnnIds(imgIds=[2]))
    mask = coco.annToMask(square)
    assert mask.shape == (48, 64) and mask.sum() == 32 * 32 == square["area"]
    assert mask[4:36, 8:40].all()
    # and the quadrilateral on item 1: its mask's area is its area to within the edge pixels
    quad = first[2]
    assert abs(int(coco.annToMask(quad).sum()) - quad["area"]) <= 10
    (dog_box,) = coco.loadAnns(coco.getAnnIds(imgIds=[3], catIds=[2]))
    assert dog_box["bbox"] == pytest.approx([100.123456789, 200.987654321, 200.376543211, 199.262345679])


def test_export_then_import_gives_the_same_shapes() -> None:
    answers = shape_answers()
    back = from_coco(json.loads(json.dumps(to_coco(answers, sample_items(), LABELS))), sample_items())
    # COCO has no empty answers: the "none" row is not written
    assert_same_answers(back, answers[answers["kind"] != "none"], rel=1e-12)


def test_import_takes_another_tools_file_names_and_workers() -> None:
    items = sample_items()
    data = {"images": [{"id": 10, "file_name": "/mnt/data/train/a.jpg"}, {"id": 11, "file_name": "b.png"},
                       {"id": 12, "file_name": "not-in-dataset.jpg"}],  # no annotations: ignored
            "categories": [{"id": 5, "name": "dog"}],
            "annotations": [
                {"id": 1, "image_id": 10, "category_id": 5, "bbox": [1, 2, 3, 4], "score": 0.9},
                {"id": 2, "image_id": 11, "category_id": 5, "bbox": [0, 0, 9, 9], "annotator": "ls-user",
                 "segmentation": [[0, 0, 9, 0, 9, 9], [20, 20, 30, 20, 30, 30, 20, 30]]}]}
    got = from_coco(data, items, author="model-7")
    assert got[["item_id", "worker", "kind", "label"]].values.tolist() == [
        [3, "model-7", "box", "dog"], [2, "ls-user", "polygon", "dog"], [2, "ls-user", "polygon", "dog"]]
    assert got.loc[0, ["left", "top", "right", "bottom"]].tolist() == [1.0, 2.0, 4.0, 6.0]
    assert got["geo"].iloc[2] == [[20.0, 20.0], [30.0, 20.0], [30.0, 30.0], [20.0, 30.0]]


@pytest.mark.parametrize("change, field", [
    (lambda d: d["annotations"][0].update(category_id=9), "category_id"),
    (lambda d: d["annotations"][0].update(image_id=99), "image_id"),
    (lambda d: d["images"][0].update(file_name="elsewhere.jpg"), "file_name"),
    (lambda d: d["annotations"][0].update(segmentation={"counts": "abc", "size": [8, 8]}, iscrowd=1), "segmentation"),
    (lambda d: d["annotations"][0].update(segmentation=[[1, 2, 3]]), "segmentation"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "bbox"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 0, 4]), "left, top, right, bottom"),
    (lambda d: d.update(annotations={"id": 1}), "annotations"),
])
def test_bad_coco_files_are_refused_by_field(change: Any, field: str) -> None:
    data = {"images": [{"id": 1, "file_name": "a.jpg"}], "categories": [{"id": 1, "name": "cat"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]}]}
    change(data)
    with pytest.raises(ValidationError) as err:
        from_coco(data, sample_items().iloc[:1])
    assert err.value.field == field


def test_export_refuses_what_coco_cannot_hold() -> None:
    with pytest.raises(ValidationError) as err:
        to_coco(all_answers(), sample_items(), LABELS)
    assert (err.value.field, err.value.value) == ("kind", "class")
    with pytest.raises(ValidationError) as err:
        to_coco(shape_answers(), sample_items(), ["cat", "dog"])
    assert (err.value.field, err.value.value) == ("label", "bird")
    with pytest.raises(ValidationError) as err:
        to_coco(shape_answers(), sample_items().iloc[:2], LABELS)
    assert (err.value.field, err.value.value) == ("item_id", 3)


def test_image_ids_are_positions_when_item_ids_are_not_numbers() -> None:
    answers = answers_from_rows([{"item_id": "x9", "worker": "a", "kind": "box", "label": "cat", "left": 1, "top": 1,
                              "right": 2, "bottom": 2}])
    coco = to_coco(answers, pd.DataFrame({"item_id": ["x1", "x9"], "name": ["p.jpg", "q.jpg"]}), ["cat"])
    assert [(i["id"], i["file_name"]) for i in coco["images"]] == [(1, "p.jpg"), (2, "q.jpg")]
    assert coco["annotations"][0]["image_id"] == 2
    assert np.isclose(coco["annotations"][0]["area"], 1.0)
