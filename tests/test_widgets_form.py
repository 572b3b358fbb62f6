"""TaskForm headless: fill the fields, click Create, assert the store, the preview and the errors."""
from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd
import pytest

import dltasks as dl
from dltasks.partition import normalise_weights, partition_summary, plan_partition
from dltasks.widgets import PartitionView, TaskForm

UTC = _dt.timezone.utc


def fill(form: TaskForm, name: str = "round 1", assignees: tuple[str, ...] = ("ann", "bob", "cy"),
         k: int = 1) -> TaskForm:
    form.name.value = name
    for user in assignees:
        assert form.assignees.add(user)
    form.workers_per_input.value = k
    return form


def test_form_starts_with_the_dataset_labels_and_no_split(dataset: Any) -> None:
    form = TaskForm(dataset)
    assert form.labels.value == "Adult, Child"
    assert form.preview_frame is None
    assert "add assignees" in form.preview_note.value
    assert form.parent.layout.display == "none" and form.threshold.layout.display == "none"


def test_preview_shows_the_exact_split_before_anything_is_written(dataset: Any, unchanged: Any) -> None:
    check = unchanged()
    form = fill(TaskForm(dataset), k=2)
    form.assignees.set_weight("ann", 2)
    preview = form.preview_frame
    ids = dataset.items.to_df(metadata="none")["id"]
    shares = normalise_weights(["ann", "bob", "cy"], {"ann": 2, "bob": 1, "cy": 1})
    expected = partition_summary(plan_partition(ids, ["ann", "bob", "cy"], 2, shares, seed=5),
                                 ["ann", "bob", "cy"], shares, 10, 2)
    pd.testing.assert_frame_equal(preview.drop(columns="weight"), expected)
    assert preview["assigned"].tolist() == [10, 5, 5]
    assert "<td>ann</td>" in form.preview_table.value
    assert bytes(form.preview_chart.value).startswith(b"\x89PNG")
    check()


def test_preview_follows_the_item_conditions(dataset: Any) -> None:
    form = fill(TaskForm(dataset))
    form.items.add_row("metadata.user.colour", "eq", "red")
    assert form.preview_frame["assigned"].sum() == 5


def test_full_strategy_preview_gives_everyone_every_item(dataset: Any) -> None:
    form = fill(TaskForm(dataset))
    form.worker_strategy.value = "full"
    assert form.preview_frame["assigned"].tolist() == [10, 10, 10]
    assert form.workers_per_input.layout.display == "none"
    assert form.assignees.rows.children[0].children[1].layout.display == "none"   # no weights


def test_create_writes_the_task_and_shows_its_partition(dataset: Any) -> None:
    got: list[Any] = []
    form = fill(TaskForm(dataset), k=2)
    form.on_submit(got.append)
    form.due.value = _dt.datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
    form.review_strategy.value = "consensus"
    form.reviewers.add("rita")
    form.threshold.value = 2
    form.labels.value = "Adult, Child, Unsure"
    form.priority.value = "high"
    form.items.add_row("dir", "eq", "/train")
    preview = form.preview_frame
    form.create_button.click()

    task = dataset.tasks.get(task_name="round 1")
    assert got == [task] and form.task == task
    assert (task.assignee_ids, task.workers_per_input, task.review_strategy) == (["ann", "bob", "cy"], 2, "consensus")
    assert (task.reviewer_ids, task.approval_threshold, task.priority) == (["rita"], 2, "high")
    assert task.labels == ["Adult", "Child", "Unsure"]
    assert task.due_date == _dt.datetime(2031, 5, 4, 12, 0, tzinfo=UTC)
    assert sorted(task.items_df()["item_id"]) == sorted(dataset.items.to_df(form.items.filters)["id"])
    assert task.partition()["assigned"].tolist() == preview["assigned"].tolist()
    assert "created task" in form.status.value
    (view,) = form.result.children
    assert isinstance(view, PartitionView) and view.task == task
    assert "<td>ann</td>" in view.table.value


def test_on_submit_can_be_removed(dataset: Any) -> None:
    got: list[Any] = []
    form = fill(TaskForm(dataset))
    form.on_submit(got.append)
    form.on_submit(got.append, remove=True)
    assert form.create() is not None and got == []


@pytest.mark.parametrize(("setup", "field", "words"), [
    (lambda f: setattr(f.name, "value", "  "), "name", "non-empty"),
    (lambda f: f.assignees.set_weight("ann", 8), "assignees", "no split can give every item 2"),
    (lambda f: (f.assignees.set_weight("ann", 0), f.assignees.set_weight("bob", 0),
                f.assignees.set_weight("cy", 0)), "assignees", "all weights are zero"),
    (lambda f: (setattr(f.review_strategy, "value", "consensus"), f.reviewers.add("rita"),
                setattr(f.threshold, "value", 3)), "review", "cannot exceed workers_per_input"),
    (lambda f: setattr(f.review_strategy, "value", "manual"), "reviewers", "needs reviewer_ids"),
    (lambda f: setattr(f.workers_per_input, "value", 4), "workers", "cannot exceed the number of assignees"),
    (lambda f: f.items.add_row("metadata.user.colour", "eq", "purple"), "items", "selects no items"),
    (lambda f: f.items.add_row("metadata.user.colour", "exists", "perhaps"), "items", "exists takes True or False"),
    (lambda f: setattr(f.labels, "value", "a, " + "x" * 300), "labels", ""),
], ids=["empty-name", "impossible-weights", "zero-weights", "threshold-above-k", "manual-without-reviewers",
        "k-above-assignees", "no-items", "bad-condition", "long-label"])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_written(dataset: Any, unchanged: Any, setup: Any,
                                                                     field: str, words: str) -> None:
    got: list[Any] = []
    form = fill(TaskForm(dataset), k=2)
    form.on_submit(got.append)
    setup(form)
    check = unchanged()
    form.create_button.click()
    assert words in form.error_text(field) and form.error_text(field)
    assert "not created" in form.status.value
    others = [k for k in form.errors if k != field and form.error_text(k)]
    assert others == []
    assert form.task is None and got == [] and form.result.children == ()
    check()


def test_impossible_weights_are_flagged_live_by_the_preview(dataset: Any) -> None:
    form = fill(TaskForm(dataset), k=2)
    form.assignees.set_weight("ann", 8)
    assert "share 0.8 is above 1/workers_per_input" in form.error_text("assignees")
    assert form.preview_frame is None and "cannot be made" in form.preview_note.value
    form.assignees.set_weight("ann", 1)
    assert form.error_text("assignees") == "" and form.preview_frame is not None


def test_the_errors_clear_once_the_form_is_fixed(dataset: Any) -> None:
    form = fill(TaskForm(dataset), name="")
    form.create_button.click()
    assert form.error_text("name")
    form.name.value = "fixed"
    form.create_button.click()
    assert form.error_text("name") == "" and form.task.name == "fixed"


def test_a_qa_task_reviews_the_completed_items_of_its_parent(dataset: Any) -> None:
    parent = dataset.tasks.create("labels", assignee_ids=["ann"])
    done = parent.items_df()["item_id"].tolist()[:4]
    for item_id in done:
        parent.submit(item_id, "ann", "Adult")
    form = TaskForm(dataset)
    form.task_type.value = "qa"
    assert form.parent.layout.display is None
    assert [t.id for _, t in form.parent.options] == [parent.id]
    form.name.value = "check"
    form.assignees.add("quinn")
    assert form.preview_frame["assigned"].tolist() == [4]
    form.create_button.click()
    qa = form.task
    assert (qa.type, qa.parent_task_id) == ("qa", parent.id)
    assert sorted(qa.items_df()["item_id"]) == sorted(done)


def test_qa_without_a_parent_is_refused_next_to_the_parent_field(dataset: Any, unchanged: Any) -> None:
    form = TaskForm(dataset)
    form.task_type.value = "qa"
    form.name.value = "check"
    check = unchanged()
    form.create_button.click()
    assert "annotation Task to review" in form.error_text("parent")
    check()


def test_the_form_is_what_dl_widgets_exposes(dataset: Any) -> None:
    assert isinstance(dl.widgets.TaskForm(dataset), TaskForm)
