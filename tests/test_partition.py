"""Tests of dltasks.partition: exact weighted splits with k distinct workers per item."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from dltasks.errors import ValidationError
from dltasks.partition import (
    normalise_weights,
    partition_summary,
    plan_full,
    plan_partition,
    slot_counts,
)

WORKERS = ["ann", "bob", "cy"]


def exact_targets(n_items: int, k: int, weights: list[float]) -> np.ndarray:
    """N*k*p_i computed independently of the module."""
    total = math.fsum(weights)
    return np.array([n_items * k * w / total for w in weights])


def is_impossible(k: int, weights: list[float]) -> bool:
    total = math.fsum(weights)
    return max(weights) / total > 1 / k + 1e-12


# ---------------------------------------------------------------------------
# properties


@st.composite
def cases(draw):
    k = draw(st.integers(1, 5))
    m = draw(st.integers(k, 12))
    n = draw(st.integers(0, 2000))
    weights = draw(
        st.lists(st.floats(0.01, 100, allow_nan=False), min_size=m, max_size=m)
    )
    seed = draw(st.integers(0, 2**32 - 1))
    return n, k, [f"w{i}" for i in range(m)], weights, seed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_plan_is_exact_or_refused(case):
    n, k, workers, weights, seed = case
    items = np.arange(1000, 1000 + n)
    if is_impossible(k, weights):
        with pytest.raises(ValidationError, match="workers_per_input") as info:
            plan_partition(items, workers, k, weights, seed=seed)
        assert info.value.field == "weights"
        return
    plan = plan_partition(items, workers, k, weights, seed=seed)

    assert list(plan.columns) == ["item_id", "user_id"]
    assert len(plan) == n * k
    per_item = plan.groupby("item_id", observed=True)["user_id"]
    if n:
        assert set(plan["item_id"]) == set(items.tolist())
        assert (per_item.nunique() == k).all()
        assert (per_item.size() == k).all()

    counts = plan["user_id"].value_counts().reindex(workers, fill_value=0).to_numpy()
    exact = exact_targets(n, k, weights)
    assert counts.sum() == n * k
    assert np.all(np.abs(counts - exact) < 1)

    again = plan_partition(items, workers, k, weights, seed=seed)
    assert_frame_equal(plan, again)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_slot_counts_round_by_largest_remainder(case):
    n, k, workers, weights, _ = case
    assume(not is_impossible(k, weights))
    counts = slot_counts(n, k, normalise_weights(workers, weights))
    exact = exact_targets(n, k, weights)
    assert counts.dtype == np.int64
    assert counts.sum() == n * k
    assert counts.max() <= n
    assert np.all(np.abs(counts - exact) < 1)
    floor = np.floor(exact)
    assert np.all((counts == floor) | (counts == floor + 1) | np.isclose(counts, exact))


def test_different_seeds_usually_differ():
    items = np.arange(200)
    plans = [plan_partition(items, WORKERS + ["dee"], 2, [1, 2, 3, 4], seed=s) for s in range(10)]
    distinct = {tuple(p["user_id"].astype(str)) for p in plans}
    assert len(distinct) == 10


def test_seed_accepts_a_generator():
    a = plan_partition(range(50), WORKERS, 2, seed=np.random.default_rng(7))
    b = plan_partition(range(50), WORKERS, 2, seed=7)
    assert_frame_equal(a, b)


# ---------------------------------------------------------------------------
# hand-written cases


def test_ninety_ten_is_exact():
    plan = plan_partition(range(100), ["ann", "bob"], weights=[90, 10], seed=3)
    assert plan["user_id"].value_counts().to_dict() == {"ann": 90, "bob": 10}


def test_weights_are_relative():
    a = plan_partition(range(100), ["ann", "bob"], weights=[9, 1], seed=5)
    b = plan_partition(range(100), ["ann", "bob"], weights=[90, 10], seed=5)
    assert_frame_equal(a, b)
    np.testing.assert_array_equal(
        normalise_weights(["ann", "bob"], [9, 1]), normalise_weights(["ann", "bob"], [90, 10])
    )


def test_mapping_and_series_weights_follow_worker_order():
    as_list = normalise_weights(["ann", "bob"], [3, 1])
    np.testing.assert_array_equal(normalise_weights(["ann", "bob"], {"bob": 1, "ann": 3}), as_list)
    np.testing.assert_array_equal(
        normalise_weights(["ann", "bob"], pd.Series({"bob": 1, "ann": 3})), as_list
    )


def test_three_equal_workers_on_ten_items():
    plan = plan_partition(range(10), WORKERS, seed=0)
    counts = plan["user_id"].value_counts()
    assert sorted(counts.tolist()) == [3, 3, 4]
    assert counts.sum() == 10


def test_ties_go_to_the_lower_index():
    thirds = normalise_weights(WORKERS, None)
    assert slot_counts(1, 1, thirds).tolist() == [1, 0, 0]
    assert slot_counts(2, 1, thirds).tolist() == [1, 1, 0]
    assert slot_counts(10, 1, thirds).tolist() == [4, 3, 3]


def test_worker_with_zero_weight_gets_nothing():
    plan = plan_partition(range(20), WORKERS, 2, {"ann": 1, "bob": 1, "cy": 0}, seed=1)
    assert set(plan["user_id"]) == {"ann", "bob"}
    assert len(plan) == 40


def test_share_exactly_one_over_k_is_allowed():
    plan = plan_partition(range(7), WORKERS, 2, [2, 1, 1], seed=0)  # ann's share is 1/2
    counts = plan["user_id"].value_counts()
    assert counts["ann"] == 7
    assert (plan.groupby("item_id")["user_id"].nunique() == 2).all()


def test_impossible_share_explains_why():
    with pytest.raises(ValidationError) as info:
        plan_partition(range(10), ["ann", "bob", "cy"], 2, [9, 0.5, 0.5])
    err = info.value
    assert err.field == "weights"
    message = str(err)
    assert "workers_per_input" in message
    assert "ann's share 0.9" in message
    assert "1/workers_per_input = 0.5" in message
    assert "2 distinct workers" in message


def test_empty_item_list_gives_empty_frame():
    for items in ([], np.array([], dtype=np.int64), pd.Series([], dtype="str")):
        plan = plan_partition(items, WORKERS, 2, seed=0)
        assert list(plan.columns) == ["item_id", "user_id"]
        assert len(plan) == 0
        assert len(plan_full(items, WORKERS)) == 0


def test_rows_are_grouped_by_item_in_input_order():
    items = ["x", "a", "m", "b"]
    plan = plan_partition(items, WORKERS, 2, seed=4)
    assert plan["item_id"].tolist() == [i for i in items for _ in range(2)]


@pytest.mark.parametrize(
    "items",
    [
        ["a", "b", "c", "d"],
        np.array(["a", "b", "c", "d"]),
        pd.Series(["a", "b", "c", "d"]),
        pd.Index(["a", "b", "c", "d"]),
        [10, 11, 12, 13],
        range(10, 14),
        (i for i in [10, 11, 12, 13]),
        pd.Series([10, 11, 12, 13], dtype="Int64"),
    ],
    ids=[
        "list-str", "ndarray-str", "series-str", "index-str", "list-int", "range", "generator",
        "Int64",
    ],
)
def test_item_ids_may_be_any_1d_array_like(items):
    expected = list(items) if not hasattr(items, "send") else [10, 11, 12, 13]
    if hasattr(items, "send"):
        items = iter(expected)
    plan = plan_partition(items, WORKERS, 2, seed=0)
    assert len(plan) == 8
    assert sorted(set(plan["item_id"].tolist())) == sorted(expected)


def test_string_items_use_the_pandas_string_dtype():
    plan = plan_partition(["a", "b"], WORKERS, seed=0)
    assert plan["item_id"].dtype == pd.Series(["a"]).dtype
    assert plan_partition(np.arange(3), WORKERS)["item_id"].dtype == np.int64


def test_user_id_compares_equal_to_strings():
    plan = plan_partition(range(30), WORKERS, 2, seed=0)
    assert isinstance(plan["user_id"].dtype, pd.CategoricalDtype)
    assert (plan["user_id"] == "ann").sum() == 20
    assert plan["user_id"].isin(["bob"]).sum() == 20
    assert set(plan["user_id"].tolist()) == set(WORKERS)
    assert all(isinstance(u, str) for u in plan["user_id"].tolist())


def test_plan_full_gives_everyone_everything():
    plan = plan_full([10, 11, 12], WORKERS)
    assert list(plan.columns) == ["item_id", "user_id"]
    assert len(plan) == 9
    assert set(zip(plan["item_id"], plan["user_id"])) == {
        (i, w) for i in [10, 11, 12] for w in WORKERS
    }


def test_partition_summary():
    workers = ["ann", "bob", "cy"]
    shares = normalise_weights(workers, [2, 1, 1])
    plan = plan_partition(range(10), workers, 2, [2, 1, 1], seed=0)
    summary = partition_summary(plan, workers, shares, 10, 2)
    assert summary.index.name == "user_id"
    assert summary.index.tolist() == workers
    assert list(summary.columns) == ["assigned", "target", "target_share", "actual_share"]
    assert summary["assigned"].dtype == np.int64
    assert summary["assigned"].tolist() == [10, 5, 5]
    assert summary["target"].tolist() == [10.0, 5.0, 5.0]
    np.testing.assert_allclose(summary["target_share"], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(summary["actual_share"], [0.5, 0.25, 0.25])


def test_partition_summary_counts_idle_workers_and_empty_plans():
    shares = normalise_weights(WORKERS, [1, 1, 0])
    plan = plan_partition(range(4), WORKERS, 1, [1, 1, 0], seed=0)
    summary = partition_summary(plan, WORKERS, shares, 4, 1)
    assert summary.loc["cy", "assigned"] == 0
    empty = partition_summary(plan_partition([], WORKERS), WORKERS, shares, 0, 1)
    assert empty["assigned"].tolist() == [0, 0, 0]
    assert empty["actual_share"].isna().all()


def test_partition_summary_rejects_foreign_workers():
    plan = pd.DataFrame({"item_id": [1], "user_id": ["zed"]})
    with pytest.raises(ValidationError) as info:
        partition_summary(plan, WORKERS, normalise_weights(WORKERS, None), 1, 1)
    assert info.value.field == "plan"
    assert "zed" in str(info.value)


# ---------------------------------------------------------------------------
# validation: every error names its field and shows the bad value

NAN = float("nan")
INF = float("inf")


@pytest.mark.parametrize(
    "call, field, shown",
    [
        (
            lambda: normalise_weights(["ann", "bob"], {"ann": 1, "bob": 1, "zed": 1}),
            "weights",
            "'zed'",
        ),
        (lambda: normalise_weights(["ann", "bob"], {"ann": 1}), "weights", "'bob'"),
        (lambda: normalise_weights(["ann", "bob"], [1, -2]), "weights", "-2"),
        (lambda: normalise_weights(["ann", "bob"], [1, NAN]), "weights", "nan"),
        (lambda: normalise_weights(["ann", "bob"], [1, INF]), "weights", "inf"),
        (lambda: normalise_weights(["ann", "bob"], [0, 0]), "weights", "[0, 0]"),
        (lambda: normalise_weights(["ann", "bob"], [1, 2, 3]), "weights", "[1, 2, 3]"),
        (lambda: normalise_weights(["ann", "bob"], [1, "x"]), "weights", "'x'"),
        (lambda: normalise_weights(["ann", "ann"], None), "assignee_ids", "'ann'"),
        (lambda: normalise_weights(["ann", ""], None), "assignee_ids", "''"),
        (lambda: normalise_weights(["ann", None], None), "assignee_ids", "None"),
        (lambda: normalise_weights([], None), "assignee_ids", "[]"),
        (lambda: slot_counts(10, 0, np.array([0.5, 0.5])), "workers_per_input", "0"),
        (lambda: slot_counts(10, 3, np.array([0.5, 0.5])), "workers_per_input", "3"),
        (lambda: slot_counts(10, 2, np.array([0.9, 0.1])), "weights", "0.9"),
        (lambda: slot_counts(10, 1, np.array([0.9, 0.9])), "weights", "0.9"),
        (lambda: slot_counts(-1, 1, np.array([1.0])), "n_items", "-1"),
        (lambda: plan_partition([1, 2, 2], WORKERS), "item_ids", "2"),
        (lambda: plan_partition(["a", None], WORKERS), "item_ids", "nan"),
        (lambda: plan_partition(np.zeros((2, 2)), WORKERS), "item_ids", "(2, 2)"),
        (lambda: plan_partition(range(3), WORKERS, 4), "workers_per_input", "4"),
        (lambda: plan_partition(range(3), "ann"), "assignee_ids", "'ann'"),
        (lambda: plan_full([1, 1], WORKERS), "item_ids", "1"),
    ],
    ids=[
        "unknown-worker", "missing-worker", "negative", "nan", "inf", "all-zero",
        "length-mismatch", "not-a-number", "duplicate-worker", "empty-worker", "none-worker",
        "no-workers", "k-zero", "k-too-big", "share-above-1/k", "shares-not-summing-to-1",
        "negative-n", "duplicate-items", "missing-item", "2d-items", "plan-k-too-big",
        "workers-as-string", "full-duplicate-items",
    ],
)
def test_validation_errors_name_field_and_value(call, field, shown):
    with pytest.raises(ValidationError) as info:
        call()
    err = info.value
    assert err.field == field
    assert shown in str(err)
    assert str(err).startswith(f"{field}: ")
