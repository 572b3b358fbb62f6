"""ConsensusView of box, polygon, multi_class and text tasks (issue 14), headless on a SQLite store.

Several workers submit through the SDK; the figures a user reads (tables, bar heights, titles) are
checked against values computed here from the answers themselves: IoU of two boxes by hand,
Jaccard indexes of label sets, Krippendorff's alpha with the ``krippendorff`` package.
"""
from __future__ import annotations

import io
import itertools
import re
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import dltasks as dl
from dltasks.widgets import ConsensusView


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """IoU of two boxes (left, top, right, bottom), by hand."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return w * h / (area - w * h)


def jaccard(a: set[str], b: set[str]) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def cells(html: str) -> list[list[str]]:
    """An HTML table as the user reads it: header then rows, tags stripped."""
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html.split("</style>")[-1])
    return [[re.sub(r"<[^>]+>", "", c).replace("&#x27;", "'").strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)]
            for r in rows]


def figures(view: Any) -> dict[str, str]:
    return {name: value for name, value in cells(view.figures.value)[1:]}


def drawn(image: Any) -> np.ndarray:
    """A chart as pixels (to see that it was drawn, and drawn again only when it changed)."""
    return np.asarray(Image.open(io.BytesIO(bytes(image.value))))


@pytest.fixture
def street() -> Any:
    store = dl.connect("sqlite://")
    ds = store.datasets.create("street", labels=["car", "bus", "bike"])
    ds.items.import_df(pd.DataFrame({"name": [f"s{i}.jpg" for i in range(5)],
                                     "metadata": [{"system": {"width": 100, "height": 80}}] * 5}))
    yield ds
    store.close()


def make_task(ds: Any, annotation_type: str, **options: Any) -> Any:
    opts = dict(assignee_ids=["ann", "bob", "cat"], worker_strategy="full", review_strategy="consensus",
                reviewer_ids=["rev"], approval_threshold=2, workers_per_input=3) | options
    return ds.tasks.create(f"{annotation_type} task", annotation_type=annotation_type, **opts)


# -- boxes -----------------------------------------------------------------------------------
ANN, BOB, CAT = (10, 10, 50, 50), (12, 12, 52, 50), (11, 9, 49, 51)
STRAY = (70, 5, 90, 20)
MEDIAN = (11, 10, 50, 50)   # the consensus box: the per-coordinate median of the three car boxes


def box_task(ds: Any, **options: Any) -> Any:
    task = make_task(ds, "box", **options)
    task.submit(1, "ann", annotations=[dl.Box(*ANN, "car")])
    task.submit(1, "bob", annotations=[dl.Box(*BOB, "car"), dl.Box(*STRAY, "bus")])
    task.submit(1, "cat", annotations=[dl.Box(*CAT, "car")])
    task.submit(2, "ann", annotations=[])                          # "nothing here"
    task.submit(2, "bob", annotations=[dl.Box(0, 0, 20, 20, "car")])
    return task


def test_box_view_shows_the_mean_iou_of_matched_boxes_per_item(street):
    task = box_task(street)
    view = ConsensusView(task)
    item_iou = np.mean([iou(ANN, BOB), iou(ANN, CAT), iou(BOB, CAT)])        # every two matched boxes
    assert 0.8 < item_iou < 0.9
    rows = cells(view.items_table.value)
    assert rows[0][1:] == ["id", "status", "workers", "mean IoU", "consensus shapes"]
    assert rows[1][1:] == ["#1", "approved", "3", f"{item_iou:.2f}", "1"]
    assert rows[2][1:] == ["#2", "awaiting consensus", "2", "—", "0"]    # one box: nothing matched
    assert rows[3][1:] == ["#3", "pending", "—", "—", "—"]
    shown = figures(view)
    assert shown["mean IoU of matched shapes"] == f"{item_iou:.2f}"
    assert shown["items whose answers agree"] == "1 of 2 (50.0%)"
    assert (shown["items answered"], shown["workers"], shown["boxes drawn"], shown["consensus shapes"],
            shown["IoU threshold"]) == ("2", "3", "5", "1", "0.5")
    assert "shapes matched at IoU ≥ 0.5" in view.title.value and "approved at 2 of 3 answers" in view.title.value
    assert view.consensus.loc[1, "agreement"] == pytest.approx(item_iou)
    assert view.selected().loc[[1, 2], ["n_workers", "shapes"]].values.tolist() == [[3, 1], [2, 0]]


def test_box_view_draws_the_iou_histogram_with_the_threshold(street):
    task = box_task(street, iou_threshold=0.6)
    view = ConsensusView(task)
    from dltasks.plots import plot_iou_histogram

    item_iou = np.mean([iou(ANN, BOB), iou(ANN, CAT), iou(BOB, CAT)])
    expected = plot_iou_histogram(pd.Series([item_iou]), 0.6, figsize=(4.8, 2.9))
    ax = expected.axes[0]
    assert [p.get_height() for p in ax.patches] == [0] * 8 + [1, 0]        # the one item, in 0.8-0.9
    assert ax.get_title() == "Mean IoU of matched shapes per item\n1 item with a match"
    assert "IoU threshold 0.6" in [line.get_label() for line in ax.get_lines()]
    from dltasks.widgets._common import figure_png

    assert bytes(view.agreement_chart.value) == figure_png(expected)     # that chart, drawn in the view
    assert "IoU ≥ 0.6" in view.title.value and figures(view)["IoU threshold"] == "0.6"


def test_box_view_shows_each_workers_precision_recall_and_iou_against_the_consensus(street):
    task = box_task(street)
    view = ConsensusView(task)
    mean_iou = {"ann": iou(ANN, MEDIAN), "bob": iou(BOB, MEDIAN), "cat": iou(CAT, MEDIAN)}
    assert mean_iou["ann"] == 0.975                                        # 39 x 40 of 40 x 40
    table = cells(view.worker_table.value)
    assert table[0] == ["worker", "items", "drawn", "matched", "consensus shapes", "precision", "recall", "mean IoU"]
    assert [row[:7] for row in table[1:]] == [["ann", "2", "1", "1", "1", "1.00", "1.00"],
                                              ["bob", "2", "3", "1", "1", "0.33", "1.00"],   # 1 of 3 boxes matched
                                              ["cat", "1", "1", "1", "1", "1.00", "1.00"]]
    assert [float(row[7]) for row in table[1:]] == pytest.approx(list(mean_iou.values()), abs=0.0051)   # shown to 2 decimals
    assert "precision = matched / drawn" in view.workers_head.value
    from dltasks.plots import plot_shape_worker_quality
    from dltasks.widgets._common import figure_png

    chart = plot_shape_worker_quality(view.workers[["precision", "recall", "mean_iou"]], figsize=(5.6, 3.15))
    widths = [p.get_width() for p in chart.axes[0].patches]
    assert widths == pytest.approx([1, 1 / 3, 1, 1, 1, 1, mean_iou["ann"], mean_iou["bob"], mean_iou["cat"]])
    assert bytes(view.breakdown_chart.value) == figure_png(chart)
    assert task.worker_quality().round(9).equals(view.workers.round(9))   # the SDK's figures


def test_box_view_shows_each_workers_answer_for_an_item(street):
    view = ConsensusView(box_task(street))
    view.picker.buttons.value = 1                                          # a click on "s0.jpg"
    assert cells(view.votes_table.value) == [["worker", "answer", "in consensus"],
                                            ["ann", "1 box (car)", "1 of 1"],
                                            ["bob", "2 boxes (car, bus)", "1 of 2"],
                                            ["cat", "1 box (car)", "1 of 1"]]
    view.item = 2
    assert cells(view.votes_table.value)[1:] == [["ann", "nothing here (no boxes)", "—"], ["bob", "1 box (car)", "0 of 1"]]
    assert "awaiting consensus" in view.detail_title.value and "s1.jpg" in view.detail_title.value


def test_box_view_reads_the_answers_once_and_follows_new_work(street, monkeypatch):
    task = box_task(street)
    reads: list[int] = []
    read = task.labels_df
    monkeypatch.setattr(task, "labels_df", lambda: reads.append(1) or read())
    view = ConsensusView(task, refresh_budget=60.0)
    assert len(reads) == 1
    histogram, quality = drawn(view.agreement_chart), drawn(view.breakdown_chart)
    task.submit(2, "cat", annotations=[dl.Box(1, 0, 20, 20, "car")])      # matches bob's box: IoU 19/20
    assert len(reads) == 2
    assert cells(view.items_table.value)[2][1:] == ["#2", "approved", "3", "0.95", "1"]
    assert view.counts["approved"] == 2 and figures(view)["items whose answers agree"] == "2 of 2 (100.0%)"
    assert not np.array_equal(drawn(view.agreement_chart), histogram)
    assert not np.array_equal(drawn(view.breakdown_chart), quality)
    unchanged = bytes(view.breakdown_chart.value)
    task.reopen(2, "rev")                                                  # the status changes, the answers do not
    assert cells(view.items_table.value)[2][2] == "awaiting review" and bytes(view.breakdown_chart.value) == unchanged


def test_box_view_without_answers_says_so(street):
    view = ConsensusView(make_task(street, "box"))
    assert figures(view)["items answered"] == "0" and figures(view)["mean IoU of matched shapes"] == "—"
    assert cells(view.worker_table.value)[1] == ["no answers yet"]
    assert [label for label, _ in view.filter_box.options] == ["all (5)", "pending (5)", "awaiting consensus (0)",
                                                                "awaiting review (0)", "approved (0)", "rejected (0)"]
    assert bytes(view.agreement_chart.value).startswith(b"\x89PNG")


# -- polygons --------------------------------------------------------------------------------
SQUARE = [[0, 0], [40, 0], [40, 40], [0, 40]]
LOWER = [[0, 0], [40, 0], [40, 36], [0, 36]]      # inside SQUARE: IoU 36/40


def test_polygon_view_shows_the_mean_iou_and_the_workers(street):
    task = make_task(street, "polygon")
    task.submit(1, "ann", annotations=[dl.Polygon(SQUARE, "car")])
    task.submit(1, "bob", annotations=[dl.Polygon(LOWER, "car")])
    view = ConsensusView(task)
    assert cells(view.items_table.value)[1][1:] == ["#1", "approved", "2", "0.90", "1"]
    assert figures(view)["polygons drawn"] == "2" and figures(view)["mean IoU of matched shapes"] == "0.90"
    # the consensus polygon is one of the two (the member closest to the others): its worker's IoU is 1
    mine = "ann" if task.consensus_shapes()["geo"][0] == SQUARE else "bob"
    assert [r[:3] + r[5:] for r in cells(view.worker_table.value)[1:]] == [
        [w, "1", "1", "1.00", "1.00", "1.00" if w == mine else "0.90"] for w in ("ann", "bob")]
    view.item = 1
    assert cells(view.votes_table.value)[1] == ["ann", "1 polygon (car)", "1 of 1"]


def test_polygon_view_when_no_two_polygons_match(street):
    task = make_task(street, "polygon")
    task.submit(1, "ann", annotations=[dl.Polygon(SQUARE, "car")])
    task.submit(1, "bob", annotations=[dl.Polygon([[60, 40], [90, 40], [90, 70]], "car")])
    view = ConsensusView(task)
    assert cells(view.items_table.value)[1][1:] == ["#1", "awaiting consensus", "2", "—", "0"]
    assert [r[5] for r in cells(view.worker_table.value)[1:]] == ["0.00", "0.00"]   # precision: nothing matched


# -- several labels --------------------------------------------------------------------------
MULTI = {1: {"ann": {"car", "bus"}, "bob": {"car"}, "cat": {"car"}},
         2: {"ann": set(), "bob": {"bus"}, "cat": {"bus", "bike"}},
         3: {"ann": {"bike"}}}


def multi_task(ds: Any) -> Any:
    task = make_task(ds, "multi_class")
    for item, answers in MULTI.items():
        for worker, labels in answers.items():
            task.submit(item, worker, annotations=[dl.Classification(label) for label in sorted(labels)])
    return task


def set_alpha_by_hand(distance: Any) -> float:
    """Krippendorff's alpha over the label sets of MULTI: 1 - D_o / D_e, pairable items only."""
    units = [list(a.values()) for a in MULTI.values() if len(a) >= 2]
    pooled = [s for unit in units for s in unit]
    n = len(pooled)
    observed = sum(distance(a, b) / (len(unit) - 1) for unit in units for a, b in itertools.permutations(unit, 2)) / n
    expected = sum(distance(a, b) for a, b in itertools.permutations(pooled, 2)) / (n * (n - 1))
    return 1 - observed / expected


def masi(a: set[str], b: set[str]) -> float:
    m = 1 if a == b else 2 / 3 if a <= b or b <= a else 1 / 3 if a & b else 0
    return 1 - jaccard(a, b) * m


def test_multi_class_view_shows_the_labels_agreed_and_the_mean_jaccard_per_item(street):
    view = ConsensusView(multi_task(street))
    rows = cells(view.items_table.value)
    assert rows[0][1:] == ["id", "status", "workers", "labels agreed", "mean Jaccard"]
    item1 = np.mean([jaccard({"car", "bus"}, {"car"}), jaccard({"car", "bus"}, {"car"}), 1.0])   # 2/3
    item2 = np.mean([jaccard(set(), {"bus"}), jaccard(set(), {"bus", "bike"}), jaccard({"bus"}, {"bus", "bike"})])
    assert rows[1][1:] == ["#1", "approved", "3", "car", f"{item1:.2f}"]
    assert rows[2][1:] == ["#2", "approved", "3", "bus", f"{item2:.2f}"]   # bike: 1 for, 2 against: outvoted
    assert rows[3][1:] == ["#3", "awaiting consensus", "1", "—", "—"]              # one worker: no pair
    shown = figures(view)
    assert shown["Krippendorff's alpha (Jaccard)"] == f"{set_alpha_by_hand(lambda a, b: 1 - jaccard(a, b)):.3f}"
    assert shown["Krippendorff's alpha (MASI)"] == f"{set_alpha_by_hand(masi):.3f}"
    assert shown["mean Jaccard between workers"] == f"{np.mean([item1, item2]):.2f}"
    assert shown["items whose answers agree"] == "2 of 3 (66.7%)"
    assert "a label fewer than 2 workers gave: outvoted" in view.title.value


def test_multi_class_view_shows_krippendorffs_alpha_per_label(street):
    view = ConsensusView(multi_task(street))
    workers = ["ann", "bob", "cat"]
    expected = {}
    for label in ["bike", "bus", "car"]:
        data = [[float(label in MULTI[i][w]) if w in MULTI[i] else np.nan for i in MULTI] for w in workers]
        expected[label] = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    table = cells(view.worker_table.value)
    assert table[0] == ["label", "items", "agreed", "alpha"]
    assert table[1:] == [["bike", "2", "0", f"{expected['bike']:.3f}"], ["bus", "2", "1", f"{expected['bus']:.3f}"],
                         ["car", "1", "1", f"{expected['car']:.3f}"]]
    from dltasks.plots import plot_label_alpha
    from dltasks.widgets._common import figure_png

    chart = plot_label_alpha(view.summary.labels["alpha"], figsize=(4.8, 2.4))
    assert [p.get_width() for p in chart.axes[0].patches] == pytest.approx(list(expected.values()))
    assert [t.get_text() for t in chart.axes[0].get_yticklabels()] == ["bike", "bus", "car"]
    assert bytes(view.breakdown_chart.value) == figure_png(chart)
    assert "Agreement per label" in view.workers_head.value


def test_multi_class_view_shows_each_workers_labels(street):
    view = ConsensusView(multi_task(street))
    view.item = 2
    assert cells(view.votes_table.value) == [["worker", "answer"], ["ann", "no label applies"], ["bob", "bus"],
                                            ["cat", "bike, bus"]]


# -- free text -------------------------------------------------------------------------------
def text_task(ds: Any) -> Any:
    task = make_task(ds, "text")
    task.submit(1, "cat", annotations=[dl.FreeText("a blue car")])
    task.submit(1, "ann", annotations=[dl.FreeText("A red  car")])
    task.submit(1, "bob", annotations=[dl.FreeText(" a RED car ")])
    task.submit(2, "ann", annotations=[dl.FreeText("bus")])
    task.submit(3, "ann", annotations=[dl.FreeText("bike")])
    task.submit(3, "bob", annotations=[dl.FreeText("a bike")])
    return task


def test_text_view_shows_the_share_of_items_agreed_and_each_items_agreement(street):
    view = ConsensusView(text_task(street))
    rows = cells(view.items_table.value)
    assert rows[0][1:] == ["id", "status", "workers", "most common answer", "votes", "agreement"]
    assert rows[1][1:] == ["#1", "approved", "3", "'a red car'", "2 of 3", "66.7%"]   # normalised: case, spaces
    assert rows[2][1:] == ["#2", "awaiting consensus", "1", "'bus'", "1 of 1", "—"]   # one answer agrees with nothing
    assert rows[3][1:] == ["#3", "awaiting consensus", "2", "'a bike'", "1 of 2", "50.0%"]
    assert figures(view) == {"items answered": "3", "workers": "3", "items whose answers agree": "1 of 3 (33.3%)",
                             "mean agreement (items with 2+ answers)": f"{100 * np.mean([2 / 3, 1 / 2]):.1f}%"}
    assert view.workers_box.layout.display == "none" and view.breakdown_chart.layout.display == "none"
    from dltasks.plots import plot_agreement_histogram
    from dltasks.widgets._common import figure_png

    chart = plot_agreement_histogram(view.consensus["agreement"], figsize=(4.8, 2.9), answers="answers",
                                     xlabel="share of answers equal to the most common")
    assert [p.get_height() for p in chart.axes[0].patches] == [0] * 5 + [1, 1, 0, 0, 0]
    assert chart.axes[0].get_title() == "Agreement per item (2 items with 2+ answers)"
    assert bytes(view.agreement_chart.value) == figure_png(chart)
    view.item = 1
    assert cells(view.votes_table.value)[1:] == [["ann", "'A red car'"], ["bob", "'a RED car'"], ["cat", "'a blue car'"]]
