"""Tests for dltasks.plots: every chart renders, and what it drew matches its input."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from dltasks.consensus import threshold_consensus, worker_agreement  # noqa: E402
from dltasks.errors import ValidationError  # noqa: E402
from dltasks.plots import (  # noqa: E402
    plot_agreement_histogram,
    plot_confusion_matrix,
    plot_consensus_status,
    plot_iou_histogram,
    plot_item_status,
    plot_label_alpha,
    plot_partition,
    plot_progress,
    plot_shape_worker_quality,
    plot_worker_quality,
)

WORKERS = [f"annotator.{i:02d}@example.com" for i in range(20)]


def render(fig: Figure) -> Figure:
    """Draw the figure for real (Agg, to memory) so layout and text code runs."""
    assert isinstance(fig, Figure)
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return fig


def widths(ax) -> list[float]:
    return [float(p.get_width()) for p in ax.patches]


def heights(ax) -> list[float]:
    return [float(p.get_height()) for p in ax.patches]


def ytick_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def xtick_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_xticklabels()]


@pytest.fixture
def summary() -> pd.DataFrame:
    assigned = np.r_[np.full(10, 451), np.full(10, 450)]
    return pd.DataFrame({"assigned": assigned, "target": 450.5}, index=pd.Index(WORKERS, name="user_id"))


@pytest.fixture
def progress() -> pd.DataFrame:
    done = np.linspace(0, 40, 20).astype(int)
    return pd.DataFrame({"assigned": 40, "done": done}, index=pd.Index(WORKERS, name="user_id"))


@pytest.fixture
def votes() -> pd.DataFrame:
    return pd.DataFrame(
        [(1, "a", "x"), (1, "b", "x"), (1, "c", "y"),
         (2, "a", "x"), (2, "b", "y"), (2, "c", "z"),
         (3, "a", "y"), (3, "b", "y"),
         (4, "a", "z")],
        columns=["item_id", "worker", "label"],
    )


def test_plot_partition_draws_target_then_assigned(summary):
    fig = render(plot_partition(summary, figsize=(8, 7)))
    ax = fig.axes[0]
    assert widths(ax) == [450.5] * 20 + summary["assigned"].astype(float).tolist()
    assert ytick_texts(ax) == WORKERS
    assert ax.get_title() == "Items per assignee: target vs. assigned"
    assert ax.get_xlabel() == "items" and ax.get_ylabel() == "user_id"
    assert tuple(fig.get_size_inches()) == (8, 7)


def test_plot_progress_overlays_done_on_assigned(progress):
    fig = render(plot_progress(progress))
    ax = fig.axes[0]
    assert widths(ax) == [40.0] * 20 + progress["done"].astype(float).tolist()
    assert ytick_texts(ax) == WORKERS
    expected = [f"{100 * d / 40:.0f}%" for d in progress["done"]]
    assert [t.get_text() for t in ax.texts] == expected
    assert ax.get_title() == "Progress per assignee"
    assert fig.get_size_inches()[1] > 6  # grows with 20 assignees


def test_plot_progress_uses_given_percent(progress):
    given = progress.assign(percent=12.0)
    ax = render(plot_progress(given, figsize=(6, 6))).axes[0]
    assert {t.get_text() for t in ax.texts} == {"12%"}


def test_plot_consensus_status_counts_every_status(votes):
    consensus = threshold_consensus(votes, approval_threshold=2, workers_per_input=3)
    fig = render(plot_consensus_status(consensus, figsize=(5, 3)))
    ax = fig.axes[0]
    # items 1 and 3 approved, 2 awaiting review (x/y/z), 4 awaiting consensus
    assert heights(ax) == [2.0, 1.0, 1.0]
    assert xtick_texts(ax) == ["approved", "awaiting review", "awaiting consensus"]
    assert ax.get_title() == "Consensus status of 4 items"
    assert ax.get_ylabel() == "items"
    assert all(float(t).is_integer() for t in ax.get_yticks())  # whole items only, no "0.5"


def test_plot_item_status_draws_the_counts_in_the_order_given():
    counts = pd.Series({"pending": 11, "awaiting_review": 0, "approved": 10, "rejected": 1})
    fig = render(plot_item_status(counts, figsize=(5, 3)))
    ax = fig.axes[0]
    assert heights(ax) == [11.0, 0.0, 10.0, 1.0]
    assert xtick_texts(ax) == ["pending", "awaiting\nreview", "approved", "rejected"]
    assert [t.get_text() for t in ax.texts] == ["11", "0", "10", "1"]
    assert ax.get_title() == "Items by status (22 items)"
    with pytest.raises(ValidationError) as info:
        plot_item_status(pd.Series({"pending": -1}))
    assert info.value.field == "counts"


def test_plot_agreement_histogram_counts():
    agreement = pd.Series([1.0, 1.0, 1 / 3, 0.0, 1 / 3, np.nan], name="agreement")
    fig = render(plot_agreement_histogram(agreement, bins=4, figsize=(5, 3)))
    ax = fig.axes[0]
    expected, _ = np.histogram(agreement.dropna(), bins=4, range=(0, 1))
    assert heights(ax) == expected.astype(float).tolist()
    assert ax.get_title() == "Agreement per item (5 items with 2+ votes)"
    assert ax.get_xlabel() == "share of agreeing vote pairs"


def test_plot_agreement_histogram_says_what_the_agreement_is():
    ax = render(plot_agreement_histogram(pd.Series([2 / 3, np.nan]), xlabel="share of answers equal to the most common",
                                         answers="answers")).axes[0]
    assert ax.get_title() == "Agreement per item (1 item with 2+ answers)"
    assert ax.get_xlabel() == "share of answers equal to the most common"
    assert heights(ax) == [0.0] * 6 + [1.0] + [0.0] * 3


def test_plot_iou_histogram_marks_the_threshold_on_a_0_to_1_axis():
    iou = pd.Series([0.55, 0.62, 0.91, 0.97, 0.99, np.nan], name="agreement")
    ax = render(plot_iou_histogram(iou, iou_threshold=0.5, figsize=(5, 3))).axes[0]
    expected, _ = np.histogram(iou.dropna(), bins=10, range=(0, 1))
    assert heights(ax) == expected.astype(float).tolist() == [0, 0, 0, 0, 0, 1, 1, 0, 0, 3]
    assert tuple(map(float, ax.get_xlim())) == (0.0, 1.0)
    assert ax.get_title() == "Mean IoU of matched shapes per item\n5 items with a match"
    assert ax.get_xlabel() == "mean IoU of matched shapes" and ax.get_ylabel() == "items"
    lines = {line.get_label(): float(line.get_xdata()[0]) for line in ax.get_lines()}
    assert lines == {"IoU threshold 0.5": 0.5, "mean 0.81": pytest.approx(iou.mean())}
    empty = render(plot_iou_histogram(pd.Series([], dtype=float), iou_threshold=0.7)).axes[0]
    assert heights(empty) == [0.0] * 10 and [line.get_label() for line in empty.get_lines()] == ["IoU threshold 0.7"]
    with pytest.raises(ValidationError) as info:
        plot_iou_histogram(iou, iou_threshold=0)
    assert info.value.field == "iou_threshold"


def test_plot_shape_worker_quality_draws_precision_recall_and_iou_per_worker():
    quality = pd.DataFrame({"items": [3, 3, 2], "precision": [1.0, 0.5, np.nan], "recall": [0.75, 1.0, 0.0],
                            "mean_iou": [0.9, 0.8, np.nan]}, index=pd.Index(WORKERS[:3], name="worker"))
    ax = render(plot_shape_worker_quality(quality)).axes[0]
    assert widths(ax) == [1.0, 0.5, 0.0, 0.75, 1.0, 0.0, 0.9, 0.8, 0.0]
    assert [t.get_text() for t in ax.texts] == ["1.00", "0.50", "—", "0.75", "1.00", "0.00", "0.90", "0.80", "—"]
    assert ytick_texts(ax) == WORKERS[:3]
    assert ax.get_xlim() == (0.0, 1.12) and [float(x) for x in ax.get_xticks()] == pytest.approx(np.linspace(0, 1, 6))
    assert [t.get_text() for t in ax.figure.legends[0].get_texts()] == ["precision", "recall", "mean IoU"]
    assert ax.get_title() == "Workers against the consensus shapes"
    assert "precision: matched / drawn" in ax.get_xlabel() and "recall: matched / consensus" in ax.get_xlabel()


def test_plot_label_alpha_draws_each_label_with_zero_marked():
    alpha = pd.Series({"bike": np.nan, "bus": -0.25, "car": 0.8}, name="alpha").rename_axis("label")
    ax = render(plot_label_alpha(alpha)).axes[0]
    assert widths(ax) == [0.0, -0.25, 0.8]
    assert [t.get_text() for t in ax.texts] == ["—", "-0.25", "0.80"]
    assert ytick_texts(ax) == ["bike", "bus", "car"]
    low, high = ax.get_xlim()
    assert low < -0.25 and high > 1.0
    assert [float(line.get_xdata()[0]) for line in ax.get_lines()] == [0.0]
    assert ax.get_title() == "Agreement per label: Krippendorff's alpha"
    assert ax.get_xlabel().startswith("Krippendorff's alpha of the label's presence")
    assert render(plot_label_alpha(pd.Series({"car": 0.5}))).axes[0].get_xlim()[0] == 0.0


def test_new_per_row_charts_say_when_there_is_nothing_to_draw(recwarn):
    empty = pd.DataFrame({"precision": [], "recall": [], "mean_iou": []})
    ax = render(plot_shape_worker_quality(empty)).axes[0]
    assert len(ax.patches) == 0 and [t.get_text() for t in ax.texts] == ["no answers yet"]
    ax = render(plot_label_alpha(pd.Series([], dtype=float))).axes[0]
    assert [t.get_text() for t in ax.texts] == ["no label chosen yet"]
    assert not [w for w in recwarn if "singular" in str(w.message)]


def test_plot_worker_quality_sorted_series():
    skills = pd.Series(np.linspace(0.55, 0.95, 20), index=pd.Index(WORKERS, name="worker"), name="skill")
    fig = render(plot_worker_quality(skills.sample(frac=1.0, random_state=0)))
    ax = fig.axes[0]
    assert widths(ax) == pytest.approx(skills.to_numpy()[::-1].tolist())
    assert ytick_texts(ax) == WORKERS[::-1]
    assert ax.get_title() == "Worker quality: skill"


def test_plot_worker_quality_from_worker_agreement(votes):
    table = worker_agreement(votes)
    ax = render(plot_worker_quality(table, figsize=(5, 3))).axes[0]
    expected = table["agreement_with_consensus"].sort_values(ascending=False)
    assert widths(ax) == pytest.approx(expected.tolist())
    assert ytick_texts(ax) == expected.index.tolist()
    assert ax.get_xlabel() == "agreement with consensus"


def test_plot_worker_quality_needs_a_column():
    table = pd.DataFrame({"p": [0.1], "q": [0.2]}, index=["a"])
    with pytest.raises(ValidationError) as info:
        plot_worker_quality(table)
    assert info.value.field == "column"


def test_plot_confusion_matrix_heat_map():
    labels = ["cat", "dog", "fox"]
    matrix = pd.DataFrame([[0.8, 0.1, 0.0], [0.15, 0.7, 0.2], [0.05, 0.2, 0.8]], index=labels, columns=labels)
    fig = render(plot_confusion_matrix(matrix, figsize=(5, 4), xlabel="true label", ylabel="observed label"))
    ax = fig.axes[0]
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), matrix.to_numpy())
    assert [t.get_text() for t in ax.texts] == [f"{v:.2f}" for v in matrix.to_numpy().ravel()]
    assert xtick_texts(ax) == labels and ytick_texts(ax) == labels
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("true label", "observed label")
    assert ax.get_title() == "Confusion matrix"


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: plot_partition(pd.DataFrame({"assigned": [1]})), "target"),
        (lambda: plot_progress(pd.DataFrame({"assigned": [1]})), "done"),
        (lambda: plot_consensus_status(pd.DataFrame({"label": ["x"]})), "status"),
        (lambda: plot_item_status(pd.DataFrame({"pending": [1]})), "counts"),
        (lambda: plot_agreement_histogram([0.5]), "item_agreement"),
        (lambda: plot_worker_quality([0.5]), "quality"),
        (lambda: plot_confusion_matrix(np.eye(2)), "matrix"),
        (lambda: plot_iou_histogram([0.5]), "item_iou"),
        (lambda: plot_shape_worker_quality(pd.DataFrame({"precision": [1.0], "recall": [1.0]})), "mean_iou"),
        (lambda: plot_label_alpha([0.5]), "alpha"),
    ],
    ids=["partition", "progress", "status", "item-status", "histogram", "quality", "confusion", "iou", "shape-quality",
         "label-alpha"],
)
def test_bad_input_names_the_field(call, field):
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.field == field


def test_no_pyplot_state(summary, progress):
    pyplot = pytest.importorskip("matplotlib.pyplot")
    before = pyplot.get_fignums()
    plot_partition(summary)
    plot_progress(progress)
    plot_iou_histogram(pd.Series([0.6]))
    plot_shape_worker_quality(pd.DataFrame({"precision": [1.0], "recall": [1.0], "mean_iou": [0.9]}, index=["a"]))
    plot_label_alpha(pd.Series({"car": 0.5}))
    assert pyplot.get_fignums() == before
