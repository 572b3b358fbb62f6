"""CSV: the long answers frame as text, one row per annotation, and back.

Columns: ``item_id``, ``file_name`` (the item's path in the dataset, when the items are given),
``worker``, ``kind``, ``label``, ``left``, ``top``, ``right``, ``bottom``, ``geo`` (a polygon's
points as JSON text) and ``text``.  Numbers are written in full, so a round trip is exact.

Examples
--------
>>> import pandas as pd
>>> from dltasks.formats.frames import answers_from_rows
>>> answers = answers_from_rows([{"item_id": 1, "worker": "ann", "kind": "polygon", "label": "cat",
...                           "geo": [[0, 0], [4, 0.5], [4, 3]]},
...                          {"item_id": 1, "worker": "bo", "kind": "text", "text": "NA, \\"quoted\\" text"}])
>>> print(to_csv(answers), end="")
item_id,worker,kind,label,left,top,right,bottom,geo,text
1,ann,polygon,cat,,,,,"[[0.0,0.0],[4.0,0.5],[4.0,3.0]]",
1,bo,text,,,,,,,"NA, ""quoted"" text"
>>> from_csv(to_csv(answers)).equals(answers)
True
"""
from __future__ import annotations

import io
import json

import pandas as pd

from dltasks.errors import ValidationError
from dltasks.formats.frames import answers_table, check_items, items_table, match_files

__all__ = ["to_csv", "from_csv"]

_COORDS = ["left", "top", "right", "bottom"]


def to_csv(answers: pd.DataFrame, items: pd.DataFrame | None = None) -> str:
    """CSV text of the long answers frame; with ``items``, a ``file_name`` column after ``item_id``.

    >>> import pandas as pd
    >>> from dltasks.formats.frames import answers_from_rows
    >>> one = answers_from_rows([{"item_id": 2, "worker": "ann", "kind": "class", "label": "cat"}])
    >>> print(to_csv(one, pd.DataFrame({"id": [2], "name": ["b.jpg"], "dir": ["/x"]})), end="")
    item_id,file_name,worker,kind,label,left,top,right,bottom,geo,text
    2,x/b.jpg,ann,class,cat,,,,,,
    """
    table = answers_table(answers)
    table["geo"] = [None if geo is None else json.dumps(geo, separators=(",", ":")) for geo in table["geo"]]
    if items is not None:
        item_table = items_table(items)
        check_items(table, item_table)
        file_of = dict(zip(item_table["item_id"], item_table["file_name"]))
        table.insert(1, "file_name", table["item_id"].map(file_of))
    return table.to_csv(index=False, lineterminator="\n")


def _cells(frame: pd.DataFrame, col: str) -> pd.Series:
    """A column's cells with empty ones as None (a missing column: all None)."""
    if col not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    cells = frame[col].astype(object)
    return cells.where(cells != "", None)


def _coordinates(frame: pd.DataFrame, col: str) -> pd.Series:
    cells = _cells(frame, col)
    numbers = pd.to_numeric(cells, errors="coerce").astype(float)
    bad = numbers.isna() & cells.notna()
    if bad.any():
        raise ValidationError("must be numbers", col, cells[bad].tolist()[:5])
    return numbers


def from_csv(text: str, items: pd.DataFrame | None = None, author: str = "import") -> pd.DataFrame:
    """The long answers frame of CSV text written by :func:`to_csv` (or by hand in its columns).

    With ``items`` and a ``file_name`` column, rows are matched to items by file name
    (:func:`~dltasks.formats.frames.match_files`); otherwise ``item_id`` is taken as it is
    (and must be one of ``items`` when they are given).  Without a ``worker`` (or ``author``)
    column every row is ``author``'s; empty cells are missing values, except a text answer's
    text, which is then the empty text.

    >>> from_csv("item_id,kind,label\\n3,class,cat\\n")[["item_id", "worker", "kind", "label"]].values.tolist()
    [[3, 'import', 'class', 'cat']]
    """
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as err:
        raise ValidationError(f"not CSV: {err}", "text", text[:80]) from None
    frame = frame.rename(columns={"author": "worker"}) if "worker" not in frame.columns else frame
    if "worker" not in frame.columns:
        frame["worker"] = author
    if items is not None and "file_name" in frame.columns:
        item_table = items_table(items)
        item_of = match_files(frame["file_name"].tolist(), item_table)
        frame["item_id"] = frame["file_name"].map(item_of)
    elif "item_id" not in frame.columns:
        raise ValidationError("the CSV needs an 'item_id' (or, with the items, a 'file_name') column", "text",
                              list(frame.columns))
    elif frame["item_id"].str.fullmatch(r"-?\d+").all():
        frame["item_id"] = frame["item_id"].astype("int64")
        if items is not None:
            check_items(frame, items_table(items))
    kinds = _cells(frame, "kind") if "kind" in frame.columns else pd.Series("class", index=frame.index, dtype=object)
    texts = _cells(frame, "text")
    table = pd.DataFrame({"item_id": frame["item_id"], "worker": frame["worker"].astype(object), "kind": kinds,
                          "label": _cells(frame, "label"), **{c: _coordinates(frame, c) for c in _COORDS},
                          "geo": _cells(frame, "geo"),
                          "text": texts.where(texts.notna() | (kinds != "text"), "")})
    return answers_table(table, "text")
