"""Annotation rows as users give them (a DataFrame of labels), checked and made ready to store.

Examples
--------
>>> import pandas as pd
>>> rows = annotation_rows(pd.DataFrame({"item_id": [3, "4"], "label": [" cat", "dog"]}))
>>> rows.item_ids, rows.labels, rows.authors
([3, 4], ['cat', 'dog'], ['import', 'import'])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from dltasks.domain.checks import MAX_NAME
from dltasks.errors import ValidationError

__all__ = ["AnnotationRows", "annotation_rows"]


@dataclass
class AnnotationRows:
    """An annotation import frame after :func:`annotation_rows`: one annotation per row.

    ``source`` is the frame as given (what travels to a server, which checks it again).
    """

    source: pd.DataFrame
    item_ids: list[int]
    labels: list[str]
    authors: list[str]

    def __len__(self) -> int:
        return len(self.item_ids)


def _strings(col: pd.Series, name: str) -> list[str]:
    values = col.tolist()
    for v in values:
        if not isinstance(v, str) or not v.strip() or len(v) > MAX_NAME:
            raise ValidationError(f"every row needs a {name} (a non-empty string of at most {MAX_NAME} characters)",
                                  name, v)
    return [v.strip() for v in values]


def annotation_rows(df: Any, field: str = "df") -> AnnotationRows:
    """Check an annotation import frame: ``item_id``, ``label``, optional ``author`` (default ``'import'``).

    Other columns (``id``, ``created_at`` of an exported frame) are ignored.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError("must be a pandas DataFrame", field, type(df).__name__)
    for col in ("item_id", "label"):
        if col not in df.columns:
            raise ValidationError(f"the frame needs an '{col}' column", field, list(df.columns))
    ids = pd.to_numeric(df["item_id"], errors="coerce")
    bad = ids.isna() | (ids < 0) | (ids != ids.round())
    if bad.any():
        raise ValidationError("item ids are whole numbers", "item_id", df["item_id"][bad].iloc[0])
    labels = _strings(df["label"], "label")
    authors = _strings(df["author"].fillna("import"), "author") if "author" in df.columns else ["import"] * len(df)
    return AnnotationRows(source=df, item_ids=ids.astype("int64").tolist(), labels=labels, authors=authors)
