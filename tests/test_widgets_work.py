"""LabelingWidget, ReviewWidget and ItemView headless: send what the browser sends, assert the store.

The browser half (keys, the buffer of items ahead, advancing at once) is tested in JupyterLab in
``tests/browser/test_labeling_keys_browser.py``; here each message is what ``work_queue.js``
sends for a key: the action and the id of the item that was on screen.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
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


# -- the browser's messages -------------------------------------------------------------
class Browser:
    """Sends what work_queue.js sends (through the widget's comm handler) and keeps the answers."""

    def __init__(self, widget: Any) -> None:
        self.widget, self.seq, self.acks = widget, 0, []
        widget.send = lambda content, buffers=None: self.acks.append(content)

    def on_screen(self, handled: set[int] = frozenset()) -> int | None:
        """The item the browser draws: the first of the buffer it has not acted on."""
        return next((c["id"] for c in self.widget.buffer if c["id"] not in handled), None)

    def key(self, action: str, item_id: int | None, label: str | None = None, seconds: Any = None) -> dict[str, Any]:
        self.seq += 1
        message = {"seq": self.seq, "action": action, "item_id": item_id, "label": label}
        if seconds is not None:
            message["seconds"] = seconds           # what work_queue.js sends with a key on an item
        self.widget._handle_custom_msg(message, [])
        return self.acks[-1]


def pending_of(task: Any, user: str) -> list[int]:
    return task.assignments_df(user_id=user, status="pending")["item_id"].tolist()


# -- LabelingWidget ------------------------------------------------------------------------
def test_labeling_shows_keys_on_buttons_and_the_first_pending_item(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    assert [(k["key"], k["text"]) for k in w.key_bindings] == [("1", "good"), ("2", "bad"), ("3", "ugly"),
                                                       ("s", "Skip"), ("u", "Undo")]
    assert (w.item_id, w.done, w.total) == (1, 0, 3) and w.counter == "0 / 3 done (0%)"
    first = w.buffer[0]
    assert first["kind"] == "image" and first["src"].startswith("data:image/png;base64,")
    assert first["name"] == "a.png" and [b["id"] for b in w.buffer] == [1, 2, 3]
    state = w.get_state()                          # what the browser receives when the widget opens
    assert state["_model_module"] == "anywidget" and state["buffer"][0]["id"] == 1


def test_each_key_labels_the_item_that_was_on_screen(files: Any) -> None:
    """The browser runs ahead of the kernel: three keys name items 1, 2, 3 before any answer."""
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    browser, handled = Browser(w), set()
    sent = []
    for label in ["bad", "good", "ugly"]:
        iid = browser.on_screen(handled)
        handled.add(iid)
        sent.append((iid, label))
    for iid, label in sent:                        # the kernel answers them in order
        assert browser.key("label", iid, label)["ok"]
    assert labels_of(task, "ann") == {1: "bad", 2: "good", 3: "ugly"}
    assert w.item_id == -1 and w.buffer == [] and w.done == 3


def test_a_key_for_an_item_no_longer_in_the_queue_is_ignored(files: Any, unchanged: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    browser = Browser(w)
    assert browser.key("label", 1, "good")["ok"]
    check = unchanged()
    ack = browser.key("label", 1, "bad")          # a second key for item 1: not on screen any more
    assert not ack["ok"] and "no longer in your queue" in ack["text"]
    check()
    assert labels_of(task, "ann") == {1: "good"}


def test_undo_withdraws_the_label_and_shows_the_item_again(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    assert w.press("1").endswith("good (completed)") and w.item_id == 2
    assert w.can_undo
    note = w.press("u")
    assert "your label 'good' is withdrawn" in note and w.item_id == 1 and w.done == 0
    assert labels_of(task, "ann") == {} and pending_of(task, "ann") == [1, 2, 3]
    assert not w.can_undo and w.press("u") == "nothing to undo"
    assert w.press("2").endswith("bad (completed)") and labels_of(task, "ann") == {1: "bad"}


def test_undo_after_the_last_item_brings_it_back(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    for _ in range(3):
        w.press("3")
    assert w.item_id == -1 and w.buffer == [] and w.counter == "3 / 3 done (100%)"
    w.press("u")
    assert w.item_id == 3 and [c["id"] for c in w.buffer] == [3]
    assert labels_of(task, "ann") == {1: "ugly", 2: "ugly"} and w.counter == "2 / 3 done (67%)"
    assert LabelingWidget(task, "ann").queue == [3]           # the store agrees: a new widget shows it too


def test_undo_of_a_consensus_vote_updates_the_open_views(files: Any) -> None:
    from dltasks.widgets import ConsensusView

    task = files.tasks.create("vote", assignee_ids=["ann", "bob"], workers_per_input=2,
                              review_strategy="consensus", approval_threshold=2, reviewer_ids=["rita"])
    task.submit(1, "bob", "bad")
    view = ConsensusView(task, refresh_budget=60.0)     # refreshes after work however loaded the machine
    w = LabelingWidget(task, "ann")
    assert w.label("good") == "awaiting_review" and view.consensus.loc[1, "status"] == "awaiting_review"
    assert "awaiting consensus" in w.undo()
    assert view.consensus.loc[1, "status"] == "awaiting_consensus" and view.consensus.loc[1, "n_labels"] == 1
    assert labels_of(task, "ann") == {} and labels_of(task, "bob") == {1: "bad"}


def test_undo_shows_an_error_when_the_label_cannot_be_withdrawn(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    w.press("1")
    task.retract(1, "ann")                         # withdrawn elsewhere first
    assert "could not undo" in w.press("u") and w.item_id == 2
    assert not w.can_undo


def test_skip_and_undo_skip(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    assert w.press("s") == "skipped a.png (#1)" and w.queue == [2, 3, 1] and w.item_id == 2
    assert w.press("u") == "back to a.png (#1)" and w.queue == [1, 2, 3]
    assert labels_of(task, "ann") == {}
    assert "does nothing" in w.press("x") and "does nothing" in w.press("9")


def test_the_queue_is_live_and_nothing_is_overwritten(files: Any, tmp_path: Path) -> None:
    """A label written elsewhere (another connection: another kernel) takes the item out of the
    queue; if its key comes first, the store refuses it and the widget moves on, saying so."""
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    w.REFRESH_SECONDS = 3600.0                     # no refresh yet: the queue is stale
    task.submit(1, "ann", "ugly")                  # written in code, outside the widget
    ack = Browser(w).key("label", 1, "good")       # the key for item 1, still on screen
    assert not ack["ok"] and "moved on" in ack["text"] and "already" in ack["text"]
    assert labels_of(task, "ann") == {1: "ugly"} and w.item_id == 2
    task.submit(2, "ann", "bad")                   # and again, but now the widget reads the queue
    w.REFRESH_SECONDS = 0.0
    w.press("s")                                   # any action reads the queue again
    assert w.queue == [3] and w.item_id == 3 and (w.done, w.total) == (2, 3)
    assert labels_of(task, "ann") == {1: "ugly", 2: "bad"}


def test_an_approved_item_leaves_the_queue(files: Any) -> None:
    task = files.tasks.create("vote", assignee_ids=["ann", "bob", "cy"], workers_per_input=3,
                              review_strategy="consensus", approval_threshold=2, reviewer_ids=["rita"])
    w = LabelingWidget(task, "ann")
    w.REFRESH_SECONDS = 3600.0
    task.submit(1, "bob", "good")
    task.submit(1, "cy", "good")                   # approved by consensus while item 1 is on ann's screen
    ack = Browser(w).key("label", 1, "bad")
    assert not ack["ok"] and "approved" in ack["text"] and "moved on" in ack["text"]
    assert labels_of(task, "ann") == {} and w.item_id == 2
    w.REFRESH_SECONDS = 0.0
    w.press("s")
    assert 1 not in w.queue                        # not shown again


def test_workers_see_only_the_metadata_the_task_shows(files: Any) -> None:
    files.items.import_df(pd.DataFrame({"name": ["d"], "user.text": ["to label"], "user.truth": ["good"],
                                        "user.source": ["web"]}))
    hidden = files.tasks.create("default", assignee_ids=["ann"], items=[4])
    card = LabelingWidget(hidden, "ann").buffer[0]
    assert card["text"] == "to label" and card["details"] == [["Metadata", [["source", "web"]]]]
    shown = files.tasks.create("explicit", assignee_ids=["ann"], items=[4], show_metadata=["truth"])
    assert LabelingWidget(shown, "ann").buffer[0]["details"] == [["Metadata", [["truth", "good"]]]]


def test_labeling_only_the_users_items_and_errors_are_shown(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann", "bob"], seed=3)
    mine = task.assignments_df().query("user_id == 'bob'")["item_id"].tolist()
    w = LabelingWidget(task, "bob")
    assert w.queue == mine and w.total == len(mine)
    stranger = LabelingWidget(task, "zed")
    assert stranger.item_id == -1 and stranger.total == 0 and stranger.buffer == []
    task.delete()
    w.press("1")
    assert "no task" in w.note or "not in task" in w.note


def test_labeling_a_pool_task_claims_items(files: Any) -> None:
    task = files.tasks.create("pool", workers_per_input=2)
    w = LabelingWidget(task, "walk-in")
    assert w.queue == [1, 2, 3]
    w.press("1")
    assert labels_of(task, "walk-in") == {1: "good"}
    assert LabelingWidget(task, "walk-in").queue == [2, 3]
    w.press("u")                                   # the claim stays, the label goes
    assert labels_of(task, "walk-in") == {} and w.item_id == 1
    assert LabelingWidget(task, "walk-in").queue == [1, 2, 3]


def seconds_of(task: Any, user: str) -> dict[int, float]:
    df = task.labels_df()
    mine = df[df["worker"] == user]
    return {int(i): float(s) for i, s in zip(mine["item_id"], mine["seconds"])}


def test_the_time_on_screen_the_browser_sends_is_stored_with_the_label(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    browser = Browser(w)
    assert browser.key("label", 1, "bad", seconds=3.5)["ok"]
    assert browser.key("label", 2, "good", seconds="soon")["ok"]     # a broken clock loses no answer
    assert w.label("ugly") == "completed"                              # from code: not measured
    times = seconds_of(task, "ann")
    assert times[1] == 3.5 and np.isnan(times[2]) and np.isnan(times[3])
    assert labels_of(task, "ann") == {1: "bad", 2: "good", 3: "ugly"} and w.timings == {1: 3.5}


def test_time_on_screen_from_code_and_after_undo(files: Any, unchanged: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    assert w.label("good", seconds=1.25) == "completed"
    w.undo()                                       # withdrawn: its time goes with it
    assert seconds_of(task, "ann") == {}
    assert w.act("label", 1, "bad", seconds=4).endswith("bad (completed)")
    assert seconds_of(task, "ann") == {1: 4.0}
    check = unchanged()
    with pytest.raises(dl.ValidationError, match="seconds"):
        w.act("label", 2, "bad", seconds=-1.0)
    check()


def test_the_review_widget_keeps_the_time_on_screen_of_each_decision(files: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "rita")
    browser = Browser(w)
    assert browser.key("approve", 1, seconds=2.5)["ok"] and browser.key("correct", 2, "bad", seconds=7)["ok"]
    assert w.timings == {1: 2.5, 2: 7.0}
    assert task.items_df().set_index("item_id").loc[[1, 2], "label"].tolist() == ["good", "bad"]


def test_the_queue_is_the_users_pending_work_read_from_the_store(files: Any) -> None:
    task = files.tasks.create("sort", assignee_ids=["ann", "bob"], workers_per_input=2)
    task.submit(2, "ann", "good")                  # done outside the widget
    w = LabelingWidget(task, "ann")
    assert w.queue == [1, 3] and (w.done, w.total) == (1, 3) and w.counter == "1 / 3 done (33%)"
    assert w.queue == pending_of(task, "ann")


def test_the_queue_is_served_in_the_stores_order_with_gold_mixed_in(store: dl.Store) -> None:
    ds = store.datasets.create("animals", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(1, 11)]}))
    task = ds.tasks.create("with gold", assignee_ids=["ann"], items=list(range(1, 9)), gold={9: "cat", 10: "dog"},
                           gold_rate=0.2, seed=1)
    served = task.queue("ann")
    assert sorted(served) == list(range(1, 11)) and served != sorted(served)     # gold spread through
    w = LabelingWidget(task, "ann")
    assert w.queue == served and [c["id"] for c in w.buffer] == served
    assert (w.done, w.total) == (0, 10) and w.counter == "0 / 10 done (0%)"      # gold looks like any item
    for _ in served:
        w.press("1")
    assert w.item_id == -1 and w.counter == "10 / 10 done (100%)"
    assert sorted(labels_of(task, "ann")) == list(range(1, 9))                  # real items: the task's labels
    gold = task.gold_df()
    assert gold[["item_id", "answer", "correct"]].values.tolist() == [[9, "cat", True], [10, "cat", False]]
    assert LabelingWidget(task, "ann").counter == "10 / 10 done (100%)"


def test_the_queue_follows_the_models_uncertainty(store: dl.Store) -> None:
    ds = store.datasets.create("animals", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(1, 7)]}))
    task = ds.tasks.create("unsure first", assignee_ids=["ann"], order="uncertainty")
    task.import_predictions(pd.DataFrame({"item_id": [1, 1, 2, 2, 3, 3], "label": ["cat", "dog"] * 3,
                                          "score": [0.9, 0.1, 0.5, 0.5, 0.6, 0.4]}))
    w = LabelingWidget(task, "ann")
    assert w.queue == [2, 3, 1, 4, 5, 6] == task.queue("ann")                   # lowest margin first
    w.REFRESH_SECONDS = 0.0                                                      # every action reads the queue
    assert w.press("2").startswith("2.jpg (#2): dog") and w.item_id == 3
    task.submit(1, "ann", "cat")                                                 # done elsewhere: it leaves
    w.press("s")
    assert w.queue == [4, 5, 6, 3] and w.done == 2


def test_a_worker_gets_real_items_once_qualified(store: dl.Store) -> None:
    ds = store.datasets.create("animals", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(1, 7)]}))
    quiz = ds.tasks.create_qualification_task("quiz", gold={5: "cat", 6: "dog"}, assignee_ids=["ann"],
                                              pass_accuracy=1.0)
    task = ds.tasks.create("work", assignee_ids=["ann"], items=[1, 2, 3, 4], qualification=quiz)
    work = LabelingWidget(task, "ann")
    assert work.queue == [] and work.empty_text == "4 items wait for ann: they open once the qualification task is passed."
    exam = LabelingWidget(quiz, "ann")
    assert sorted(exam.queue) == [5, 6] and exam.counter == "0 / 2 done (0%)"
    for item_id in list(exam.queue):
        exam.label("cat" if item_id == 5 else "dog")
    assert exam.counter == "2 / 2 done (100%)"
    assert quiz.qualification_df().set_index("user_id").loc["ann", "passed"]
    work.REFRESH_SECONDS = 0.0
    work.press("s")                                                              # any action reads the queue
    assert work.queue == [1, 2, 3, 4] and work.empty_text == "No pending items for ann: all done."
    assert work.counter == "0 / 4 done (0%)"


# -- ReviewWidget --------------------------------------------------------------------------
def review_task(files: Any) -> Any:
    task = files.tasks.create("check", assignee_ids=["ann", "bob", "cy"], workers_per_input=3,
                              review_strategy="consensus", approval_threshold=3, reviewer_ids=["rita"])
    votes = {1: ("good", "bad", "good"), 2: ("ugly", "good", "bad"), 3: ("good", "good", "good")}
    for item_id, labels in votes.items():
        for worker, label in zip(["ann", "bob", "cy"], labels):
            task.submit(item_id, worker, label)
    return task


def test_review_shows_the_workers_labels_and_what_approve_gives(files: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "rita")
    assert w.queue == [1, 2] and w.item_id == 1 and w.counter == "2 awaiting review · 0 reviewed here"
    details = dict((caption, rows) for caption, rows in w.buffer[0]["details"])
    assert details["Approve (a) gives"] == [["label", "good: 2 of 3 workers"]]
    assert details["Labels given"] == [["ann", "good"], ["bob", "bad"], ["cy", "good"]]
    assert [k["key"] for k in w.key_bindings] == ["a", "1", "2", "3", "r", "u"]


def test_review_keys_approve_correct_reject_and_undo(files: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "rita")
    assert w.press("a") == "a.png (#1): approved as good"
    assert "choose the label" in w.press("a")      # item 2 is a three-way tie: nothing written
    assert task.items_df().set_index("item_id").loc[2, "status"] == "awaiting_review"
    assert w.press("3") == "b.txt (#2): approved as ugly (a correction: the workers said no one label)"
    items = task.items_df().set_index("item_id")
    assert items.loc[1, ["status", "label"]].tolist() == ["approved", "good"]
    assert items.loc[2, ["status", "label"]].tolist() == ["approved", "ugly"]
    assert "taken back" in w.press("u") and w.item_id == 2
    assert task.items_df().set_index("item_id").loc[2, "status"] == "awaiting_review"
    assert w.press("r") == "b.txt (#2): rejected (back to its workers)"
    assert task.items_df().set_index("item_id").loc[2, "status"] == "rejected"
    assert w.item_id == -1 and w.reviewed == 2
    assert "taken back (awaiting review)" in w.press("u") and w.item_id == 2   # a mis-clicked reject
    assert task.items_df().set_index("item_id").loc[2, "status"] == "awaiting_review"
    assert len(labels_of(task, "bob")) == 3                                     # the labels stayed


def test_a_review_key_names_its_item(files: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "rita")
    browser = Browser(w)
    assert browser.key("approve", 1)["ok"] and browser.key("correct", 2, "bad")["ok"]
    assert not browser.key("reject", 1)["ok"]     # item 1 was decided: the key is ignored
    assert task.items_df().set_index("item_id").loc[[1, 2], "status"].tolist() == ["approved", "approved"]


def test_a_non_reviewer_is_told_and_nothing_is_written(files: Any, unchanged: Any) -> None:
    task = review_task(files)
    w = ReviewWidget(task, "mallory")
    assert "not a reviewer" in w.note
    check = unchanged()
    w.press("a")
    assert "not a reviewer" in w.note and w.queue == [1, 2]
    check()


def test_the_browser_always_gets_an_answer_and_notes_name_what_was_seen(files: Any) -> None:
    """A failure that is not a refusal (a bug) is still answered, so the browser never waits for ever."""
    class Broken(LabelingWidget):
        def perform(self, action: str, item_id: int, label: str | None, annotations: Any = None,
                    seconds: float | None = None) -> str:
            raise RuntimeError("disk on fire")

    task = files.tasks.create("sort", assignee_ids=["ann"])
    w = Broken(task, "ann")
    ack = Browser(w).key("label", 1, "good")
    assert not ack["ok"] and ack["text"] == "a.png (#1): could not finish (RuntimeError('disk on fire'))"
    assert labels_of(task, "ann") == {}
    ok = LabelingWidget(task, "ann")
    browser = Browser(ok)
    assert browser.key("label", 1, "good")["ok"]
    assert browser.key("label", 1, "bad")["text"].startswith("a.png (#1): no longer in your queue")

