"""ConsensusView: where a task's items stand, how much the workers agree, and who agrees least."""
from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets as T

from dltasks.consensus import encode_votes, worker_agreement
from dltasks.domain.filters import Filters
from dltasks.errors import DltasksError, ValidationError
from dltasks.plots import (plot_agreement_histogram, plot_iou_histogram, plot_item_status, plot_label_alpha,
                           plot_shape_worker_quality)
from dltasks.widgets._common import (TABLE_CSS, LiveView, RowPicker, chart, fmt_share, html_table, message,
                                     short_id, show_figure, status_order, thumbnail_html)
from dltasks.widgets.answer_tools import answers_by_worker, describe_answer
from dltasks.widgets.consensus_methods import MethodChoice, method_name, relabel

__all__ = ["ConsensusView", "AnswersSummary", "summarise_answers", "vote_share_text", "label_text"]

#: Height of an item row (a 48-px thumbnail and its padding).
_ITEM_ROW_PX = 56
_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp",
                  "image/bmp": "bmp"}


def _figure(value: float, kind: str) -> str:
    if value != value:
        return "—"
    return fmt_share(value) if kind == "share" else f"{value:.3f}"


def vote_share_text(votes: Any, n_labels: Any) -> str:
    """An item's agreement as shown: the top label's share of the votes, "—" below two votes.

    A single vote agrees with nothing: it is not 100 % agreement.

    >>> vote_share_text(2, 3), vote_share_text(1, 1), vote_share_text(0, 0)
    ('66.7%', '—', '—')
    """
    n = 0 if n_labels is None or n_labels != n_labels else int(n_labels)
    return "—" if n < 2 else fmt_share(float(votes) / n)


def label_text(label: Any, tie: Any, n_labels: Any) -> str:
    """An item's label as shown: the top label, "tie" when two labels share the top, "—" with no votes.

    >>> label_text("cat", False, 2), label_text(None, True, 2), label_text(None, False, 0)
    ('cat', 'tie', '—')
    """
    if n_labels is None or n_labels != n_labels or int(n_labels) == 0:
        return "—"
    if bool(tie) and (label is None or label != label):
        return "tie"
    return "—" if label is None or label != label else str(label)


def _status_text(status: Any) -> str:
    return str(status).replace("_", " ")


def _honest_workers(votes: Any, consensus: pd.DataFrame) -> pd.DataFrame:
    """Each worker's agreement with the majority label, on items with two votes or more and no tie.

    An item labelled by one worker only says nothing about that worker: it is not compared
    (so a task with one worker shows "—", not 100 %).
    """
    decided = consensus["label"].where(consensus["n_labels"] >= 2)
    return worker_agreement(votes, consensus=decided)


#: What an item's agreement is, per annotation type (the items table's header, the histogram's axis).
AGREEMENT_MEANING = {
    "box": "mean IoU of matched shapes",
    "polygon": "mean IoU of matched shapes",
    "multi_class": "mean Jaccard index of two workers' label sets",
    "text": "share of answers equal to the most common",
}


@dataclass
class AnswersSummary:
    """Every figure the ConsensusView shows of a task that is not a class task (see :func:`summarise_answers`).

    ``items``: by item_id (answered items only), ``status`` (the rule's, from
    :func:`dltasks.agreement.decide`), ``agreement``, ``n_workers`` and per type ``shapes``
    (consensus shapes), ``labels_in`` (labels agreed on) or ``text`` / ``votes`` (the most common
    answer).  ``figures``: the task's figures as shown (name -> text).  ``workers``: box and
    polygon tasks, each worker's shapes against the consensus.  ``labels``: multi_class, per label
    the items it was chosen on, agreed on, and its alpha.

    >>> answers = pd.DataFrame({"item_id": [1, 1, 2, 2], "worker": ["a", "b", "a", "b"], "kind": "text",
    ...                         "text": ["Oak", "oak ", "elm", "ash"]})
    >>> out = summarise_answers(answers, "text", approval_threshold=2, workers_per_input=2)
    >>> out.items[["status", "agreement", "text", "votes"]]  # doctest: +NORMALIZE_WHITESPACE
                      status  agreement  text  votes
    item_id
    1               approved        1.0   oak      2
    2        awaiting_review        0.5   ash      1
    >>> out.figures["items whose answers agree"], out.workers.empty
    ('1 of 2 (50.0%)', True)
    """

    annotation_type: str
    items: pd.DataFrame
    figures: pd.Series
    workers: pd.DataFrame = field(default_factory=pd.DataFrame)
    labels: pd.DataFrame = field(default_factory=pd.DataFrame)


def _number(value: float, digits: int = 2) -> str:
    """A figure with ``digits`` decimals, "—" for NaN.

    >>> _number(0.8636), _number(float("nan"))
    ('0.86', '—')
    """
    return "—" if value != value else f"{value:.{digits}f}"


def _agreed_text(decided: pd.DataFrame) -> str:
    """How many answered items agree by the task's rule: "1 of 2 (50.0%)".

    >>> _agreed_text(pd.DataFrame({"status": ["approved", "awaiting_review"]}))
    '1 of 2 (50.0%)'
    """
    n = len(decided)
    agreed = int((decided["status"].astype(str) == "approved").sum())
    return "—" if not n else f"{agreed:,} of {n:,} ({fmt_share(agreed / n)})"


def _answer_counts(answers: pd.DataFrame, decided: pd.DataFrame) -> dict[str, str]:
    return {"items answered": f"{len(decided):,}", "workers": f"{answers['worker'].nunique():,}"}


def _shape_summary(answers: pd.DataFrame, kind: str, threshold: int, k: int, iou: float,
                   unmatched: str) -> AnswersSummary:
    from dltasks.agreement import cluster_shapes, consensus_shapes, decide, shape_worker_quality

    clusters = cluster_shapes(answers, iou, kind)  # matched once, for every figure below
    decided = decide(clusters, kind, threshold, k, iou, unmatched)
    shapes = consensus_shapes(clusters, threshold, iou)
    quality = shape_worker_quality(clusters, threshold, iou)
    items = decided.assign(shapes=shapes["item_id"].value_counts().reindex(decided.index, fill_value=0)
                           .to_numpy(dtype="int64"))
    figures = _answer_counts(answers, decided) | {
        f"{kind}es drawn" if kind == "box" else f"{kind}s drawn": f"{int((answers['kind'] != 'none').sum()):,}",
        "consensus shapes": f"{len(shapes):,}",
        "mean IoU of matched shapes": _number(float(decided["agreement"].mean())),
        "items whose answers agree": _agreed_text(decided),
        "IoU threshold": f"{iou:g}",
    }
    return AnswersSummary(kind, items, pd.Series(figures, name="value"), workers=quality)


def _multi_class_summary(answers: pd.DataFrame, threshold: int, k: int, unmatched: str) -> AnswersSummary:
    from dltasks.agreement import decide, label_alpha, label_consensus, set_alpha

    decided = decide(answers, "multi_class", threshold, k, unmatched=unmatched)
    per_label = label_consensus(answers, threshold)
    agreed = per_label[per_label["decision"] == "in"]
    labels_in = agreed.groupby("item_id", sort=True)["label"].agg(lambda s: ", ".join(map(str, s)))
    items = decided.assign(labels_in=labels_in.reindex(decided.index))
    alpha = label_alpha(answers)
    labels = pd.DataFrame({
        "items": per_label.groupby("label").size(),
        "agreed": agreed.groupby("label").size(),
    }).reindex(alpha.index).fillna(0).astype("int64").assign(alpha=alpha)
    labels.index.name = "label"
    answered = len(decided) > 0
    figures = _answer_counts(answers, decided) | {
        "Krippendorff's alpha (Jaccard)": _number(set_alpha(answers, "jaccard") if answered else math.nan, 3),
        "Krippendorff's alpha (MASI)": _number(set_alpha(answers, "masi") if answered else math.nan, 3),
        "mean Jaccard between workers": _number(float(decided["agreement"].mean())),
        "items whose answers agree": _agreed_text(decided),
    }
    return AnswersSummary("multi_class", items, pd.Series(figures, name="value"), labels=labels)


def _text_summary(answers: pd.DataFrame, threshold: int, k: int) -> AnswersSummary:
    from dltasks.agreement import decide, text_consensus

    decided = decide(answers, "text", threshold, k)
    # one answer agrees with nothing: no agreement below two answers (as for class votes)
    decided["agreement"] = decided["agreement"].where(decided["n_workers"] >= 2)
    common = text_consensus(answers, threshold).reindex(decided.index)
    items = decided.assign(text=common["text"], votes=common["votes"].fillna(0).astype("int64"))
    figures = _answer_counts(answers, decided) | {
        "items whose answers agree": _agreed_text(decided),
        "mean agreement (items with 2+ answers)": (
            "—" if decided["agreement"].isna().all() else fmt_share(float(decided["agreement"].mean()))),
    }
    return AnswersSummary("text", items, pd.Series(figures, name="value"))


def summarise_answers(answers: pd.DataFrame, annotation_type: str, approval_threshold: int,
                      workers_per_input: int, iou_threshold: float = 0.5,
                      unmatched: str = "outvoted") -> AnswersSummary:
    """The figures of a multi_class, text, box or polygon task, from one long answers frame.

    Everything comes from :mod:`dltasks.agreement` (the shapes are matched once): the item
    decisions of :func:`~dltasks.agreement.decide`, and per type the consensus shapes and
    each worker's precision / recall / mean IoU, the labels agreed on and Krippendorff's alpha
    (per label and overall), or the most common text.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": 1, "worker": ["ann", "bob"], "kind": "box", "label": "car",
    ...                         "left": [0.0, 0.0], "top": 0.0, "right": [10.0, 8.0], "bottom": 10.0})
    >>> out = summarise_answers(answers, "box", approval_threshold=2, workers_per_input=2)
    >>> row = out.items.loc[1]
    >>> row["status"], round(float(row["agreement"]), 3), int(row["shapes"])   # IoU 80/100
    ('approved', 0.8, 1)
    >>> out.figures["mean IoU of matched shapes"], out.workers["recall"].tolist()
    ('0.80', [1.0, 1.0])
    """
    if annotation_type in ("box", "polygon"):
        return _shape_summary(answers, annotation_type, approval_threshold, workers_per_input, iou_threshold,
                              unmatched)
    if annotation_type == "multi_class":
        return _multi_class_summary(answers, approval_threshold, workers_per_input, unmatched)
    if annotation_type == "text":
        return _text_summary(answers, approval_threshold, workers_per_input)
    raise ValidationError("must be 'multi_class', 'text', 'box' or 'polygon' (class tasks have their own view)",
                          field="annotation_type", value=annotation_type)


_SHAPES_HEAD = ("<b>Shapes per worker</b> <span class='dlt-muted'>(against the consensus shapes: precision = "
                "matched / drawn, recall = matched / consensus shapes)</span>")
#: The header of the panel beside the figures, per annotation type (text tasks have none).
_PANEL_HEADS = {
    "class": ("<b>Agreement per worker</b> <span class='dlt-muted'>(with the majority label, on items with "
              "2+ votes)</span>"),
    "box": _SHAPES_HEAD,
    "polygon": _SHAPES_HEAD,
    "multi_class": ("<b>Agreement per label</b> <span class='dlt-muted'>(items it was chosen on, items it was "
                    "agreed on, Krippendorff's alpha of its presence)</span>"),
    "text": "",
}


def _histogram_key(values: pd.Series) -> tuple[Any, ...]:
    """What an agreement histogram draws: its ten bins' counts and the mean (to two decimals)."""
    finite = values.dropna().to_numpy(dtype=float)
    counts, _ = np.histogram(finite, bins=10, range=(0.0, 1.0))
    return tuple(counts.tolist()), round(float(finite.mean()), 2) if len(finite) else None


def _frame_key(frame: pd.DataFrame) -> tuple[Any, ...]:
    """What a bar chart of a frame draws: its rows' names and values to two decimals."""
    values = frame.round(2).to_numpy(dtype=float)
    return tuple(frame.index.astype(str)), tuple(map(tuple, np.where(np.isnan(values), -99.0, values).tolist()))


class ConsensusView(LiveView):
    """Consensus of a task: the items by status, agreement figures, per-worker agreement, the items.

    Item statuses are the store's (``task.status_counts()`` and the task's items, as
    ``task.items_df()`` reads them): pending, awaiting consensus, awaiting review, approved,
    rejected and any other status an item is in.  The task's labels are read once per refresh
    (``task.labels_df()``), encoded once (:func:`dltasks.consensus.encode_votes`) and passed to
    ``task.consensus()`` (top label, votes, ties) and ``task.agreement()``; each worker's
    agreement with the majority counts items with two votes or more only (``skill=True`` adds
    the Dawid-Skene skill, slower on big tasks).

    A task of another annotation type shows its own figures, all from the one read of its long
    answers frame (:func:`summarise_answers`): for boxes and polygons the mean IoU of matched
    shapes per item (a histogram, the task's IoU threshold marked) and each worker's precision,
    recall and mean IoU against the consensus shapes (a table and a chart); for multi_class
    Krippendorff's alpha per label (a table and a chart) and overall (Jaccard and MASI) and each
    item's mean Jaccard; for text the share of items whose answers agree and each item's agreement.

    The items table shows one page (``page_size`` rows): each item's thumbnail and file name
    (the id short and muted), status, label ("tie" for a tie), votes and agreement ("—" below
    two votes); for other types the workers who answered, the agreement and the consensus
    (shapes, labels agreed on, or the most common text).  Click an item's name to see it with
    its votes (or each worker's answer) under the table.

    A class task's labels can come from a truth-inference method instead of the task's rule
    (*Labels by*, or ``method``: majority, Wawa, Dawid-Skene, one-coin Dawid-Skene, GLAD,
    MACE; ``task.consensus(method=...)``): the items table, the votes for each item's label
    and each worker's agreement then follow that method; statuses stay the store's.
    *Compare methods* (``compare=True``) runs them all on the same votes and shows on how many
    items they disagree, the first of them, and a "methods disagree" filter of the items table
    (:mod:`dltasks.widgets.consensus_methods`).

    >>> import dltasks as dl, pandas as pd
    >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["x", "y"])
    >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a", "b"]}))
    >>> task = ds.tasks.create("t", assignee_ids=["ann", "bob", "cy"], workers_per_input=3)
    >>> for worker, label in zip(["ann", "bob", "cy"], ["x", "y", "y"]):
    ...     _ = task.submit(1, worker, label)
    >>> view = ConsensusView(task, method="glad")
    >>> view.consensus["label"].equals(task.consensus(method="glad")["label"])
    True
    """

    page = T.Int(1, help="page of the items table (from 1)")
    status_filter = T.Unicode("all", help="'all', 'tied', 'disagree' (methods disagree) or an item status")
    item = T.Int(-1, help="id of the item shown under the table (-1: none)")

    def __init__(self, task: Any, page_size: int = 20, auto_refresh: bool = True, skill: bool = False,
                 method: str = "", compare: bool = False, **kwargs: Any) -> None:
        self.page_size, self.skill = page_size, skill
        #: The truth-inference method and the comparison of every method (class tasks).
        self.methods = MethodChoice(method=method, compare=compare)
        #: Every method's label per item and whether they agree, while ``compare`` is on (else None).
        self.comparison: pd.DataFrame | None = None
        self.kind = str(getattr(task, "annotation_type", "class") or "class")
        self._drawn: tuple[Any, ...] | None = None
        self._chart_keys: dict[str, Any] = {}
        self._statuses: pd.DataFrame | None = None   # every item's status, read when a filter needs it
        self._dataset: Any = None
        self.labels = pd.DataFrame(columns=["item_id", "worker", "label"])
        self.consensus = pd.DataFrame(columns=["label", "votes", "n_labels", "agreement", "tie", "status"])
        self.agreement = pd.Series(dtype=float)
        self.workers = pd.DataFrame()
        self.summary: AnswersSummary | None = None
        self.counts = pd.Series(dtype="int64")
        self.page_rows = pd.DataFrame()
        self.title = W.HTML()
        self.figures = W.HTML(layout=W.Layout(margin="0 16px 8px 0"))
        self.status_chart = chart(margin="0 0 8px 0")
        self.worker_table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%"))
        self.workers_head = W.HTML(_PANEL_HEADS.get(self.kind, _PANEL_HEADS["class"]))
        self.workers_box = W.VBox([self.workers_head, self.worker_table], layout=W.Layout(margin="0 16px 8px 0"))
        self.agreement_chart = chart(margin="0 16px 8px 0")
        self.breakdown_chart = chart(margin="0 0 8px 0")
        self.charts = W.HBox([self.agreement_chart, self.breakdown_chart],
                             layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.filter_box = W.Dropdown(options=[("all", "all")], value="all", description="Show",
                                     layout=W.Layout(width="300px"))
        self.prev_button = W.Button(icon="chevron-left", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next_button = W.Button(icon="chevron-right", tooltip="next page", layout=W.Layout(width="40px"))
        self.page_label = W.HTML()
        self.picker = RowPicker("item", width="190px", row_px=_ITEM_ROW_PX)
        self.items_table = self.picker.beside(W.HTML(layout=W.Layout(margin="0", overflow="auto")))
        self.detail_title = W.HTML()
        self.picture = W.Image(layout=W.Layout(width="200px", height="200px", object_fit="contain"))
        self.votes_table = W.HTML(layout=W.Layout(margin="0 0 0 12px"))
        self.detail = W.VBox([self.detail_title, W.HBox([self.picture, self.votes_table])],
                             layout=W.Layout(border="1px solid #d9dee5", padding="6px", margin="8px 0 0 0",
                                             align_self="flex-start"))
        self.detail.add_class("dlt-item-detail")
        nav = W.HBox([self.filter_box, self.prev_button, self.page_label, self.next_button])
        top = W.HBox([self.figures, self.workers_box, self.status_chart],
                     layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        if self.kind == "class":
            self.charts.layout.display = "none"
        if self.kind == "text":   # no per-worker or per-label figures: the agreement histogram alone
            self.workers_box.layout.display = "none"
            self.breakdown_chart.layout.display = "none"
        head = W.HBox()
        items = W.HBox([self.picker, self.items_table], layout=W.Layout(max_width="100%", overflow="auto"))
        if self.kind == "class":   # truth inference is for class labels: the choice sits by the filter
            nav.children = [*nav.children, self.methods.controls]
            nav.layout.flex_flow = "row wrap"
        else:
            self.methods.layout.display = "none"
        super().__init__(task, [head, top, self.charts, W.HTML("<b>Items</b>"), nav, self.methods, items,
                                self.detail], **kwargs)
        head.children = [self.title, self.refresh_button, self.status]
        self.add_class("dlt-consensus-view")
        self.prev_button.on_click(lambda _b: self._go(-1))
        self.next_button.on_click(lambda _b: self._go(+1))
        self.filter_box.observe(self._filter_chosen, "value")
        self.picker.observe(lambda c: setattr(self, "item", -1 if c["new"] is None else int(c["new"])), "value")
        self.auto_refresh = auto_refresh
        self._listing = False
        self._draw_detail()
        self.refresh()
        self.methods.observe(lambda _c: self.refresh(), ["method", "compare"])

    # -- public ---------------------------------------------------------------------------
    def _redraw(self) -> bool:
        try:
            labels = self.task.labels_df()
            if self.kind == "class":
                votes = encode_votes(labels)  # one read, one encoding, every analysis
                consensus = self.task.consensus(labels=votes)
                agreement = self.task.agreement(labels=votes)
                if self.method and len(labels):
                    consensus = relabel(consensus, labels, self.task.consensus(labels=votes, method=self.method))
                comparison = self._compare(votes, len(labels))
                workers = _honest_workers(votes, consensus)
                if self.skill:
                    workers["skill"] = self.task.worker_quality(labels=votes, skill=True)["skill"]
            else:
                t = self.task
                summary = summarise_answers(labels, self.kind, self._threshold(), max(1, t.workers_per_input),
                                            t.iou_threshold, t.unmatched)
                consensus, agreement, workers = summary.items, summary.figures, summary.workers
            counts = self.task.status_counts()
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return False
        self.labels, self.consensus, self.agreement, self.workers = labels, consensus, agreement, workers
        order = status_order(self.task.review_strategy, counts.index)
        self.counts = counts.reindex(order, fill_value=0).astype("int64")
        self._statuses = None
        self.title.value = (f"<b>Consensus — {html.escape(self.task.name)}</b> "
                            f"<span class='dlt-muted'>({html.escape(self._rule())})</span>")
        if self.kind == "class":
            self.comparison = comparison
            self.methods.show(comparison)
            self._draw_class_figures()
        else:
            self.summary = summary
            self._draw_answer_figures(summary)
        drawn = tuple(self.counts.items())
        if drawn != self._drawn:
            show_figure(self.status_chart, plot_item_status(self.counts, figsize=(4.6, 2.9)))
            self._drawn = drawn
        self._list_filters()
        self._draw_items()
        if self.item >= 0:
            self._draw_detail()
        return True

    @property
    def method(self) -> str:
        """The truth-inference method giving the labels ('' for the task's rule); set it to recompute."""
        return self.methods.method

    @method.setter
    def method(self, value: str) -> None:
        self.methods.method = value

    @property
    def compare(self) -> bool:
        """Whether every method is compared (:attr:`comparison`); set it to compare."""
        return self.methods.compare

    @compare.setter
    def compare(self, value: bool) -> None:
        self.methods.compare = value

    def _compare(self, votes: Any, n_votes: int) -> pd.DataFrame | None:
        """Every method's label per item (:func:`dltasks.inference.compare_methods`) when asked for."""
        if not self.compare or self.kind != "class":
            return None
        from dltasks.inference import METHODS, compare_methods

        if not n_votes:
            return pd.DataFrame(columns=[*METHODS, "agree"], index=pd.Index([], name="item_id"))
        return compare_methods(votes, list(METHODS))

    def _threshold(self) -> int:
        """The approval threshold (a strict majority of ``workers_per_input`` without one), as the task applies it."""
        return int(self.task.consensus_threshold)

    def _rule(self) -> str:
        """The task's agreement rule in a few words (the title's note)."""
        t = self.task
        what = "votes" if self.kind == "class" else "answers"
        rule = (f"approved at {t.approval_threshold} of {t.workers_per_input} {what}" if t.approval_threshold
                else f"majority of {t.workers_per_input} {what}")
        if self.kind in ("box", "polygon"):
            rule += f" · shapes matched at IoU ≥ {t.iou_threshold:g}"
        if self.kind in ("box", "polygon", "multi_class"):
            stray = "shape" if self.kind != "multi_class" else "label"
            fate = "outvoted" if t.unmatched == "outvoted" else "sends the item to review"
            rule += f" · a {stray} fewer than {self._threshold()} workers gave: {fate}"
        if self.kind == "class" and self.method:
            rule = f"labels by {method_name(self.method)} · statuses: {rule}"
        return rule

    def _draw_class_figures(self) -> None:
        a = self.agreement
        self.figures.value = TABLE_CSS + html_table(pd.DataFrame({"value": [
            _figure(a.get("percent_agreement", math.nan), "share"),
            _figure(a.get("fleiss_kappa", math.nan), "num"),
            _figure(a.get("krippendorff_alpha", math.nan), "num"),
            f"{int(a.get('n_items', 0)):,}", f"{int(a.get('n_workers', 0)):,}", f"{int(a.get('n_labels', 0)):,}",
        ]}, index=pd.Index(["percent agreement", "Fleiss' kappa", "Krippendorff's alpha", "items labelled",
                            "workers", "labels"], name="agreement")))
        self.workers_head.value = _PANEL_HEADS["class"].replace(
            "the majority label", f"the {html.escape(method_name(self.method))} label" if self.method
            else "the majority label")
        shown = self.workers.rename(columns={"n_labels": "labels", "n_compared": "compared",
                                             "agreement_with_consensus": "agreement"})
        self.worker_table.value = TABLE_CSS + html_table(
            shown, formats={"agreement": lambda v: "—" if v != v else fmt_share(v), "skill": fmt_share},
            empty="no labels yet")

    def _draw_answer_figures(self, summary: AnswersSummary) -> None:
        """Figures, the per-worker or per-label table and the two charts of a task that is not a class task."""
        self.figures.value = TABLE_CSS + html_table(
            summary.figures.to_frame().rename_axis("agreement"), empty="no answers yet")
        item_agreement = summary.items["agreement"]
        if self.kind in ("box", "polygon"):
            shown = summary.workers.rename(columns={"shapes": "drawn", "consensus": "consensus shapes",
                                                    "mean_iou": "mean IoU"})
            self.worker_table.value = TABLE_CSS + html_table(
                shown, formats={c: _number for c in ("precision", "recall", "mean IoU")}, empty="no answers yet")
            iou = float(self.task.iou_threshold)
            self._chart("agreement", self.agreement_chart, (_histogram_key(item_agreement), iou),
                        lambda: plot_iou_histogram(item_agreement, iou, figsize=(4.8, 2.9)))
            quality = summary.workers[["precision", "recall", "mean_iou"]]
            self._chart("breakdown", self.breakdown_chart, _frame_key(quality),
                        lambda: plot_shape_worker_quality(quality, figsize=(5.6, max(2.6, 0.55 * len(quality) + 1.5))))
        elif self.kind == "multi_class":
            self.worker_table.value = TABLE_CSS + html_table(
                summary.labels, formats={"alpha": lambda v: _number(v, 3)}, empty="no labels chosen yet")
            alpha = summary.labels["alpha"]
            self._chart("breakdown", self.breakdown_chart, _frame_key(alpha.to_frame()),
                        lambda: plot_label_alpha(alpha, figsize=(4.8, max(2.4, 0.32 * len(alpha) + 1.4))))
            self._chart("agreement", self.agreement_chart, _histogram_key(item_agreement),
                        lambda: plot_agreement_histogram(item_agreement, figsize=(4.8, 2.9), answers="answers",
                                                         xlabel=AGREEMENT_MEANING["multi_class"]))
        else:
            self._chart("agreement", self.agreement_chart, _histogram_key(item_agreement),
                        lambda: plot_agreement_histogram(item_agreement, figsize=(4.8, 2.9), answers="answers",
                                                         xlabel=AGREEMENT_MEANING["text"]))

    def _chart(self, name: str, image: W.Image, key: Any, make: Any) -> None:
        """Draw a chart into ``image`` unless what it shows (``key``) is what it showed last time."""
        if self._chart_keys.get(name) != key:
            show_figure(image, make())
            self._chart_keys[name] = key

    def selected(self) -> pd.DataFrame:
        """The items the status filter selects (all pages): status, reviewer label and the votes.

        Indexed by item_id; ``label`` is the top label (NaN for a tie or no votes), ``votes``
        its votes, ``n_labels`` all votes, ``tie`` whether two labels share the top.  For a task
        of another type: ``n_workers`` (0 before any answer), ``agreement`` (NaN where there is
        none) and the type's column of :attr:`AnswersSummary.items` (``shapes``, ``labels_in``, or
        ``text`` and ``votes``).
        """
        return self._with_votes(self._filtered(self._all_statuses()))

    @property
    def pages(self) -> int:
        """How many pages the filtered items table has."""
        return max(1, math.ceil(self._n_selected() / self.page_size))

    # -- internals ------------------------------------------------------------------------
    def _task_items(self, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """The store's status of the task's items (``task.statuses_df()``, which ``items_df()`` reads), by item."""
        frame = self.task.statuses_df(offset, limit)
        return frame.set_index("item_id")

    def _all_statuses(self) -> pd.DataFrame:
        if self._statuses is None:
            self._statuses = self._task_items()
        return self._statuses

    def _filtered(self, items: pd.DataFrame) -> pd.DataFrame:
        f = self.status_filter
        if f == "all":
            return items
        if f == "tied":
            if "tie" not in self.consensus:
                return items.iloc[:0]
            tied = self.consensus.index[self.consensus["tie"].to_numpy(dtype=bool)]
            return items[items.index.isin(tied)]
        if f == "disagree":
            if self.comparison is None:
                return items.iloc[:0]
            apart = self.comparison.index[~self.comparison["agree"].to_numpy(dtype=bool)]
            return items[items.index.isin(apart)]
        return items[items["status"] == f]

    def _n_selected(self) -> int:
        f = self.status_filter
        if f == "all":
            return int(self.counts.sum())
        if f in ("tied", "disagree"):
            return len(self._filtered(self._all_statuses()))
        return int(self.counts.get(f, 0))

    def _with_votes(self, items: pd.DataFrame) -> pd.DataFrame:
        if self.kind != "class":
            return self._with_answers(items)
        out = items.copy()
        c = self.consensus.reindex(out.index)
        out["label"] = c["label"]
        out["votes"] = c["votes"].fillna(0).astype("int64")
        out["n_labels"] = c["n_labels"].fillna(0).astype("int64")
        out["tie"] = c["tie"].fillna(False).astype(bool)
        if "probability" in c:
            out["probability"] = c["probability"].astype(float)
        return out

    def _with_answers(self, items: pd.DataFrame) -> pd.DataFrame:
        """The items with their answers' figures (a task that is not a class task)."""
        out = items.drop(columns=[c for c in ("label",) if c in items]).copy()
        c = self.consensus.reindex(out.index)
        out["n_workers"] = c["n_workers"].fillna(0).astype("int64")
        out["agreement"] = c["agreement"].astype(float)
        for column in ("shapes", "votes"):
            if column in c:
                out[column] = c[column].fillna(0).astype("int64")
        for column in ("labels_in", "text"):
            if column in c:
                out[column] = c[column]
        return out

    def _list_filters(self) -> None:
        options = [(f"all ({int(self.counts.sum()):,})", "all")]
        options += [(f"{_status_text(s)} ({int(n):,})", s) for s, n in self.counts.items()]
        if self.kind == "class":   # ties are between class labels
            options.append((f"tied ({int(self.consensus['tie'].sum()):,})", "tied"))
        if self.comparison is not None:
            apart = int((~self.comparison["agree"].astype(bool)).sum())
            options.append((f"methods disagree ({apart:,})", "disagree"))
        keep = self.status_filter if self.status_filter in [v for _, v in options] else "all"
        self._listing = True
        try:
            self.filter_box.options = options
            self.filter_box.value = keep
        finally:
            self._listing = False
        if keep != self.status_filter:
            self.status_filter = keep

    def _filter_chosen(self, change: Any) -> None:
        if not self._listing and change["new"] is not None:
            self.status_filter = change["new"]

    @T.observe("status_filter")
    def _filter_changed(self, change: Any) -> None:
        if self.filter_box.value != change["new"] and change["new"] in [v for _, v in self.filter_box.options]:
            self.filter_box.value = change["new"]
        if self.page != 1:
            self.page = 1  # redraws through the observer
            return
        self._draw_items()

    @T.observe("page")
    def _page_changed(self, _change: Any) -> None:
        self._draw_items()

    @T.observe("item")
    def _item_changed(self, change: Any) -> None:
        self.picker.value = None if change["new"] < 0 else change["new"]
        self._draw_detail()

    def _go(self, step: int) -> None:
        self.page = min(max(1, self.page + step), self.pages)

    def _page_items(self, start: int) -> pd.DataFrame:
        if self.status_filter == "all":   # one page read: no need for every item's status
            return self._task_items(start, self.page_size)
        return self._filtered(self._all_statuses()).iloc[start:start + self.page_size]

    def _files(self, ids: list[int]) -> pd.DataFrame:
        """Name, path and type of the items on the page (one read)."""
        if not ids:
            return pd.DataFrame(columns=["name", "path", "mime"])
        if self._dataset is None:
            self._dataset = self.task.dataset
        query = Filters()
        query.add(field="id", values=ids, operator="in")
        return self._dataset.items.to_df(filters=query, metadata="none").set_index("id")

    def _draw_items(self) -> None:
        pages = self.pages
        if self.page > pages:
            self.page = pages  # redraws through the observer
            return
        try:
            rows = self._with_votes(self._page_items((self.page - 1) * self.page_size))
            files = self._files([int(i) for i in rows.index]).reindex(rows.index)
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return
        self.page_rows = rows.assign(name=files["name"].fillna("").astype(str))
        thumbs = [thumbnail_html(p if isinstance(p, str) else None, m if isinstance(m, str) else None)
                  for p, m in zip(files["path"], files["mime"])]
        table = pd.DataFrame({
            "": [f"{t}" if t else "" for t in thumbs],
            "id": [f'<span class="dlt-id">#{short_id(i)}</span>' for i in rows.index],
            "status": [_status_text(s) for s in rows["status"]],
        })
        for column, values in (self._vote_columns(rows) if self.kind == "class" else self._answer_columns(rows)):
            table[column] = values
        self.items_table.value = TABLE_CSS + self.picker.table_css() + html_table(
            table, raw=["", "id"], index=False, empty="no items with this status")
        names = self.page_rows["name"].where(self.page_rows["name"] != "", [f"item {i}" for i in rows.index])
        what = "votes" if self.kind == "class" else "answers"
        self.picker.set_rows([(str(n), int(i)) for i, n in names.items()],
                             [f"{n} (#{i}): show it with its {what}" for i, n in names.items()])
        n = self._n_selected()
        self.page_label.value = (f"<span style='padding:0 8px'>page {self.page} of {pages} "
                                 f"<span class='dlt-muted'>({n:,} items)</span></span>")
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= pages

    @staticmethod
    def _vote_columns(rows: pd.DataFrame) -> list[tuple[str, list[str]]]:
        """The items table's columns of a class task: label ("tie" for a tie), votes, agreement."""
        reviewed = rows["label"] if "reviewer_label" not in rows else rows["reviewer_label"]
        columns = [
            ("label", [label_text(lab, tie, n) for lab, tie, n in zip(reviewed, rows["tie"], rows["n_labels"])]),
            ("votes", [f"{v} of {n}" if n else "—" for v, n in zip(rows["votes"], rows["n_labels"])]),
            ("agreement", [vote_share_text(v, n) for v, n in zip(rows["votes"], rows["n_labels"])]),
        ]
        if "probability" in rows:   # a truth-inference method's confidence in its label
            columns.append(("probability", [fmt_share(p) if p == p else "—" for p in rows["probability"]]))
        return columns

    def _answer_columns(self, rows: pd.DataFrame) -> list[tuple[str, list[str]]]:
        """The items table's columns of another type: workers, then the type's consensus and agreement."""
        answered = (rows["n_workers"] > 0).to_list()
        workers = [f"{n:,}" if n else "—" for n in rows["n_workers"]]
        if self.kind in ("box", "polygon"):
            return [("workers", workers),
                    ("mean IoU", [_number(v) for v in rows["agreement"]]),
                    ("consensus shapes", [f"{n:,}" if a else "—" for n, a in zip(rows["shapes"], answered)])]
        if self.kind == "multi_class":
            return [("workers", workers),
                    ("labels agreed", [str(v) if isinstance(v, str) else "—" for v in rows["labels_in"]]),
                    ("mean Jaccard", [_number(v) for v in rows["agreement"]])]
        return [("workers", workers),
                ("most common answer", [_short_text(t) if a else "—" for t, a in zip(rows["text"], answered)]),
                ("votes", [f"{v} of {n}" if n else "—" for v, n in zip(rows["votes"], rows["n_workers"])]),
                ("agreement", [fmt_share(v) if v == v else "—" for v in rows["agreement"]])]

    def _draw_detail(self) -> None:
        """The item picked, with its votes (hidden when none is picked)."""
        iid = self.item
        if iid < 0:
            self.detail.layout.display = "none"
            return
        self.detail.layout.display = None
        try:
            item = (self.task.dataset if self._dataset is None else self._dataset).items.get(item_id=iid)
            status = (self.page_rows.loc[iid, "status"] if iid in self.page_rows.index
                      else self._all_statuses().loc[iid, "status"])
        except (DltasksError, KeyError) as err:
            self.detail_title.value = message("error", str(err))
            return
        votes = self.labels[self.labels["item_id"].to_numpy() == iid]
        self.detail_title.value = (f"<b>{html.escape(item.filename or item.name)}</b> "
                                   f"<span class='dlt-id'>#{iid}</span> · {html.escape(_status_text(status))}")
        mime = item.mime or ""
        if mime in _IMAGE_FORMATS and item.path and item.path.startswith(("http://", "https://")):
            self.picture.format, self.picture.value = "url", item.path.encode()
            self.picture.layout.display = None
        elif mime in _IMAGE_FORMATS and item.path and os.path.isfile(item.path):
            with open(item.path, "rb") as fh:
                self.picture.format, self.picture.value = _IMAGE_FORMATS[mime], fh.read()
            self.picture.layout.display = None
        else:
            self.picture.layout.display = "none"
        if self.kind == "class":
            frame = pd.DataFrame({"label": votes["label"].astype(str).to_numpy()},
                                 index=pd.Index(votes["worker"].astype(str).to_numpy(), name="worker"))
            self.votes_table.value = TABLE_CSS + html_table(frame, empty="no votes yet")
        else:
            self.votes_table.value = TABLE_CSS + html_table(self._answers_of(votes), empty="no answers yet")

    def _answers_of(self, answers: pd.DataFrame) -> pd.DataFrame:
        """Each worker's answer to one item in a few words; for shapes, how many are in the consensus."""
        frame = pd.DataFrame({"answer": [describe_answer(self.kind, a) for a in answers_by_worker(answers).values()]},
                             index=pd.Index(sorted(answers["worker"].astype(str).unique()), name="worker"))
        if self.kind in ("box", "polygon") and len(answers):
            from dltasks.agreement import cluster_shapes

            # the item's shapes matched again: matching is per item, so this is the task's matching
            shapes = cluster_shapes(answers, self.task.iou_threshold, self.kind).to_frame()
            by_worker = shapes.groupby(shapes["worker"].astype(str))
            drawn = by_worker.size().reindex(frame.index, fill_value=0)
            agreed = by_worker["cluster_size"].agg(lambda c: int((c >= self._threshold()).sum()))
            agreed = agreed.reindex(frame.index, fill_value=0)
            frame["in consensus"] = [f"{int(m)} of {int(n)}" if n else "—" for m, n in zip(agreed, drawn)]
        return frame


def _short_text(text: Any, width: int = 40) -> str:
    """A free-text answer as the items table shows it: quoted, cut at ``width`` characters.

    >>> _short_text("a red car"), _short_text(""), _short_text("x" * 50)[-3:]
    ("'a red car'", '(empty)', "x…'")
    """
    if not isinstance(text, str) or not text:
        return "(empty)"
    return repr(text if len(text) <= width else text[:width - 1] + "…")
