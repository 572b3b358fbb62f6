"""COCO object detection JSON: boxes and polygons in, boxes and polygons out.

``images`` are the items (``file_name`` is the item's path in the dataset, ``train/a.jpg``;
``id`` the item id), ``categories`` the labels with ids 1..n in label order, and one
``annotation`` per box (``bbox`` [x, y, w, h], ``area`` w*h, ``segmentation`` []) or polygon
(``segmentation`` [[x1, y1, x2, y2, ...]], ``bbox`` its bounds, ``area`` by the shoelace
formula), ``iscrowd`` 0, and who drew it in ``worker`` (a field COCO tools ignore).

Examples
--------
>>> import pandas as pd
>>> from dltasks.formats.frames import answers_from_rows
>>> answers = answers_from_rows([{"item_id": 1, "worker": "ann", "kind": "box", "label": "dog",
...                           "left": 10, "top": 20, "right": 40, "bottom": 60}])
>>> items = pd.DataFrame({"item_id": [1], "name": ["a.jpg"], "width": [100], "height": [80]})
>>> coco = to_coco(answers, items, ["cat", "dog"])
>>> coco["annotations"]
[{'id': 1, 'image_id': 1, 'category_id': 2, 'bbox': [10.0, 20.0, 30.0, 40.0], 'area': 1200.0, 'segmentation': [], 'iscrowd': 0, 'worker': 'ann'}]
>>> from_coco(coco, items).equals(answers)
True
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from dltasks.errors import ValidationError
from dltasks.formats.frames import (answers_from_rows, answers_table, check_items, check_labels, items_table,
                                    match_files, only_kinds, polygon_area)

__all__ = ["to_coco", "from_coco", "coco_image_ids"]


def _number(value: float) -> int | float | None:
    """A size as JSON: whole numbers as ints, unknown as null."""
    if not math.isfinite(value):
        return None
    return int(value) if float(value).is_integer() else float(value)


def coco_image_ids(item_ids: Sequence[Any]) -> list[int]:
    """COCO image ids for items: the item ids when they are all integers, else 1..n in order.

    >>> coco_image_ids([5, 9]), coco_image_ids(["a", "b"])
    ([5, 9], [1, 2])
    """
    values = list(item_ids)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return [int(v) for v in values]
    return list(range(1, len(values) + 1))


def to_coco(answers: pd.DataFrame, items: pd.DataFrame, labels: Sequence[str]) -> dict[str, Any]:
    """A COCO dict (``images``, ``categories``, ``annotations``) of the boxes and polygons in ``answers``.

    ``answers`` is the long answers frame (``worker`` or ``author``), ``items`` the items to
    list as images (``item_id`` or ``id``, ``name`` and optional ``dir``/``filename``,
    ``width``, ``height``: an unknown size is written as null), ``labels`` the categories in
    order.  Class and text answers are refused (COCO has no place for them).

    >>> import pandas as pd
    >>> from dltasks.formats.frames import answers_from_rows
    >>> tri = answers_from_rows([{"item_id": 3, "worker": "bo", "kind": "polygon", "label": "cat",
    ...                       "geo": [[0, 0], [4, 0], [4, 3]]}])
    >>> coco = to_coco(tri, pd.DataFrame({"id": [3], "name": ["b.png"], "dir": ["/x"]}), ["cat"])
    >>> coco["images"], coco["categories"]
    ([{'id': 3, 'file_name': 'x/b.png', 'width': None, 'height': None}], [{'id': 1, 'name': 'cat', 'supercategory': ''}])
    >>> {k: coco["annotations"][0][k] for k in ("bbox", "area", "segmentation")}
    {'bbox': [0.0, 0.0, 4.0, 3.0], 'area': 6.0, 'segmentation': [[0.0, 0.0, 4.0, 0.0, 4.0, 3.0]]}
    """
    table = answers_table(answers)
    labels = check_labels(table, labels)
    item_table = items_table(items)
    shapes = only_kinds(table, ["box", "polygon"], "COCO", "label_studio or csv")
    check_items(shapes, item_table)
    image_ids = coco_image_ids(item_table["item_id"].tolist())
    image_of = dict(zip(item_table["item_id"], image_ids))
    images = [{"id": image_id, "file_name": file_name, "width": _number(width), "height": _number(height)}
              for image_id, file_name, width, height
              in zip(image_ids, item_table["file_name"], item_table["width"], item_table["height"])]
    category_of = {label: i + 1 for i, label in enumerate(labels)}
    annotations = []
    for n, row in enumerate(shapes.itertuples(index=False), start=1):
        if row.kind == "box":
            x, y, w, h = row.left, row.top, row.right - row.left, row.bottom - row.top
            segmentation: list[list[float]] = []
            area = w * h
        else:
            xs, ys = [p[0] for p in row.geo], [p[1] for p in row.geo]
            x, y, w, h = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
            segmentation = [[float(v) for point in row.geo for v in point]]
            area = polygon_area(row.geo)
        annotations.append({"id": n, "image_id": image_of[row.item_id], "category_id": category_of[row.label],
                            "bbox": [float(x), float(y), float(w), float(h)], "area": float(area),
                            "segmentation": segmentation, "iscrowd": 0, "worker": row.worker})
    categories = [{"id": i, "name": label, "supercategory": ""} for label, i in category_of.items()]
    return {"info": {"description": "exported by dltasks"}, "licenses": [], "images": images,
            "categories": categories, "annotations": annotations}


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValidationError("must be a list of objects", key, value)
    return value


def _polygons(segmentation: Any, n: int) -> list[list[list[float]]]:
    if isinstance(segmentation, dict):
        raise ValidationError(f"annotation {n}: RLE masks cannot be read; give polygons", "segmentation",
                              segmentation)
    if not isinstance(segmentation, list):
        raise ValidationError(f"annotation {n}: must be a list of polygons", "segmentation", segmentation)
    out = []
    for part in segmentation:
        if not isinstance(part, list) or len(part) % 2:
            raise ValidationError(f"annotation {n}: a polygon is a flat list [x1, y1, x2, y2, ...]",
                                  "segmentation", segmentation)
        out.append([[part[i], part[i + 1]] for i in range(0, len(part), 2)])
    return out


def _box(bbox: Any, n: int) -> dict[str, float]:
    if (not isinstance(bbox, list) or len(bbox) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox)):
        raise ValidationError(f"annotation {n}: a bbox is [x, y, width, height]", "bbox", bbox)
    x, y, w, h = (float(v) for v in bbox)
    return {"left": x, "top": y, "right": x + w, "bottom": y + h}


def from_coco(data: dict[str, Any], items: pd.DataFrame, author: str = "import") -> pd.DataFrame:
    """The long answers frame of a COCO dict, its images matched to ``items`` by file name.

    An annotation with a non-empty ``segmentation`` is a polygon (one row per part of a
    multi-part polygon), otherwise its ``bbox`` is a box.  Labels are the category names.
    The worker is the annotation's ``worker`` (or Label Studio's ``annotator``) field, else
    ``author``.  Images match items by :func:`~dltasks.formats.frames.match_files` (path,
    then path in the dataset, then base name); an annotated image that matches no item or
    several raises ``ValidationError`` naming it, images without annotations are ignored.
    RLE masks (``iscrowd`` 1) are refused.

    >>> import pandas as pd
    >>> data = {"images": [{"id": 7, "file_name": "/data/a.jpg"}], "categories": [{"id": 1, "name": "cat"}],
    ...         "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4]}]}
    >>> frame = from_coco(data, pd.DataFrame({"id": [4], "name": ["a.jpg"]}))
    >>> frame[["item_id", "worker", "kind", "label", "left", "top", "right", "bottom"]].values.tolist()
    [[4, 'import', 'box', 'cat', 1.0, 2.0, 4.0, 6.0]]
    """
    if not isinstance(data, dict):
        raise ValidationError("must be a COCO dict (images, categories, annotations)", "data", type(data).__name__)
    item_table = items_table(items)
    images = {image.get("id"): image for image in _list(data, "images")}
    names = {cat.get("id"): cat.get("name") for cat in _list(data, "categories")}
    annotations = _list(data, "annotations")
    for ann in annotations:
        if ann.get("image_id") not in images:
            raise ValidationError("no image has this id", "image_id", ann.get("image_id"))
        if not isinstance(images[ann["image_id"]].get("file_name"), str):
            raise ValidationError("every image needs a file_name", "file_name", images[ann["image_id"]])
        if names.get(ann.get("category_id")) is None:
            raise ValidationError("no category has this id", "category_id", ann.get("category_id"))
    item_of = match_files([images[a["image_id"]]["file_name"] for a in annotations], item_table)
    rows: list[dict[str, Any]] = []
    for n, ann in enumerate(annotations):
        base = {"item_id": item_of[images[ann["image_id"]]["file_name"]],
                "worker": ann.get("worker") or ann.get("annotator") or author,
                "label": names[ann["category_id"]]}
        polygons = _polygons(ann.get("segmentation") or [], n)
        if polygons:
            rows.extend({**base, "kind": "polygon", "geo": points} for points in polygons)
        else:
            rows.append({**base, "kind": "box", **_box(ann.get("bbox"), n)})
    return answers_table(answers_from_rows(rows), "data")
