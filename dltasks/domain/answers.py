"""Workers' answers as stored rows and as the long answers frame every analysis reads.

A worker's answer for an item is a list of definitions (:mod:`dltasks.domain.shapes`).  It is
stored as one annotation row per definition; an empty answer ("nothing to draw", "no label
applies") as one row of kind ``"none"``, so the store knows the worker answered.  The long
frame has one row per stored row and the columns :data:`ANSWER_COLUMNS`.

Examples
--------
>>> from dltasks.domain.shapes import Box
>>> rows = stored_rows([Box(1, 2, 3, 4, "car")]) + stored_rows([])
>>> rows
[('box', 'car', '[[1.0,2.0],[3.0,4.0]]', None), ('none', '', None, None)]
>>> frame = answers_frame([7, 7], ["ann", "bob"], *zip(*rows))
>>> frame[["item_id", "worker", "kind", "label", "left", "bottom"]].values.tolist()
[[7, 'ann', 'box', 'car', 1.0, 4.0], [7, 'bob', 'none', None, nan, nan]]
>>> stored_answer(rows[1:]), stored_answer(rows[:1])
([], [Box(left=1.0, top=2.0, right=3.0, bottom=4.0, label='car')])
"""
from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np
import pandas as pd

from dltasks.domain.shapes import Definition, definition, geo_json

__all__ = ["ANSWER_COLUMNS", "NONE_KIND", "stored_rows", "stored_answer", "answers_frame", "image_size"]

#: The columns of the long answers frame (``task.labels_df()`` of a task that is not a class task).
ANSWER_COLUMNS = ("item_id", "worker", "kind", "label", "left", "top", "right", "bottom", "geo", "text")
#: The kind of the one row that stands for an empty answer.
NONE_KIND = "none"


def stored_rows(answer: Sequence[Definition]) -> list[tuple[str, str, str | None, str | None]]:
    """The annotation rows (kind, label, geo JSON, text) that store ``answer`` (one ``none`` row when empty)."""
    if not answer:
        return [(NONE_KIND, "", None, None)]
    return [(d.kind, d.label or "", geo_json(d), d.text) for d in answer]


def answers_frame(item_ids: Sequence[Any], workers: Sequence[str], kinds: Sequence[str], labels: Sequence[str],
                  geos: Sequence[str | None], texts: Sequence[str | None]) -> pd.DataFrame:
    """The long answers frame from stored columns (``geos``: JSON text as stored)."""
    n = len(item_ids)
    kind = _objects(kinds)
    box = np.full((n, 4), np.nan)
    geo: list[Any] = [None] * n
    for i, (k, g) in enumerate(zip(kinds, geos)):
        if not isinstance(g, (str, list)):  # None, or NaN from a frame column
            continue
        points = json.loads(g) if isinstance(g, str) else g
        if k == "box":
            box[i] = (points[0][0], points[0][1], points[1][0], points[1][1])
        else:
            geo[i] = points
    label = _objects(labels)
    label[((kind == "text") | (kind == NONE_KIND)).to_numpy()] = None
    ids = np.asarray(item_ids, dtype=np.int64) if n == 0 or isinstance(item_ids[0], (int, np.integer)) \
        else _objects(item_ids)
    return pd.DataFrame({
        "item_id": ids, "worker": _objects(workers), "kind": kind, "label": label,
        "left": box[:, 0], "top": box[:, 1], "right": box[:, 2], "bottom": box[:, 3],
        "geo": _objects(geo), "text": _objects([t if isinstance(t, str) else None for t in texts]),
    })


def _objects(values: Sequence[Any]) -> pd.Series:
    """``values`` as an object column (lists stay whole: one element each; strings are not inferred
    as pandas' string dtype, so a missing one stays ``None``)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return pd.Series(out, dtype=object)


def stored_answer(rows: Sequence[Sequence[Any]]) -> list[Definition]:
    """One worker's answer for one item back from its stored rows (kind, label, geo JSON, text).

    >>> stored_answer(stored_rows([]) ), stored_answer([("box", "car", "[[1,2],[3,4]]", None)])
    ([], [Box(left=1.0, top=2.0, right=3.0, bottom=4.0, label='car')])
    """
    return [definition(kind, label, json.loads(geo) if geo is not None else None, text)
            for kind, label, geo, text in rows if kind != NONE_KIND]


def image_size(metadata: Any) -> tuple[float, float] | None:
    """An item's image size ``(width, height)`` from ``metadata['system']``, when both are known numbers.

    >>> image_size({"system": {"width": 640, "height": 480}}), image_size({"system": {}})
    ((640.0, 480.0), None)
    """
    system = metadata.get("system") if isinstance(metadata, dict) else None
    if not isinstance(system, dict):
        return None
    width, height = system.get("width"), system.get("height")
    if isinstance(width, (int, float)) and isinstance(height, (int, float)) and not isinstance(width, bool) \
            and not isinstance(height, bool) and width > 0 and height > 0:
        return float(width), float(height)
    return None
