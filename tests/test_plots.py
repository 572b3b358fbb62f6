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
    plot_seconds_per_item,
    plot_shape_worker_quality,
    plot_throughput,
    plot_worker_quality,
    throughput,
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
        (lambda: plot_throughput(pd.DataFrame({"user_id": ["a"]})), "at"),
        (lambda: plot_throughput(pd.DataFrame({"at": [pd.Timestamp("2024-01-01")]})), "user_id"),
        (lambda: throughput(pd.DataFrame({"user_id": ["a"], "at": [pd.Timestamp("2024-01-01")]}), freq="soon"),
         "freq"),
        (lambda: throughput(pd.DataFrame({"user_id": ["a"], "at": [pd.Timestamp("2024-01-01")]}), freq="-1h"),
         "freq"),
        (lambda: plot_seconds_per_item(pd.DataFrame({"worker": ["a"]})), "seconds"),
    ],
    ids=["partition", "progress", "status", "item-status", "histogram", "quality", "confusion", "iou", "shape-quality",
         "label-alpha", "throughput-at", "throughput-who", "throughput-freq", "throughput-negative", "seconds"],
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


# -- time ----------------------------------------------------------------------------------
def answers_at(rows: list[tuple[str, str]], column: str = "user_id") -> pd.DataFrame:
    return pd.DataFrame({column: [w for w, _ in rows], "at": pd.to_datetime([t for _, t in rows], utc=True)})


def test_throughput_counts_answers_per_hour_in_every_bin():
    answers = answers_at([("bob", "2024-05-01 09:01"), ("ann", "2024-05-01 09:02"), ("ann", "2024-05-01 09:14"),
                          ("ann", "2024-05-01 09:59"), ("bob", "2024-05-01 10:05")])
    rates = throughput(answers, freq="15min")
    assert rates.columns.tolist() == ["ann", "bob"]
    assert rates.index.strftime("%H:%M").tolist() == ["09:00", "09:15", "09:30", "09:45", "10:00"]
    assert rates["ann"].tolist() == [8.0, 0.0, 0.0, 4.0, 0.0]       # 2 answers in 15 min = 8 an hour
    assert rates["bob"].tolist() == [4.0, 0.0, 0.0, 0.0, 4.0]
    assert (rates * 0.25).to_numpy().sum() == len(answers)            # every answer counted once


def test_throughput_picks_a_bin_for_the_span_and_takes_a_worker_column():
    day = answers_at([("ann", f"2024-05-01 {h:02d}:30") for h in range(0, 24, 2)], column="worker")
    rates = throughput(day)
    assert rates.index.freq == pd.Timedelta("1h") and len(rates) == 23 and rates.columns.name == "worker"
    assert rates["ann"].sum() == 12
    week = answers_at([("ann", "2024-05-01 08:00"), ("ann", "2024-05-08 08:00")])
    assert throughput(week).index.freq == pd.Timedelta("12h")


def test_plot_throughput_draws_a_line_per_worker():
    workers = [f"w{i:02d}" for i in range(12)]
    rows = [(w, f"2024-05-01 {9 + i % 3}:{10 + i:02d}") for i, w in enumerate(workers * 2)]
    answers = answers_at(rows)
    fig = render(plot_throughput(answers, freq="1h"))
    ax = fig.axes[0]
    rates = throughput(answers, freq="1h")
    assert [line.get_label() for line in ax.lines] == workers
    assert [line.get_ydata().tolist() for line in ax.lines] == [rates[w].tolist() for w in workers]
    assert ax.get_title() == "Throughput per worker" and ax.get_ylabel() == "items per hour"
    assert ax.get_xlabel() == "time (1 h bins)" and ax.get_ylim()[0] == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == workers


def test_plot_throughput_of_one_bin_shows_the_time_around_it():
    import matplotlib.dates as mdates

    answers = answers_at([("ann", "2024-05-01 09:01:10"), ("ann", "2024-05-01 09:01:40")])
    ax = render(plot_throughput(answers, freq="1min")).axes[0]
    low, high = (mdates.num2date(x).strftime("%H:%M:%S") for x in ax.get_xlim())
    assert (low, high) == ("09:00:00", "09:02:00") and ax.lines[0].get_ydata().tolist() == [120.0]


def test_plot_throughput_of_nothing_says_so():
    ax = render(plot_throughput(pd.DataFrame({"user_id": [], "at": pd.to_datetime([], utc=True)}))).axes[0]
    assert len(ax.lines) == 0 and [t.get_text() for t in ax.texts] == ["no answers yet"]


def test_plot_throughput_of_a_tasks_history():
    import dltasks as dl

    ds = dl.connect("sqlite://").datasets.create("d", labels=["a", "b"])
    ds.items.import_df(pd.DataFrame({"name": [f"i{i}" for i in range(6)]}))
    task = ds.tasks.create("t", assignee_ids=["ann", "bob"])
    for item_id, user in task.assignments_df()[["item_id", "user_id"]].itertuples(index=False):
        task.submit(int(item_id), user, "a")
    submits = task.history_df().query("action == 'submit'")
    ax = render(plot_throughput(submits, freq="1min")).axes[0]
    assert sorted(line.get_label() for line in ax.lines) == ["ann", "bob"]
    assert sum(line.get_ydata().sum() for line in ax.lines) / 60 == 6    # six answers, per hour in 1-min bins


def test_plot_seconds_per_item_orders_workers_by_median():
    answers = pd.DataFrame({"worker": ["ann"] * 4 + ["bob"] * 3 + ["cy"] * 2,
                            "seconds": [4.0, 6.0, 5.0, 30.0, 2.0, 3.0, float("nan"), float("nan"), float("nan")]})
    fig = render(plot_seconds_per_item(answers))
    ax = fig.axes[0]
    assert ytick_texts(ax) == ["bob (2, median 2.5 s)", "ann (4, median 5.5 s)", "cy (no times)"]
    assert ax.get_title() == "Seconds per item" and ax.get_xlabel() == "seconds on screen per item"
    medians = [line.get_xdata()[0] for line in ax.lines if line.get_color() == "#2f6fad" and line.get_linewidth() == 2]
    assert medians[:2] == [2.5, 5.5] and np.isnan(medians[2])          # cy's row is empty
    assert fig.get_size_inches()[1] == 2.5


def test_plot_seconds_per_item_without_times():
    ax = render(plot_seconds_per_item(pd.DataFrame({"user_id": ["ann"], "seconds": [float("nan")]}))).axes[0]
    assert ytick_texts(ax) == ["ann (no times)"]
    empty = render(plot_seconds_per_item(pd.DataFrame({"user_id": [], "seconds": []}))).axes[0]
    assert [t.get_text() for t in empty.texts] == ["no answers yet"]
