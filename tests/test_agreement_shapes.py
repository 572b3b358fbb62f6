"""dltasks.agreement for boxes and polygons: matching, consensus shapes, decisions, worker quality.

Hand-made answers with values a user sees, hypothesis properties (identical boxes, jittered boxes,
permuted and renamed workers), a per-item reference implementation with scipy's
linear_sum_assignment for the vectorised matching, shapely for polygon IoU, and bad input.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from dltasks.agreement import (agreed_items, cluster_shapes, consensus_shapes, decide, shape_matches,
                               shape_worker_quality)
from dltasks.agreement._arrays import SMALL
from dltasks.errors import ValidationError

COLUMNS = ["item_id", "worker", "kind", "label", "left", "top", "right", "bottom", "geo", "text"]


def boxes(*rows: tuple) -> pd.DataFrame:
    """A box answers frame from (item, worker, label, left, top, right, bottom) and (item, worker) "none" rows."""
    out = []
    for row in rows:
        if len(row) == 2:
            out.append((row[0], row[1], "none", None, math.nan, math.nan, math.nan, math.nan, None, None))
        else:
            item, worker, label, left, top, right, bottom = row
            out.append((item, worker, "box", label, float(left), float(top), float(right), float(bottom), None, None))
    return pd.DataFrame(out, columns=COLUMNS)


def polygons(*rows: tuple) -> pd.DataFrame:
    """A polygon answers frame from (item, worker, label, points) rows."""
    return pd.DataFrame([(item, worker, "polygon", label, math.nan, math.nan, math.nan, math.nan, points, None)
                         for item, worker, label, points in rows], columns=COLUMNS)


def iou(a: tuple, b: tuple) -> float:
    """IoU of two (left, top, right, bottom) boxes, the plain way."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# --------------------------------------------------------------------------- hand-made answers


def test_three_workers_agree_on_two_cars_and_the_consensus_boxes_are_the_medians():
    answers = boxes(
        (1, "ann", "car", 10, 10, 50, 40), (1, "ann", "car", 100, 100, 140, 150),
        (1, "bob", "car", 12, 11, 52, 42), (1, "bob", "car", 101, 98, 139, 151),
        (1, "cid", "car", 11, 9, 49, 41), (1, "cid", "car", 99, 102, 141, 149),
    )
    out = consensus_shapes(answers, approval_threshold=2)
    assert out[["left", "top", "right", "bottom"]].values.tolist() == [[11, 10, 50, 41], [100, 100, 140, 150]]
    assert out["n_workers"].tolist() == [3, 3] and out["kind"].tolist() == ["box", "box"]
    decision = decide(answers, "box", approval_threshold=2, workers_per_input=3)
    assert decision.loc[1, "status"] == "approved" and decision.loc[1, "n_workers"] == 3
    pairs = shape_matches(answers)
    assert len(pairs) == 6  # two clusters of three: three pairs each
    expected = np.mean([iou(*p) for p in [((10, 10, 50, 40), (12, 11, 52, 42)), ((10, 10, 50, 40), (11, 9, 49, 41)),
                                           ((12, 11, 52, 42), (11, 9, 49, 41)),
                                           ((100, 100, 140, 150), (101, 98, 139, 151)),
                                           ((100, 100, 140, 150), (99, 102, 141, 149)),
                                           ((101, 98, 139, 151), (99, 102, 141, 149))]])
    assert decision.loc[1, "agreement"] == pytest.approx(expected, abs=1e-11)
    assert pairs["iou"].mean() == pytest.approx(expected, abs=1e-11)


def test_a_stray_box_by_one_of_three_workers_is_outvoted_or_sent_to_review():
    answers = boxes(
        ("img", "ann", "dog", 0, 0, 10, 10),
        ("img", "bob", "dog", 1, 0, 11, 10),
        ("img", "cid", "dog", 0, 1, 10, 11), ("img", "cid", "dog", 60, 60, 80, 80),
    )
    assert agreed_items(answers, "box", 2, unmatched="outvoted").to_dict() == {"img": True}
    assert agreed_items(answers, "box", 2, unmatched="review").to_dict() == {"img": False}
    review = decide(answers, "box", 2, workers_per_input=3, unmatched="review")
    assert review.loc["img", "status"] == "awaiting_review"
    assert consensus_shapes(answers, 2)[["left", "top", "right", "bottom"]].values.tolist() == [[0, 0, 10, 10]]
    quality = shape_worker_quality(answers, 2)
    assert quality.loc["cid", ["shapes", "matched", "precision", "recall"]].tolist() == [2, 1, 0.5, 1.0]
    assert quality.loc["ann", ["shapes", "matched", "precision", "recall"]].tolist() == [1, 1, 1.0, 1.0]


def test_a_stray_box_waits_until_enough_workers_answered_without_it():
    first_two = boxes((1, "ann", "dog", 0, 0, 10, 10), (1, "bob", "dog", 0, 0, 10, 10), (1, "bob", "dog", 50, 50, 60, 60))
    assert decide(first_two, "box", 2, 3)["status"].tolist() == ["awaiting_consensus"]  # 1 with, 1 without
    third = pd.concat([first_two, boxes((1, "cid", "dog", 0, 0, 10, 10))], ignore_index=True)
    assert decide(third, "box", 2, 3)["status"].tolist() == ["approved"]  # now 2 without it


def test_workers_who_each_draw_a_box_somewhere_else_do_not_agree_that_nothing_is_there():
    answers = boxes((1, "ann", "dog", 0, 0, 10, 10), (1, "bob", "dog", 50, 50, 60, 60), (1, "cid", "dog", 90, 0, 99, 9))
    for rule in ("outvoted", "review"):
        assert decide(answers, "box", 2, 3, unmatched=rule)["status"].tolist() == ["awaiting_review"]
    assert consensus_shapes(answers, 2).empty


def test_outvoted_needs_enough_workers_whose_whole_answer_is_the_consensus():
    # the dog is agreed by all three; ann and bob each add a stray box: only cid's answer is the consensus
    strays = boxes((1, "ann", "dog", 0, 0, 10, 10), (1, "ann", "dog", 50, 50, 60, 60),
                   (1, "bob", "dog", 0, 0, 10, 10), (1, "bob", "dog", 90, 0, 99, 9),
                   (1, "cid", "dog", 0, 0, 10, 10))
    assert decide(strays, "box", 2, 3)["status"].tolist() == ["awaiting_review"]
    # one stray only: bob and cid answered exactly the consensus
    one = strays.drop(index=3)
    assert decide(one, "box", 2, 3)["status"].tolist() == ["approved"]


def test_boxes_match_only_within_their_label():
    answers = boxes((1, "ann", "cat", 0, 0, 10, 10), (1, "bob", "dog", 0, 0, 10, 10))
    assert cluster_shapes(answers).cluster_size.tolist() == [1, 1]
    assert consensus_shapes(answers, 2).empty
    assert decide(answers, "box", 2, 2)["status"].tolist() == ["awaiting_review"]
    assert math.isnan(decide(answers, "box", 2, 2)["agreement"].iloc[0])  # nothing matched


def test_the_optimal_assignment_beats_greedy_matching():
    # ann's first box overlaps both of bob's; greedy (best pair first) would leave one pair unmatched
    answers = boxes(
        (1, "ann", "x", 0, 0, 10, 10), (1, "ann", "x", 4, 0, 14, 10),
        (1, "bob", "x", 2, 0, 12, 10), (1, "bob", "x", -3, 0, 7, 10),
    )
    pairs = shape_matches(answers)
    assert len(pairs) == 2
    assert pairs["iou"].round(4).tolist() == sorted([round(iou((0, 0, 10, 10), (-3, 0, 7, 10)), 4),
                                                    round(iou((4, 0, 14, 10), (2, 0, 12, 10)), 4)])
    assert consensus_shapes(answers, 2)["n_workers"].tolist() == [2, 2]


def test_a_chain_of_matches_never_puts_two_shapes_of_one_worker_in_a_cluster():
    # ann1-bob1, bob1-cid1 and cid1-ann2 are each the best pair of their two workers: one chain
    answers = boxes(
        (1, "ann", "x", 0, 0, 10, 10), (1, "ann", "x", 7, 0, 17, 10),
        (1, "bob", "x", 2, 0, 12, 10),
        (1, "cid", "x", 4.5, 0, 14.5, 10),
    )
    frame = cluster_shapes(answers, iou_threshold=0.3).to_frame()
    assert frame.groupby("cluster")["worker"].apply(lambda w: w.is_unique).all()
    assert sorted(frame["cluster_size"].tolist()) == [1, 3, 3, 3]


def test_polygons_have_the_iou_shapely_gives_and_the_most_central_member_is_the_consensus():
    left, right = [[0, 0], [10, 0], [10, 10], [0, 10]], [[5, 0], [15, 0], [15, 10], [5, 10]]
    answers = polygons((1, "ann", "roof", left), (1, "bob", "roof", right))
    expected = shapely.area(shapely.intersection(shapely.Polygon(left), shapely.Polygon(right))) / shapely.area(
        shapely.union(shapely.Polygon(left), shapely.Polygon(right)))
    assert expected == pytest.approx(1 / 3)
    assert shape_matches(answers, iou_threshold=0.3)["iou"].tolist() == [pytest.approx(expected, abs=1e-11)]
    assert shape_matches(answers, iou_threshold=0.5).empty
    middle = [[2, 0], [12, 0], [12, 10], [2, 10]]
    three = polygons((1, "ann", "roof", left), (1, "bob", "roof", middle), (1, "cid", "roof", [[3, 0], [13, 0], [13, 10]]))
    out = consensus_shapes(three, approval_threshold=2, iou_threshold=0.3)
    assert out["geo"].tolist() == [middle] and out["n_workers"].tolist() == [3]
    assert out[["left", "top", "right", "bottom"]].isna().all(axis=None)


def test_polygons_nobody_agrees_on_make_no_consensus():
    answers = polygons((1, "ann", "x", [[0, 0], [1, 0], [0, 1]]), (1, "bob", "x", [[5, 5], [6, 5], [5, 6]]))
    assert consensus_shapes(answers, 2).empty
    assert shape_worker_quality(answers, 2)["precision"].tolist() == [0.0, 0.0]


def test_a_self_crossing_polygon_counts_the_area_it_encloses():
    bow = [[0, 0], [10, 10], [10, 0], [0, 10]]  # two triangles of area 25
    answers = polygons((1, "ann", "x", bow), (1, "bob", "x", [[0, 0], [5, 5], [0, 10]]))
    assert shape_matches(answers)["iou"].tolist() == [0.5]


def test_answers_of_nothing_agree_on_nothing():
    nothing = boxes((1, "ann"), (1, "bob"), (2, "ann"))
    out = decide(nothing, "box", approval_threshold=2, workers_per_input=2)
    assert out["status"].tolist() == ["approved", "awaiting_consensus"]
    assert out["n_workers"].tolist() == [2, 1] and out["agreement"].isna().all()
    assert consensus_shapes(nothing, 2).empty
    for rule in ("outvoted", "review"):
        assert agreed_items(nothing, "polygon", 2, unmatched=rule).tolist() == [True, False]
    quality = shape_worker_quality(nothing, 2)
    assert quality.loc["ann"].to_dict() == {"items": 2, "shapes": 0, "matched": 0, "consensus": 0,
                                            "precision": pytest.approx(math.nan, nan_ok=True),
                                            "recall": pytest.approx(math.nan, nan_ok=True),
                                            "mean_iou": pytest.approx(math.nan, nan_ok=True)}


def test_one_box_against_nothing():
    answers = boxes((1, "ann", "car", 0, 0, 10, 10), (1, "bob"), (1, "cid"))
    assert agreed_items(answers, "box", 2).tolist() == [True]  # outvoted by two "nothing here"
    assert agreed_items(answers, "box", 2, unmatched="review").tolist() == [False]


def test_worker_quality_counts_precision_recall_and_iou_against_the_consensus_box():
    answers = boxes(
        (1, "ann", "car", 0, 0, 10, 10), (1, "bob", "car", 0, 0, 10, 10), (1, "cid", "car", 0, 0, 10, 5),
        (2, "ann", "car", 0, 0, 10, 10), (2, "bob", "car", 0, 0, 10, 10), (2, "cid"),
    )
    quality = shape_worker_quality(answers, approval_threshold=2)
    assert quality.index.tolist() == ["ann", "bob", "cid"]
    assert quality["consensus"].tolist() == [2, 2, 2] and quality["recall"].tolist() == [1.0, 1.0, 0.5]
    assert quality["precision"].tolist() == [1.0, 1.0, 1.0]
    assert quality.loc["cid", "mean_iou"] == pytest.approx(0.5)  # its half box against the median box
    assert quality.loc["ann", "mean_iou"] == 1.0


def test_item_ids_may_be_strings_or_integers_and_come_back_sorted():
    answers = boxes(("b", "ann", "x", 0, 0, 1, 1), ("a", "ann", "x", 0, 0, 1, 1))
    assert agreed_items(answers, "box", 1).index.tolist() == ["a", "b"]
    answers = boxes((10, "ann", "x", 0, 0, 1, 1), (2, "ann", "x", 0, 0, 1, 1))
    assert decide(answers, "box", 1, 1).index.tolist() == [2, 10]


def test_one_clustering_serves_every_analysis_and_keeps_its_threshold():
    answers = boxes((1, "ann", "x", 0, 0, 10, 10), (1, "bob", "x", 0, 0, 10, 6))
    clusters = cluster_shapes(answers, iou_threshold=0.6)
    assert decide(clusters, "box", 2, 2, iou_threshold=0.6)["status"].tolist() == ["approved"]
    assert decide(answers, "box", 2, 2, iou_threshold=0.7)["status"].tolist() == ["awaiting_review"]
    with pytest.raises(ValidationError) as info:
        consensus_shapes(clusters, 2, iou_threshold=0.5)
    assert info.value.field == "iou_threshold" and info.value.value == 0.5


# --------------------------------------------------------------------------- properties


coordinate = st.integers(0, 60)
box = st.tuples(coordinate, coordinate, st.integers(1, 40), st.integers(1, 40)).map(
    lambda b: (b[0], b[1], b[0] + b[2], b[1] + b[3]))


@settings(max_examples=60, deadline=None)
@given(shape=box, k=st.integers(1, 6), threshold=st.integers(1, 6))
def test_identical_boxes_from_k_workers_make_one_consensus_box_with_agreement_one(shape, k, threshold):
    assume(threshold <= k)
    answers = boxes(*[(1, f"w{i}", "car", *shape) for i in range(k)])
    out = consensus_shapes(answers, threshold)
    assert out[["left", "top", "right", "bottom"]].values.tolist() == [list(shape)]
    assert out["n_workers"].tolist() == [k]
    decision = decide(answers, "box", threshold, k)
    assert decision["status"].tolist() == ["approved"]
    assert decision["agreement"].tolist() == ([1.0] if k > 1 else [pytest.approx(math.nan, nan_ok=True)])


@settings(max_examples=60, deadline=None)
@given(base=box, jitter=st.lists(st.tuples(*[st.floats(-0.08, 0.08)] * 4), min_size=2, max_size=5),
       threshold=st.floats(0.1, 0.5))
def test_boxes_jittered_within_the_iou_threshold_are_matched(base, jitter, threshold):
    width, height = base[2] - base[0], base[3] - base[1]
    shapes = [(base[0] + dl * width, base[1] + dt * height, base[2] + dr * width, base[3] + db * height)
              for dl, dt, dr, db in jitter]
    assume(all(iou(a, b) >= threshold + 1e-6 for a, b in itertools.combinations(shapes, 2)))
    answers = boxes(*[(7, f"w{i}", "car", *s) for i, s in enumerate(shapes)])
    clusters = cluster_shapes(answers, iou_threshold=threshold)
    assert clusters.cluster_size.tolist() == [len(shapes)]
    out = consensus_shapes(clusters, approval_threshold=len(shapes), iou_threshold=threshold)
    assert out["left"].tolist() == [pytest.approx(float(np.median([s[0] for s in shapes])))]
    assert agreed_items(clusters, "box", len(shapes), iou_threshold=threshold).tolist() == [True]


random_answers = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 4), st.sampled_from(["car", "dog"]), box | st.none()),
    min_size=1, max_size=40,
)


def _frame(rows: list) -> pd.DataFrame:
    seen = set()
    out = []
    for item, worker, label, shape in rows:
        if shape is None:
            if (item, worker) not in seen:
                out.append((item, f"w{worker}"))
        else:
            out.append((item, f"w{worker}", label, *shape))
        seen.add((item, worker))
    return boxes(*out)


def _everything(answers: pd.DataFrame, threshold: int, rule: str) -> tuple:
    clusters = cluster_shapes(answers, iou_threshold=0.4)
    shapes = consensus_shapes(clusters, threshold, iou_threshold=0.4)  # in an order of their own
    return (decide(clusters, "box", threshold, 5, iou_threshold=0.4, unmatched=rule), shapes,
            shape_worker_quality(clusters, threshold, iou_threshold=0.4))


@settings(max_examples=80, deadline=None)
@given(rows=random_answers, threshold=st.integers(1, 3), rule=st.sampled_from(["outvoted", "review"]),
       seed=st.integers(0, 2**32 - 1))
def test_permuting_rows_and_renaming_workers_changes_nothing(rows, threshold, rule, seed):
    answers = _frame(rows)
    rng = np.random.default_rng(seed)
    names = sorted(answers["worker"].unique())
    rename = dict(zip(names, [f"z{i}" for i in rng.permutation(len(names))]))
    shuffled = answers.iloc[rng.permutation(len(answers))].reset_index(drop=True)
    shuffled["worker"] = shuffled["worker"].map(rename)
    decision, shapes, quality = _everything(answers, threshold, rule)
    decision2, shapes2, quality2 = _everything(shuffled, threshold, rule)
    pd.testing.assert_frame_equal(decision, decision2)
    pd.testing.assert_frame_equal(shapes, shapes2)
    quality2.index = quality2.index.map({v: k for k, v in rename.items()})
    pd.testing.assert_frame_equal(quality, quality2.sort_index(), check_names=False)


def _as_polygons(answers: pd.DataFrame) -> pd.DataFrame:
    """The boxes as polygons: a triangle (the box's lower-left half) for odd left edges, else the rectangle."""
    out = answers.copy()
    shapes = out["kind"] == "box"
    out["geo"] = pd.Series([None] * len(out), dtype=object)
    out.loc[shapes, "geo"] = pd.Series([
        [[l, t], [r, b], [l, b]] if int(l) % 2 else [[l, t], [r, t], [r, b], [l, b]]
        for l, t, r, b in out.loc[shapes, ["left", "top", "right", "bottom"]].values], index=out.index[shapes],
        dtype=object)
    out.loc[shapes, "kind"] = "polygon"
    return out.assign(left=math.nan, top=math.nan, right=math.nan, bottom=math.nan)


@settings(max_examples=40, deadline=None)
@given(rows=random_answers, threshold=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_permuting_rows_and_renaming_workers_changes_nothing_for_polygons(rows, threshold, seed):
    answers = _as_polygons(_frame(rows))
    rng = np.random.default_rng(seed)
    shuffled = answers.iloc[rng.permutation(len(answers))].reset_index(drop=True)
    shuffled["worker"] = shuffled["worker"].map(lambda w: "z" + w[::-1])
    results = []
    for frame in (answers, shuffled):
        clusters = cluster_shapes(frame, iou_threshold=0.4, annotation_type="polygon")
        quality = shape_worker_quality(clusters, threshold, iou_threshold=0.4)
        quality.index = quality.index.map(lambda w: w[1:][::-1] if w.startswith("z") else w)
        results.append((decide(clusters, "polygon", threshold, 5, iou_threshold=0.4),
                        consensus_shapes(clusters, threshold, iou_threshold=0.4), quality.sort_index()))
    for ours, theirs in zip(*results):
        pd.testing.assert_frame_equal(ours, theirs, check_names=False)


@settings(max_examples=40, deadline=None)
@given(rows=random_answers, threshold=st.integers(1, 3), rule=st.sampled_from(["outvoted", "review"]))
def test_one_item_at_a_time_gives_what_the_whole_frame_gives(rows, threshold, rule):
    answers = _frame(rows)
    whole = agreed_items(answers, "box", threshold, unmatched=rule)
    each = pd.concat([agreed_items(part, "box", threshold, unmatched=rule) for _, part in answers.groupby("item_id")])
    pd.testing.assert_series_equal(whole, each)


# --------------------------------------------------------------------------- against a per-item reference


def reference_clusters(answers: pd.DataFrame, threshold: float) -> set[frozenset[int]]:
    """Per (item, label), per worker pair: linear_sum_assignment on the IoU matrix; clusters = components."""
    parent = {row: row for row in answers.index}

    def root(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    groups: dict[tuple, dict[str, list[tuple[int, tuple]]]] = {}
    for row in answers[answers["kind"] == "box"].itertuples():
        shape = (row.left, row.top, row.right, row.bottom)
        groups.setdefault((row.item_id, row.label), {}).setdefault(row.worker, []).append((row.Index, shape))
    for by_worker in groups.values():
        for one, other in itertools.combinations(by_worker.values(), 2):
            matrix = np.array([[iou(a, b) for _, b in other] for _, a in one])
            weight = np.where(matrix >= threshold, matrix, 0.0)
            for r, c in zip(*linear_sum_assignment(weight, maximize=True)):
                if weight[r, c] > 0:
                    parent[root(one[r][0])] = root(other[c][0])
    clusters: dict[int, set[int]] = {}
    for shapes in groups.values():
        for row, _ in itertools.chain(*shapes.values()):
            clusters.setdefault(root(row), set()).add(row)
    return {frozenset(c) for c in clusters.values()}


def crowded(n_items: int, seed: int) -> pd.DataFrame:
    """Many overlapping boxes of one label: ambiguous blocks, stars and chains."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(n_items):
        for worker in range(3):
            for _ in range(rng.integers(0, 5)):
                left, top = rng.uniform(0, 30, 2)
                rows.append((item, f"w{worker}", "x", left, top, left + rng.uniform(8, 20), top + rng.uniform(8, 20)))
    return boxes(*rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorised_matching_finds_the_clusters_of_a_per_item_assignment(seed):
    answers = crowded(300, seed)
    assert len(answers) > SMALL  # the numpy path, not the one for the store's one-item calls
    frame = cluster_shapes(answers, iou_threshold=0.3).to_frame()
    ours = {frozenset(rows) for rows in frame.groupby("cluster").groups.values()}
    reference = reference_clusters(answers, 0.3)
    # a chain joining two shapes of one worker is split by us and kept whole by the reference
    chained = {c for c in reference if answers.loc[list(c), "worker"].duplicated().any()}
    assert ours >= reference - chained
    assert len(reference - chained) > 0.9 * len(reference)
    for cluster in chained:
        assert {s for c in ours if c <= cluster for s in c} == cluster


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, math.nan, "0.5", True, None])
def test_an_iou_threshold_outside_zero_one_is_refused(value):
    answers = boxes((1, "ann", "x", 0, 0, 1, 1))
    with pytest.raises(ValidationError) as info:
        agreed_items(answers, "box", 1, iou_threshold=value)
    assert info.value.field == "iou_threshold"
    assert info.value.value is value or (isinstance(value, float) and math.isnan(info.value.value))


def test_a_missing_column_is_named():
    answers = boxes((1, "ann", "x", 0, 0, 1, 1)).drop(columns="bottom")
    with pytest.raises(ValidationError) as info:
        decide(answers, "box", 1, 1)
    assert info.value.field == "bottom" and "missing column 'bottom'" in str(info.value)
    with pytest.raises(ValidationError) as info:
        consensus_shapes(polygons((1, "a", "x", [[0, 0], [1, 0], [1, 1]])).drop(columns="geo"), 1)
    assert info.value.field == "geo"


def test_an_unknown_annotation_type_or_rule_is_refused():
    answers = boxes((1, "ann", "x", 0, 0, 1, 1))
    with pytest.raises(ValidationError) as info:
        agreed_items(answers, "boxes", 1)
    assert (info.value.field, info.value.value) == ("annotation_type", "boxes")
    with pytest.raises(ValidationError) as info:
        decide(answers, "box", 1, 1, unmatched="ignore")
    assert (info.value.field, info.value.value) == ("unmatched", "ignore")


@pytest.mark.parametrize("field, value", [("left", math.nan), ("top", math.inf), ("right", -math.inf)])
def test_a_coordinate_that_is_not_a_finite_number_is_refused(field, value):
    answers = boxes((1, "ann", "x", 0, 0, 10, 10), (1, "bob", "x", 0, 0, 10, 10))
    answers.loc[1, field] = value
    with pytest.raises(ValidationError) as info:
        decide(answers, "box", 1, 1)
    assert info.value.field == field and "finite" in str(info.value)
    assert "row 1: item 1, worker 'bob'" in str(info.value)
    assert info.value.value == value or math.isnan(info.value.value)


@pytest.mark.parametrize("shape, field, value", [((5, 0, 5, 10), "right", 5.0), ((6, 0, 5, 10), "right", 5.0),
                                                 ((0, 3, 10, 1), "bottom", 1.0)])
def test_a_box_without_positive_area_is_refused(shape, field, value):
    with pytest.raises(ValidationError) as info:
        agreed_items(boxes((1, "ann", "x", *shape)), "box", 1)
    assert (info.value.field, info.value.value) == (field, value)


def test_a_box_frame_with_other_kinds_or_labels_missing_is_refused():
    answers = boxes((1, "ann", "x", 0, 0, 1, 1))
    with pytest.raises(ValidationError) as info:
        agreed_items(answers.assign(kind="polygon"), "box", 1)
    assert (info.value.field, info.value.value) == ("kind", "polygon")
    with pytest.raises(ValidationError) as info:
        agreed_items(answers.assign(label=None), "box", 1)
    assert info.value.field == "label"


@pytest.mark.parametrize("geo", [[[0, 0], [1, 1]], [[0, 0], [1, math.nan], [1, 1]], "square", None, [[0, 0, 0]] * 3])
def test_a_polygon_needs_three_finite_points(geo):
    with pytest.raises(ValidationError) as info:
        agreed_items(polygons((1, "ann", "x", geo)), "polygon", 1)
    assert info.value.field == "geo" and info.value.value == geo


def test_a_threshold_above_the_workers_per_input_is_refused():
    with pytest.raises(ValidationError) as info:
        decide(boxes((1, "ann")), "box", approval_threshold=4, workers_per_input=3)
    assert (info.value.field, info.value.value) == ("approval_threshold", 4)


def test_many_workers_one_item_each_decide_as_one_item_at_a_time():
    # 300 items, each answered by its own 3 of 900 workers: the (item, worker) table is sparse
    rng = np.random.default_rng(5)
    rows = []
    for item in range(300):
        base = rng.uniform(0, 50, 2)
        for w in range(3):
            left, top = base + rng.normal(0, 1.5, 2) if rng.random() < 0.8 else rng.uniform(0, 50, 2)
            rows.append((item, f"w{3 * item + w}", "x", left, top, left + 10, top + 10))
            if rng.random() < 0.2:
                rows.append((item, f"w{3 * item + w}", "x", left + 30, top, left + 40, top + 10))
    answers = boxes(*rows)
    whole = agreed_items(answers, "box", 2)
    each = pd.concat([agreed_items(part, "box", 2) for _, part in answers.groupby("item_id")])
    pd.testing.assert_series_equal(whole, each)
    assert 0 < whole.sum() < len(whole)
