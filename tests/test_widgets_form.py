"""TaskForm headless: fill the fields, click Create, assert the store, the preview and the errors."""
from __future__ import annotations

import datetime as _dt
import html
import re
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
    assert "created task 'round 1'" in html.unescape(form.status.value)
    (view,) = form.result.children
    assert isinstance(view, PartitionView) and view.task == task
    assert "<td>ann</td>" in view.table.value


def test_on_submit_can_be_removed(dataset: Any) -> None:
    got: list[Any] = []
    form = fill(TaskForm(dataset))
    form.on_submit(got.append)
    form.on_submit(got.append, remove=True)
    assert form.create() is not None and got == []


#: Domain field names a user of the form never sees (the form says "per item", "Reviewers", …).
DOMAIN_WORDS = ("workers_per_input", "reviewer_ids", "assignee_ids", "approval_threshold", "task_name",
                "review_strategy", "worker_strategy")


@pytest.mark.parametrize(("setup", "field", "words"), [
    (lambda f: setattr(f.name, "value", "  "), "name", "must be a non-empty string"),
    (lambda f: f.assignees.set_weight("ann", 8), "assignees[ann]",
     'share 0.8 is above 1/"per item" = 0.5: no split can give every item 2'),
    (lambda f: f.assignees.set_weight("bob", -1), "assignees[bob]", "must be a finite number from 0"),
    (lambda f: (f.assignees.set_weight("ann", 0), f.assignees.set_weight("bob", 0),
                f.assignees.set_weight("cy", 0)), "assignees", "all weights are zero"),
    (lambda f: (setattr(f.review_strategy, "value", "consensus"), f.reviewers.add("rita"),
                setattr(f.threshold, "value", 3)), "review", 'cannot exceed "per item" (2)'),
    (lambda f: setattr(f.review_strategy, "value", "manual"), "reviewers", 'needs "Reviewers"'),
    (lambda f: setattr(f.workers_per_input, "value", 4), "workers", "cannot exceed the number of assignees"),
    (lambda f: f.items.add_row("metadata.user.colour", "eq", "purple"), "items",
     "selects no items, so the assignees would get nothing to do"),
    (lambda f: f.items.add_row("metadata.user.colour", "exists", "perhaps"), "items[0]", "exists takes True or False"),
    (lambda f: f.items.add_row("metadata.user.size", "gt", "big"), "items[0]",
     "metadata.user.size holds numbers, so text cannot apply (got 'big')"),
    (lambda f: setattr(f.labels, "value", "a, " + "x" * 300), "labels", "at most"),
], ids=["empty-name", "impossible-weights", "negative-weight", "zero-weights", "threshold-above-k",
        "manual-without-reviewers", "k-above-assignees", "no-items", "bad-condition", "condition-cannot-apply",
        "long-label"])
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_written(dataset: Any, unchanged: Any, setup: Any,
                                                                     field: str, words: str) -> None:
    got: list[Any] = []
    form = fill(TaskForm(dataset), k=2)
    form.on_submit(got.append)
    setup(form)
    check = unchanged()
    form.create_button.click()
    shown = form.errors_shown()
    assert list(shown) == [field] and words in shown[field], shown          # there, and only there
    assert not any(word in shown[field] for word in DOMAIN_WORDS)         # in the form's words
    assert "not created: fix the field marked" in form.status.value
    assert form.task is None and got == [] and form.result.children == ()
    assert form.create_button.disabled is False
    check()


def test_impossible_weights_are_flagged_live_at_that_weight(dataset: Any) -> None:
    form = fill(TaskForm(dataset), k=2)
    form.assignees.set_weight("ann", 8)
    assert "worker ann's share 0.8 is above" in form.error_text("assignees", "ann")
    assert form.error_text("assignees") == "" and form.error_text("assignees", "bob") == ""
    assert form.preview_frame is None and "cannot be made" in form.preview_note.value
    form.assignees.set_weight("ann", 1)
    assert form.errors_shown() == {} and form.preview_frame is not None


def test_an_error_goes_away_as_soon_as_its_field_is_fixed(dataset: Any, store: Any) -> None:
    form = fill(TaskForm(dataset), name="")
    assert form.errors_shown() == {}                        # an empty name is no mistake until Create
    form.create_button.click()
    assert form.errors_shown() == {"name": "must be a non-empty string (at most 255 characters) (got '')"}
    form.name.value = "fixed"                               # fixed: gone before pressing Create again
    assert form.errors_shown() == {} and form.status.value == ""
    form.name.value = ""                                    # broken again after a Create: shown again
    assert "non-empty" in form.error_text("name")
    form.name.value = "fixed"

    form.assignees.set_weight("bob", -2)
    assert "must be a finite number" in form.error_text("assignees", "bob")
    form.assignees.set_weight("bob", 2)
    assert form.errors_shown() == {}

    row = form.items.add_row("metadata.user.size", "gt", "big")
    assert "holds numbers" in form.error_text("items", 0) and "? items match" in form.items.counter.value
    assert "fix the item conditions" in form.preview_note.value
    row.children[2].value = "4"
    assert form.errors_shown() == {} and form.preview_frame["assigned"].sum() == 6
    assert form.create() is not None and dataset.tasks.get(task_name="fixed").name == "fixed"


def test_create_makes_one_task_however_often_it_is_clicked(dataset: Any) -> None:
    got: list[Any] = []
    form = fill(TaskForm(dataset))
    form.on_submit(got.append)
    assert form.create_button.disabled is False
    # a double click: two click messages from the browser, the second before it knows of the first
    for _ in range(2):
        form.create_button._handle_button_msg(None, {"event": "click"}, [])
    form.create_button.click()
    assert [t.name for t in dataset.tasks.list()] == ["round 1"] and len(got) == 1
    assert form.create_button.disabled is True
    form.name.value = "round 2"                             # the form changed: Create works again
    assert form.create_button.disabled is False
    form.create_button.click()
    form.create_button.click()
    assert sorted(t.name for t in dataset.tasks.list()) == ["round 1", "round 2"] and len(got) == 2


def test_after_create_the_result_is_shown_once_with_the_name_first(dataset: Any) -> None:
    form = fill(TaskForm(dataset))
    assert form.preview_box.layout.display is None and form.preview_frame is not None
    task = form.create()
    assert form.preview_box.layout.display == "none"        # the preview gives way to the result
    assert len(form.result.children) == 1
    shown = html.unescape(re.sub(r"<[^>]+>", "", form.status.value))
    assert shown == f"created task 'round 1' · id {task.id[:8]}"
    assert task.id not in shown and f'title="task id {task.id}"' in form.status.value
    form.priority.value = "high"                            # a new task begins: the preview is back
    assert form.preview_box.layout.display is None and form.result.children == () and form.status.value == ""


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
