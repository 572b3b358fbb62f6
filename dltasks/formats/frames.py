"""What every format shares: the long answers frame checked, items' file names, matching files to items.

The answers frame (the contract of issue 14) has one row per label, shape or text a worker gave:
``item_id, worker, kind, label, left, top, right, bottom, geo, text``.  :func:`answers_table`
accepts it as ``task.labels_df()`` or ``dataset.annotations.to_df()`` give it (``author`` for
``worker``; a class task's frame without ``kind``) and checks every row.

Examples
--------
>>> import pandas as pd
>>> table = answers_table(pd.DataFrame({"item_id": [1], "author": ["ann"], "kind": ["box"], "label": ["cat"],
...                                     "left": [1.0], "top": [2.0], "right": [3.0], "bottom": [4.0]}))
>>> table[["item_id", "worker", "kind", "label", "left", "bottom", "geo"]].values.tolist()
[[1, 'ann', 'box', 'cat', 1.0, 4.0, None]]
>>> items = items_table(pd.DataFrame({"id": [1, 2], "name": ["a.jpg", "a.jpg"], "dir": ["/x", "/y"]}))
>>> match_files(["y/a.jpg"], items)
{'y/a.jpg': 2}
>>> match_files(["/data/a.jpg"], items)
Traceback (most recent call last):
...
dltasks.errors.ValidationError: file_name: 2 items have this base name: give the folder too, as in the dataset ('/x/a.jpg', '/y/a.jpg') (got '/data/a.jpg')
"""
from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import numpy as np
import pandas as pd

from dltasks.domain.answers import ANSWER_COLUMNS, NONE_KIND
from dltasks.domain.shapes import KINDS as DEFINITION_KINDS
from dltasks.errors import ValidationError

__all__ = ["ANSWER_COLUMNS", "KINDS", "answers_from_rows", "answers_table", "items_table", "check_labels",
           "check_items", "only_kinds", "match_files", "file_key", "polygon_area", "item_size"]

#: What a row can be: a label, a box, a polygon, a free text, or a worker's empty answer.
KINDS = (*DEFINITION_KINDS, NONE_KIND)
_COORDS = ("left", "top", "right", "bottom")


def answers_from_rows(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """A long answers frame from row dicts (missing keys are None / NaN), with the contract's dtypes.

    >>> answers_from_rows([{"item_id": 7, "worker": "ann", "kind": "text", "text": "a cat"}]).to_dict("records")
    [{'item_id': 7, 'worker': 'ann', 'kind': 'text', 'label': None, 'left': nan, 'top': nan, 'right': nan, 'bottom': nan, 'geo': None, 'text': 'a cat'}]
    """
    records = [[row.get(col) for col in ANSWER_COLUMNS] for row in rows]
    frame = pd.DataFrame(records, columns=list(ANSWER_COLUMNS), dtype=object)
    for col in _COORDS:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    return _typed_ids(frame)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, bool) and math.isfinite(float(value))


def _geo(value: Any, row: int) -> list[list[float]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValidationError(f"row {row}: a polygon's geo must be a list of [x, y] points", "geo", value) from None
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"row {row}: a polygon's geo must be a list of [x, y] points", "geo", value)
    points: list[list[float]] = []
    for point in value:
        if (not isinstance(point, (list, tuple, np.ndarray)) or len(point) != 2
                or not all(_finite(v) for v in point)):
            raise ValidationError(f"row {row}: every polygon point must be [x, y] with finite numbers", "geo", value)
        points.append([float(point[0]), float(point[1])])
    if len({(x, y) for x, y in points}) < 3:
        raise ValidationError(f"row {row}: a polygon needs at least 3 distinct points", "geo", value)
    return points


def _fail(bad: Sequence[bool] | np.ndarray, values: Sequence[Any], message: str, field: str) -> None:
    """Raise for the first row where ``bad`` holds, naming the row and its value."""
    hits = np.flatnonzero(np.asarray(bad, dtype=bool))
    if len(hits):
        i = int(hits[0])
        raise ValidationError(f"row {i}: {message}", field, values[i])


def _text_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _no_text(values: pd.Series) -> np.ndarray:
    """Where a value is not a non-empty string (vectorised when every value is a string)."""
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return (values.isna() | (values.str.strip() == "")).to_numpy(dtype=bool)
    return np.array([not _text_ok(v) for v in values.tolist()], dtype=bool)


def _numbers(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """A coordinate column as floats (NaN where a row of ``rows`` holds no finite real number)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        out = column.to_numpy(dtype=float, na_value=np.nan, copy=True)
    else:
        out = np.array([float(v) if _finite(v) else np.nan for v in column.tolist()], dtype=float)
    out[~np.isfinite(out) & rows] = np.nan
    return out


def _checked_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Every row checked for its kind (vectorised but for polygons); the frame with exactly the contract's columns."""
    n = len(frame)
    empty = pd.Series([None] * n, index=frame.index, dtype=object)
    kinds = frame["kind"].tolist()
    _fail(~frame["kind"].isin(KINDS).to_numpy(), kinds, f"kind must be one of {', '.join(KINDS)}", "kind")
    kind = np.asarray(kinds, dtype=object)
    workers = frame["worker"].tolist()
    _fail(_no_text(frame["worker"]), workers, "every row needs a worker (a non-empty string)", "worker")
    _fail(frame["item_id"].isna().to_numpy(), frame["item_id"].tolist(), "every row needs an item_id", "item_id")
    label_column = frame["label"] if "label" in frame.columns else empty
    labels = label_column.tolist()
    labelled = np.isin(kind, ("class", "box", "polygon"))
    no_label = np.zeros(n, dtype=bool)
    no_label[labelled] = _no_text(label_column[labelled])
    _fail(no_label, labels, "a class, box or polygon needs a label", "label")
    box = kind == "box"
    coords = {c: _numbers(frame[c] if c in frame.columns else empty, box) for c in _COORDS}
    bad_box = box & (np.isnan(np.stack([coords[c] for c in _COORDS])).any(axis=0)
                     | ~((coords["left"] < coords["right"]) & (coords["top"] < coords["bottom"])))
    if bad_box.any():
        corners = [list(v) for v in zip(*(frame[c].tolist() if c in frame.columns else [None] * n for c in _COORDS))]
        _fail(box & np.isnan(np.stack([coords[c] for c in _COORDS])).any(axis=0), corners,
              "a box needs finite left, top, right, bottom", "left, top, right, bottom")
        _fail(bad_box, corners, "a box needs left < right and top < bottom", "left, top, right, bottom")
    geo: list[Any] = [None] * n
    if (kind == "polygon").any():
        geos = frame["geo"].tolist() if "geo" in frame.columns else [None] * n
        geo = [_geo(g, i) if k == "polygon" else None for i, (k, g) in enumerate(zip(kinds, geos))]
    texts = (frame["text"] if "text" in frame.columns else empty).tolist()
    is_text = kind == "text"
    if is_text.any():
        _fail(is_text & np.array([not isinstance(t, str) for t in texts], dtype=bool), texts,
              "a text answer needs its text", "text")
    out = pd.DataFrame({
        "item_id": frame["item_id"].to_numpy(), "worker": pd.Series(workers, dtype=object),
        "kind": pd.Series(kinds, dtype=object),
        "label": pd.Series(labels, dtype=object).where(labelled, None),
        **{c: np.where(box, coords[c], np.nan) for c in _COORDS},
        "geo": pd.Series(geo, dtype=object),
        "text": pd.Series(texts, dtype=object).where(is_text, None),
    })
    return _typed_ids(out)


def _typed_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Item ids as int64 when every one is a whole number (not a bool), as the store gives them."""
    ids = frame["item_id"]
    if len(ids) and ids.dtype != "int64" and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                 for v in ids.tolist()):
        frame["item_id"] = ids.astype("int64")
    return frame


def answers_table(answers: Any, field: str = "answers") -> pd.DataFrame:
    """The long answers frame checked row by row, with exactly :data:`ANSWER_COLUMNS`.

    ``author`` stands for ``worker`` (``dataset.annotations.to_df()``); a frame without ``kind``
    is a class task's (``item_id, worker, label``: every row a label).  Missing coordinate,
    ``geo`` or ``text`` columns are empty.  Bad rows raise ``ValidationError`` naming the row:

    >>> answers_table(pd.DataFrame({"item_id": [1], "worker": ["ann"], "label": ["cat"]})).kind.tolist()
    ['class']
    >>> answers_table(pd.DataFrame({"item_id": [1], "worker": ["ann"], "kind": ["polygon"], "label": ["cat"],
    ...                             "geo": [[[0, 0], [1, 1]]]}))
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: geo: row 0: a polygon needs at least 3 distinct points (got [[0, 0], [1, 1]])
    """
    if not isinstance(answers, pd.DataFrame):
        raise ValidationError("must be a pandas DataFrame", field, type(answers).__name__)
    frame = answers
    if "worker" not in frame.columns and "author" in frame.columns:
        frame = frame.rename(columns={"author": "worker"})
    for col in ("item_id", "worker"):
        if col not in frame.columns:
            raise ValidationError(f"the frame needs an '{col}' column", field, list(answers.columns))
    if "kind" not in frame.columns:
        if "label" not in frame.columns:
            raise ValidationError("the frame needs a 'kind' column (or a class task's 'label')", field,
                                  list(answers.columns))
        frame = frame.assign(kind="class")
    return _checked_columns(frame.reset_index(drop=True))


def check_labels(answers: pd.DataFrame, labels: Sequence[str], field: str = "labels") -> list[str]:
    """The label list as given, checked: distinct strings that hold every label of ``answers``.

    >>> check_labels(answers_from_rows([{"item_id": 1, "worker": "a", "kind": "class", "label": "cow"}]), ["cat"])
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: label: not one of the labels ['cat'] (got 'cow')
    """
    if isinstance(labels, str) or not all(isinstance(v, str) and v for v in labels):
        raise ValidationError("must be a list of non-empty strings", field, labels)
    labels = list(labels)
    if len(set(labels)) != len(labels):
        raise ValidationError("labels must be distinct", field, labels)
    known = set(labels)
    for label in answers["label"]:
        if label is not None and label not in known:
            raise ValidationError(f"not one of the labels {labels}", "label", label)
    return labels


def check_items(answers: pd.DataFrame, items: pd.DataFrame) -> None:
    """Refuse answers on an item that ``items`` (from :func:`items_table`) does not hold.

    >>> check_items(answers_from_rows([{"item_id": 9, "worker": "a", "kind": "none"}]),
    ...             items_table(pd.DataFrame({"id": [1], "name": ["a.jpg"]})))
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: item_id: not one of the items given (got 9)
    """
    unknown = ~answers["item_id"].isin(items["item_id"])
    if unknown.any():
        raise ValidationError("not one of the items given", "item_id", answers["item_id"][unknown].tolist()[0])


def only_kinds(answers: pd.DataFrame, kinds: Sequence[str], fmt: str, instead: str) -> pd.DataFrame:
    """The rows of ``kinds``; "none" rows dropped (the format has no place for an empty answer),
    any other kind refused by name.

    >>> only_kinds(answers_from_rows([{"item_id": 1, "worker": "a", "kind": "text", "text": "hi"}]),
    ...            ["box"], "YOLO", "csv")
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: kind: YOLO holds box answers only: export text answers as csv (got 'text')
    """
    other = answers[~answers["kind"].isin([*kinds, "none"])]
    if len(other):
        kind = other["kind"].iloc[0]
        raise ValidationError(f"{fmt} holds {' and '.join(kinds)} answers only: export {kind} answers as {instead}",
                              "kind", kind)
    return answers[answers["kind"].isin(kinds)]


def _size(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) and number > 0 else math.nan


def items_table(items: Any, field: str = "items") -> pd.DataFrame:
    """Items as the formats use them: ``item_id, name, file_name, path, width, height``.

    Accepts ``dataset.items.to_df()`` (``id``, ``name``, ``filename``, ``path``) or a frame of
    ``item_id, name`` with optional ``dir`` / ``filename`` / ``path`` / ``width`` / ``height``.
    ``file_name`` is the item's path inside the dataset without the leading slash
    (``train/a.jpg``); an unknown or non-positive size is NaN.

    >>> t = items_table(pd.DataFrame({"item_id": [4], "name": ["a.jpg"], "dir": ["/train"], "width": [640]}))
    >>> t.to_dict("records")
    [{'item_id': 4, 'name': 'a.jpg', 'file_name': 'train/a.jpg', 'path': None, 'width': 640.0, 'height': nan}]
    """
    if not isinstance(items, pd.DataFrame):
        raise ValidationError("must be a pandas DataFrame", field, type(items).__name__)
    ids = items["item_id"] if "item_id" in items.columns else items.get("id")
    if ids is None:
        raise ValidationError("the items frame needs an 'item_id' (or 'id') column", field, list(items.columns))
    if "filename" in items.columns:
        file_names = [str(f).lstrip("/") for f in items["filename"]]
    elif "name" in items.columns:
        dirs = items["dir"] if "dir" in items.columns else pd.Series(["/"] * len(items), index=items.index)
        file_names = [posixpath.join(str(d), str(n)).lstrip("/") for d, n in zip(dirs, items["name"])]
    else:
        raise ValidationError("the items frame needs a 'name' (or 'filename') column", field, list(items.columns))
    names = items["name"].astype(str).tolist() if "name" in items.columns else [posixpath.basename(f)
                                                                                  for f in file_names]
    paths = [None if _missing(p) else str(p) for p in items["path"]] if "path" in items.columns else [None] * len(items)
    sizes = {dim: [_size(v) for v in items[dim]] if dim in items.columns else [math.nan] * len(items)
             for dim in ("width", "height")}
    table = pd.DataFrame({"item_id": ids.tolist(), "name": names, "file_name": file_names, "path": paths,
                          "width": sizes["width"], "height": sizes["height"]})
    table["path"] = table["path"].astype(object).where(table["path"].notna(), None)
    if table["item_id"].duplicated().any():
        raise ValidationError("item ids must be distinct", "item_id",
                              table["item_id"][table["item_id"].duplicated()].tolist()[0])
    return table


def item_size(item: Any, purpose: str) -> tuple[float, float]:
    """An item row's ``(width, height)``; ``ValidationError`` naming the item when it is not known.

    >>> item_size(pd.Series({"item_id": 3, "file_name": "a.jpg", "width": float("nan"), "height": 2.0}), "YOLO")
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: width, height: YOLO needs the image size of item 3 ('a.jpg'): set metadata['system']['width'] and ['height'] (got [nan, 2.0])
    """
    width, height = float(item["width"]), float(item["height"])
    if not (math.isfinite(width) and math.isfinite(height)):
        raise ValidationError(f"{purpose} needs the image size of item {item['item_id']} ({item['file_name']!r}): "
                              "set metadata['system']['width'] and ['height']", "width, height", [width, height])
    return width, height


def file_key(reference: str) -> str:
    """A file reference as a path: a URL's path (or its ``?d=`` local-files path), ``\\`` as ``/``,
    no leading ``./`` or ``/``.

    >>> file_key("http://host/data/local-files/?d=photos/a%20b.jpg"), file_key("./train\\\\a.jpg")
    ('photos/a b.jpg', 'train/a.jpg')
    """
    text = str(reference).strip()
    parsed = urlparse(text)
    if parsed.scheme in ("http", "https", "s3", "gs", "file"):
        local = parse_qs(parsed.query).get("d")
        text = local[0] if local else unquote(parsed.path)
    text = text.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text.lstrip("/")


def match_files(references: Iterable[str], items: pd.DataFrame) -> dict[str, Any]:
    """Map each file reference to the one item it names (``items`` from :func:`items_table`).

    The rule, first that matches: the item's ``path`` equals the reference; the item's path
    inside the dataset (``dir/name``) equals the reference's path (:func:`file_key`) or the
    longest end of it (``data/train/a.jpg`` finds ``/train/a.jpg``); the item's name equals
    the reference's base name.  A reference that names no item, or names
    several items under the rule that matched, raises ``ValidationError`` naming it.

    >>> items = items_table(pd.DataFrame({"id": [1, 2], "name": ["a.jpg", "a.jpg"], "dir": ["/", "/b"]}))
    >>> match_files(["a.jpg", "/b/a.jpg", "http://x/img/b/a.jpg"], items)
    {'a.jpg': 1, '/b/a.jpg': 2, 'http://x/img/b/a.jpg': 2}
    """
    by_path: dict[str, list[Any]] = {}
    by_file: dict[str, list[Any]] = {}
    by_name: dict[str, list[Any]] = {}
    for item_id, name, file_name, path in items[["item_id", "name", "file_name", "path"]].itertuples(index=False):
        if path is not None:
            by_path.setdefault(path, []).append(item_id)
        by_file.setdefault(file_name, []).append(item_id)
        by_name.setdefault(name, []).append(item_id)
    file_of = dict(zip(items["item_id"], items["file_name"]))
    out: dict[str, Any] = {}
    for ref in references:
        if ref in out:
            continue
        key = file_key(ref)
        # the longest suffix of the reference that is an item's dir/name ('data/train/a.jpg' -> 'train/a.jpg')
        parts = key.split("/")
        suffix = next((by_file["/".join(parts[i:])] for i in range(len(parts)) if "/".join(parts[i:]) in by_file), None)
        found = by_path.get(str(ref)) or suffix or by_name.get(posixpath.basename(key))
        if not found:
            raise ValidationError("no item has this file name", "file_name", ref)
        if len(found) > 1:
            shown = ", ".join(repr("/" + file_of[i]) for i in found[:5])
            raise ValidationError(f"{len(found)} items have this base name: give the folder too, as in the dataset "
                                  f"({shown})", "file_name", ref)
        out[ref] = found[0]
    return out


def polygon_area(points: Sequence[Sequence[float]]) -> float:
    """The area of a simple polygon (shoelace formula), whichever way its points turn.

    >>> polygon_area([[0, 0], [4, 0], [4, 3]])
    6.0
    """
    xy = np.asarray(points, dtype=float)
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)
