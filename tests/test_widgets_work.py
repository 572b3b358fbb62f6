"""LabelingWidget, ReviewWidget and ItemView headless: click through the work, assert the store."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure

import dltasks as dl
from dltasks.widgets import ItemView, LabelingWidget, ReviewWidget


@pytest.fixture
def files(store: dl.Store, tmp_path: Path) -> Any:
    """A dataset with one PNG image, one text file and one metadata-only text item."""
    folder = tmp_path / "files"
    folder.mkdir()
    Figure(figsize=(0.5, 0.5)).savefig(folder / "a.png")
    (folder / "b.txt").write_text("The quick <brown> fox.\n", encoding="utf-8")
    ds = store.datasets.create("mixed", labels=["good", "bad", "ugly"])
    ds.items.upload([folder / "a.png", folder / "b.txt"], item_metadata={"source": "lab"})
    ds.items.import_df(pd.DataFrame({"name": ["c"], "user.text": ["inline text"], "user.lang": ["en"]}))
    return ds


def labels_of(task: Any, user: str) -> dict[int, str]:
    df = task.labels_df()
    return dict(zip(df.loc[df["worker"] == user, "item_id"], df.loc[df["worker"] == user, "label"]))


# -- ItemView ------------------------------------------------------------------------------
def test_item_view_shows_images_text_and_metadata(files: Any) -> None:
    png, txt, inline = files.items.get_all_items()
    view = ItemView()
    view.show(png)
    assert view.kind == "image" and bytes(view.picture.value).startswith(b"\x89PNG")
    assert view.picture.layout.display is None and "source" in view.meta.value
    view.show(txt)
    assert view.kind == "text" and "The quick &lt;brown&gt; fox." in view.text.value
    assert view.picture.layout.display == "none"
    view.show(inline)
    assert view.kind == "text" and "inline text" in view.text.value
    assert "lang" in view.meta.value and "<td>text</td>" not in view.meta.value
    view.clear("nothing")
    assert view.item_id == -1 and "nothing" in view.title.value


# -- LabelingWidget ------------------------------------------------------------------------
def test_labeling_shows_the_next_pending_item_with_a_button_per_label(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    assert [b.description for b in w.buttons] == ["1 · good", "2 · bad", "3 · ugly"]
    assert (w.item_id, w.done, w.total) == (1, 0, 3)
    assert w.view.kind == "image" and "0 / 3 done" in w.counter.value


def test_labeling_submits_through_the_task_and_moves_on(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    got: list[Any] = []
    w = LabelingWidget(task, "ann")
    w.on_submit(lambda *args: got.append(args))
    w.buttons[1].click()
    assert labels_of(task, "ann") == {1: "bad"}
    assert got == [(1, "bad", "completed")]
    assert (w.item_id, w.done, w.bar.value) == (2, 1, 1) and w.view.kind == "text"
    w.buttons[0].click()
    w.buttons[2].click()
    assert labels_of(task, "ann") == {1: "bad", 2: "good", 3: "ugly"}
    assert w.item_id == -1 and w.done == 3 and "all done" in w.view.title.value
    assert all(b.disabled for b in w.buttons)
    assert task.progress().loc["ann", "percent"] == 100.0


def pending_of(task: Any, user: str) -> list[int]:
    return task.assignments_df(user_id=user, status="pending")["item_id"].tolist()


def test_undo_withdraws_the_label_and_shows_the_item_again(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    w.buttons[0].click()                           # item 1: good
    assert labels_of(task, "ann") == {1: "good"} and w.item_id == 2 and w.done == 1
    w.undo_button.click()
    assert labels_of(task, "ann") == {}                         # gone from the task, not only from the widget
    assert w.item_id == 1 and w.view.item_id == 1 and w.view.kind == "image"
    assert "withdrawn" in w.note.value and "0 / 3 done" in w.counter.value and w.bar.value == 0
    assert pending_of(task, "ann") == [1, 2, 3]
    assert task.items_df().set_index("item_id").loc[1, "status"] == "pending"
    assert task.progress().loc["ann", "done"] == 0
    assert not any(b.disabled for b in w.buttons) and w.undo_button.disabled   # nothing left to undo
    w.buttons[1].click()                           # label it again: a fresh label, counted once
    assert labels_of(task, "ann") == {1: "bad"} and w.done == 1 and w.item_id == 2


def test_skip_and_undo(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    w.skip_button.click()
    assert w.queue == [2, 3, 1] and w.item_id == 2
    w.buttons[0].click()                           # item 2: good
    w.undo_button.click()                          # withdrawn, item 2 shown again
    assert w.item_id == 2 and "your label 'good' is withdrawn" in html.unescape(w.note.value)
    assert labels_of(task, "ann") == {} and w.done == 0
    w.buttons[1].click()
    assert labels_of(task, "ann") == {2: "bad"} and w.done == 1
    w.undo_button.click()
    assert labels_of(task, "ann") == {} and w.item_id == 2
    w.undo_button.click()                          # undo the skip: item 1 back in front, nothing written
    assert w.item_id == 1 and w.queue == [1, 2, 3] and "back to #1" in w.note.value
    w.undo_button.click()
    assert "nothing to undo" in w.note.value and labels_of(task, "ann") == {}


def test_undo_after_the_last_item_brings_it_back(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    got: list[Any] = []
    w = LabelingWidget(task, "ann")
    w.on_undo(lambda *args: got.append(args))
    for _ in range(3):
        w.buttons[2].click()
    assert w.item_id == -1 and "all done" in w.view.title.value and all(b.disabled for b in w.buttons)
    w.undo_button.click()
    assert w.item_id == 3 and w.view.item_id == 3 and not any(b.disabled for b in w.buttons)
    assert labels_of(task, "ann") == {1: "ugly", 2: "ugly"} and "2 / 3 done" in w.counter.value
    assert got == [(3, "pending")]
    assert LabelingWidget(task, "ann").queue == [3]           # the store agrees: a new widget shows it too


def test_undo_of_a_consensus_vote_updates_the_open_views(files: Any) -> None:
    from dltasks.widgets import ConsensusView

    task = files.tasks.create("vote", assignee_ids=["ann", "bob"], workers_per_input=2,
                              review_strategy="consensus", approval_threshold=2, reviewer_ids=["rita"])
    task.submit(1, "bob", "bad")
    view = ConsensusView(task)
    w = LabelingWidget(task, "ann")
    assert w.label("good") == "awaiting_review" and view.consensus.loc[1, "status"] == "awaiting_review"
    assert w.undo() == "awaiting_consensus"
    assert view.consensus.loc[1, "status"] == "awaiting_consensus" and view.consensus.loc[1, "n_labels"] == 1
    assert labels_of(task, "ann") == {} and labels_of(task, "bob") == {1: "bad"}


def test_undo_shows_an_error_when_the_label_cannot_be_withdrawn(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    w.buttons[0].click()
    task.retract(1, "ann")                         # withdrawn elsewhere first
    w.undo_button.click()
    assert "could not withdraw" in w.note.value and w.done == 1 and w.item_id == 2
    assert w.undo_button.disabled


def test_number_keys_label_and_letters_skip_and_undo(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    w.shortcuts.value = "3"
    assert labels_of(task, "ann") == {1: "ugly"} and w.shortcuts.value == ""
    w.shortcuts.value = "s"
    assert w.item_id == 3
    w.shortcuts.value = "u"
    assert w.item_id == 2
    w.shortcuts.value = "9x"                       # no ninth label, no x: ignored
    assert w.item_id == 2 and labels_of(task, "ann") == {1: "ugly"}


def test_labeling_only_the_users_items_and_errors_are_shown(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann", "bob"], seed=3)
    mine = task.assignments_df().query("user_id == 'bob'")["item_id"].tolist()
    w = LabelingWidget(task, "bob")
    assert w.queue == mine and w.total == len(mine)
    stranger = LabelingWidget(task, "zed")
    assert stranger.item_id == -1 and stranger.total == 0
    task.delete()
    w.buttons[0].click()
    assert "not in task" in w.note.value or "no task" in w.note.value


def test_labeling_a_pool_task_claims_items(files: Any) -> None:
    task = files.tasks.create("pool", workers_per_input=2)
    w = LabelingWidget(task, "walk-in")
    assert w.queue == [1, 2, 3]
    w.buttons[0].click()
    assert labels_of(task, "walk-in") == {1: "good"}
    assert LabelingWidget(task, "walk-in").queue == [2, 3]
    w.undo_button.click()                          # the claim stays, the label goes
    assert labels_of(task, "walk-in") == {} and w.item_id == 1
    assert LabelingWidget(task, "walk-in").queue == [1, 2, 3]


def test_the_queue_is_the_users_pending_work_read_from_the_store(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann", "bob"], workers_per_input=2)
    task.submit(2, "ann", "good")                  # done outside the widget
    w = LabelingWidget(task, "ann")
    assert w.queue == [1, 3] and (w.done, w.total) == (1, 3) and "1 / 3 done" in w.counter.value
    assert w.queue == pending_of(task, "ann")


# -- ReviewWidget --------------------------------------------------------------------------
def review_task(files: Any) -> Any:
    task = files.tasks.create("check", assignee_ids=["ann", "bob"], workers_per_input=2,
                              review_strategy="consensus", approval_threshold=2, reviewer_ids=["rita"])
    for item_id, (a, b) in {1: ("good", "bad"), 2: ("ugly", "good"), 3: ("good", "good")}.items():
        task.submit(item_id, "ann", a)
        task.submit(item_id, "bob", b)
    return task


def test_review_queue_shows_the_workers_labels_side_by_side(files: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "rita")
    assert w.queue == [1, 2] and w.item_id == 1
    assert "<td>ann</td><td>good</td>" in w.item_labels.value and "<td>bob</td><td>bad</td>" in w.item_labels.value
    table = w.queue_table.value
    assert "<th>ann</th><th>bob</th>" in table and "<td>2</td><td>ugly</td><td>good</td>" in table
    assert "2 awaiting review" in w.counter.value


def test_approve_and_reject_go_through_task_review(files: Any) -> None:
    task = review_task(files)
    got: list[Any] = []
    w = ReviewWidget(task, "rita")
    w.on_submit(lambda *args: got.append(args))
    w.approve_button.click()
    w.reject_button.click()
    statuses = task.items_df().set_index("item_id")["status"]
    assert statuses[1] == "approved" and statuses[2] == "rejected"
    assert got == [(1, True, "approved"), (2, False, "rejected")]
    assert w.item_id == -1 and w.reviewed == 2 and "No items awaiting review" in w.view.title.value


def test_a_non_reviewer_is_told_and_nothing_is_written(files: Any, unchanged: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "mallory")
    assert "not a reviewer" in w.note.value
    check = unchanged()
    w.approve_button.click()
    assert "not a reviewer" in w.note.value and w.queue == [1, 2]
    check()
