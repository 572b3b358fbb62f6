"""dltasks.quality.gold_accuracy: counts, accuracy and the Wilson interval per worker."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from dltasks.errors import ValidationError
from dltasks.quality import gold_accuracy, wilson_interval
from dltasks.quality.gold_stats import COLUMNS


def _wilson_by_hand(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_seven_of_ten_right_is_0_7_with_the_wilson_interval_computed_by_hand():
    answers = pd.DataFrame({"user_id": ["ann"] * 10, "correct": [True] * 7 + [False] * 3})
    row = gold_accuracy(answers).iloc[0]
    assert (row["user_id"], row["gold_n"], row["gold_correct"], row["gold_accuracy"]) == ("ann", 10, 7, 0.7)
    low, high = _wilson_by_hand(7, 10)
    assert row["gold_low"] == pytest.approx(low, abs=1e-12)
    assert row["gold_high"] == pytest.approx(high, abs=1e-12)
    assert (round(row["gold_low"], 4), round(row["gold_high"], 4)) == (0.3968, 0.8922)


def test_many_workers_match_statsmodels_wilson_and_a_groupby():
    rng = np.random.default_rng(7)
    n_rows = 20_000
    users = rng.choice([f"w{i:03d}" for i in range(150)], n_rows)
    correct = rng.random(n_rows) < rng.uniform(0.3, 1.0, 150)[np.searchsorted(np.unique(users), users)]
    out = gold_accuracy(pd.DataFrame({"user_id": users, "correct": correct, "item_id": np.arange(n_rows)}))
    assert out.columns.tolist() == COLUMNS
    assert out["user_id"].tolist() == sorted(set(users))
    grouped = pd.DataFrame({"u": users, "c": correct}).groupby("u")["c"].agg(["size", "sum"])
    assert out["gold_n"].tolist() == grouped["size"].tolist()
    assert out["gold_correct"].tolist() == grouped["sum"].tolist()
    assert out["gold_n"].sum() == n_rows
    np.testing.assert_allclose(out["gold_accuracy"], grouped["sum"] / grouped["size"])
    low, high = proportion_confint(grouped["sum"].to_numpy(), grouped["size"].to_numpy(), alpha=0.05, method="wilson")
    np.testing.assert_allclose(out["gold_low"], low, atol=1e-12)
    np.testing.assert_allclose(out["gold_high"], high, atol=1e-12)


def test_another_confidence_matches_statsmodels():
    answers = pd.DataFrame({"user_id": [1] * 4 + [2] * 9,
                            "correct": [True, True, True, False] + [True] * 2 + [False] * 7})
    out = gold_accuracy(answers, confidence=0.9)
    low, high = proportion_confint([3, 2], [4, 9], alpha=0.1, method="wilson")
    np.testing.assert_allclose(out[["gold_low", "gold_high"]].to_numpy().T, [low, high], atol=1e-12)
    assert out["gold_low"].iloc[0] > gold_accuracy(answers)["gold_low"].iloc[0]  # narrower than 95 %


def test_all_right_and_all_wrong_stay_inside_zero_and_one():
    answers = pd.DataFrame({"user_id": ["a"] * 3 + ["b"] * 3, "correct": [True] * 3 + [False] * 3})
    out = gold_accuracy(answers).set_index("user_id")
    assert out.loc["a", "gold_high"] == 1.0 and out.loc["b", "gold_low"] == 0.0
    assert out.loc["a", "gold_low"] == pytest.approx(_wilson_by_hand(3, 3)[0])
    assert out.loc["b", "gold_high"] == pytest.approx(_wilson_by_hand(0, 3)[1])
    assert out["gold_accuracy"].tolist() == [1.0, 0.0]


def test_integer_user_ids_are_sorted_and_integer_one_zero_is_accepted():
    out = gold_accuracy(pd.DataFrame({"user_id": [30, 4, 30, 4, 30], "correct": [1, 0, 1, 1, 0]}))
    assert out["user_id"].tolist() == [4, 30]
    assert out["gold_correct"].tolist() == [1, 2]
    assert out["gold_accuracy"].round(4).tolist() == [0.5, 0.6667]


def test_no_answers_give_no_rows_with_the_columns():
    out = gold_accuracy(pd.DataFrame({"user_id": pd.Series([], dtype=object), "correct": pd.Series([], dtype=bool)}))
    assert out.columns.tolist() == COLUMNS and len(out) == 0


def test_wilson_interval_of_no_trials_is_nan():
    low, high = wilson_interval(np.array([0, 1]), np.array([0, 2]))
    assert math.isnan(low[0]) and math.isnan(high[0])
    assert (low[1], high[1]) == pytest.approx(_wilson_by_hand(1, 2))


@pytest.mark.parametrize("answers, field, value", [
    ([("a", True)], "answers", "list"),
    (pd.DataFrame({"worker": ["a"], "correct": [True]}), "answers", ["worker", "correct"]),
    (pd.DataFrame({"user_id": ["a"]}), "answers", ["user_id"]),
    (pd.DataFrame({"user_id": ["a", None], "correct": [True, False]}), "user_id", None),
    (pd.DataFrame({"user_id": ["a", "b"], "correct": [True, "no"]}), "correct", "no"),
    (pd.DataFrame({"user_id": ["a", "b"], "correct": [1, 2]}), "correct", 2),
    (pd.DataFrame({"user_id": ["a", "b"], "correct": [1.0, 0.0]}), "correct", 1.0),
    (pd.DataFrame({"user_id": ["a", "b"], "correct": pd.Series([True, None], dtype="boolean")}), "correct", pd.NA),
], ids=["not-a-frame", "no-user_id", "no-correct", "missing-user", "string", "integer-2", "float", "NA"])
def test_bad_input_names_the_field_and_value(answers, field, value):
    with pytest.raises(ValidationError) as err:
        gold_accuracy(answers)
    assert err.value.field == field
    assert err.value.value is value or err.value.value == value or (value is None and pd.isna(err.value.value))


@pytest.mark.parametrize("confidence", [0, 1, 1.5, True, "0.95"])
def test_a_confidence_outside_zero_one_is_named(confidence):
    answers = pd.DataFrame({"user_id": ["a"], "correct": [True]})
    with pytest.raises(ValidationError, match="confidence") as err:
        gold_accuracy(answers, confidence=confidence)
    assert err.value.value == confidence
