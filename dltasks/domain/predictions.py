"""Model predictions on a task's items: checked rows, and how sure the model is (its margin).

A prediction is ``(item_id, label, score)`` from a ``model``; it is shown to workers and orders
their queue (``order="uncertainty"``), and it is never a vote.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"item_id": [1, 1, 2], "label": ["cat", "dog", "cat"], "score": [0.55, 0.45, 0.9]})
>>> margins(df)
{1: 0.1, 2: 0.9}
>>> top_predictions(df)["label"].tolist()
['cat', 'cat']
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from dltasks.domain.checks import check_label, check_user_id, to_item_id
from dltasks.errors import ValidationError

__all__ = ["PREDICTION_COLUMNS", "check_predictions", "prediction_rows", "margins", "top_predictions", "MAX_PREDICTIONS"]

#: The columns of a predictions frame (``model`` is optional on import).
PREDICTION_COLUMNS = ("item_id", "label", "score", "model")
#: The most predictions one import takes.
MAX_PREDICTIONS = 1_000_000


def check_predictions(df: Any, labels: Sequence[str], default_model: str = "model") -> list[tuple[int, str, str, float]]:
    """Predictions as ``(item_id, model, label, score)`` rows, each checked; ``score`` a number in [0, 1].

    >>> check_predictions(pd.DataFrame({"item_id": [1], "label": ["cat"], "score": [0.8]}), ["cat"])
    [(1, 'model', 'cat', 0.8)]
    >>> check_predictions(pd.DataFrame({"item_id": [1], "label": ["cat"], "score": [1.5]}), ["cat"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: score: must be a number from 0 to 1 (row 0) (got 1.5)
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError("must be a DataFrame with item_id, label, score (and model)", "predictions",
                              type(df).__name__)
    missing = [c for c in PREDICTION_COLUMNS[:3] if c not in df.columns]
    if missing:
        raise ValidationError(f"needs the column {missing[0]!r}", "predictions", list(df.columns))
    if len(df) > MAX_PREDICTIONS:
        raise ValidationError(f"at most {MAX_PREDICTIONS} rows in one import", "predictions", len(df))
    models = df["model"].tolist() if "model" in df.columns else [default_model] * len(df)
    out: list[tuple[int, str, str, float]] = []
    seen: set[tuple[int, str, str]] = set()
    for row, (item_id, label, score, model) in enumerate(zip(df["item_id"].tolist(), df["label"].tolist(),
                                                             df["score"].tolist(), models)):
        iid = to_item_id(item_id, "item_id")
        lbl = check_label(label, "label")
        if labels and lbl not in labels:
            raise ValidationError(f"is not one of the task's labels {list(labels)} (row {row})", "label", lbl)
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(float(score)) \
                or not 0 <= float(score) <= 1:
            raise ValidationError(f"must be a number from 0 to 1 (row {row})", "score", score)
        name = check_user_id(model, "model")
        if (iid, name, lbl) in seen:
            raise ValidationError(f"model {name!r} gives item {iid} the label {lbl!r} twice", "predictions", row)
        seen.add((iid, name, lbl))
        out.append((iid, name, lbl, float(score)))
    return out


def prediction_rows(value: Any, field: str = "predictions") -> list[list[Any]]:
    """Predictions in their wire form, ``[item_id, model, label, score]`` rows, from a frame or rows.

    >>> prediction_rows(pd.DataFrame({"item_id": [1], "label": ["cat"], "score": [0.8], "model": ["m1"]}))
    [[1, 'm1', 'cat', 0.8]]
    """
    if isinstance(value, list):
        bad = next((r for r in value if not isinstance(r, (list, tuple)) or len(r) != 4), None)
        if bad is not None:
            raise ValidationError("each row is [item_id, model, label, score]", field, bad)
        value = pd.DataFrame([list(r) for r in value], columns=["item_id", "model", "label", "score"])
    return [list(r) for r in check_predictions(value, [])]


def margins(predictions: pd.DataFrame) -> dict[int, float]:
    """Per item, the top score minus the second (0 when only one label is scored): low means unsure."""
    if predictions.empty:
        return {}
    ranked = predictions.sort_values(["item_id", "score"], ascending=[True, False])
    first = ranked.groupby("item_id")["score"].nth(0)
    second = ranked.groupby("item_id")["score"].nth(1)
    top = pd.Series(first.to_numpy(), index=ranked.loc[first.index, "item_id"].to_numpy())
    runner = pd.Series(second.to_numpy(), index=ranked.loc[second.index, "item_id"].to_numpy())
    margin = (top - runner.reindex(top.index).fillna(0.0)).round(12)
    return {int(k): float(v) for k, v in margin.items()}


def top_predictions(predictions: pd.DataFrame) -> pd.DataFrame:
    """Each item's most likely label: item_id, label, score (ties: the first label in label order)."""
    if predictions.empty:
        return pd.DataFrame({"item_id": pd.Series(dtype="int64"), "label": pd.Series(dtype=object),
                             "score": pd.Series(dtype="float64")})
    ranked = predictions.sort_values(["item_id", "score", "label"], ascending=[True, False, True])
    return ranked.drop_duplicates("item_id")[["item_id", "label", "score"]].reset_index(drop=True)
