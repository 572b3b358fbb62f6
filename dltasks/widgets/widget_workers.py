"""WorkersView: each worker of a task, how far along, how fast, and whether they qualified.

One table per task (the TaskBoard's *Workers* tab): ``task.progress()`` per worker (assigned,
done, percent, median seconds an item was on screen, items per hour of time on screen), who
passed the task's qualification (``qualification_df()`` of its qualification task, or of the
task itself when it is one), who was flagged by their gold accuracy, how often each agrees
with the model when the task has predictions (``task.model_agreement()``), and a chart of each
worker's throughput over the clock (:func:`dltasks.plots.plot_throughput` of the task's answers
in ``task.history()``: breaks count there, not in the table).
"""
from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import pandas as pd

from dltasks.errors import DltasksError
from dltasks.plots import plot_throughput
from dltasks.widgets._common import LiveView, TABLE_CSS, chart, fmt_share, html_table, message, show_figure

__all__ = ["WorkersView", "workers_table"]

#: History actions that are an answer (a worker's item done): the throughput chart counts them.
ANSWERS = ("submit", "gold")


def _seconds(value: Any) -> str:
    return "—" if value is None or value != value else f"{float(value):.1f} s"


def _rate(value: Any) -> str:
    return "—" if value is None or value != value else f"{float(value):,.1f}"


def _passed(value: Any) -> str:
    return "—" if value is None or value != value else ("passed" if bool(value) else "not passed")


def _agreement(agree: Any, labels: Any) -> str:
    """A worker's agreement with the model as shown: the share and the counts ("—": nothing compared)."""
    return "—" if not labels or labels != labels else f"{fmt_share(agree / labels)} ({int(agree)} of {int(labels)})"


def workers_table(progress: pd.DataFrame, qualification: pd.DataFrame | None = None,
                  flagged: pd.DataFrame | None = None, model: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each worker's row as the WorkersView shows it (the ``total`` row last).

    ``progress``: ``task.progress()`` (by user_id: assigned, done, percent, median_seconds,
    items_per_hour, and a ``total`` row); ``qualification``: ``qualification_df()`` (user_id,
    answered, correct, accuracy, passed) of the task's qualification task; ``flagged``:
    ``task.flagged_workers()`` (user_id, ...); ``model``: ``task.model_agreement()`` (by worker:
    labels, agree, agreement), shown as "agrees with model" (the share of the worker's labels on
    predicted items that are the model's top label, and the counts; the total row: all workers').
    Workers only in ``qualification`` get a row too.

    >>> progress = pd.DataFrame({"assigned": [4, 4, 8], "done": [4, 1, 5], "percent": [100.0, 25.0, 62.5],
    ...                          "median_seconds": [7.5, float("nan"), 7.5],
    ...                          "items_per_hour": [480.0, float("nan"), 480.0]},
    ...                         index=pd.Index(["ann", "bob", "total"], name="user_id"))
    >>> quiz = pd.DataFrame({"user_id": ["ann", "bob"], "answered": [2, 2], "correct": [2, 1],
    ...                      "accuracy": [1.0, 0.5], "passed": [True, False]})
    >>> workers_table(progress, quiz)[["done", "seconds per item", "qualification"]]
    ... # doctest: +NORMALIZE_WHITESPACE
             done seconds per item qualification
    user_id
    ann         4            7.5 s        passed
    bob         1                —    not passed
    total       5            7.5 s
    >>> agreement = pd.DataFrame({"labels": [4], "agree": [3], "agreement": [0.75]}, index=["ann"])
    >>> workers_table(progress, model=agreement)["agrees with model"].tolist()
    ['75.0% (3 of 4)', '—', '75.0% (3 of 4)']
    """
    rows = progress.drop(index="total", errors="ignore")
    total = progress.loc[["total"]] if "total" in progress.index else progress.iloc[:0]
    if qualification is not None:
        quiz = qualification.set_index("user_id")
        rows = rows.reindex(list(dict.fromkeys([*rows.index, *quiz.index])))
        rows[["assigned", "done"]] = rows[["assigned", "done"]].fillna(0)
        rows["percent"] = rows["percent"].fillna(0.0)
    out = pd.concat([rows, total])
    out.index.name = "user_id"
    shown = pd.DataFrame({
        "assigned": out["assigned"].astype("int64"), "done": out["done"].astype("int64"),
        "percent": [f"{p:.1f}%" for p in out["percent"]],
        "seconds per item": [_seconds(v) for v in out["median_seconds"]],
        "items per hour on screen": [_rate(v) for v in out["items_per_hour"]],
    }, index=out.index)
    if qualification is not None:
        quiz = qualification.set_index("user_id").reindex(out.index)
        shown["qualification"] = ["" if u == "total" else _passed(v) for u, v in zip(out.index, quiz["passed"])]
        shown["quiz accuracy"] = ["" if u == "total" or v != v else fmt_share(v)
                                  for u, v in zip(out.index, quiz["accuracy"])]
    if flagged is not None and len(flagged):
        marked = set(flagged["user_id"])
        shown["flagged"] = ["flagged" if u in marked else "" for u in out.index]
    if model is not None:
        mine = model.reindex(out.index)
        shown["agrees with model"] = [
            _agreement(model["agree"].sum(), model["labels"].sum()) if u == "total" else _agreement(a, n)
            for u, a, n in zip(out.index, mine["agree"], mine["labels"])]
    return shown


class WorkersView(LiveView):
    """The workers of ``task``: progress, seconds per item, items per hour, qualification, agreement
    with the model, throughput.

    Reads ``task.progress()``; with a qualification (``qualification=`` when the task was made, or
    a qualification task itself) its ``qualification_df()``; with a gold-accuracy floor
    ``task.flagged_workers()``; ``task.model_agreement()`` (the column "agrees with model", only
    when the task has predictions); and, for the chart, ``task.history()`` (answers only).
    Refreshes like the other views of a task (the Refresh button, and after work while it is quick).

    >>> import dltasks as dl, pandas as pd
    >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
    >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
    >>> task = ds.tasks.create("t", assignee_ids=["ann"])
    >>> _ = task.submit(1, "ann", "cat", seconds=4.0)
    >>> view = WorkersView(task, charts=False)
    >>> int(view.rows.loc["ann", "done"]), view.rows.loc["ann", "seconds per item"]
    (1, '4.0 s')
    >>> _ = task.import_predictions(pd.DataFrame({"item_id": [1], "label": ["dog"], "score": [0.9]}))
    >>> view.refresh()
    >>> view.rows.loc["ann", "agrees with model"]
    '0.0% (0 of 1)'
    """

    def __init__(self, task: Any, auto_refresh: bool = True, charts: bool = True, **kwargs: Any) -> None:
        self.charts = charts
        self.rows = pd.DataFrame()
        self.title = W.HTML()
        self.table = W.HTML(layout=W.Layout(overflow="auto", max_width="100%", margin="0 16px 8px 0"))
        self.throughput_chart = chart(margin="0 0 8px 0")
        self._drawn: Any = None
        body = W.HBox([self.table, *([self.throughput_chart] if charts else [])],
                      layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        head = W.HBox()
        super().__init__(task, [head, body], **kwargs)
        head.children = [self.title, self.refresh_button, self.status]
        self.add_class("dlt-workers-view")
        self.auto_refresh = auto_refresh
        self.refresh()

    def _qualification(self) -> pd.DataFrame | None:
        """The results of the task's qualification (None when it has none)."""
        t = self.task
        if t.type == "qualification":
            return t.qualification_df()
        if t.qualification_task_id:
            return t._store.tasks.get(t.qualification_task_id).qualification_df()
        return None

    def _model_agreement(self) -> pd.DataFrame | None:
        """``task.model_agreement()`` when the task has predictions (None when it has none; its
        predictions are read a second time only when no worker's label could be compared)."""
        if self.task.type == "qualification":
            return None
        agreement = self.task.model_agreement()
        if len(agreement) or len(self.task.predictions_df()):
            return agreement
        return None

    def _redraw(self) -> bool:
        t = self.task
        try:
            progress = t.progress()
            quiz = self._qualification()
            flagged = t.flagged_workers() if t.min_gold_accuracy is not None else None
            model = self._model_agreement()
            answers = t.history() if self.charts else None
        except DltasksError as err:
            self.status.value = message("error", str(err))
            return False
        self.rows = workers_table(progress, quiz, flagged, model)
        note = ""
        if t.type == "qualification":
            note = f"a qualification task: pass at {fmt_share(t.pass_accuracy)} right"
        elif t.qualification_task_id:
            note = "workers get items once they pass the qualification"
        self.title.value = (f"<b>Workers — {html.escape(t.name)}</b>"
                            + (f" <span class='dlt-muted'>({html.escape(note)})</span>" if note else ""))
        self.table.value = TABLE_CSS + html_table(self.rows, total_row="total", empty="no workers")
        if answers is not None:
            answers = answers[answers["action"].isin(ANSWERS)]
            key = (len(answers), str(answers["at"].max()) if len(answers) else "")
            if key != self._drawn:
                show_figure(self.throughput_chart, plot_throughput(answers, figsize=(6.4, 3.0)))
                self._drawn = key
        return True
