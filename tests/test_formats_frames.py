"""The formats' shared part: the answers frame checked, items' file names, files matched to items.

Also the sample every format test uses (:func:`sample_items`, :func:`shape_answers`,
:func:`all_answers`) and :func:`assert_same_answers`.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dltasks.errors import ValidationError
from dltasks.formats import ANSWER_COLUMNS, answers_from_rows, answers_table, items_table, match_files
from dltasks.formats.frames import polygon_area

LABELS = ["cat", "dog", "bird"]


def sample_items() -> pd.DataFrame:
    """Four items: two named a.jpg in different folders, one without a known size."""
    return pd.DataFrame({"item_id": [1, 2, 3, 4], "name": ["a.jpg", "b.png", "a.jpg", "d.jpg"],
                         "dir": ["/", "/train", "/train", "/"],
                         "width": [100, 64, 640, None], "height": [80, 48, 480, None]})


def shape_answers(polygons: bool = True) -> pd.DataFrame:
    """Boxes (and polygons) from three workers, one worker's empty answer."""
    rows: list[dict[str, Any]] = [
        {"item_id": 1, "worker": "ann", "kind": "box", "label": "dog", "left": 10, "top": 20, "right": 40, "bottom": 60},
        {"item_id": 1, "worker": "ann", "kind": "box", "label": "cat", "left": 50.5, "top": 10.25, "right": 99,
         "bottom": 79.5},
        {"item_id": 1, "worker": "bo", "kind": "polygon", "label": "cat", "geo": [[0, 0], [50, 0], [50, 40], [10, 30]]},
        {"item_id": 2, "worker": "ann", "kind": "polygon", "label": "dog", "geo": [[8, 4], [40, 4], [40, 36], [8, 36]]},
        {"item_id": 2, "worker": "bo", "kind": "none"},
        {"item_id": 3, "worker": "ann", "kind": "box", "label": "cat", "left": 0, "top": 0, "right": 640, "bottom": 480},
        {"item_id": 3, "worker": "cy", "kind": "box", "label": "dog", "left": 100.123456789, "top": 200.987654321,
         "right": 300.5, "bottom": 400.25},
        {"item_id": 3, "worker": "cy", "kind": "polygon", "label": "bird",
         "geo": [[1.1, 2.2], [333.3, 4.4], [200.05, 470.123]]},
    ]
    return answers_from_rows(r for r in rows if polygons or r["kind"] != "polygon")


def all_answers() -> pd.DataFrame:
    """The shapes plus labels (several from one worker), free texts and empty answers on item 4."""
    extra = answers_from_rows([
        {"item_id": 4, "worker": "ann", "kind": "class", "label": "cat"},
        {"item_id": 4, "worker": "ann", "kind": "class", "label": "dog"},
        {"item_id": 4, "worker": "bo", "kind": "text", "text": 'a cat, "maybe"\nNA; ünïcode'},
        {"item_id": 4, "worker": "bo", "kind": "class", "label": "bird"},
        {"item_id": 4, "worker": "cy", "kind": "none"},
    ])
    return pd.concat([shape_answers(), extra], ignore_index=True)


def assert_same_answers(got: pd.DataFrame, expected: pd.DataFrame, rel: float = 1e-6) -> None:
    """The same rows in any order: exact item, worker, kind, label, text; numbers within ``rel``."""
    assert list(got.columns) == list(ANSWER_COLUMNS)
    a, b = _sorted(got), _sorted(expected)
    assert len(a) == len(b), (a, b)
    for col in ("item_id", "worker", "kind", "label", "text"):
        assert a[col].tolist() == b[col].tolist(), col
    for col in ("left", "top", "right", "bottom"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=rel, atol=1e-9)
    for geo_a, geo_b in zip(a["geo"], b["geo"]):
        assert (geo_a is None) == (geo_b is None)
        if geo_a is not None:
            np.testing.assert_allclose(np.array(geo_a), np.array(geo_b), rtol=rel, atol=1e-9)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a fixed order: by item, worker, kind, label, text and the first coordinate (to 3 places)."""
    keys = [str((r.item_id, r.worker, r.kind, r.label or "", r.text or "",
                 "" if r.geo is None else f"{r.geo[0][0]:.3f}", -1.0 if math.isnan(r.left) else round(r.left, 3)))
            for r in frame.itertuples(index=False)]
    return frame.assign(_k=keys).sort_values("_k").drop(columns="_k").reset_index(drop=True)


def test_answers_table_takes_the_frames_the_sdk_gives() -> None:
    # dataset.annotations.to_df(): author for worker, more columns
    store_frame = all_answers().rename(columns={"worker": "author"}).assign(id=range(13), task_id="t")
    table = answers_table(store_frame)
    assert list(table.columns) == list(ANSWER_COLUMNS)
    assert table["worker"].tolist() == all_answers()["worker"].tolist()
    assert table["item_id"].dtype == "int64" and table["left"].dtype == "float64"
    # a class task's labels_df: item_id, worker, label
    classes = answers_table(pd.DataFrame({"item_id": [1, 2], "worker": ["ann", "bo"], "label": ["cat", "dog"]}))
    assert classes[["kind", "label"]].values.tolist() == [["class", "cat"], ["class", "dog"]]
    # geo as JSON text (a CSV read by hand)
    poly = answers_table(pd.DataFrame({"item_id": [1], "worker": ["a"], "kind": ["polygon"], "label": ["cat"],
                                       "geo": ["[[0, 0], [2, 0], [2, 2]]"]}))
    assert poly["geo"].iloc[0] == [[0.0, 0.0], [2.0, 0.0], [2.0, 2.0]]


@pytest.mark.parametrize("row, field", [
    ({"kind": "square", "label": "cat"}, "kind"),
    ({"kind": "box", "label": "cat", "left": 5, "top": 0, "right": 5, "bottom": 3}, "left, top, right, bottom"),
    ({"kind": "box", "label": "cat", "left": 0, "top": 0, "right": float("inf"), "bottom": 3},
     "left, top, right, bottom"),
    ({"kind": "box", "left": 0, "top": 0, "right": 1, "bottom": 3}, "label"),
    ({"kind": "polygon", "label": "cat", "geo": [[0, 0], [1, 1], [0, 0]]}, "geo"),
    ({"kind": "polygon", "label": "cat", "geo": [[0, 0], [1, "a"], [2, 0]]}, "geo"),
    ({"kind": "polygon", "label": "cat", "geo": "not json"}, "geo"),
    ({"kind": "text", "text": None}, "text"),
    ({"kind": "class", "label": "cat", "worker": ""}, "worker"),
])
def test_bad_rows_are_refused_by_field_and_row(row: dict[str, Any], field: str) -> None:
    frame = pd.DataFrame([{"item_id": 1, "worker": "ann", "kind": "class", "label": "cat"}, {"item_id": 2,
                          "worker": "ann", **row}])
    with pytest.raises(ValidationError) as err:
        answers_table(frame)
    assert err.value.field == field and "row 1" in str(err.value)


def test_a_frame_without_item_or_worker_is_refused() -> None:
    with pytest.raises(ValidationError, match="'worker'"):
        answers_table(pd.DataFrame({"item_id": [1], "label": ["cat"]}))
    with pytest.raises(ValidationError, match="DataFrame"):
        answers_table([{"item_id": 1}])


def test_items_table_from_the_store_frame_and_from_a_plain_frame() -> None:
    store_like = pd.DataFrame({"id": [1, 2], "name": ["a.jpg", "c.png"], "dir": ["/", "/b"],
                               "filename": ["/a.jpg", "/b/c.png"], "path": ["/x/a.jpg", None]})
    t = items_table(store_like)
    assert t[["item_id", "name", "file_name", "path"]].values.tolist() == [[1, "a.jpg", "a.jpg", "/x/a.jpg"],
                                                                             [2, "c.png", "b/c.png", None]]
    assert t["width"].isna().all()
    sized = items_table(sample_items())
    assert sized["file_name"].tolist() == ["a.jpg", "train/b.png", "train/a.jpg", "d.jpg"]
    assert sized["width"].tolist()[:3] == [100.0, 64.0, 640.0] and math.isnan(sized["width"].iloc[3])
    with pytest.raises(ValidationError, match="item ids must be distinct"):
        items_table(pd.DataFrame({"id": [1, 1], "name": ["a", "b"]}))
    with pytest.raises(ValidationError, match="'item_id'"):
        items_table(pd.DataFrame({"name": ["a"]}))


def test_files_are_matched_by_path_then_path_in_the_dataset_then_base_name() -> None:
    items = items_table(sample_items().assign(path=["/photos/one.jpg", None, None, None]))
    assert match_files(["/photos/one.jpg", "a.jpg", "/a.jpg", "train/a.jpg", "/mnt/export/train/a.jpg", "b.png",
                        "C:\\data\\b.png", "https://host/img/d.jpg?x=1",
                        "http://h/data/local-files/?d=train%2Fa.jpg"], items) == {
        "/photos/one.jpg": 1, "a.jpg": 1, "/a.jpg": 1, "train/a.jpg": 3, "/mnt/export/train/a.jpg": 3,
        "b.png": 2, "C:\\data\\b.png": 2, "https://host/img/d.jpg?x=1": 4,
        "http://h/data/local-files/?d=train%2Fa.jpg": 3}
    with pytest.raises(ValidationError) as err:
        match_files(["nothing.jpg"], items)
    assert (err.value.field, err.value.value) == ("file_name", "nothing.jpg")
    two = items_table(pd.DataFrame({"id": [1, 2], "name": ["a.jpg", "a.jpg"], "dir": ["/x", "/y"]}))
    with pytest.raises(ValidationError, match=r"2 items have this base name.*'/x/a.jpg', '/y/a.jpg'"):
        match_files(["other/a.jpg"], two)


def test_polygon_area_is_the_shoelace_area_either_way_round() -> None:
    square = [[0, 0], [2, 0], [2, 2], [0, 2]]
    assert polygon_area(square) == polygon_area(square[::-1]) == 4.0
    assert polygon_area([[0, 0], [50, 0], [50, 40], [10, 30]]) == 1550.0
