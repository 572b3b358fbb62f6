"""Tests for dltasks.inference: parity with crowd-kit 1.4.2, gold seeding, the estimator contract.

Parity is measured on synthetic crowds with a known truth: each estimator's accuracy against the
truth is within 0.002 of crowd-kit's on the same votes.  crowd-kit's ``Wawa.predict`` fails under
scikit-learn >= 1.6 (``check_is_fitted`` wants ``__sklearn_tags__``), so Wawa is compared with
crowd-kit's own two steps (``Wawa.fit`` for the skills, ``MajorityVote.fit(skills=...)`` for the
labels, which is all ``Wawa.predict`` does) and with a reference written here from the definition.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dltasks.consensus import DawidSkene, encode_votes, majority_vote
from dltasks.errors import ValidationError
from dltasks.inference import (
    GLAD,
    GOLD_METHODS,
    MACE,
    METHODS,
    MajorityVote,
    OneCoinDawidSkene,
    SeededDawidSkene,
    Wawa,
    compare_methods,
    make_estimator,
)

# crowd-kit 1.4.2 predates pandas 3 and trips its deprecation warnings; they are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:crowdkit", "ignore::FutureWarning:crowdkit")


def crowd(n_items: int, n_workers: int, n_classes: int = 5, per_item: int = 3, seed: int = 11,
          adversarial: float = 0.0, accuracy: tuple[float, float] = (0.55, 0.95)) -> tuple[pd.DataFrame, pd.Series]:
    """Votes of ``per_item`` distinct workers per item, and the true label per item.

    Worker accuracies are spread evenly over ``accuracy``.  The first ``adversarial`` share of
    the workers are adversaries: where an honest worker would be right they answer the next label
    (``true + 1 mod K``) instead.  A wrong answer is any other label, uniformly.  Rows are shuffled.
    """
    rng = np.random.default_rng(seed)
    skill = np.linspace(*accuracy, n_workers)
    truth = rng.integers(0, n_classes, n_items)
    worker = np.argsort(rng.random((n_items, n_workers)), axis=1)[:, :per_item].ravel()
    item = np.repeat(np.arange(n_items), per_item)
    right = rng.random(len(item)) < skill[worker]
    true = truth[item]
    other = (true + rng.integers(1, n_classes, len(item))) % n_classes
    adversary = worker < int(round(adversarial * n_workers))
    answer = np.where(right, np.where(adversary, (true + 1) % n_classes, true), other)
    order = rng.permutation(len(item))
    labels = np.array([f"class-{c}" for c in range(n_classes)])
    items = np.array([f"item-{i:05d}" for i in range(n_items)])
    frame = pd.DataFrame({"item_id": items[item[order]], "worker": [f"w{w:03d}" for w in worker[order]],
                          "label": labels[answer[order]]})
    return frame, pd.Series(labels[truth], index=pd.Index(items, name="item_id"), name="label")


def accuracy(labels: pd.Series, truth: pd.Series, items: pd.Index | None = None) -> float:
    on = truth.index if items is None else items
    return float((labels.reindex(on) == truth.reindex(on)).mean())


def as_crowdkit(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename(columns={"item_id": "task"})


@pytest.fixture(scope="module")
def aggregation():
    return pytest.importorskip("crowdkit.aggregation")


@pytest.fixture(scope="module")
def small_crowd():
    return crowd(1500, 40)


@pytest.fixture(scope="module")
def adversarial_crowd():
    """Few items per worker (2000 items x 3 votes over 600 workers: 10 each), 45% adversaries,
    and a 10% gold sample of the items."""
    frame, truth = crowd(2000, 600, n_classes=3, adversarial=0.45, accuracy=(0.8, 0.8), seed=0)
    gold = truth.sample(frac=0.1, random_state=100)
    return frame, truth, gold, truth.index.difference(gold.index)


# --------------------------------------------------------------------------- parity with crowd-kit


def test_one_coin_matches_crowdkit(small_crowd, aggregation):
    frame, truth = small_crowd
    ours = OneCoinDawidSkene().fit(frame)
    theirs = aggregation.OneCoinDawidSkene().fit(as_crowdkit(frame))
    assert abs(accuracy(ours.labels_, truth) - accuracy(theirs.labels_, truth)) <= 0.002
    # the same EM step for step: posteriors, skills and iterations agree
    assert ours.n_iter_ == len(theirs.loss_history_)
    np.testing.assert_allclose(ours.probas_.to_numpy(), theirs.probas_.loc[ours.probas_.index, ours.probas_.columns],
                               atol=1e-8)
    np.testing.assert_allclose(ours.skills_, theirs.skills_.loc[ours.skills_.index], atol=1e-10)
    np.testing.assert_allclose(ours.loss_history_, theirs.loss_history_, rtol=1e-9)


def test_glad_matches_crowdkit(small_crowd, aggregation):
    frame, truth = small_crowd
    ours = GLAD().fit(frame)
    theirs = aggregation.GLAD().fit(as_crowdkit(frame))
    assert abs(accuracy(ours.labels_, truth) - accuracy(theirs.labels_, truth)) <= 0.002
    # the same conjugate-gradient M-steps: abilities and difficulties agree closely
    assert ours.n_iter_ == len(theirs.loss_history_)
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_.loc[ours.alphas_.index], atol=1e-4)
    np.testing.assert_allclose(ours.betas_, theirs.betas_.loc[ours.betas_.index], atol=1e-4)
    assert (ours.labels_ == theirs.labels_.loc[ours.labels_.index]).mean() >= 0.995


def test_mace_matches_crowdkit(small_crowd, aggregation):
    frame, truth = small_crowd
    ours = MACE().fit(frame)
    # crowd-kit starts every restart from the same point, so one restart is all its ten
    theirs = aggregation.MACE(n_restarts=1).fit(as_crowdkit(frame))
    assert abs(accuracy(ours.labels_, truth) - accuracy(theirs.labels_, truth)) <= 0.002
    assert (ours.labels_ == theirs.labels_.loc[ours.labels_.index]).mean() >= 0.97
    # the competence ranks the workers as their true accuracy does
    true_skill = pd.Series(np.linspace(0.55, 0.95, 40), index=[f"w{w:03d}" for w in range(40)])
    assert ours.skills_.corr(true_skill, method="spearman") > 0.8


def crowdkit_wawa(aggregation, frame: pd.DataFrame) -> pd.Series:
    """crowd-kit's Wawa: ``fit_predict``, or its two steps where ``predict`` fails (scikit-learn >= 1.6)."""
    try:
        return aggregation.Wawa().fit_predict(frame)
    except AttributeError:  # '__sklearn_tags__' from check_is_fitted
        skills = aggregation.Wawa().fit(frame).skills_
        return aggregation.MajorityVote().fit(frame, skills=skills).labels_


def reference_wawa(frame: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Wawa from its definition, in plain pandas: majority label (ties: the smallest), each worker's
    share of votes equal to it, then the label with the largest sum of its voters' skills."""
    counts = frame.groupby(["item_id", "label"]).size().unstack(fill_value=0)
    majority = counts.idxmax(axis=1)  # columns are sorted: ties go to the smallest label
    agree = frame["label"].to_numpy() == majority.loc[frame["item_id"]].to_numpy()
    skills = pd.Series(agree, index=frame["worker"]).groupby(level=0).mean()
    weighted = frame.assign(skill=skills.loc[frame["worker"]].to_numpy())
    scores = weighted.groupby(["item_id", "label"])["skill"].sum().unstack(fill_value=0.0).round(12)
    return scores.idxmax(axis=1), skills


def test_wawa_matches_crowdkit_and_the_definition(aggregation):
    frame, truth = crowd(20000, 50, seed=3)
    ours = Wawa().fit(frame)
    theirs = crowdkit_wawa(aggregation, as_crowdkit(frame))
    assert abs(accuracy(ours.labels_, truth) - accuracy(theirs, truth)) <= 0.002
    labels, skills = reference_wawa(frame)
    pd.testing.assert_series_equal(ours.skills_, skills.rename("skill").rename_axis("worker"), check_exact=False)
    assert (ours.labels_ == labels.loc[ours.labels_.index]).all()
    # Wawa is worth it here: it beats the plain majority
    assert accuracy(ours.labels_, truth) > accuracy(majority_vote(frame), truth) + 0.01


def test_wawa_equals_crowdkit_where_no_majority_is_tied(aggregation):
    # crowd-kit breaks a tied majority towards the label most frequent in the whole data set, we towards
    # the smallest label; with two labels and three votes no majority is tied, and the results are equal
    frame, _ = crowd(3000, 30, n_classes=2, seed=8)
    ours = Wawa().fit(frame)
    skills = aggregation.Wawa().fit(as_crowdkit(frame)).skills_
    theirs = aggregation.MajorityVote().fit(as_crowdkit(frame), skills=skills)
    np.testing.assert_allclose(ours.skills_, skills.loc[ours.skills_.index], rtol=1e-12)
    assert (ours.labels_ == theirs.labels_.loc[ours.labels_.index]).all()
    np.testing.assert_allclose(ours.probas_, theirs.probas_.loc[ours.probas_.index, ours.probas_.columns], rtol=1e-12)


def test_seeded_dawid_skene_matches_crowdkit_with_true_labels(adversarial_crowd, aggregation):
    frame, truth, gold, _ = adversarial_crowd
    ours = SeededDawidSkene().fit(frame, gold=gold)
    theirs = aggregation.DawidSkene().fit(as_crowdkit(frame), true_labels=gold)
    assert abs(accuracy(ours.labels_, truth) - accuracy(theirs.labels_, truth)) <= 0.002
    np.testing.assert_allclose(ours.probas_.to_numpy(), theirs.probas_.loc[ours.probas_.index, ours.probas_.columns],
                               atol=1e-6)
    assert ours.n_iter_ == len(theirs.loss_history_)


# --------------------------------------------------------------------------- gold


def test_gold_seeded_dawid_skene_beats_unseeded_with_few_items_per_worker_and_adversaries(adversarial_crowd):
    frame, truth, gold, rest = adversarial_crowd
    plain = DawidSkene().fit(frame)
    seeded = SeededDawidSkene().fit(frame, gold=gold)
    # measured on the items that are not gold: the gain is in the workers' estimates, not the gold itself
    plain_acc, seeded_acc = accuracy(plain.labels_, truth, rest), accuracy(seeded.labels_, truth, rest)
    assert seeded_acc >= plain_acc + 0.2, (plain_acc, seeded_acc)
    assert seeded_acc > 0.85
    # the adversaries are told apart: their estimated accuracy is low, the honest workers' high
    adversary = seeded.skills_.index < "w270"
    assert seeded.skills_[adversary].mean() < 0.3 < 0.7 < seeded.skills_[~adversary].mean()
    # and the gold items themselves are certain
    assert (seeded.labels_.loc[gold.index] == gold).all()
    assert (seeded.probas_.loc[gold.index].max(axis=1) == 1.0).all()


def test_seeded_dawid_skene_without_gold_is_dawid_skene(small_crowd):
    frame, _ = small_crowd
    plain, seeded = DawidSkene().fit(frame), SeededDawidSkene().fit(frame)
    pd.testing.assert_frame_equal(plain.probas_, seeded.probas_)
    pd.testing.assert_series_equal(plain.skills_, seeded.skills_)
    # gold for items nobody voted on changes nothing either
    other = SeededDawidSkene().fit(frame, gold={"not-an-item": "class-0"})
    pd.testing.assert_frame_equal(plain.probas_, other.probas_)


@pytest.mark.parametrize("estimator", [GLAD, OneCoinDawidSkene], ids=["glad", "one_coin"])
def test_gold_fixes_items_and_anchors_workers(estimator, adversarial_crowd):
    frame, truth, gold, rest = adversarial_crowd
    plain = estimator().fit(frame)
    seeded = estimator().fit(frame, gold=gold)
    assert (seeded.labels_.loc[gold.index] == gold).all()
    probas = seeded.probas_.loc[gold.index]
    assert (probas.max(axis=1) == 1.0).all() and (probas.sum(axis=1) == 1.0).all()
    # the adversaries (the first 45% of the workers) are trusted less once the gold is known
    adversary = plain.skills_.index < "w270"
    assert seeded.skills_[adversary].mean() < plain.skills_[adversary].mean()
    assert accuracy(seeded.labels_, truth, rest) > accuracy(plain.labels_, truth, rest)


def test_gold_forms_agree():
    frame, _ = crowd(300, 10, seed=5)
    as_series = pd.Series({"item-00000": "class-1", "item-00001": "class-2"})
    as_dict = as_series.to_dict()
    as_frame = pd.DataFrame({"item_id": as_series.index, "label": as_series.to_numpy()})
    results = [GLAD(n_iter=5).fit(frame, gold=g).probas_ for g in (as_series, as_dict, as_frame)]
    pd.testing.assert_frame_equal(results[0], results[1])
    pd.testing.assert_frame_equal(results[0], results[2])
    assert results[0].loc["item-00000"].to_dict() == {"class-0": 0.0, "class-1": 1.0, "class-2": 0.0,
                                                        "class-3": 0.0, "class-4": 0.0}


@pytest.mark.parametrize(
    "gold, field, message",
    [
        ({"item-00000": "class-9"}, "gold", "not among the workers' labels"),
        (pd.Series(["class-1", "class-2"], index=["item-00000", "item-00000"]), "gold", "given twice"),
        (pd.Series([None], index=["item-00000"], dtype=object), "gold", "missing label"),
        (pd.DataFrame({"item": ["item-00000"], "label": ["class-1"]}), "gold", "item_id and label"),
        (["class-1"], "gold", "must be a Series"),
    ],
    ids=["unknown-label", "duplicate", "missing", "bad-frame", "list"],
)
@pytest.mark.parametrize("estimator", [GLAD, OneCoinDawidSkene, SeededDawidSkene], ids=["glad", "one_coin", "ds"])
def test_bad_gold_names_the_field(estimator, gold, field, message):
    frame, _ = crowd(50, 5, seed=2)
    with pytest.raises(ValidationError, match=message) as raised:
        estimator().fit(frame, gold=gold)
    assert raised.value.field == field


# --------------------------------------------------------------------------- the estimator contract


ALL = [MajorityVote, Wawa, OneCoinDawidSkene, GLAD, MACE, SeededDawidSkene]
IDS = ["majority", "wawa", "one_coin", "glad", "mace", "dawid_skene"]


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_results_are_indexed_like_the_votes(estimator):
    frame = pd.DataFrame({"item_id": [7, 7, 7, 3, 3, 3, 5, 5, 5],
                          "worker": ["c", "a", "b", "a", "b", "c", "b", "c", "a"],
                          "label": ["y", "y", "x", "x", "x", "z", "z", "z", "z"]})
    model = estimator().fit(frame)
    assert model.labels_.index.tolist() == [7, 3, 5]  # items in order of first appearance
    assert model.labels_.tolist() == ["y", "x", "z"]
    assert model.probas_.columns.tolist() == ["x", "y", "z"]
    assert model.probas_.index.tolist() == [7, 3, 5]
    np.testing.assert_allclose(model.probas_.sum(axis=1), 1.0)
    assert model.skills_.index.tolist() == ["a", "b", "c"]
    assert model.skills_.between(0, 1).all()


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_votes_and_frame_give_the_same_result(estimator, small_crowd):
    frame, _ = small_crowd
    frame = frame.iloc[:900]
    a, b = estimator().fit(frame), estimator().fit(encode_votes(frame))
    pd.testing.assert_frame_equal(a.probas_, b.probas_)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    pd.testing.assert_series_equal(a.skills_, b.skills_)


@pytest.mark.parametrize("estimator", [MajorityVote, Wawa, OneCoinDawidSkene, GLAD], ids=IDS[:4])
def test_ties_go_to_the_smallest_label(estimator):
    # two workers, each item one vote for each label: nothing tells the labels apart
    frame = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "b", "a"], "label": ["y", "x", "y", "x"]})
    assert estimator().fit(frame).labels_.tolist() == ["x", "x"]


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_row_order_does_not_change_the_labels(estimator, small_crowd):
    frame, _ = small_crowd
    frame = frame.iloc[:600]
    shuffled = frame.sample(frac=1.0, random_state=1)
    a, b = estimator().fit(frame), estimator().fit(shuffled)
    pd.testing.assert_series_equal(a.labels_.sort_index(), b.labels_.sort_index())
    np.testing.assert_allclose(a.probas_.sort_index(), b.probas_.sort_index(), atol=1e-6)


def test_mace_restarts_start_from_different_points_and_keep_the_best():
    frame, truth = crowd(400, 12, seed=9)
    one = MACE(n_restarts=1, random_state=1).fit(frame)
    many = MACE(n_restarts=6, random_state=1).fit(frame)
    assert many.log_likelihood_ >= one.log_likelihood_
    assert MACE(n_restarts=1, random_state=2).fit(frame).log_likelihood_ != one.log_likelihood_
    em = MACE(method="em").fit(frame)
    assert accuracy(em.labels_, truth) > accuracy(majority_vote(frame), truth) - 0.02


def test_mace_does_not_underflow_on_an_item_with_many_votes():
    # 900 votes on one item: a product of 900 probabilities is 0 in floating point, its log is not
    workers = [f"w{w}" for w in range(900)]
    frame = pd.DataFrame({"item_id": ["big"] * 900 + ["small"] * 3, "worker": workers + workers[:3],
                          "label": ["x"] * 600 + ["y"] * 300 + ["y", "y", "x"]})
    model = MACE(n_restarts=1).fit(frame)
    assert np.isfinite(model.probas_.to_numpy()).all() and np.isfinite(model.log_likelihood_)
    assert model.labels_.to_dict() == {"big": "x", "small": "y"}


def test_glad_finds_the_adversaries_by_a_negative_ability():
    frame, truth = crowd(1500, 30, n_classes=2, adversarial=0.2, accuracy=(0.85, 0.85), seed=4)
    model = GLAD().fit(frame)
    adversary = model.alphas_.index < "w006"
    assert (model.alphas_[adversary] < 0).all() and (model.alphas_[~adversary] > 0).all()
    assert accuracy(model.labels_, truth) > accuracy(majority_vote(frame), truth)


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: GLAD(n_iter=0), "n_iter"),
        (lambda: GLAD(tol=-1.0), "tol"),
        (lambda: GLAD(m_step_max_iter=1.5), "m_step_max_iter"),
        (lambda: GLAD(m_step_tol=float("nan")), "m_step_tol"),
        (lambda: GLAD(alpha_prior_mean="1"), "alpha_prior_mean"),
        (lambda: OneCoinDawidSkene(n_iter=True), "n_iter"),
        (lambda: SeededDawidSkene(tol=float("inf")), "tol"),
        (lambda: MACE(n_restarts=0), "n_restarts"),
        (lambda: MACE(method="gibbs"), "method"),
        (lambda: MACE(alpha=0.0), "alpha"),
        (lambda: MACE(default_noise=-1.0), "default_noise"),
        (lambda: MACE(random_state=-1), "random_state"),
    ],
)
def test_bad_parameters_name_the_field(make, field):
    frame, _ = crowd(30, 4, seed=1)
    with pytest.raises(ValidationError) as raised:
        make().fit(frame)
    assert raised.value.field == field


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_bad_votes_are_refused(estimator):
    with pytest.raises(ValidationError, match="no votes") as raised:
        estimator().fit(pd.DataFrame({"item_id": [], "worker": [], "label": []}))
    assert raised.value.field == "labels"
    with pytest.raises(ValidationError) as raised:
        estimator().fit(pd.DataFrame({"item_id": [1], "label": ["x"]}))
    assert raised.value.field == "worker"


# --------------------------------------------------------------------------- choosing a method


def test_make_estimator_builds_every_method_and_compare_methods_shows_disagreements(adversarial_crowd):
    frame, truth, gold, rest = adversarial_crowd
    assert set(GOLD_METHODS) <= set(METHODS)
    for name in METHODS:
        assert type(make_estimator(name)) is METHODS[name]
    with pytest.raises(ValidationError) as raised:
        make_estimator("glad", iterations=3)
    assert raised.value.field == "params"
    table = compare_methods(frame, ["majority", "dawid_skene", "glad"], gold=gold)
    assert table.columns.tolist() == ["majority", "dawid_skene", "glad", "agree"]
    assert table["agree"].tolist() == (table[["majority", "dawid_skene", "glad"]].nunique(axis=1) == 1).tolist()
    assert 0 < table["agree"].mean() < 1
    # gold went to Dawid-Skene: the same labels as the seeded estimator's
    assert table["dawid_skene"].equals(SeededDawidSkene().fit(frame, gold=gold).labels_.rename("dawid_skene"))
