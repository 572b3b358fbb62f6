"""YOLO detection labels: one text file per image, ``class cx cy w h`` normalised by the image size.

The folder holds ``classes.txt`` (the labels in order: line n is class n) and, for every item,
a ``.txt`` at the item's path in the dataset with the extension changed (``train/a.jpg`` ->
``train/a.txt``), empty when the image has no box.  YOLO has no workers: every box of the frame
is written, and boxes read back get one ``author``.

Examples
--------
>>> import pandas as pd, tempfile
>>> from dltasks.formats.frames import answers_from_rows
>>> boxes = answers_from_rows([{"item_id": 1, "worker": "import", "kind": "box", "label": "dog",
...                         "left": 10, "top": 20, "right": 40, "bottom": 60}])
>>> items = pd.DataFrame({"item_id": [1], "name": ["a.jpg"], "width": [100], "height": [80]})
>>> folder = tempfile.mkdtemp()
>>> [p.name for p in write_yolo(folder, boxes, items, ["cat", "dog"])]
['classes.txt', 'a.txt']
>>> open(f"{folder}/a.txt").read()
'1 0.25 0.5 0.3 0.5\\n'
>>> read_yolo(folder, items).equals(boxes)
True
"""
from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from dltasks.errors import ValidationError
from dltasks.formats.frames import (answers_from_rows, answers_table, check_items, check_labels, item_size,
                                    items_table, match_files, only_kinds)

__all__ = ["write_yolo", "read_yolo", "CLASSES_FILE"]

#: The file of class names, one a line, in a YOLO folder.
CLASSES_FILE = "classes.txt"


def _stem(path: str) -> str:
    root, _ = posixpath.splitext(path)
    return root


def _number(value: float) -> str:
    return format(value, ".12g")


def write_yolo(folder: str | Path, answers: pd.DataFrame, items: pd.DataFrame,
               labels: Sequence[str]) -> list[Path]:
    """Write ``classes.txt`` and one label file per item into ``folder``; return the paths written.

    Every item gets a file (empty without boxes).  A box on an image whose size is not known
    raises ``ValidationError`` naming the item; polygons, classes and texts are refused (YOLO
    holds boxes).  Two items whose files differ only by extension would share a label file
    and are refused too.

    >>> import pandas as pd, tempfile
    >>> from dltasks.formats.frames import answers_from_rows
    >>> box = answers_from_rows([{"item_id": 2, "worker": "a", "kind": "box", "label": "cat",
    ...                       "left": 1, "top": 1, "right": 2, "bottom": 2}])
    >>> write_yolo(tempfile.mkdtemp(), box, pd.DataFrame({"id": [2], "name": ["b.jpg"]}), ["cat"])
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: width, height: YOLO needs the image size of item 2 ('b.jpg'): set metadata['system']['width'] and ['height'] (got [nan, nan])
    """
    table = answers_table(answers)
    labels = check_labels(table, labels)
    item_table = items_table(items)
    boxes = only_kinds(table, ["box"], "YOLO", "coco, label_studio or csv")
    check_items(boxes, item_table)
    stems = item_table["file_name"].map(_stem)
    if stems.duplicated().any():
        raise ValidationError("two items would share a label file (same name but the extension)", "file_name",
                              item_table["file_name"][stems.duplicated(keep=False)].tolist())
    class_of = {label: i for i, label in enumerate(labels)}
    lines: dict[Any, list[str]] = {item_id: [] for item_id in item_table["item_id"]}
    item_of = {item["item_id"]: item for item in item_table.to_dict("records")}
    for row in boxes.itertuples(index=False):
        width, height = item_size(item_of[row.item_id], "YOLO")
        values = [(row.left + row.right) / 2 / width, (row.top + row.bottom) / 2 / height,
                  (row.right - row.left) / width, (row.bottom - row.top) / height]
        lines[row.item_id].append(" ".join([str(class_of[row.label])] + [_number(v) for v in values]))
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    classes = root / CLASSES_FILE
    classes.write_text("".join(f"{label}\n" for label in labels), encoding="utf-8")
    written = [classes]
    for item_id, stem in zip(item_table["item_id"], stems):
        path = root / f"{stem}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{line}\n" for line in lines[item_id]), encoding="utf-8")
        written.append(path)
    return written


def _parse_line(line: str, where: str, n_classes: int) -> tuple[int, list[float]]:
    parts = line.split()
    try:
        if len(parts) not in (5, 6):  # a sixth number is a model's confidence
            raise ValueError
        cls, values = int(parts[0]), [float(v) for v in parts[1:5]]
    except ValueError:
        raise ValidationError(f"{where}: a line is 'class cx cy w h' (an optional confidence after)", "line",
                              line) from None
    if not 0 <= cls < n_classes:
        raise ValidationError(f"{where}: no class has this number (classes 0..{n_classes - 1})", "class", cls)
    return cls, values


def read_yolo(folder: str | Path, items: pd.DataFrame, labels: Sequence[str] | None = None,
              author: str = "import") -> pd.DataFrame:
    """The boxes of a YOLO folder as the long answers frame (worker ``author``).

    Class names are ``labels`` when given, else the folder's ``classes.txt``.  Each label
    file is matched to an item by its path without extension (relative to ``folder``), then
    by its base name without extension (the rule of
    :func:`~dltasks.formats.frames.match_files`); a file that matches no item or several
    raises ``ValidationError`` naming it.  Empty files add nothing.

    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_text("0 0.5 0.5 1 1 0.93\\n")
    >>> items = pd.DataFrame({"item_id": [1], "name": ["a.png"], "width": [10], "height": [4]})
    >>> read_yolo(folder, items, ["cat"])[["label", "left", "top", "right", "bottom"]].values.tolist()
    [['cat', 0.0, 0.0, 10.0, 4.0]]
    """
    root = Path(folder)
    if not root.is_dir():
        raise ValidationError("no such folder", "folder", str(folder))
    if labels is None:
        classes = root / CLASSES_FILE
        if not classes.is_file():
            raise ValidationError(f"give the labels or a {CLASSES_FILE} in the folder", "labels", None)
        labels = [line.strip() for line in classes.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = list(labels)
    item_table = items_table(items)
    stem_items = item_table.assign(file_name=item_table["file_name"].map(_stem), name=item_table["name"].map(_stem),
                                   path=None)
    files = sorted(p for p in root.rglob("*.txt") if p.relative_to(root).as_posix() != CLASSES_FILE)
    relative = {_stem(p.relative_to(root).as_posix()): p for p in files}
    item_of = match_files(relative, stem_items)
    item_rows = {item["item_id"]: item for item in item_table.to_dict("records")}
    rows = []
    for stem, path in relative.items():
        item_id = item_of[stem]
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            cls, (cx, cy, w, h) = _parse_line(line, f"{path.name} line {n}", len(labels))
            width, height = item_size(item_rows[item_id], "YOLO")
            rows.append({"item_id": item_id, "worker": author, "kind": "box", "label": labels[cls],
                         "left": (cx - w / 2) * width, "top": (cy - h / 2) * height,
                         "right": (cx + w / 2) * width, "bottom": (cy + h / 2) * height})
    return answers_table(answers_from_rows(rows), "folder")
