"""YOLO out and in: the files a YOLO trainer reads, and the same boxes back."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dltasks.errors import ValidationError
from dltasks.formats import read_yolo, write_yolo
from test_formats_frames import LABELS, assert_same_answers, sample_items, shape_answers


def test_one_file_per_image_with_normalised_boxes_and_a_classes_file(tmp_path: Path) -> None:
    written = write_yolo(tmp_path, shape_answers(polygons=False), sample_items(), LABELS)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "a.txt", "classes.txt", "d.txt", "train/a.txt", "train/b.txt"]
    assert (tmp_path / "classes.txt").read_text() == "cat\ndog\nbird\n"
    # item 1 is 100 x 80: dog (10, 20)-(40, 60), cat (50.5, 10.25)-(99, 79.5)
    assert (tmp_path / "a.txt").read_text().splitlines() == ["1 0.25 0.5 0.3 0.5",
                                                             "0 0.7475 0.5609375 0.485 0.865625"]
    assert (tmp_path / "train/b.txt").read_text() == ""  # an image without boxes (YOLO's background image)
    assert (tmp_path / "d.txt").read_text() == ""  # no size needed: nothing to normalise
    cls, *numbers = (tmp_path / "train/a.txt").read_text().splitlines()[1].split()
    assert cls == "1"
    assert [float(v) for v in numbers] == pytest.approx([(100.123456789 + 300.5) / 2 / 640,
                                                         (200.987654321 + 400.25) / 2 / 480,
                                                         (300.5 - 100.123456789) / 640,
                                                         (400.25 - 200.987654321) / 480], rel=1e-11)


def test_export_then_import_gives_the_same_boxes(tmp_path: Path) -> None:
    boxes = shape_answers(polygons=False)
    boxes = boxes[boxes["kind"] == "box"].assign(worker="import")
    write_yolo(tmp_path, boxes, sample_items(), LABELS)
    assert_same_answers(read_yolo(tmp_path, sample_items()), boxes, rel=1e-9)
    # the label list given wins over classes.txt
    renamed = read_yolo(tmp_path, sample_items(), ["kitten", "puppy", "chick"], author="model")
    assert sorted(set(renamed["label"])) == ["kitten", "puppy"] and set(renamed["worker"]) == {"model"}


def test_a_trainers_folder_layout_and_confidences_are_read(tmp_path: Path) -> None:
    labels = tmp_path / "labels" / "val"
    labels.mkdir(parents=True)
    (tmp_path / "classes.txt").write_text("cat\ndog\n\n")
    (labels / "b.txt").write_text("1 0.5 0.5 0.25 0.5 0.87\n\n0 0.25 0.25 0.5 0.5\n")
    got = read_yolo(tmp_path, sample_items())
    assert got[["item_id", "worker", "label", "left", "top", "right", "bottom"]].values.tolist() == [
        [2, "import", "dog", 24.0, 12.0, 40.0, 36.0], [2, "import", "cat", 0.0, 0.0, 32.0, 24.0]]


def test_bad_input_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as err:
        write_yolo(tmp_path, shape_answers(), sample_items(), LABELS)
    assert (err.value.field, err.value.value) == ("kind", "polygon")
    no_size = shape_answers(polygons=False).assign(item_id=lambda f: f["item_id"].replace(3, 4))
    with pytest.raises(ValidationError, match=r"image size of item 4 \('d.jpg'\)"):
        write_yolo(tmp_path, no_size, sample_items(), LABELS)
    twins = pd.DataFrame({"item_id": [1, 2], "name": ["a.jpg", "a.png"], "width": [9, 9], "height": [9, 9]})
    with pytest.raises(ValidationError, match="share a label file"):
        write_yolo(tmp_path, shape_answers().iloc[:0], twins, LABELS)

    (tmp_path / "classes.txt").write_text("cat\n")
    (tmp_path / "b.txt").write_text("3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ValidationError) as err:
        read_yolo(tmp_path, sample_items())
    assert (err.value.field, err.value.value) == ("class", 3) and "b.txt line 1" in str(err.value)
    (tmp_path / "b.txt").write_text("0 0.5 0.5 0.1\n")
    with pytest.raises(ValidationError, match="'class cx cy w h'"):
        read_yolo(tmp_path, sample_items())
    (tmp_path / "b.txt").unlink()
    (tmp_path / "zebra.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ValidationError) as err:
        read_yolo(tmp_path, sample_items())
    assert (err.value.field, err.value.value) == ("file_name", "zebra")
    (tmp_path / "zebra.txt").unlink()
    (tmp_path / "d.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    with pytest.raises(ValidationError, match="image size of item 4"):
        read_yolo(tmp_path, sample_items())
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValidationError, match="labels or a classes.txt"):
        read_yolo(tmp_path / "empty", sample_items())
    with pytest.raises(ValidationError, match="no such folder"):
        read_yolo(tmp_path / "missing", sample_items(), LABELS)
