"""Quality control on a task: gold answers, flagged workers, qualification, predictions, queues, history.

The methods :class:`dltasks.tasks.Task` mixes in (next to :mod:`dltasks.task_work`).  Each is
one backend operation on the task's id, plus pure arithmetic (:mod:`dltasks.quality`,
:mod:`dltasks.domain.predictions`).

>>> import dltasks as dl, pandas as pd
>>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
>>> _ = ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(10)]}))
>>> task = ds.tasks.create("t", assignee_ids=["ann"], gold={9: "cat", 10: "dog"}, gold_rate=0.2, seed=1)
>>> queue = task.queue("ann")
>>> len(queue), task.status_counts().to_dict()  # 8 real items and 2 gold ones; gold is not the task's work
(10, {'pending': 8})
>>> task.submit(9, "ann", "cat", seconds=2.5), task.submit(10, "ann", "cat")
('completed', 'completed')
>>> task.worker_quality(skill=False)[["gold_n", "gold_accuracy", "flagged"]].values.tolist()
[[2, 0.5, False]]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from dltasks.domain.predictions import prediction_rows, top_predictions
from dltasks.domain.types import RowLimit
from dltasks.errors import ValidationError

__all__ = ["TaskQuality"]


class TaskQuality:
    """Quality-control methods of :class:`dltasks.tasks.Task` (mixed in)."""

    id: str
    type: str
    labels: list[str]
    assignee_ids: list[str]
    min_gold_accuracy: float | None
    pass_accuracy: float | None

    if TYPE_CHECKING:  # provided by Task and TaskWork
        def _bound(self) -> Any: ...

        def _written(self, result: Any) -> Any: ...

        def labels_df(self) -> pd.DataFrame: ...

    def queue(self, user_id: str, limit: RowLimit = None) -> list[int]:
        """The worker's pending items in the order they are served: their gold items spread through the
        real ones (indistinguishable), lowest model margin first under ``order="uncertainty"``.

        A worker who has not passed the task's qualification task gets no real items yet; a
        flagged worker gets none.
        """
        return list(self._bound().ops.queue(self.id, user_id, limit))

    def gold_df(self) -> pd.DataFrame:
        """Each worker's answers on gold items: item_id, user_id, answer, gold, correct, seconds, at.

        (On a server: an admin's read, since it holds the known answers.)
        """
        return self._bound().ops.gold_frame(self.id)

    def gold_quality(self) -> pd.DataFrame:
        """Per worker: gold_n, gold_correct, gold_accuracy and its 95 % Wilson interval (gold_low, gold_high),
        indexed by user_id (see :func:`dltasks.quality.gold_accuracy`)."""
        from dltasks.quality import gold_accuracy

        return gold_accuracy(self.gold_df()[["user_id", "correct"]]).set_index("user_id")

    def flagged_workers(self) -> pd.DataFrame:
        """The workers flagged by their gold accuracy (below ``min_gold_accuracy`` after ``min_gold_n`` gold
        answers): user_id, gold_n, gold_accuracy, flagged_at.  Their unworked items went to the others and
        their labels are left out of consensus (they stay in :meth:`labels_df`)."""
        flagged = self._bound().ops.flagged_frame(self.id)
        if flagged.empty:
            return flagged.assign(gold_n=pd.Series(dtype="int64"), gold_accuracy=pd.Series(dtype="float64"))[
                ["user_id", "gold_n", "gold_accuracy", "flagged_at"]]
        gold = self.gold_quality()
        flagged["gold_n"] = flagged["user_id"].map(gold["gold_n"]).fillna(0).astype("int64")
        flagged["gold_accuracy"] = flagged["user_id"].map(gold["gold_accuracy"]).astype("float64")
        return flagged[["user_id", "gold_n", "gold_accuracy", "flagged_at"]]

    def _flagged_ids(self) -> set[str]:
        if self.min_gold_accuracy is None:
            return set()
        return set(self._bound().ops.flagged_frame(self.id)["user_id"])

    def _votes(self) -> pd.DataFrame:
        """The labels consensus counts: :meth:`labels_df` without flagged workers' labels."""
        labels = self.labels_df()
        flagged = self._flagged_ids()
        return labels[~labels["worker"].isin(flagged)].reset_index(drop=True) if flagged else labels

    def qualification_df(self) -> pd.DataFrame:
        """A qualification task's results per assignee: user_id, answered, correct, accuracy, passed."""
        return self._bound().ops.qualification_frame(self.id)

    def history(self) -> pd.DataFrame:
        """Every work action, oldest first: at, user_id, item_id, action, before, after.

        Actions: ``submit``, ``replace``, ``retract``, ``status``, ``review``, ``correct``,
        ``reopen``, ``gold`` (an answer on a gold item), ``flag`` (a worker flagged),
        ``redistribute`` (an item given to another worker: before, the flagged one) and
        ``extend`` (dynamic overlap: one more worker).  Nothing is lost when a label is replaced.
        """
        return self._bound().ops.history_frame(self.id)[["at", "user_id", "item_id", "action", "before", "after"]]

    def import_predictions(self, predictions: pd.DataFrame, model: str | None = None) -> int:
        """Store a model's predictions, a DataFrame item_id, label, score (and model), on this task's items.

        They are not votes: consensus and progress never count them.  They order queues
        (``order="uncertainty"``) and :meth:`model_agreement` compares workers with them.
        """
        if not isinstance(predictions, pd.DataFrame):
            raise ValidationError("must be a DataFrame with item_id, label, score (and model)", "predictions",
                                  type(predictions).__name__)
        frame = predictions if model is None else predictions.assign(model=model)
        return int(self._written(self._bound().ops.import_predictions(self.id, prediction_rows(frame))))

    def predictions_df(self) -> pd.DataFrame:
        """The task's predictions: item_id, model, label, score."""
        return self._bound().ops.predictions_frame(self.id)

    def model_agreement(self, model: str | None = None) -> pd.DataFrame:
        """Per worker: how often their label equals the model's top label (items both labelled): labels, agree,
        agreement (a share), indexed by worker."""
        preds = self.predictions_df()
        if model is not None:
            preds = preds[preds["model"] == model]
        top = top_predictions(preds).set_index("item_id")["label"]
        labels = self.labels_df()
        both = labels[labels["item_id"].isin(top.index)]
        same = both["label"].to_numpy() == top.reindex(both["item_id"]).to_numpy()
        out = pd.DataFrame({"worker": both["worker"].to_numpy(), "agree": same}).groupby("worker")["agree"].agg(
            ["count", "sum"]).rename(columns={"count": "labels", "sum": "agree"})
        out["agreement"] = out["agree"] / out["labels"]
        return out.astype({"labels": "int64", "agree": "int64", "agreement": "float64"})

    def _gold_columns(self, quality: pd.DataFrame, workers: Sequence[str]) -> pd.DataFrame:
        """``quality`` (indexed by worker) with gold_n, gold_accuracy, gold_low, gold_high and flagged."""
        gold = self.gold_quality()
        index = list(dict.fromkeys(list(quality.index) + [w for w in workers if w in gold.index]))
        out = quality.reindex(index)
        for column in ("gold_n", "gold_accuracy", "gold_low", "gold_high"):
            out[column] = gold[column].reindex(out.index)
        out["gold_n"] = out["gold_n"].fillna(0).astype("int64")
        out["flagged"] = out.index.isin(list(self._flagged_ids()))
        return out
