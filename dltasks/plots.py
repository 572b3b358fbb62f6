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
