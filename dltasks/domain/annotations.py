"""Annotation rows as users give them (a DataFrame of labels), checked and made ready to store.

Examples
--------
>>> import pandas as pd
>>> rows = annotation_rows(pd.DataFrame({"item_id": [3, "4"], "label": [" cat", "dog"]}))
>>> rows.item_ids, rows.labels, rows.authors
([3, 4], ['cat', 'dog'], ['import', 'import'])

The long answers frame (``kind``, ``label``, ``left`` … ``bottom``, ``geo``, ``text``) brings
boxes, polygons and texts (``geo`` as a list of points or its JSON text):

>>> boxes = annotation_rows(pd.DataFrame({"item_id": [3], "kind": ["box"], "label": ["car"], "left": [1],
...                                       "top": [2], "right": [5], "bottom": [6]}))
>>> boxes.kinds, boxes.geos
(['box'], ['[[1.0,2.0],[5.0,6.0]]'])
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dltasks.domain.answers import NONE_KIND, stored_rows
from dltasks import jsonutil
from dltasks.domain.checks import MAX_NAME
from dltasks.domain.values import MAX_METADATA_BYTES
from dltasks.domain.shapes import Definition, check_definition, definition
from dltasks.errors import ValidationError

__all__ = ["AnnotationRows", "annotation_rows", "check_annotation_metadata", "check_dataset_labels"]


@dataclass
class AnnotationRows:
    """An annotation import frame after :func:`annotation_rows`: one annotation per row.

    ``source`` is the frame as given (what travels to a server, which checks it again).
    """

    source: pd.DataFrame
    item_ids: list[int]
    labels: list[str]
    authors: list[str]
    #: Per row: kind, geo (JSON text) and text; ``None`` when every row is a class label.
    kinds: list[str] | None = None
    geos: list[str | None] | None = None
    texts: list[str | None] | None = None
    #: Per row: the annotation's metadata as JSON text (``None``: none); ``None`` without a ``metadata`` column.
    metadata: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.item_ids)


def _strings(col: pd.Series, name: str) -> list[str]:
    values = col.tolist()
    for v in values:
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_NAME:
            raise ValidationError(f"every row needs a {name} (a non-empty string of at most {MAX_NAME} characters)",
                                  name, v)
    return [v.strip() for v in values]


def _definitions(df: pd.DataFrame) -> list[Definition]:
    """Each row of a long answers frame as a checked definition (``ValidationError`` names the row)."""
    out = []
    for n, row in enumerate(df.itertuples(index=False)):
        values = row._asdict()
        kind = values.get("kind")
        geo = values.get("geo")
        if kind == "box" and (geo is None or geo is pd.NA or isinstance(geo, float)):
            geo = [[values.get("left"), values.get("top")], [values.get("right"), values.get("bottom")]]
        elif isinstance(geo, str):
            try:
                geo = json.loads(geo)
            except ValueError:
                raise ValidationError(f"row {n}: geo is not JSON", "geo", geo) from None
        text = values.get("text")
        try:
            out.append(check_definition(definition(str(kind), values.get("label"), geo,
                                                   text if isinstance(text, str) else None), "df"))
        except ValidationError as e:
            raise ValidationError(f"row {n}: {e.message}", e.field, e.value) from None
    return out


def annotation_rows(df: Any, field: str = "df") -> AnnotationRows:
    """Check an annotation import frame: ``item_id``, ``label``, optional ``author`` (default ``'import'``).

    With a ``kind`` column the frame is the long answers frame (see
    :data:`dltasks.domain.answers.ANSWER_COLUMNS`): boxes, polygons and texts too.  Other
    columns (``id``, ``created_at`` of an exported frame) are ignored.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError("must be a pandas DataFrame", field, type(df).__name__)
    shaped = "kind" in df.columns and bool((df["kind"] != "class").any())
    if shaped:  # a worker's empty answer ("none") means nothing outside its task
        df = df[df["kind"] != NONE_KIND]
    for col in ("item_id",) if shaped else ("item_id", "label"):
        if col not in df.columns:
            raise ValidationError(f"the frame needs an '{col}' column", field, list(df.columns))
    ids = pd.to_numeric(df["item_id"], errors="coerce")
    bad = ids.isna() | (ids < 0) | (ids != ids.round())
    if bad.any():
        raise ValidationError("item ids are whole numbers", "item_id", df["item_id"][bad].iloc[0])
    authors = _strings(df["author"].fillna("import"), "author") if "author" in df.columns else ["import"] * len(df)
    meta = None
    if "metadata" in df.columns:
        meta = [None if not isinstance(m, dict) else jsonutil.dumps(check_annotation_metadata(m))
                for m in df["metadata"]]
    if not shaped:
        return AnnotationRows(source=df, item_ids=ids.astype("int64").tolist(), labels=_strings(df["label"], "label"),
                              authors=authors, metadata=meta)
    rows = [stored_rows([d])[0] for d in _definitions(df)]
    return AnnotationRows(source=df, item_ids=ids.astype("int64").tolist(), labels=[r[1] for r in rows],
                          authors=authors, kinds=[r[0] for r in rows], geos=[r[2] for r in rows],
                          texts=[r[3] for r in rows], metadata=meta)


def check_annotation_metadata(value: Any, field: str = "metadata") -> dict[str, Any]:
    """An annotation's metadata: a dict of JSON values (free under ``'user'``), at most 64 KiB.

    >>> check_annotation_metadata({"user": {"score": 0.9}})
    {'user': {'score': 0.9}}
    >>> check_annotation_metadata(["x"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: metadata: must be a dict (got ['x'])
    """
    if not isinstance(value, dict):
        raise ValidationError("must be a dict", field, value)
    jsonutil.dumps(value, field, max_bytes=MAX_METADATA_BYTES)
    return value


def check_dataset_labels(labels: list[str], dataset_labels: list[str]) -> None:
    """Annotations outside tasks take the dataset's labels (any label when it has none); a text has none.

    >>> check_dataset_labels(["cat", "", "owl"], ["cat", "dog"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: label: is not one of the dataset's labels ['cat', 'dog'] (got 'owl')
    """
    if not dataset_labels:
        return
    known = set(dataset_labels)
    unknown = next((lbl for lbl in labels if lbl and lbl not in known), None)
    if unknown is not None:
        raise ValidationError(f"is not one of the dataset's labels {list(dataset_labels)}", "label", unknown)
