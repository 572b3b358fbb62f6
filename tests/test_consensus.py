"""Tests for dltasks.consensus: hand-written fixtures plus reference implementations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltasks.consensus import (
    STATUSES,
    DawidSkene,
    agreement_summary,
    encode_votes,
    fleiss_kappa,
    item_agreement,
    krippendorff_alpha,
    majority_vote,
    pairwise_cohen_kappa,
    percent_agreement,
    threshold_consensus,
    worker_agreement,
)
from dltasks.errors import ValidationError

# crowd-kit 1.4.2 predates pandas 3 and trips its deprecation warnings; they are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:crowdkit")


def votes(*rows: tuple) -> pd.DataFrame:
    """Build a votes frame from (item_id, worker, label) tuples."""
    return pd.DataFrame(list(rows), columns=["item_id", "worker", "label"])


def simulate(n_items=2000, n_workers=10, n_classes=4, per_item=3, seed=7, drop=0.0):
    """Votes with known truth: worker accuracies 0.55..0.95, distinct workers per item."""
    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.55, 0.95, n_workers)
    truth = rng.integers(0, n_classes, n_items)
    workers = np.argsort(rng.random((n_items, n_workers)), axis=1)[:, :per_item].ravel()
    items = np.repeat(np.arange(n_items), per_item)
    correct = rng.random(len(items)) < accuracy[workers]
    wrong = (truth[items] + rng.integers(1, n_classes, len(items))) % n_classes
    given_label = np.where(correct, truth[items], wrong)
    names = np.array([f"class-{c}" for c in range(n_classes)])
    item_ids = np.array([f"item-{i:05d}" for i in range(n_items)])
    df = pd.DataFrame(
        {
            "item_id": item_ids[items],
            "worker": np.array([f"w{w:02d}" for w in range(n_workers)])[workers],
            "label": names[given_label],
        }
    )
    if drop:
        df = df[rng.random(len(df)) >= drop].reset_index(drop=True)
    gt = pd.Series(names[truth], index=pd.Index(item_ids, name="item_id"), name="label")
    return df, gt


@pytest.fixture(scope="module")
def simulated():
    return simulate()


# --------------------------------------------------------------------------- threshold


THRESHOLD_CASES = [
    # rows, t, k, policy, expected (label, votes, n_labels, tie, status)
    (votes((1, "a", "cat"), (1, "b", "cat"), (1, "c", "dog")), 2, 3, "review",
     ("cat", 2, 3, False, "approved")),
    (votes((1, "a", "cat"), (1, "b", "cat")), 2, 3, "review",
     ("cat", 2, 2, False, "approved")),
    (votes((1, "a", "cat"), (1, "b", "dog")), 2, 3, "review",
     (None, 1, 2, True, "awaiting_consensus")),
    (votes((1, "a", "cat")), 2, 3, "review",
     ("cat", 1, 1, False, "awaiting_consensus")),
    (votes((1, "a", "cat"), (1, "b", "dog"), (1, "c", "fox")), 2, 3, "review",
     (None, 1, 3, True, "awaiting_review")),
    (votes((1, "a", "cat"), (1, "b", "dog"), (1, "c", "fox")), 2, 3, "first",
     ("cat", 1, 3, True, "awaiting_review")),
    (votes((1, "a", "dog"), (1, "b", "cat")), 2, 3, "first",
     ("cat", 1, 2, True, "awaiting_consensus")),
    (votes((1, "a", "cat"), (1, "b", "cat"), (1, "c", "dog"), (1, "d", "dog")), 2, 4, "review",
     (None, 2, 4, True, "awaiting_review")),
    (votes((1, "a", "cat"), (1, "b", "cat"), (1, "c", "cat"), (1, "d", "dog")), 3, 4, "review",
     ("cat", 3, 4, False, "approved")),
    (votes((1, "a", "cat")), 1, 1, "review", ("cat", 1, 1, False, "approved")),
    (votes((1, "a", "cat"), (1, "b", "dog")), 1, 2, "review",
     (None, 1, 2, True, "awaiting_review")),
    (votes((1, "a", "cat"), (1, "b", "dog"), (1, "c", "dog")), 3, 3, "review",
     ("dog", 2, 3, False, "awaiting_review")),
]
THRESHOLD_IDS = [
    "majority-approved", "approved-before-all-in", "tie-waiting", "one-vote-waiting",
    "three-way-tie-review", "three-way-tie-first", "tie-first-picks-smallest",
    "two-labels-reach-t", "unanimous-t3-of-4", "t1-single", "t1-disagree", "t3-not-reached",
]


@pytest.mark.parametrize(("frame", "t", "k", "policy", "expected"), THRESHOLD_CASES, ids=THRESHOLD_IDS)
def test_threshold_consensus_cases(frame, t, k, policy, expected):
    out = threshold_consensus(frame, approval_threshold=t, workers_per_input=k, tie_policy=policy)
    label, n_votes, n_labels, tie, status = expected
    row = out.loc[1]
    assert (pd.isna(row["label"]) if label is None else row["label"] == label)
    assert row["votes"] == n_votes
    assert row["n_labels"] == n_labels
    assert row["agreement"] == pytest.approx(n_votes / n_labels)
    assert bool(row["tie"]) is tie
    assert row["status"] == status


def test_threshold_consensus_frame_shape():
    frame = votes(
        ("b", "w1", "cat"), ("b", "w2", "cat"), ("a", "w1", "dog"),
        ("c", "w1", "x"), ("c", "w2", "y"), ("c", "w3", "z"),
    )
    out = threshold_consensus(frame, approval_threshold=2, workers_per_input=3)
    assert list(out.index) == ["b", "a", "c"]  # order of first appearance
    assert out.index.name == "item_id"
    assert list(out.columns) == ["label", "votes", "n_labels", "agreement", "tie", "status"]
    assert list(out["status"].cat.categories) == list(STATUSES)
    assert out["status"].tolist() == ["approved", "awaiting_consensus", "awaiting_review"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"approval_threshold": 0, "workers_per_input": 3}, "approval_threshold"),
        ({"approval_threshold": 4, "workers_per_input": 3}, "approval_threshold"),
        ({"approval_threshold": 2.0, "workers_per_input": 3}, "approval_threshold"),
        ({"approval_threshold": 1, "workers_per_input": 0}, "workers_per_input"),
        ({"approval_threshold": 1, "workers_per_input": 3, "tie_policy": "random"}, "tie_policy"),
    ],
    ids=["t-zero", "t-above-k", "t-float", "k-zero", "bad-tie-policy"],
)
def test_threshold_consensus_bad_parameters(kwargs, field):
    with pytest.raises(ValidationError) as info:
        threshold_consensus(votes((1, "a", "x")), **kwargs)
    assert info.value.field == field


# --------------------------------------------------------------------------- majority vote


MAJORITY_CASES = [
    (votes((1, "a", "x"), (1, "b", "y"), (1, "c", "y")), None, "y"),
    (votes((1, "a", "y"), (1, "b", "x")), None, "x"),
    (votes((1, "a", "x"), (1, "b", "y"), (1, "c", "y")), {"a": 3, "b": 1, "c": 1}, "x"),
    (votes((1, "a", "x"), (1, "b", "y"), (1, "c", "y")), pd.Series({"a": 2.0, "b": 1.0, "c": 1.0}), "x"),
    (votes((1, "a", "z"), (1, "b", "y")), {"a": 0.0, "b": 0.5}, "y"),
]


@pytest.mark.parametrize(("frame", "weights", "expected"), MAJORITY_CASES,
                         ids=["plain", "tie-smallest", "weights-dict", "weighted-tie-smallest", "zero-weight"])
def test_majority_vote_cases(frame, weights, expected):
    out = majority_vote(frame, weights=weights)
    assert out.name == "label"
    assert out.index.name == "item_id"
    assert out.loc[1] == expected


@pytest.mark.parametrize(
    "weights",
    [{"a": 1.0}, {"a": 1.0, "b": -1.0}, {"a": 1.0, "b": float("nan")}, {"a": 1.0, "b": "heavy"},
     pd.Series([1.0, 2.0, 3.0], index=["a", "a", "b"])],
    ids=["missing-worker", "negative", "nan", "not-a-number", "duplicate-worker"],
)
def test_majority_vote_bad_weights(weights):
    with pytest.raises(ValidationError) as info:
        majority_vote(votes((1, "a", "x"), (1, "b", "y")), weights=weights)
    assert info.value.field == "weights"


def test_majority_vote_matches_crowdkit_on_untied_items(simulated):
    aggregation = pytest.importorskip("crowdkit.aggregation")
    df, _ = simulated
    tied = threshold_consensus(df, 2, 3)["tie"]
    untied = df[~df["item_id"].isin(tied.index[tied])]
    ours = majority_vote(untied)
    theirs = aggregation.MajorityVote().fit_predict(untied.rename(columns={"item_id": "task"}))
    pd.testing.assert_series_equal(ours.sort_index(), theirs.rename("label").rename_axis("item_id"))


def test_weighted_majority_vote_matches_crowdkit(simulated):
    aggregation = pytest.importorskip("crowdkit.aggregation")
    df, _ = simulated
    skills = pd.Series(np.linspace(0.5, 0.95, 10), index=[f"w{w:02d}" for w in range(10)])
    ours = majority_vote(df, weights=skills)
    theirs = aggregation.MajorityVote().fit_predict(df.rename(columns={"item_id": "task"}), skills)
    pd.testing.assert_series_equal(ours.sort_index(), theirs.rename("label").rename_axis("item_id"))


def test_majority_vote_integer_ids():
    frame = votes((10, "a", "x"), (10, "b", "x"), (2, "a", "y"))
    out = majority_vote(frame)
    assert out.index.tolist() == [10, 2]
    assert out.tolist() == ["x", "y"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 4), st.sampled_from("abcd")), min_size=1, max_size=40))
def test_majority_vote_equals_groupby(rows):
    frame = pd.DataFrame(rows, columns=["item_id", "worker", "label"])
    counts = frame.groupby(["item_id", "label"]).size().unstack(fill_value=0).sort_index(axis=1)
    expected = counts.idxmax(axis=1)  # first max of the sorted labels = smallest tied label
    assert majority_vote(frame).sort_index().tolist() == expected.tolist()


# --------------------------------------------------------------------------- Dawid-Skene


def test_dawid_skene_matches_crowdkit(simulated):
    aggregation = pytest.importorskip("crowdkit.aggregation")
    df, gt = simulated
    ours = DawidSkene(n_iter=100).fit(df)
    theirs = aggregation.DawidSkene(n_iter=100)
    their_labels = theirs.fit_predict(df.rename(columns={"item_id": "task"}))
    our_accuracy = (ours.labels_ == gt).mean()
    their_accuracy = (their_labels.reindex(gt.index) == gt).mean()
    assert abs(our_accuracy - their_accuracy) <= 0.001
    assert our_accuracy > (majority_vote(df) == gt).mean()
    # same iterations, same posteriors and the same error-matrix layout
    assert len(ours.loss_history_) == len(theirs.loss_history_)
    np.testing.assert_allclose(ours.loss_history_, theirs.loss_history_, rtol=1e-9)
    their_probas = theirs.probas_.reindex(index=ours.probas_.index, columns=ours.probas_.columns)
    np.testing.assert_allclose(ours.probas_.to_numpy(), their_probas.to_numpy(), atol=1e-8)
    their_errors = theirs.errors_.reindex(ours.errors_.index).fillna(0.0)[ours.errors_.columns]
    np.testing.assert_allclose(ours.errors_.to_numpy(), their_errors.to_numpy(), atol=1e-8)
    assert ours.errors_.index.names == ["worker", "label"]


def test_dawid_skene_attributes(simulated):
    df, _ = simulated
    ds = DawidSkene().fit(df)
    labels = sorted(df["label"].unique())
    assert list(ds.probas_.columns) == labels
    np.testing.assert_allclose(ds.probas_.sum(axis=1), 1.0)
    assert ds.priors_.sum() == pytest.approx(1.0)
    per_true_label = ds.errors_.groupby(level="worker").sum()
    np.testing.assert_allclose(per_true_label.to_numpy(), 1.0)
    # skills rank the simulated workers: accuracy rises with the worker number
    assert ds.skills_.index.tolist() == [f"w{w:02d}" for w in range(10)]
    assert ds.skills_.corr(pd.Series(np.linspace(0.55, 0.95, 10), index=ds.skills_.index)) > 0.95
    assert ds.fit_predict(df).equals(ds.labels_)
    assert ds.n_iter_ == len(ds.loss_history_)


@pytest.mark.parametrize(("kwargs", "field"), [({"n_iter": 0}, "n_iter"), ({"tol": -1.0}, "tol")],
                         ids=["n-iter-zero", "negative-tol"])
def test_dawid_skene_bad_parameters(kwargs, field):
    with pytest.raises(ValidationError) as info:
        DawidSkene(**kwargs).fit(votes((1, "a", "x")))
    assert info.value.field == field


# --------------------------------------------------------------------------- agreement


AGREEMENT = votes(
    (1, "a", "x"), (1, "b", "x"), (1, "c", "x"),  # 3/3 pairs agree
    (2, "a", "x"), (2, "b", "y"), (2, "c", "y"),  # 1/3
    (3, "a", "x"), (3, "b", "y"),                 # 0/1
    (4, "c", "y"),                                # single vote: not counted
)


def test_item_and_percent_agreement():
    per_item = item_agreement(AGREEMENT)
    np.testing.assert_allclose(per_item.to_numpy(), [1.0, 1 / 3, 0.0, np.nan])
    assert percent_agreement(AGREEMENT) == pytest.approx((1 + 1 / 3 + 0) / 3)


def test_fleiss_kappa_varying_raters_by_hand():
    # items 1-3 only; P_bar = 4/9; p = (5/8 x, 3/8 y); P_e = 34/64
    p_bar, p_exp = 4 / 9, (25 + 9) / 64
    assert fleiss_kappa(AGREEMENT) == pytest.approx((p_bar - p_exp) / (1 - p_exp), abs=1e-12)


def test_fleiss_kappa_matches_statsmodels(simulated):
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    df, _ = simulated
    table = pd.crosstab(df["item_id"], df["label"]).to_numpy()
    assert fleiss_kappa(df) == pytest.approx(inter_rater.fleiss_kappa(table, method="fleiss"), abs=1e-9)


def _reliability_matrix(df: pd.DataFrame) -> np.ndarray:
    codes = pd.factorize(df["label"], sort=True)[0]
    wide = df.assign(code=codes).pivot(index="worker", columns="item_id", values="code")
    return wide.to_numpy(dtype=float)


@pytest.mark.parametrize("drop", [0.0, 0.3], ids=["complete", "missing-30pct"])
def test_krippendorff_alpha_matches_package(drop):
    krippendorff = pytest.importorskip("krippendorff")
    df, _ = simulate(n_items=600, drop=drop, seed=3)
    expected = krippendorff.alpha(reliability_data=_reliability_matrix(df), level_of_measurement="nominal")
    assert krippendorff_alpha(df) == pytest.approx(expected, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3), st.sampled_from("abc")), min_size=2, max_size=40,
                unique_by=lambda r: (r[0], r[1])))
def test_krippendorff_alpha_property(rows):
    krippendorff = pytest.importorskip("krippendorff")
    frame = pd.DataFrame(rows, columns=["item_id", "worker", "label"])
    ours = krippendorff_alpha(frame)
    matrix = _reliability_matrix(frame)
    pairable = (np.isfinite(matrix).sum(axis=0) >= 2).any()
    if not pairable or frame["label"].nunique() < 2 or np.isnan(ours):
        return  # the package raises or divides by zero on these; we return NaN
    expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    assert ours == pytest.approx(expected, abs=1e-9)


def test_pairwise_cohen_kappa_by_hand():
    frame = votes(
        (1, "a", "x"), (1, "b", "x"), (2, "a", "y"), (2, "b", "y"),
        (3, "a", "x"), (3, "b", "y"), (4, "a", "y"), (4, "b", "y"),
        (1, "c", "x"),  # c shares a single item with a and b
    )
    kappa = pairwise_cohen_kappa(frame)
    # p_o = 3/4; a: x 2, y 2; b: x 1, y 3 -> p_e = (2*1 + 2*3) / 16 = 1/2
    assert kappa.loc["a", "b"] == pytest.approx(0.5)
    assert kappa.loc["b", "a"] == pytest.approx(0.5)
    assert np.isnan(kappa.loc["a", "c"]) and np.isnan(kappa.loc["c", "b"])
    assert kappa.loc["a", "a"] == pytest.approx(1.0)
    assert list(kappa.index) == list(kappa.columns) == ["a", "b", "c"]


def test_pairwise_cohen_kappa_matches_sklearn(simulated):
    metrics = pytest.importorskip("sklearn.metrics")
    df, _ = simulated
    kappa = pairwise_cohen_kappa(df)
    wide = df.pivot(index="item_id", columns="worker", values="label")
    for a, b in [("w00", "w09"), ("w03", "w04")]:
        both = wide[[a, b]].dropna()
        assert kappa.loc[a, b] == pytest.approx(metrics.cohen_kappa_score(both[a], both[b]), abs=1e-12)


def test_pairwise_cohen_kappa_rejects_repeat_votes():
    with pytest.raises(ValidationError) as info:
        pairwise_cohen_kappa(votes((1, "a", "x"), (1, "a", "y")))
    assert info.value.field == "labels"


def test_worker_agreement_default_and_given_consensus():
    out = worker_agreement(AGREEMENT)
    # majority: 1 -> x, 2 -> y, 3 -> x (tie, smallest), 4 -> y
    assert out.index.tolist() == ["a", "b", "c"]
    assert out["n_labels"].tolist() == [3, 3, 3]
    np.testing.assert_allclose(out["agreement_with_consensus"], [2 / 3, 2 / 3, 1.0])
    review = threshold_consensus(AGREEMENT, approval_threshold=2, workers_per_input=3)
    given_ = worker_agreement(AGREEMENT, consensus=review)  # item 3 is tied: no label
    assert given_["n_compared"].tolist() == [2, 2, 3]
    np.testing.assert_allclose(given_["agreement_with_consensus"], [0.5, 1.0, 1.0])


def test_agreement_summary(simulated):
    df, _ = simulated
    summary = agreement_summary(df)
    assert summary.index.tolist() == [
        "percent_agreement", "fleiss_kappa", "krippendorff_alpha", "n_items", "n_workers", "n_labels",
    ]
    assert summary["percent_agreement"] == pytest.approx(percent_agreement(df))
    assert summary["fleiss_kappa"] == pytest.approx(fleiss_kappa(df))
    assert summary["krippendorff_alpha"] == pytest.approx(krippendorff_alpha(df))
    assert summary[["n_items", "n_workers", "n_labels"]].tolist() == [2000, 10, 6000]


# --------------------------------------------------------------------------- bad input


ALL_FUNCTIONS = [
    majority_vote, percent_agreement, item_agreement, fleiss_kappa, krippendorff_alpha,
    pairwise_cohen_kappa, worker_agreement, agreement_summary,
    lambda df: threshold_consensus(df, 1, 1), lambda df: DawidSkene().fit(df),
]
FUNCTION_IDS = [
    "majority_vote", "percent_agreement", "item_agreement", "fleiss_kappa", "krippendorff_alpha",
    "pairwise_cohen_kappa", "worker_agreement", "agreement_summary", "threshold_consensus", "DawidSkene",
]


@pytest.mark.parametrize("function", ALL_FUNCTIONS, ids=FUNCTION_IDS)
@pytest.mark.parametrize("missing", ["item_id", "worker", "label"])
def test_missing_column_names_it(function, missing):
    frame = votes((1, "a", "x")).drop(columns=missing)
    with pytest.raises(ValidationError) as info:
        function(frame)
    assert info.value.field == missing


@pytest.mark.parametrize("function", ALL_FUNCTIONS, ids=FUNCTION_IDS)
def test_not_a_dataframe(function):
    with pytest.raises(ValidationError) as info:
        function([(1, "a", "x")])
    assert info.value.field == "labels"


@pytest.mark.parametrize("column", ["item_id", "worker", "label"])
def test_missing_values_are_rejected(column):
    frame = votes((1, "a", "x"), (2, "b", "y"))
    frame.loc[1, column] = None
    with pytest.raises(ValidationError) as info:
        majority_vote(frame)
    assert info.value.field == column


def test_consensus_frame_without_label_column():
    with pytest.raises(ValidationError) as info:
        worker_agreement(AGREEMENT, consensus=pd.DataFrame({"x": [1]}))
    assert info.value.field == "consensus"


def test_encoded_votes_give_every_analysis_the_same_answer(simulated):
    frame, _truth = simulated
    encoded = encode_votes(frame)
    assert len(encoded) == len(frame) and encode_votes(encoded) is encoded
    pd.testing.assert_frame_equal(threshold_consensus(encoded, 2, 3), threshold_consensus(frame, 2, 3))
    pd.testing.assert_series_equal(majority_vote(encoded), majority_vote(frame))
    pd.testing.assert_series_equal(agreement_summary(encoded), agreement_summary(frame))
    pd.testing.assert_frame_equal(worker_agreement(encoded), worker_agreement(frame))
    pd.testing.assert_frame_equal(pairwise_cohen_kappa(encoded), pairwise_cohen_kappa(frame))
    pd.testing.assert_series_equal(item_agreement(encoded), item_agreement(frame))
    assert krippendorff_alpha(encoded) == krippendorff_alpha(frame)
    assert fleiss_kappa(encoded) == fleiss_kappa(frame) and percent_agreement(encoded) == percent_agreement(frame)
    pd.testing.assert_series_equal(DawidSkene().fit(encoded).labels_, DawidSkene().fit(frame).labels_)


def test_encode_votes_checks_the_table_once():
    with pytest.raises(ValidationError) as info:
        encode_votes(pd.DataFrame({"item_id": [1], "label": ["x"]}))
    assert info.value.field == "worker"
