"""Matplotlib figures from dltasks DataFrames.

Every function takes a DataFrame or Series (the output of the SDK, of
:mod:`dltasks.partition` or :mod:`dltasks.consensus`), has an explicit
``figsize`` and returns a new :class:`matplotlib.figure.Figure`.  Figures are
built with the object API, never through ``pyplot``, so no global state is
touched and nothing is shown until the caller displays the figure.

Per-worker charts draw horizontal bars, one row per worker, so that twenty or
more names stay readable; with ``figsize=None`` the height grows with the
number of workers.

Examples
--------
>>> import pandas as pd
>>> from dltasks.plots import plot_progress
>>> progress = pd.DataFrame({"assigned": [10, 8], "done": [4, 8]},
...                         index=pd.Index(["ann", "bob"], name="user_id"))
>>> fig = plot_progress(progress, figsize=(6, 3))
>>> fig.axes[0].get_title()
'Progress per assignee'
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dltasks.consensus import STATUSES
from dltasks.errors import ValidationError

__all__ = [
    "plot_partition",
    "plot_progress",
    "plot_consensus_status",
    "plot_item_status",
    "plot_agreement_histogram",
    "plot_iou_histogram",
    "plot_worker_quality",
    "plot_shape_worker_quality",
    "plot_label_alpha",
    "plot_confusion_matrix",
    "throughput",
    "plot_throughput",
    "plot_seconds_per_item",
]

FigSize = tuple[float, float]

_TARGET_COLOR = "#b8c7d9"
_ACTUAL_COLOR = "#2f6fad"
_THRESHOLD_COLOR = "#c0392b"
_QUALITY_COLORS = {"precision": "#2f6fad", "recall": "#e1812c", "mean_iou": "#3a923a"}
_STATUS_COLORS = {"approved": "#3a923a", "awaiting_review": "#e1812c", "awaiting_consensus": "#8c8c8c",
                  "pending": "#c9d1db", "rejected": "#c0392b", "completed": "#3a923a", "discarded": "#6b6b6b"}


def _frame(data: pd.DataFrame, columns: Sequence[str], field: str) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise ValidationError("must be a DataFrame", field=field, value=type(data).__name__)
    for column in columns:
        if column not in data.columns:
            raise ValidationError(f"missing column {column!r}", field=column, value=list(data.columns))
    return data


def _rows_figsize(n_rows: int, figsize: FigSize | None, width: float = 8.0) -> FigSize:
    """Height that gives every horizontal bar row about a third of an inch."""
    return figsize if figsize is not None else (width, max(2.5, 0.32 * n_rows + 1.4))


class ChartFigure(Figure):
    """A Figure that shows itself in a notebook, with or without ``%matplotlib inline``."""

    def _repr_png_(self) -> bytes:
        import io

        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=100)
        return buf.getvalue()


def _new_axes(figsize: FigSize) -> tuple[Figure, Axes]:
    fig = ChartFigure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _literal(text: Any) -> str:
    r"""A user's string drawn as it is: ``$`` would start matplotlib's math mode (``ann$x^$``).

    >>> print(_literal("ann$x^$@example.com"))
    ann\$x^\$@example.com
    """
    return str(text).replace("$", r"\$")


def _count_axis(axis: Any) -> None:
    """Ticks at whole numbers only: the axis counts items (no "0.5 items")."""
    axis.set_major_locator(MaxNLocator(integer=True))


def _assignee_axes(fig: Figure, ax: Axes, names: pd.Index, title: str) -> None:
    """Axes of horizontal bars per assignee: names down the side, whole items along, a legend below."""
    _name_axis(ax, names)
    _count_axis(ax.xaxis)
    ax.set_xlabel("items")
    ax.set_ylabel(_literal(names.name or "assignee"))
    ax.set_title(title)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)


def _name_axis(ax: Axes, names: pd.Index, empty: str = "") -> None:
    """One y tick per worker, first row at the top, font shrinking for long lists (``empty`` said with none)."""
    if not len(names):
        ax.set_yticks([])
        ax.text(0.5, 0.5, empty or "nothing to show", transform=ax.transAxes, ha="center", va="center",
                color="#6b7280")
        return
    ax.set_yticks(np.arange(len(names)), [_literal(n) for n in names], fontsize=9 if len(names) <= 30 else 7)
    ax.set_ylim(len(names) - 0.5, -0.5)


def plot_partition(summary: pd.DataFrame, figsize: FigSize | None = None) -> Figure:
    """Target vs. actual items per assignee, as grouped horizontal bars.

    Parameters
    ----------
    summary : DataFrame
        Indexed by ``user_id`` with columns ``assigned`` (items given) and
        ``target`` (exact share, may be fractional).
    figsize : (width, height), optional
        Default: 8 inches wide, a third of an inch per assignee.

    Returns
    -------
    Figure
        One axes; the first ``len(summary)`` patches are the target bars,
        the next ones the assigned bars, in row order.

    Examples
    --------
    >>> import pandas as pd
    >>> summary = pd.DataFrame({"assigned": [34, 33], "target": [33.5, 33.5]}, index=["a", "b"])
    >>> [float(p.get_width()) for p in plot_partition(summary, figsize=(6, 3)).axes[0].patches]
    [33.5, 33.5, 34.0, 33.0]
    """
    data = _frame(summary, ["assigned", "target"], "summary")
    fig, ax = _new_axes(_rows_figsize(len(data), figsize))
    rows = np.arange(len(data))
    ax.barh(rows - 0.2, data["target"].to_numpy(dtype=float), height=0.4, color=_TARGET_COLOR, label="target")
    ax.barh(rows + 0.2, data["assigned"].to_numpy(dtype=float), height=0.4, color=_ACTUAL_COLOR, label="assigned")
    _assignee_axes(fig, ax, data.index, "Items per assignee: target vs. assigned")
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_progress(progress: pd.DataFrame, figsize: FigSize | None = None) -> Figure:
    """Done out of assigned per assignee: overlaid horizontal bars with the percent.

    Parameters
    ----------
    progress : DataFrame
        Indexed by ``user_id`` with columns ``assigned`` and ``done``; an
        optional ``percent`` column (0-100) is printed as given, otherwise
        ``100 * done / assigned``.
    figsize : (width, height), optional
        Default: 8 inches wide, a third of an inch per assignee.

    Returns
    -------
    Figure
        Patches: the ``assigned`` bars, then the ``done`` bars drawn over them.
    """
    data = _frame(progress, ["assigned", "done"], "progress")
    assigned = data["assigned"].to_numpy(dtype=float)
    done = data["done"].to_numpy(dtype=float)
    if "percent" in data.columns:
        percent = data["percent"].to_numpy(dtype=float)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            percent = np.where(assigned > 0, 100.0 * done / np.where(assigned > 0, assigned, 1), np.nan)
    fig, ax = _new_axes(_rows_figsize(len(data), figsize))
    rows = np.arange(len(data))
    ax.barh(rows, assigned, height=0.7, color=_TARGET_COLOR, label="assigned")
    ax.barh(rows, done, height=0.7, color=_ACTUAL_COLOR, label="done")
    for row, end, pct in zip(rows, np.maximum(assigned, done), percent):
        if np.isfinite(pct):
            ax.annotate(f"{pct:.0f}%", (end, row), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=8)
    _assignee_axes(fig, ax, data.index, "Progress per assignee")
    ax.margins(x=0.08)
    return fig


def plot_consensus_status(consensus: pd.DataFrame, figsize: FigSize = (6.0, 3.5)) -> Figure:
    """Number of items per consensus status (a :func:`~dltasks.consensus.threshold_consensus` frame).

    Bars come in the order approved, awaiting_review, awaiting_consensus (zeros
    included), followed by any other status found.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"status": ["approved", "approved", "awaiting_consensus"]})
    >>> [float(p.get_height()) for p in plot_consensus_status(frame).axes[0].patches]
    [2.0, 0.0, 1.0]
    """
    data = _frame(consensus, ["status"], "consensus")
    counts = data["status"].astype(str).value_counts()
    order = list(STATUSES) + sorted(set(counts.index) - set(STATUSES))
    counts = counts.reindex(order, fill_value=0)
    fig, ax = _new_axes(figsize)
    colors = [_STATUS_COLORS.get(status, _ACTUAL_COLOR) for status in order]
    bars = ax.bar(np.arange(len(order)), counts.to_numpy(dtype=float), color=colors)
    ax.bar_label(bars, labels=[f"{n:,}" for n in counts], fontsize=9)
    ax.set_xticks(np.arange(len(order)), [s.replace("_", " ") for s in order])
    _count_axis(ax.yaxis)
    ax.set_xlabel("status")
    ax.set_ylabel("items")
    ax.set_title(f"Consensus status of {len(data):,} items")
    ax.margins(y=0.12)
    return fig


def plot_item_status(counts: pd.Series, figsize: FigSize = (6.0, 3.5)) -> Figure:
    """Items per status, one bar per status in the order given (``task.status_counts()``, reordered).

    The store's statuses (pending, awaiting consensus, awaiting review, approved, rejected,
    ...): the same numbers as ``task.items_df()["status"].value_counts()``.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.Series({"pending": 3, "awaiting_review": 1, "approved": 2, "rejected": 0})
    >>> fig = plot_item_status(counts)
    >>> [float(p.get_height()) for p in fig.axes[0].patches], fig.axes[0].get_title()
    ([3.0, 1.0, 2.0, 0.0], 'Items by status (6 items)')
    """
    if not isinstance(counts, pd.Series):
        raise ValidationError("must be a Series of item counts by status", field="counts",
                              value=type(counts).__name__)
    values = pd.to_numeric(counts, errors="coerce")
    if values.isna().any() or (values < 0).any():
        raise ValidationError("counts must be whole numbers >= 0", field="counts", value=counts.tolist())
    order = [str(s) for s in values.index]
    fig, ax = _new_axes(figsize)
    bars = ax.bar(np.arange(len(order)), values.to_numpy(dtype=float),
                  color=[_STATUS_COLORS.get(s, _ACTUAL_COLOR) for s in order])
    ax.bar_label(bars, labels=[f"{int(n):,}" for n in values], fontsize=9)
    ax.set_xticks(np.arange(len(order)), [_literal(s).replace("_", "\n") for s in order], fontsize=8)
    _count_axis(ax.yaxis)
    ax.set_ylabel("items")
    ax.set_title(f"Items by status ({int(values.sum()):,} items)")
    ax.margins(y=0.15)
    return fig


def _items(n: int) -> str:
    """A count of items in words.

    >>> _items(1), _items(1200)
    ('1 item', '1,200 items')
    """
    return f"{n:,} item" + ("" if n == 1 else "s")


def _values(series: Any, field: str) -> np.ndarray:
    """The finite values of a Series (NaN dropped), checked to be a Series."""
    if not isinstance(series, pd.Series):
        raise ValidationError("must be a Series", field=field, value=type(series).__name__)
    return pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=float)


def _share_histogram(values: np.ndarray, bins: int, figsize: FigSize) -> tuple[Figure, Axes]:
    """A histogram of values in 0..1 (the x axis fixed to 0..1), items counted in whole numbers."""
    fig, ax = _new_axes(figsize)
    ax.hist(values, bins=bins, range=(0.0, 1.0), color=_ACTUAL_COLOR, edgecolor="white")
    ax.set_xlim(0.0, 1.0)
    _count_axis(ax.yaxis)
    ax.set_ylabel("items")
    return fig, ax


def plot_agreement_histogram(
    item_agreement: pd.Series, bins: int = 10, figsize: FigSize = (6.0, 3.5),
    xlabel: str = "share of agreeing vote pairs", answers: str = "votes",
) -> Figure:
    """Histogram of per-item agreement (:func:`~dltasks.consensus.item_agreement`).

    NaN (items with fewer than two votes) are left out; the mean is marked.  ``xlabel`` says what
    the agreement of an item is and ``answers`` what the title counts (``"votes"``; ``"answers"``
    for a free-text or multi-label task, whose agreement is another figure).

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_agreement_histogram(pd.Series([1.0, 1.0, 1 / 3, float("nan")]), bins=3)
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [0.0, 1.0, 2.0]
    >>> plot_agreement_histogram(pd.Series([0.5, 1.0]), answers="answers").axes[0].get_title()
    'Agreement per item (2 items with 2+ answers)'
    """
    values = _values(item_agreement, "item_agreement")
    fig, ax = _share_histogram(values, bins, figsize)
    if len(values):
        ax.axvline(values.mean(), color="black", linestyle="--", linewidth=1,
                   label=f"mean {values.mean():.2f}")
        ax.legend(loc="upper left")
    ax.set_xlabel(_literal(xlabel))
    ax.set_title(f"Agreement per item ({_items(len(values))} with 2+ {_literal(answers)})")
    return fig


def plot_iou_histogram(
    item_iou: pd.Series, iou_threshold: float = 0.5, bins: int = 10, figsize: FigSize = (6.0, 3.5)
) -> Figure:
    """Histogram of each item's mean IoU of matched shapes (a box or polygon task's item agreement).

    ``item_iou`` is the ``agreement`` column of :func:`dltasks.agreement.decide` for a box or
    polygon task: NaN (no two shapes matched) is left out.  The x axis is the IoU from 0 to 1;
    the task's ``iou_threshold`` is marked: two shapes are matched only from that IoU, so every
    item's mean lies at or above it.

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_iou_histogram(pd.Series([0.55, 0.86, 0.9, float("nan")]), iou_threshold=0.5, bins=5)
    >>> ax = fig.axes[0]
    >>> [float(p.get_height()) for p in ax.patches]
    [0.0, 0.0, 1.0, 0.0, 2.0]
    >>> ax.get_title(), [float(x) for x in ax.get_xlim()]
    ('Mean IoU of matched shapes per item\\n3 items with a match', [0.0, 1.0])
    """
    values = _values(item_iou, "item_iou")
    if not isinstance(iou_threshold, (int, float)) or not 0.0 < float(iou_threshold) <= 1.0:
        raise ValidationError("must be a number in (0, 1]", field="iou_threshold", value=iou_threshold)
    fig, ax = _share_histogram(values, bins, figsize)
    ax.axvline(float(iou_threshold), color=_THRESHOLD_COLOR, linestyle=":", linewidth=1.5,
               label=f"IoU threshold {float(iou_threshold):g}")
    if len(values):
        ax.axvline(values.mean(), color="black", linestyle="--", linewidth=1, label=f"mean {values.mean():.2f}")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlabel("mean IoU of matched shapes")
    ax.set_title(f"Mean IoU of matched shapes per item\n{_items(len(values))} with a match", fontsize=11)
    return fig


def _share_labels(values: np.ndarray) -> list[str]:
    """Bar labels: the value with two decimals, "—" where there is none (NaN)."""
    return ["—" if not np.isfinite(v) else f"{v:.2f}" for v in values]


def plot_shape_worker_quality(quality: pd.DataFrame, figsize: FigSize | None = None) -> Figure:
    """Each worker's precision, recall and mean IoU against the consensus shapes, as grouped bars.

    Parameters
    ----------
    quality : DataFrame
        Indexed by worker, with columns ``precision``, ``recall`` and ``mean_iou``
        (:func:`dltasks.agreement.shape_worker_quality`, ``task.worker_quality()`` of a box or
        polygon task).  Workers are drawn in the frame's order, first at the top.
    figsize : (width, height), optional
        Default: 8 inches wide, about two thirds of an inch per worker.

    Returns
    -------
    Figure
        The x axis runs from 0 to 1.  Patches: the precision bars (one per worker, in row
        order), then the recall bars, then the mean IoU bars.  A value that does not exist
        (NaN: a worker who drew no shape has no precision) is a bar of width 0 labelled "—".

    Examples
    --------
    >>> import pandas as pd
    >>> quality = pd.DataFrame({"precision": [1.0, 0.5], "recall": [1.0, 0.5], "mean_iou": [0.9, float("nan")]},
    ...                        index=pd.Index(["ann", "bob"], name="worker"))
    >>> ax = plot_shape_worker_quality(quality, figsize=(6, 3)).axes[0]
    >>> [float(p.get_width()) for p in ax.patches]
    [1.0, 0.5, 1.0, 0.5, 0.9, 0.0]
    >>> [t.get_text() for t in ax.texts][-2:], ax.get_title()
    (['0.90', '—'], 'Workers against the consensus shapes')
    """
    columns = ("precision", "recall", "mean_iou")
    data = _frame(quality, columns, "quality")
    n = len(data)
    fig, ax = _new_axes(figsize if figsize is not None else (8.0, max(2.5, 0.66 * n + 1.6)))
    rows = np.arange(n)
    height = 0.27
    names = {"precision": "precision", "recall": "recall", "mean_iou": "mean IoU"}
    for offset, column in zip((-height, 0.0, height), columns):
        values = data[column].to_numpy(dtype=float)
        bars = ax.barh(rows + offset, np.nan_to_num(values, nan=0.0), height=height,
                       color=_QUALITY_COLORS[column], label=names[column])
        ax.bar_label(bars, labels=_share_labels(values), padding=3, fontsize=7)
    _name_axis(ax, data.index, "no answers yet")
    ax.set_xlim(0.0, 1.12)
    ax.set_xticks(np.linspace(0.0, 1.0, 6))
    ax.set_xlabel("precision: matched / drawn · recall: matched / consensus\nmean IoU of matched shapes "
                  "with their consensus shape", fontsize=8)
    ax.set_ylabel(_literal(data.index.name or "worker"))
    ax.set_title("Workers against the consensus shapes")
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=3, frameon=False, fontsize=8)
    return fig


def plot_label_alpha(alpha: pd.Series, figsize: FigSize | None = None) -> Figure:
    """Krippendorff's alpha of each label's presence (a multi-label task), as horizontal bars.

    Parameters
    ----------
    alpha : Series
        Indexed by label (:func:`dltasks.agreement.label_alpha`); drawn in its order, first at
        the top.  NaN (every answer agrees by giving the label always, or never: alpha says
        nothing) is a bar of width 0 labelled "—".
    figsize : (width, height), optional
        Default: 6 inches wide, a third of an inch per label.

    Returns
    -------
    Figure
        The x axis runs from 1 (full agreement) through 0 (agreement no better than chance)
        to below 0 when a bar is, with a line at 0.

    Examples
    --------
    >>> import pandas as pd
    >>> ax = plot_label_alpha(pd.Series({"cat": 1.0, "dog": -0.5, "fox": float("nan")}, name="alpha")).axes[0]
    >>> [float(p.get_width()) for p in ax.patches], [t.get_text() for t in ax.texts]
    ([1.0, -0.5, 0.0], ['1.00', '-0.50', '—'])
    >>> ax.get_title()
    "Agreement per label: Krippendorff's alpha"
    """
    values = pd.to_numeric(alpha, errors="coerce") if isinstance(alpha, pd.Series) else None
    if values is None:
        raise ValidationError("must be a Series of alpha by label", field="alpha", value=type(alpha).__name__)
    numbers = values.to_numpy(dtype=float)
    fig, ax = _new_axes(_rows_figsize(len(values), figsize, width=6.0))
    bars = ax.barh(np.arange(len(values)), np.nan_to_num(numbers, nan=0.0), height=0.7, color=_ACTUAL_COLOR)
    ax.bar_label(bars, labels=_share_labels(numbers), padding=3, fontsize=8)
    _name_axis(ax, values.index, "no label chosen yet")
    finite = numbers[np.isfinite(numbers)]
    low = min(0.0, float(finite.min()) if finite.size else 0.0)
    ax.set_xlim(low - 0.15 if low < 0 else 0.0, 1.12)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_xlabel("Krippendorff's alpha of the label's presence\n(1: full agreement, 0: chance)", fontsize=9)
    ax.set_ylabel(_literal(values.index.name or "label"))
    ax.set_title("Agreement per label: Krippendorff's alpha")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _quality_values(quality: pd.Series | pd.DataFrame, column: str | None) -> pd.Series:
    if isinstance(quality, pd.Series):
        return quality
    if not isinstance(quality, pd.DataFrame):
        raise ValidationError("must be a Series or DataFrame", field="quality", value=type(quality).__name__)
    if column is None:
        known = [c for c in ("agreement_with_consensus", "skill") if c in quality.columns]
        numeric = quality.select_dtypes("number").columns
        column = known[0] if known else (numeric[0] if len(numeric) == 1 else None)
        if column is None:
            raise ValidationError("say which column to plot", field="column", value=list(quality.columns))
    if column not in quality.columns:
        raise ValidationError("no such column", field="column", value=column)
    return quality[column].rename(column)


def plot_worker_quality(
    quality: pd.Series | pd.DataFrame,
    column: str | None = None,
    figsize: FigSize | None = None,
) -> Figure:
    """Per-worker quality as horizontal bars, best worker at the top.

    Parameters
    ----------
    quality : Series or DataFrame
        Indexed by worker: e.g. ``DawidSkene().fit(df).skills_`` or
        :func:`~dltasks.consensus.worker_agreement` output.
    column : str, optional
        Column of a DataFrame to plot; default ``agreement_with_consensus``,
        else ``skill``, else the only numeric column.
    figsize : (width, height), optional
        Default: 8 inches wide, a third of an inch per worker.

    Returns
    -------
    Figure
        Patches and y tick labels in sorted (descending) order.

    Examples
    --------
    >>> import pandas as pd
    >>> fig = plot_worker_quality(pd.Series({"a": 0.7, "b": 0.9}, name="skill"), figsize=(5, 2))
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['b', 'a']
    """
    values = _quality_values(quality, column).sort_values(ascending=False, na_position="last")
    fig, ax = _new_axes(_rows_figsize(len(values), figsize))
    bars = ax.barh(np.arange(len(values)), values.to_numpy(dtype=float), height=0.7, color=_ACTUAL_COLOR)
    ax.bar_label(bars, fmt="%.2f", padding=3, fontsize=8)
    _name_axis(ax, values.index)
    finite = values.dropna()
    if len(finite) and finite.between(0, 1).all():
        ax.set_xlim(0.0, 1.08)
    name = _literal(values.name or "quality").replace("_", " ")
    ax.set_xlabel(name)
    ax.set_ylabel(_literal(values.index.name or "worker"))
    ax.set_title(f"Worker quality: {name}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_confusion_matrix(
    matrix: pd.DataFrame,
    figsize: FigSize = (5.5, 4.5),
    fmt: str = "{:.2f}",
    title: str = "Confusion matrix",
    xlabel: str | None = None,
    ylabel: str | None = None,
) -> Figure:
    """Heat map of a square-ish label x label matrix with every cell annotated.

    Rows are drawn top to bottom in index order, columns left to right.  Axis
    titles default to the column / index names; pass ``xlabel="true label",
    ylabel="observed label"`` for a Dawid–Skene ``errors_.loc[worker]``.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[0.9, 0.2], [0.1, 0.8]], index=["cat", "dog"], columns=["cat", "dog"])
    >>> fig = plot_confusion_matrix(m, fmt="{:.1f}")
    >>> [t.get_text() for t in fig.axes[0].texts]
    ['0.9', '0.2', '0.1', '0.8']
    """
    data = _frame(matrix, [], "matrix")
    values = data.to_numpy(dtype=float)
    fig, ax = _new_axes(figsize)
    image = ax.imshow(values, cmap="Blues", aspect="auto")
    fig.colorbar(image, ax=ax, shrink=0.85)
    finite = values[np.isfinite(values)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (row, col), value in np.ndenumerate(values):
        text = fmt.format(value) if np.isfinite(value) else ""
        ax.text(col, row, text, ha="center", va="center", fontsize=9,
                color="white" if value > middle else "black")
    ax.set_xticks(np.arange(values.shape[1]), [_literal(c) for c in data.columns], rotation=45, ha="right")
    ax.set_yticks(np.arange(values.shape[0]), [_literal(i) for i in data.index])
    ax.set_xlabel(_literal(xlabel if xlabel is not None else data.columns.name or "column"))
    ax.set_ylabel(_literal(ylabel if ylabel is not None else data.index.name or "row"))
    ax.set_title(_literal(title))
    return fig


#: Horizontal box plots: ``orientation`` from matplotlib 3.10 (``vert`` is deprecated from 3.11).
_HORIZONTAL: dict[str, Any] = ({"orientation": "horizontal"} if tuple(int(p) for p in
                               matplotlib.__version__.split(".")[:2]) >= (3, 10) else {"vert": False})

#: Time bins :func:`throughput` chooses from, shortest first (pandas offset aliases).
_TIME_BINS = ("1min", "5min", "15min", "30min", "1h", "3h", "6h", "12h", "1D", "7D", "28D")


def _worker_column(frame: pd.DataFrame) -> str:
    """The column naming who answered: ``user_id`` (history, progress, gold) or ``worker`` (labels)."""
    for column in ("user_id", "worker"):
        if column in frame.columns:
            return column
    raise ValidationError("missing column 'user_id' (or 'worker')", field="user_id", value=list(frame.columns))


def _time_bin(span: pd.Timedelta, max_bins: int) -> str:
    """The shortest of :data:`_TIME_BINS` that cuts ``span`` into at most ``max_bins`` bins.

    >>> _time_bin(pd.Timedelta(minutes=50), 24), _time_bin(pd.Timedelta(days=2), 24)
    ('5min', '3h')
    """
    for alias in _TIME_BINS:
        if span / pd.Timedelta(alias) < max_bins:
            return alias
    return _TIME_BINS[-1]


def throughput(answers: pd.DataFrame, freq: str | None = None, max_bins: int = 24) -> pd.DataFrame:
    """Items answered per hour by each worker in each time bin: the table :func:`plot_throughput` draws.

    Parameters
    ----------
    answers : DataFrame
        One row per answer, with ``user_id`` (or ``worker``) and ``at`` (when it was given):
        ``task.history_df()`` filtered to ``action == "submit"``, or any frame with those columns.
    freq : str, optional
        Width of a time bin, a pandas offset alias (``"15min"``, ``"1h"``, ``"1D"``); default: the
        shortest of 1 min, 5 min, 15 min, 30 min, 1 h, 3 h, 6 h, 12 h, 1 day, 7 days, 28 days
        that needs at most ``max_bins`` bins.

    Returns
    -------
    DataFrame
        Indexed by the bins' start times (every bin from the first answer to the last, empty ones
        as 0), one column per worker (sorted): answers in the bin divided by the bin's hours.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"user_id": ["ann", "ann", "bob", "ann"],
    ...                         "at": pd.to_datetime(["2024-05-01 09:05", "2024-05-01 09:10",
    ...                                               "2024-05-01 09:20", "2024-05-01 10:40"])})
    >>> throughput(answers, freq="1h")  # doctest: +NORMALIZE_WHITESPACE
    user_id              ann  bob
    at
    2024-05-01 09:00:00  2.0  1.0
    2024-05-01 10:00:00  1.0  0.0
    """
    data = _frame(answers, ["at"], "answers")
    who = _worker_column(data)
    at = pd.to_datetime(data["at"])
    if freq is None:
        freq = _time_bin(at.max() - at.min() if len(at) else pd.Timedelta(0), max_bins)
    try:
        width = pd.Timedelta(freq)
    except ValueError as err:
        raise ValidationError("must be a time span such as '15min' or '1h'", field="freq", value=freq) from err
    if width <= pd.Timedelta(0):
        raise ValidationError("must be a positive time span", field="freq", value=freq)
    bins = at.dt.floor(width)
    counts = pd.crosstab(bins.to_numpy(), data[who].astype(str).to_numpy())
    if len(counts):
        counts = counts.reindex(pd.date_range(bins.min(), bins.max(), freq=width), fill_value=0)
    counts = counts.reindex(columns=sorted(counts.columns))
    counts.index.name, counts.columns.name = "at", who
    return counts.astype(float) / (width / pd.Timedelta(hours=1))


def plot_throughput(answers: pd.DataFrame, freq: str | None = None, figsize: FigSize = (8.0, 3.5)) -> Figure:
    """Items per hour per worker over time: one line per worker, a point per time bin.

    ``answers``: one row per answer with ``user_id`` (or ``worker``) and ``at``, e.g.
    ``task.history_df().query("action == 'submit'")``; ``freq`` the bin width (see :func:`throughput`,
    which computes what is drawn).  Lines are in worker order; the legend names them.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"user_id": ["ann", "ann", "bob"],
    ...                         "at": pd.to_datetime(["2024-05-01 09:05", "2024-05-01 09:40", "2024-05-01 10:20"])})
    >>> ax = plot_throughput(answers, freq="1h").axes[0]
    >>> [(line.get_label(), line.get_ydata().tolist()) for line in ax.lines]
    [('ann', [2.0, 0.0]), ('bob', [0.0, 1.0])]
    """
    rates = throughput(answers, freq)
    fig, ax = _new_axes(figsize)
    if rates.empty:
        ax.text(0.5, 0.5, "no answers yet", transform=ax.transAxes, ha="center", va="center", color="#6b7280")
        ax.set_xticks([])
    else:
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        if len(rates) == 1:   # one bin: show the hours around it, not years
            width = pd.Timedelta(rates.index.freq)
            ax.set_xlim(rates.index[0] - width, rates.index[0] + width)
    many = len(rates.columns) > 10
    for worker in rates.columns:
        ax.plot(rates.index, rates[worker].to_numpy(), marker="" if many else "o", markersize=3,
                linewidth=1.2, label=_literal(worker))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("items per hour")
    ax.set_xlabel("time (bins start)" if rates.empty else f"time ({_bin_text(rates)} bins)")
    ax.set_title("Throughput per worker")
    ax.grid(alpha=0.3)
    if len(rates.columns):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  fontsize=8 if len(rates.columns) <= 15 else 6, ncols=1 if len(rates.columns) <= 20 else 2)
    return fig


def _bin_text(rates: pd.DataFrame) -> str:
    """The width of the bins of a :func:`throughput` table in words ("15 min", "1 h", "1 day").

    >>> _bin_text(throughput(pd.DataFrame({"user_id": ["a"], "at": [pd.Timestamp("2024-01-01")]}), freq="15min"))
    '15 min'
    """
    width = pd.Timedelta(rates.index.freq) if getattr(rates.index, "freq", None) else None
    if width is None:
        return "1 bin" if len(rates) <= 1 else _span_text(rates.index[1] - rates.index[0])
    return _span_text(width)


def _span_text(width: pd.Timedelta) -> str:
    """A time span in the unit that says it best.

    >>> _span_text(pd.Timedelta(minutes=5)), _span_text(pd.Timedelta(hours=3)), _span_text(pd.Timedelta(days=7))
    ('5 min', '3 h', '7 days')
    """
    minutes = width / pd.Timedelta(minutes=1)
    if minutes < 60:
        return f"{minutes:g} min"
    if minutes < 24 * 60:
        return f"{minutes / 60:g} h"
    days = minutes / (24 * 60)
    return f"{days:g} day" + ("" if days == 1 else "s")


def plot_seconds_per_item(answers: pd.DataFrame, figsize: FigSize | None = None) -> Figure:
    """Seconds per item of each worker as horizontal box plots, fastest median at the top.

    ``answers``: one row per answer with ``user_id`` (or ``worker``) and ``seconds`` (the time the
    item was on screen: ``task.labels_df()``); answers without a time (NaN) are left out, and a
    worker with none has an empty row.  Each row's label gives the answers timed and the median.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"worker": ["ann", "ann", "bob", "bob", "bob"],
    ...                         "seconds": [4.0, 6.0, 2.0, 3.0, float("nan")]})
    >>> ax = plot_seconds_per_item(answers, figsize=(5, 2)).axes[0]
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['bob (2, median 2.5 s)', 'ann (2, median 5.0 s)']
    """
    data = _frame(answers, ["seconds"], "answers")
    who = _worker_column(data)
    seconds = pd.to_numeric(data["seconds"], errors="coerce")
    groups = seconds.groupby(data[who].astype(str))
    medians = groups.median().sort_values(na_position="last")
    fig, ax = _new_axes(_rows_figsize(len(medians), figsize))
    by_worker = {str(w): v.dropna().to_numpy(dtype=float) for w, v in groups}
    timed = [by_worker[w] for w in medians.index]
    if any(len(t) for t in timed):
        ax.boxplot([t if len(t) else [np.nan] for t in timed], positions=np.arange(len(timed)), widths=0.6,
                   **_HORIZONTAL, showfliers=True, patch_artist=True,
                   boxprops={"facecolor": _TARGET_COLOR, "edgecolor": _ACTUAL_COLOR},
                   medianprops={"color": _ACTUAL_COLOR, "linewidth": 2})
        ax.set_xlim(left=0)
    names = pd.Index([f"{w} ({len(t):,}, median {m:.1f} s)" if len(t) else f"{w} (no times)"
                      for w, t, m in zip(medians.index, timed, medians)], name=who)
    _name_axis(ax, names, empty="no answers yet")
    ax.set_xlabel("seconds on screen per item")
    ax.set_ylabel(_literal(who))
    ax.set_title("Seconds per item")
    ax.grid(axis="x", alpha=0.3)
    return fig
