"""TaskForm: everything ``dataset.tasks.create`` takes, with a live preview of the split."""
from __future__ import annotations

import html
import re
from typing import Any, Callable

import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets as T

from dltasks.errors import DltasksError, ValidationError
from dltasks.partition import normalise_weights, partition_summary, plan_full, plan_partition
from dltasks.plots import plot_partition
from dltasks.domain.checks import check_name
from dltasks.domain.task_options import build_spec, check_has_items
from dltasks.domain.workflow import COMPLETED
from dltasks.widgets._common import TABLE_CSS, FieldError, chart, fmt_share, html_table, message, show_figure, store_of
from dltasks.widgets.widget_filters import FilterBuilder
from dltasks.widgets.widget_partition import PartitionView
from dltasks.widgets.widget_pickers import AssigneePicker, DueDatePicker

__all__ = ["TaskForm"]

_STYLE = {"description_width": "110px"}
#: A domain field (``ValidationError.field``) -> (the form field its error is shown at, the form's
#: words for it).  Messages are shown in the form's words: ``workers_per_input`` reads "per item".
FORM_FIELDS: dict[str, tuple[str, str]] = {
    "task_name": ("name", "Task name"), "task_type": ("type", "Type"), "task": ("parent", "Reviews task"),
    "due_date": ("due", "Due date"), "assignee_ids": ("assignees", "Assignees"),
    "workload": ("assignees", "weights"), "weights": ("assignees", "weights"),
    "worker_strategy": ("workers", "Workers"), "workers_per_input": ("workers", "per item"),
    "review_strategy": ("review", "Review"), "approval_threshold": ("review", "votes to approve"),
    "reviewer_ids": ("reviewers", "Reviewers"), "labels": ("labels", "Labels"),
    "priority": ("priority", "Priority"), "filters": ("items", "Items"), "items": ("items", "Items"),
    "field": ("items", "field"), "values": ("items", "value"), "operator": ("items", "operator"),
}
_DOMAIN_WORD = re.compile(r"\b(" + "|".join(sorted((f for f in FORM_FIELDS if "_" in f), key=len, reverse=True))
                          + r")\b")


def form_words(text: str) -> str:
    """``text`` with the domain's field names replaced by the form's labels (quoted).

    >>> form_words("cannot exceed workers_per_input (2): no item would get that many votes")
    'cannot exceed "per item" (2): no item would get that many votes'
    >>> form_words("the manual review strategy needs reviewer_ids")
    'the manual review strategy needs "Reviewers"'
    """
    return _DOMAIN_WORD.sub(lambda m: f'"{FORM_FIELDS[m.group(1)][1]}"', text)


def error_text(err: ValidationError) -> str:
    """What the form shows for ``err``: its message in the form's words and the value it got.

    The value is left out when it is the item conditions (they are on screen).

    >>> error_text(ValidationError("must be at least 1", "workers_per_input", 0))
    'must be at least 1 (got 0)'
    """
    shown = err.value is not None and err.field not in ("filters", "items")
    return form_words(err.message) + (f" (got {err.value!r})" if shown else "")


def created_html(task: Any) -> str:
    """The message after Create: the task's name first, its id short and secondary (whole on hover).

    >>> class T: name, id = "round 1", "0123456789abcdef01234567"
    >>> print(created_html(T()))
    <span class="dlt-ok">created task &#x27;round 1&#x27;</span> <span class="dlt-muted" title="task id 0123456789abcdef01234567">· id 01234567</span>
    """
    return (message("ok", f"created task {task.name!r}") + f' <span class="dlt-muted" title="task id '
            f'{html.escape(task.id)}">· id {html.escape(task.id[:8])}</span>')


_WRAP = W.Layout(flex_flow="row wrap", align_items="flex-start")


def _label(text: str) -> W.HTML:
    """A left-hand field label lined up with the descriptions of the other fields."""
    return W.HTML(f"<div style='text-align:right;padding-right:8px'>{html.escape(text)}</div>",
                  layout=W.Layout(width="118px"))


def _labels(text: str) -> list[str] | None:
    labels = [part.strip() for part in text.split(",") if part.strip()]
    return labels or None


class TaskForm(W.VBox):
    """A form that creates an annotation or QA task on ``dataset``.

    Fill in the name, type, due date, assignees (with weights when partitioned), the item
    conditions, worker and review strategy and labels; the preview shows how the items
    would be split before anything is written.  *Create* calls ``dataset.tasks.create`` (or
    ``create_qa_task``) once; it is then disabled until the form changes, so a double click
    makes one task.  A ``ValidationError`` is shown next to the field it names (a bad weight at
    that weight, a bad condition at that condition), in the form's words (:data:`FORM_FIELDS`),
    and nothing is written; every error is checked again as the form changes, so it goes away
    once the field is fixed.  On success the new task's :class:`PartitionView` replaces the
    preview and the ``on_submit`` callbacks are called with the task.

    Examples
    --------
    >>> import dltasks as dl
    >>> store = dl.connect("sqlite://")
    >>> ds = store.datasets.create("docs", labels=["yes", "no"])
    >>> _ = ds.items.import_df(__import__("pandas").DataFrame({"name": ["a.txt", "b.txt"]}))
    >>> form = TaskForm(ds)
    >>> form.name.value = "first"
    >>> form.assignees.add("ann")
    True
    >>> form.create_button.click()
    >>> form.task.name, len(form.task.assignments_df())
    ('first', 2)
    """

    preview_frame = T.Instance(pd.DataFrame, allow_none=True, help="the split the preview shows")

    def __init__(self, dataset: Any, **kwargs: Any) -> None:
        self.dataset = dataset
        self.store = store_of(dataset)
        self.task: Any = None
        self._callbacks = W.CallbackDispatcher()
        self.errors: dict[str, FieldError] = {}
        self._tried = False   # Create was pressed: the name's error is shown too
        self._done = False    # a task was made from the form as it is: Create does nothing
        self._build_inputs()
        super().__init__(self._layout_rows(), **kwargs)
        self.add_class("dlt-task-form")
        self._wire()
        self._type_changed()
        self._strategy_changed()
        self.update_preview()

    # -- public ---------------------------------------------------------------------------
    def on_submit(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(task)`` after the form creates a task (``remove=True`` to stop)."""
        self._callbacks.register_callback(callback, remove=remove)

    def options(self) -> dict[str, Any]:
        """The keyword arguments *Create* passes to ``dataset.tasks.create``."""
        strategy = self.worker_strategy.value
        review = self.review_strategy.value
        return {
            "task_name": self.name.value,
            "due_date": self.due.value,
            "assignee_ids": list(self.assignees.value),
            "filters": self.items.filters,
            "worker_strategy": strategy,
            "workers_per_input": int(self.workers_per_input.value),
            "weights": dict(self.assignees.weights) if strategy == "partitioned" and self.assignees.value else None,
            "review_strategy": review,
            "reviewer_ids": list(self.reviewers.value) or None,
            "approval_threshold": int(self.threshold.value) if review == "consensus" else None,
            "labels": _labels(self.labels.value),
            "priority": self.priority.value,
        }

    def create(self) -> Any:
        """Create the task (what the *Create* button does); return it, or None on bad input.

        After a task is made, Create does nothing (and returns None) until the form changes.
        """
        if self._done:
            return None
        self._tried = True
        self._clear_errors()
        self.create_button.disabled = True
        try:
            opts = self.options()
            self.status.value = message("muted", f"creating the task over {max(self.items.count, 0):,} items…")
            if self.task_type.value == "qa":
                task = self.dataset.tasks.create_qa_task(task=self.parent.value, **opts)
            else:
                task = self.dataset.tasks.create(**opts)
        except ValidationError as err:
            self.update_preview()       # everything wrong now (the name too), then what Create was told
            if not self._already_shown(err):
                self.show_error(err)
            self.status.value = message("error", "not created: fix the field marked")
            return None
        except DltasksError as err:
            self.status.value = message("error", f"not created: {err}")
            return None
        else:
            self._done = True
        finally:
            self.create_button.disabled = self._done
        self.task = task
        self.status.value = created_html(task)
        self.preview_box.layout.display = "none"
        self.result.children = [PartitionView(task)]
        self._callbacks(task)
        return task

    def show_error(self, err: ValidationError) -> None:
        """Show a ValidationError next to the field it names (or by the Create button).

        An error about one assignee's weight is shown at that weight, one about a condition at
        that condition (``err.key`` says which).
        """
        field = FORM_FIELDS.get(err.field or "", ("create", ""))[0]
        if field == "assignees" and err.key in self.assignees.value:
            self.assignees.weight_error(err.key).show(error_text(err))
        elif field == "items" and isinstance(err.key, int) and 0 <= err.key < len(self.items.rows.children):
            self.items.row_error(err.key).show(error_text(err))
        else:
            self.errors.get(field, self.errors["create"]).show(error_text(err))

    def error_text(self, field: str, key: Any = None) -> str:
        """The error shown next to a form field ('' when none): name, type, parent, due, …

        ``key`` picks an element: an assignee id (the error at their weight) or a condition's
        row number (``field="items"``).
        """
        if key is None:
            return self.errors[field].text
        if field == "items":
            return self.items.row_error_text(key)
        return (self.assignees if field == "assignees" else self.reviewers).weight_error(key).text

    def errors_shown(self) -> dict[str, str]:
        """Every error the form shows now, by field (``assignees[ann]``, ``items[0]`` for elements)."""
        out = {k: e.text for k, e in self.errors.items() if e.text}
        out.update({f"assignees[{u}]": self.error_text("assignees", u) for u in self.assignees.value
                    if self.error_text("assignees", u)})
        out.update({f"items[{i}]": self.items.row_error_text(i) for i in range(len(self.items.rows.children))
                    if self.items.row_error_text(i)})
        return out

    def _already_shown(self, err: ValidationError) -> bool:
        """Whether the form's own check shows ``err`` already (a server's error has no ``key``)."""
        field, text = FORM_FIELDS.get(err.field or "", ("create", ""))[0], form_words(err.message)
        return any(k.split("[")[0] == field and v.startswith(text) for k, v in self.errors_shown().items())

    def update_preview(self) -> None:
        """Check the inputs again and recompute the split table and chart (pure: nothing is written).

        Every error shown is cleared and the inputs checked again, so an error stays only while
        its field is wrong.
        """
        self._clear_errors()
        self.preview_frame = None
        n = self._preview_items()
        if self._tried:
            try:
                check_name(self.name.value, "task_name")
            except ValidationError as err:
                self.show_error(err)
        if n < 0:
            return self._preview_note("fix the item conditions to see the split")
        try:
            spec = build_spec(**self._spec_options())
            if self.task_type.value != "qa":
                check_has_items(n, spec, "filters", None)
            if not spec.assignee_ids:
                return self._preview_note(f"{n:,} items; add assignees to see how they are split")
            summary = self._plan_summary(spec, n)
        except ValidationError as err:
            self.show_error(err)
            return self._preview_note("the split cannot be made with these options")
        self.preview_frame = summary
        self.preview_note.value = ""
        self.preview_table.value = TABLE_CSS + html_table(
            summary, formats={"target_share": fmt_share, "actual_share": fmt_share,
                              "target": lambda v: f"{v:,.1f}"})
        show_figure(self.preview_chart, plot_partition(summary, figsize=(5.5, 0.32 * len(summary) + 1.6)))
        self.preview_chart.layout.display = None
        return None

    # -- building -------------------------------------------------------------------------
    def _build_inputs(self) -> None:
        for key in ("name", "type", "parent", "items", "workers", "review", "labels", "priority", "create"):
            self.errors[key] = FieldError()
        self.name = W.Text(description="Task name", placeholder="e.g. faces-round-1", style=_STYLE,
                           continuous_update=False, layout=W.Layout(width="420px"))
        self.task_type = W.ToggleButtons(options=[("annotation", "annotation"), ("QA", "qa")],
                                         style={"button_width": "110px"})
        self.parent = W.Dropdown(description="Reviews task", options=[], style=_STYLE, layout=W.Layout(width="420px"))
        self.due = DueDatePicker()
        self.assignees = AssigneePicker(self.store, description="Assignees")
        self.items = FilterBuilder(self.dataset)
        self.worker_strategy = W.ToggleButtons(options=[("partitioned", "partitioned"),
                                                        ("everyone labels all", "full")],
                                               style={"button_width": "165px"})
        self.workers_per_input = W.BoundedIntText(value=1, min=1, max=1000, description="per item",
                                                  style={"description_width": "60px"}, layout=W.Layout(width="130px"))
        self.review_strategy = W.Dropdown(options=[("no review", "none"), ("manual review", "manual"),
                                                   ("consensus", "consensus")], description="Review", style=_STYLE,
                                          layout=W.Layout(width="300px"))
        self.threshold = W.BoundedIntText(value=2, min=1, max=1000, description="votes to approve",
                                          style={"description_width": "110px"}, layout=W.Layout(width="180px"))
        self.reviewers = AssigneePicker(self.store, description="Reviewers", weighted=False)
        self.labels = W.Text(value=", ".join(self.dataset.labels), description="Labels", placeholder="cat, dog",
                             style=_STYLE, continuous_update=False, layout=W.Layout(width="420px"))
        self.priority = W.Dropdown(options=[("low", "low"), ("medium", "medium"), ("high", "high")], value="medium",
                                   description="Priority", style=_STYLE, layout=W.Layout(width="240px"))
        self.errors.update(due=self.due.error, assignees=self.assignees.error, reviewers=self.reviewers.error)
        self.preview_table = W.HTML()
        self.preview_chart = chart()
        self.preview_note = W.HTML()
        self.preview_box = W.VBox([
            W.HTML("<b>Preview of the split</b> <span class='dlt-muted'>(nothing is written until Create)</span>"),
            self.preview_note, W.HBox([self.preview_table, self.preview_chart], layout=_WRAP)])
        self.create_button = W.Button(description="Create task", button_style="primary", icon="check",
                                      layout=W.Layout(width="140px"))
        self.status = W.HTML()
        self.result = W.VBox()

    def _layout_rows(self) -> list[W.Widget]:
        e = self.errors
        return [
            W.HTML(f"<h3 style='margin:4px 0'>New task on <i>{html.escape(self.dataset.name)}</i></h3>"),
            W.HBox([self.name, e["name"]]),
            W.HBox([_label("Type"), self.task_type, e["type"]]),
            W.HBox([self.parent, e["parent"]]),
            self.due,
            self.assignees,
            self.items,
            W.HBox([_label(""), e["items"]]),
            W.HBox([_label("Workers"), self.worker_strategy, self.workers_per_input, e["workers"]]),
            W.HBox([self.review_strategy, self.threshold, e["review"]]),
            self.reviewers,
            W.HBox([self.labels, e["labels"]]),
            W.HBox([self.priority, e["priority"]]),
            self.preview_box,
            W.HBox([self.create_button, self.status, e["create"]]),
            self.result,
        ]

    def _wire(self) -> None:
        self.create_button.on_click(lambda _b: self.create())
        self.task_type.observe(lambda _c: self._type_changed(), "value")
        self.worker_strategy.observe(lambda _c: self._strategy_changed(), "value")
        self.review_strategy.observe(lambda _c: self._review_changed(), "value")
        self.items.observe(lambda _c: self._changed(preview=False), "value")   # the count follows
        changed = lambda _c: self._changed()  # noqa: E731
        for widget, trait in ((self.name, "value"), (self.parent, "value"), (self.due, "value"),
                              (self.assignees, "value"), (self.assignees, "weights"), (self.items, "count"),
                              (self.workers_per_input, "value"), (self.threshold, "value"),
                              (self.reviewers, "value"), (self.labels, "value"), (self.priority, "value")):
            widget.observe(changed, trait)
        self._review_changed()

    def _changed(self, preview: bool = True) -> None:
        """The form changed: Create is enabled again, the last result gives way to the preview."""
        if self._done:
            self._done = False
            self.result.children = []
            self.status.value = ""
            self.preview_box.layout.display = None
        self.create_button.disabled = False
        if preview:
            self.update_preview()

    # -- reacting -------------------------------------------------------------------------
    def _type_changed(self) -> None:
        qa = self.task_type.value == "qa"
        self.parent.layout.display = None if qa else "none"
        if qa:
            page = self.dataset.tasks.list(per_page=1000)
            self.parent.options = [(f"{t.name} ({t.id[:6]})", t) for t in page if t.type == "annotation"]
            self.parent.index = 0 if self.parent.options else None  # the newest task
        self._changed()

    def _strategy_changed(self) -> None:
        full = self.worker_strategy.value == "full"
        self.workers_per_input.layout.display = "none" if full else None
        self.assignees.weighted = not full
        self._changed()

    def _review_changed(self) -> None:
        review = self.review_strategy.value
        self.threshold.layout.display = None if review == "consensus" else "none"
        self.reviewers.layout.display = "none" if review == "none" else None
        self._changed()

    def _spec_options(self) -> dict[str, Any]:
        opts = {k: v for k, v in self.options().items() if k != "filters"}
        opts["task_name"] = opts["task_name"] or "preview"
        opts["seed"] = 0
        return opts

    def _preview_items(self) -> int:
        """How many items the task would cover (-1 while the item conditions are invalid)."""
        if self.items.count < 0 or self.task_type.value != "qa":
            return self.items.count
        parent = self.parent.value
        if parent is None:
            return 0
        counts = parent.status_counts()  # a QA task covers the parent's completed items
        return int(counts.reindex(list(COMPLETED)).fillna(0).sum())

    @staticmethod
    def _plan_summary(spec: Any, n: int) -> pd.DataFrame:
        # The per-assignee counts depend only on N, k and the weights, not on which items,
        # so the preview plans item positions 0..N-1 and never reads the item ids.
        positions = np.arange(n, dtype=np.int64)
        workers = spec.assignee_ids
        if spec.worker_strategy == "full":
            plan, k = plan_full(positions, workers), len(workers)
            shares = normalise_weights(workers, None)
        else:
            shares, k = normalise_weights(workers, spec.weights), spec.workers_per_input
            plan = plan_partition(positions, workers, k, spec.weights, seed=0)
        summary = partition_summary(plan, workers, shares, n, k)
        summary.insert(0, "weight", [spec.weights.get(u, 1.0) for u in workers])
        return summary

    def _preview_note(self, text: str) -> None:
        self.preview_note.value = message("muted", text)
        self.preview_table.value = ""
        self.preview_chart.layout.display = "none"

    def _clear_errors(self) -> None:
        """Clear the errors the form shows (a condition's own error is the FilterBuilder's)."""
        for err in self.errors.values():
            err.clear()
        self.assignees.clear_errors()
        self.reviewers.clear_errors()
        if not self._done:
            self.status.value = ""
