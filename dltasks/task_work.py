"""The work inside a task and its analyses: the methods :class:`dltasks.tasks.Task` mixes in.

Writes (``submit``, ``set_status``, ``review``, ``retract``) are one backend operation each,
on the task's id: the backend reads the task's current options inside its transaction.  Each
tells this task's open views afterwards (:mod:`dltasks.work_events`).  The analyses compute
from :meth:`TaskWork.labels_df` with the pure functions of :mod:`dltasks.consensus`.

>>> import dltasks as dl, pandas as pd
>>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
>>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
>>> task = ds.tasks.create(task_name="t", assignee_ids=["ann", "bob"], workers_per_input=2,
...                        review_strategy="consensus", reviewer_ids=["rev"], approval_threshold=2)
>>> task.submit(1, "ann", "cat"), task.submit(1, "bob", "cat")
('awaiting_consensus', 'approved')
>>> task.items_df()[["item_id", "status", "label", "votes"]].values.tolist()
[[1, 'approved', 'cat', 2], [2, 'pending', nan, 0]]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence, cast

import pandas as pd

from dltasks.domain.checks import to_item_id, to_item_ids
from dltasks.domain.shapes import Definition
from dltasks.domain.types import OptionalRole
from dltasks.errors import ValidationError
from dltasks.work_events import work_events

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.consensus import Votes

__all__ = ["TaskWork"]


class TaskWork:
    """Work and analysis methods of :class:`dltasks.tasks.Task` (mixed in).

    Writes and reads are backend operations on the task's id (``store.ops``), so a task from a
    remote store works the same; the analysis methods compute from :meth:`labels_df` with the
    pure functions of :mod:`dltasks.consensus`.
    """

    id: str
    labels: list[str]
    annotation_type: str
    iou_threshold: float
    unmatched: str
    review_strategy: str
    approval_threshold: int | None
    workers_per_input: int
    worker_strategy: str
    assignee_ids: list[str]
    weights: dict[str, float]

    def _bound(self) -> Any:  # pragma: no cover - provided by Task
        raise NotImplementedError

    if TYPE_CHECKING:  # provided by TaskQuality (dltasks.task_quality)
        def _votes(self) -> pd.DataFrame: ...

        def _gold_columns(self, quality: pd.DataFrame, workers: Sequence[str]) -> pd.DataFrame: ...

    def _written(self, result: Any) -> Any:
        """Tell this task's open views (:mod:`dltasks.work_events`) that work was written; pass ``result`` on."""
        work_events.notify(self.id)
        return result

    def submit(self, item_id: int, user_id: str, label: str | None = None, replace: bool = False,
               annotations: Sequence[Definition] | None = None, seconds: float | None = None) -> str:
        """Record ``user_id``'s answer for an item assigned to them; return the item's new status.

        A class task takes ``label``; every task type takes ``annotations``, a list of
        definitions of the task's kind (``dl.Classification``, ``dl.Box``, ``dl.Polygon``,
        ``dl.FreeText``).  An empty list is an answer too in multi_class, box and polygon tasks
        (no label applies, nothing to draw).

        A worker's second answer on an item is refused (``ConflictError``) unless
        ``replace=True``, which replaces their whole answer; the replaced one stays in the task's
        history.  Once an item is approved its answers cannot change until a reviewer reopens it
        (:meth:`reopen`).  On a task with no assignees the item is claimed by whoever submits
        first (up to ``workers_per_input`` workers).  ``seconds``: how long the item was on screen
        before this answer (the work widgets measure it); :meth:`labels_df` and :meth:`progress`
        show it.

        >>> import dltasks as dl, pandas as pd
        >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["car", "bus"])
        >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
        >>> task = ds.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
        >>> task.submit(1, "ann", annotations=[dl.Box(10, 10, 50, 40, label="car")])
        'completed'
        >>> task.labels_df()[["worker", "kind", "label", "left", "bottom"]].values.tolist()
        [['ann', 'box', 'car', 10.0, 40.0]]
        """
        answer = None if annotations is None else list(annotations)
        return self._written(self._bound().ops.submit(self.id, to_item_id(item_id), user_id, label, replace,
                                                      answer, seconds))

    def set_status(self, item_ids: int | Iterable[int], status: str, user_id: str) -> int:
        """Mark items with an action (``completed``, ``discard``, ``approved`` in QA, or a custom one)."""
        return self._written(self._bound().ops.set_status(self.id, to_item_ids(item_ids), status, user_id))

    def review(self, item_id: int, user_id: str, approve: bool = True, label: str | None = None) -> str:
        """A reviewer approves or rejects an item awaiting review; return its new status.

        ``label`` (one of the task's labels; only with ``approve=True``) approves with a different
        label than the workers gave: a correction, which becomes the item's ``label`` in
        :meth:`items_df` and is recorded in :meth:`history_df` as a ``correct`` action (before: the
        label most workers gave, after: ``label``).  A reject or a reopen clears it.
        """
        return self._written(self._bound().ops.review(self.id, to_item_id(item_id), user_id, approve, label))

    def reopen(self, item_id: int, user_id: str) -> str:
        """A reviewer takes back an item's approval; return its new status (recorded in the history).

        The item's labels stay; its workers may change them (``replace=True``) and a reviewer
        decides again.
        """
        return self._written(self._bound().ops.reopen(self.id, to_item_id(item_id), user_id))

    def retract(self, item_id: int, user_id: str) -> str:
        """Withdraw ``user_id``'s label on an item; return the item's new status."""
        return self._written(self._bound().ops.retract(self.id, to_item_id(item_id), user_id))

    def assignments_df(self, user_id: str | None = None, status: str | None = None,
                       role: OptionalRole = None, limit: int | None = None) -> pd.DataFrame:
        """Who works on (or reviewed) which item: item_id, user_id, role, status, updated_at.

        ``user_id`` / ``status`` / ``role`` (``worker`` or ``reviewer``) keep only that user's
        rows / rows in that status / rows of that role; ``limit`` keeps the first rows (in
        item order for one user's rows: the head of a worker's queue, read from the index).
        """
        return self._bound().ops.assignments_frame(self.id, user_id, status, role, 0, limit)

    def labels_df(self) -> pd.DataFrame:
        """The labels given in this task, long form: item_id, worker, label, seconds (by item, then worker).

        ``seconds`` is how long the item was on screen before the answer (NaN: not measured).
        A task that is not a class task gives the long answers frame (one row per shape).
        """
        return self._bound().ops.labels_frame(self.id)

    def items_df(self) -> pd.DataFrame:
        """One row per item of the task: item_id, status, label, votes, n_labels, reviewer_label.

        ``label`` is the item's label as decided so far: a reviewer's correction
        (``reviewer_label``, from ``review(..., label=…)``) where there is one, else the label most
        workers gave (ties to the smallest label; NaN before any label).
        """
        items = self.statuses_df()
        if self.annotation_type != "class":
            return self._answered_items(items)
        reviewed = items.pop("label") if "label" in items else pd.Series(None, index=items.index, dtype=object)
        labels = self._votes()
        out = items.set_index("item_id")
        reviewed.index = out.index
        if labels.empty:
            out["label"], out["votes"], out["n_labels"] = None, 0, 0
        else:
            from dltasks.consensus import threshold_consensus

            # the top label of each item, ties to the smallest label: the consensus module's job
            top = threshold_consensus(labels, approval_threshold=1, workers_per_input=1, tie_policy="first")
            out["label"] = top["label"]
            out["votes"] = top["votes"].reindex(out.index).fillna(0).astype(int)
            out["n_labels"] = top["n_labels"].reindex(out.index).fillna(0).astype(int)
        out["label"] = reviewed.where(reviewed.notna(), out["label"])
        out["reviewer_label"] = reviewed
        return out.reset_index()

    def _answered_items(self, items: pd.DataFrame) -> pd.DataFrame:
        """``items_df`` of a task that is not a class task: item_id, status, n_workers, agreement."""
        out = items.drop(columns=["label"]).set_index("item_id")
        decided = self.consensus()
        out["n_workers"] = decided["n_workers"].reindex(out.index).fillna(0).astype(int)
        out["agreement"] = decided["agreement"].reindex(out.index)
        return out.reset_index()

    def statuses_df(self, offset: int = 0, limit: int | None = None) -> pd.DataFrame:
        """Each item's stored status, in item order: item_id, status, label (a reviewer's, else None).

        One read of the task's items, without the votes (:meth:`items_df` adds them); ``offset`` /
        ``limit`` read one page.  Every view of item statuses reads this, so they agree.
        """
        return self._bound().ops.task_items_frame(self.id, offset, limit)

    def history_df(self, item_id: int | None = None) -> pd.DataFrame:
        """The task's work actions, oldest first (one item's, if given): item_id, user_id, action, before, after, at.

        Actions: ``submit``, ``replace`` and ``retract`` (labels), ``status``, ``review`` (before: the
        item's status, after: approved / rejected), ``correct`` (a reviewer's label), ``reopen``.  On a
        server a worker's token reads only that worker's own actions.
        """
        return self._bound().ops.history_frame(self.id, None if item_id is None else to_item_id(item_id))

    def progress(self) -> pd.DataFrame:
        """Per assignee: assigned, done, percent, median_seconds (per item on screen) and items_per_hour (of
        that time); plus a ``total`` row (its items_per_hour: the team's, working side by side)."""
        df = self._bound().ops.progress_frame(self.id).set_index("user_id")
        order = list(dict.fromkeys(list(self.assignee_ids) + list(df.index)))
        df = df.reindex(order)
        df[["assigned", "done"]] = df[["assigned", "done"]].fillna(0)
        df.loc["total"] = [df["assigned"].sum(), df["done"].sum(), float("nan"), df["items_per_hour"].sum(min_count=1)]
        df = df.astype({"assigned": "int64", "done": "int64", "median_seconds": "float64",
                        "items_per_hour": "float64"})
        df["percent"] = (100.0 * df["done"] / df["assigned"].where(df["assigned"] > 0)).fillna(0.0).round(1)
        df.index.name = "user_id"
        return df[["assigned", "done", "percent", "median_seconds", "items_per_hour"]]

    def status_counts(self) -> pd.Series:
        """How many items are in each status."""
        return self._bound().ops.status_counts(self.id)

    # -- analysis (pure functions over the task's labels) --------------------------------
    def consensus(self, tie_policy: str = "review", labels: pd.DataFrame | Votes | None = None,
                  method: str | None = None, gold: Any = None) -> pd.DataFrame:
        """Threshold consensus per labelled item (see :func:`dltasks.consensus.threshold_consensus`).

        Tasks without a consensus threshold use a strict majority of ``workers_per_input``.
        Pass ``labels`` (from :meth:`labels_df`, or ``dltasks.consensus.encode_votes`` of it) to
        reuse one read, and one encoding, for several analyses.

        ``method`` infers each item's true label from every vote instead (class tasks):
        ``"majority"``, ``"wawa"``, ``"dawid_skene"``, ``"one_coin"``, ``"glad"`` or ``"mace"``
        (:mod:`dltasks.inference`); ``gold`` (``{item_id: label}``) fixes known items for the
        methods that take it.  The result is indexed by item_id: label, probability (of that
        label).  A task that is not a class task
        gets :func:`dltasks.agreement.decide`: status, agreement (boxes and polygons: the mean IoU
        of matched shapes), n_workers per item, by its ``iou_threshold`` and ``unmatched`` rule.
        """
        labels = self._votes() if labels is None else labels
        if method is not None:
            return self._inferred(method, labels, gold)
        k = max(1, self.workers_per_input)
        t = self.consensus_threshold
        if self.annotation_type != "class":
            from dltasks.agreement import decide

            return decide(labels, self.annotation_type, t, k, self.iou_threshold, self.unmatched)
        from dltasks.consensus import threshold_consensus

        return threshold_consensus(labels, approval_threshold=t, workers_per_input=k, tie_policy=tie_policy)

    def _inferred(self, method: str, labels: pd.DataFrame | Votes, gold: Any) -> pd.DataFrame:
        from dltasks.inference import GOLD_METHODS, make_estimator

        if self.annotation_type != "class":
            raise ValidationError(f"truth inference applies to class tasks, not {self.annotation_type} tasks",
                                  "method", method)
        estimator = make_estimator(method)
        if gold is not None and method not in GOLD_METHODS:
            raise ValidationError(f"takes no gold; these do: {', '.join(GOLD_METHODS)}", "method", method)
        if gold is not None:
            cast(Any, estimator).fit(labels, gold=gold)  # the GOLD_METHODS' fit takes gold
        else:
            estimator.fit(labels)
        out = pd.DataFrame({"label": estimator.labels_, "probability": estimator.probas_.max(axis=1)})
        out.index.name = "item_id"
        return out

    def compare_methods(self, methods: Sequence[str] | None = None, gold: Any = None) -> pd.DataFrame:
        """Each item's label by several truth-inference methods side by side, and whether they all agree
        (see :func:`dltasks.inference.compare_methods`; class tasks)."""
        from dltasks.inference import METHODS, compare_methods

        if self.annotation_type != "class":
            raise ValidationError(f"truth inference applies to class tasks, not {self.annotation_type} tasks",
                                  "annotation_type", self.annotation_type)
        return compare_methods(self._votes(), list(methods) if methods is not None else list(METHODS), gold)

    @property
    def consensus_threshold(self) -> int:
        """How many workers must agree: the approval threshold, or a strict majority of
        ``workers_per_input`` without one (what :meth:`consensus` and the views use).

        >>> import dltasks as dl
        >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["a"])
        >>> ds.tasks.create("t", workers_per_input=3).consensus_threshold
        2
        """
        return self.approval_threshold or (max(1, self.workers_per_input) // 2 + 1)

    def consensus_shapes(self, labels: pd.DataFrame | None = None) -> pd.DataFrame:
        """The shapes of a box or polygon task that enough workers agree on (one per cluster of matched
        shapes): item_id, label, kind, left, top, right, bottom (the per-coordinate median) or geo,
        n_workers, mean_iou (see :func:`dltasks.agreement.consensus_shapes`)."""
        from dltasks.agreement import consensus_shapes

        self._require_shapes("consensus_shapes")
        return consensus_shapes(self._votes() if labels is None else labels, self.consensus_threshold,
                                self.iou_threshold)

    def _require_shapes(self, what: str) -> None:
        if self.annotation_type not in ("box", "polygon"):
            raise ValidationError(f"{what} needs a box or polygon task", "annotation_type", self.annotation_type)

    def agreement(self, labels: pd.DataFrame | Votes | None = None) -> pd.Series:
        """Percent agreement, Fleiss' kappa, Krippendorff's alpha and counts for this task.

        A task that is not a class task: items, workers, the mean item agreement (boxes and
        polygons: mean IoU of matched shapes; multi_class: mean Jaccard between workers' label
        sets; text: the share of answers equal to the most common one) and, for multi_class,
        Krippendorff's alpha with the Jaccard and MASI distances.
        """
        if self.annotation_type != "class":
            return self._answers_agreement(self._votes() if labels is None else labels)
        from dltasks.consensus import agreement_summary

        return agreement_summary(self._votes() if labels is None else labels)

    def _answers_agreement(self, labels: pd.DataFrame) -> pd.Series:
        decided = self.consensus(labels=labels)
        out = {"items": float(len(decided)), "workers": float(labels["worker"].nunique()),
               "mean_agreement": float(decided["agreement"].mean()) if len(decided) else float("nan"),
               "agreed_share": float((decided["status"] == "approved").mean()) if len(decided) else float("nan")}
        if self.annotation_type == "multi_class" and len(decided):
            from dltasks.agreement import set_alpha

            out["alpha_jaccard"] = set_alpha(labels, "jaccard")
            out["alpha_masi"] = set_alpha(labels, "masi")
        return pd.Series(out, name="agreement")

    def worker_quality(self, labels: pd.DataFrame | Votes | None = None, skill: bool = True) -> pd.DataFrame:
        """Per worker: labels given, agreement with the consensus, (``skill``) Dawid–Skene skill, and their gold
        answers: gold_n, gold_accuracy with its 95 % Wilson interval (gold_low, gold_high), flagged.

        A box or polygon task: shapes, precision, recall and mean IoU against the consensus shapes
        (:func:`dltasks.agreement.shape_worker_quality`).
        """
        if self.annotation_type in ("box", "polygon"):
            from dltasks.agreement import shape_worker_quality

            return shape_worker_quality(self.labels_df() if labels is None else labels, self.consensus_threshold,
                                        self.iou_threshold)
        from dltasks.consensus import DawidSkene, worker_agreement

        labels = self.labels_df() if labels is None else labels
        quality = worker_agreement(labels)
        if skill:
            if len(labels):
                quality["skill"] = DawidSkene().fit(labels).skills_.reindex(quality.index)
            else:
                quality["skill"] = pd.Series(dtype=float)
        return self._gold_columns(quality, self.assignee_ids)

    def partition(self) -> pd.DataFrame:
        """Per assignee: assigned, target (exact share), target_share, actual_share, done, percent."""
        prog = self.progress().drop(index="total")
        total = float(prog["assigned"].sum())
        weights = pd.Series({u: float(self.weights.get(u, 0.0)) for u in prog.index}, dtype=float)
        share = weights / weights.sum() if weights.sum() > 0 else weights
        out = pd.DataFrame(index=prog.index)
        out["assigned"] = prog["assigned"]
        out["target"] = share * total
        out["target_share"] = share
        out["actual_share"] = prog["assigned"] / total if total else 0.0
        out["done"] = prog["done"]
        out["percent"] = prog["percent"]
        return out
