"""The model's predictions in the LabelingWidget, headless (issue 15, predictions).

``LabelingWidget(show_predictions=True)`` shows each card's suggestion pre-selected: the store
gets an answer only from a key (Enter accepts the suggestion, a label's key answers with that
label).  Each browser message here is what ``work_queue.js`` sends; the browser half is tested in
``tests/browser/test_predictions_browser.py``; the WorkersView's agreement with the model in
``tests/test_widgets_views.py``.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import dltasks as dl
from dltasks.errors import ValidationError
from dltasks.widgets import LabelingWidget


@pytest.fixture
def animals(store: dl.Store) -> Any:
    """A dataset of 6 text items with labels cat, dog, bird."""
    ds = store.datasets.create("animals", labels=["cat", "dog", "bird"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.txt" for i in range(1, 7)],
                                     "user.text": [f"animal {i}" for i in range(1, 7)]}))
    return ds


def predict(task: Any, rows: list[tuple[int, str, float]], model: str = "m1") -> None:
    task.import_predictions(pd.DataFrame(rows, columns=["item_id", "label", "score"]), model=model)


def stored(task: Any) -> list[list[Any]]:
    return task.labels_df()[["item_id", "worker", "label"]].values.tolist()


def message(widget: Any, action: str, item_id: int, label: str | None = None,
            annotations: list[dict[str, Any]] | None = None, seconds: float | None = None) -> dict[str, Any]:
    """What work_queue.js sends for a key on the item on screen; returns the kernel's answer."""
    acks: list[dict[str, Any]] = []
    widget.send = lambda content, buffers=None: acks.append(content)
    msg: dict[str, Any] = {"seq": 1, "action": action, "item_id": item_id, "label": label}
    if annotations is not None:
        msg["annotations"] = annotations
    if seconds is not None:
        msg["seconds"] = seconds
    widget._handle_custom_msg(msg, [])
    return acks[-1]


# -- class tasks ------------------------------------------------------------------------------
def test_a_suggestion_on_screen_stores_nothing_until_a_key(animals: Any, unchanged: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(1, "dog", 0.8), (1, "cat", 0.2), (2, "bird", 0.55)])
    check = unchanged()
    w = LabelingWidget(task, "ann", show_predictions=True)
    first, second, third = w.buffer[:3]
    assert first["suggestion"] == {"labels": ["dog"], "scores": [0.8], "text": "dog (0.80)"}
    assert second["suggestion"]["text"] == "bird (0.55)" and "suggestion" not in third
    assert [(b["key"], b["text"]) for b in w.key_bindings] == [
        ("1", "cat"), ("2", "dog"), ("3", "bird"), ("Enter", "Accept suggestion"), ("s", "Skip"), ("u", "Undo")]
    w.REFRESH_SECONDS = 0.0
    w.reload()
    assert w.press("s") == "skipped 1.txt (#1)" and w.item_id == 2     # a skip is no answer either
    check()
    assert stored(task) == [] and task.assignments_df(user_id="ann", status="pending")["item_id"].tolist() \
        == [1, 2, 3, 4, 5, 6]


def test_enter_stores_the_suggested_label(animals: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(1, "dog", 0.8), (1, "cat", 0.2), (2, "bird", 0.55)])
    w = LabelingWidget(task, "ann", show_predictions=True)
    assert w.press("Enter") == "1.txt (#1): dog — the model's suggestion (completed)"
    # the browser's Enter sends the card's suggested label, with its time on screen
    ack = message(w, "submit", 2, annotations=[{"kind": "class", "label": "bird"}], seconds=1.5)
    assert ack["ok"] and ack["text"] == "2.txt (#2): bird — the model's suggestion (completed)"
    df = task.labels_df()
    assert df[["item_id", "worker", "label"]].values.tolist() == [[1, "ann", "dog"], [2, "ann", "bird"]]
    assert df["seconds"].tolist()[1] == 1.5 and w.done == 2 and w.item_id == 3


def test_another_label_key_answers_with_that_label(animals: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(1, "dog", 0.8), (2, "dog", 0.9)])
    w = LabelingWidget(task, "ann", show_predictions=True)
    assert w.press("1") == "1.txt (#1): cat (completed)"                  # not the suggestion: key 1 is cat
    assert message(w, "label", 2, "bird")["ok"]
    assert stored(task) == [[1, "ann", "cat"], [2, "ann", "bird"]]


def test_enter_on_an_item_the_model_says_nothing_about_stores_nothing(animals: Any, unchanged: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(2, "dog", 0.8)])
    w = LabelingWidget(task, "ann", show_predictions=True)
    check = unchanged()
    assert w.item_id == 1 and "suggestion" not in w.buffer[0]
    assert w.press("Enter") == "1.txt (#1): the model suggests no label here; press a label's key"
    check()
    assert w.item_id == 1 and stored(task) == []


def test_undo_withdraws_an_accepted_suggestion_and_shows_it_again(animals: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(1, "dog", 0.8)])
    w = LabelingWidget(task, "ann", show_predictions=True)
    w.press("Enter")
    assert w.press("u") == "1.txt (#1): your label 'dog' is withdrawn (pending); label it again, or skip"
    assert stored(task) == [] and w.item_id == 1 and w.buffer[0]["suggestion"]["labels"] == ["dog"]
    w.press("3")
    assert stored(task) == [[1, "ann", "bird"]]


def test_without_show_predictions_no_suggestion_is_shown(animals: Any, unchanged: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(1, "dog", 0.8), (2, "dog", 0.9)])
    w = LabelingWidget(task, "ann")
    assert all("suggestion" not in card for card in w.buffer) and w.suggestions is None
    assert [b["key"] for b in w.key_bindings] == ["1", "2", "3", "s", "u"]
    check = unchanged()
    assert w.press("Enter") == "key 'Enter' does nothing here"
    check()
    assert stored(task) == []


def test_only_the_chosen_models_suggestion(animals: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(1, "dog", 0.6)], model="m1")
    predict(task, [(1, "cat", 0.9)], model="m2")
    assert LabelingWidget(task, "ann", show_predictions=True).buffer[0]["suggestion"]["labels"] == ["cat"]
    w = LabelingWidget(task, "ann", show_predictions=True, model="m1")
    assert w.buffer[0]["suggestion"]["text"] == "dog (0.60)"
    w.press("Enter")
    assert stored(task) == [[1, "ann", "dog"]]


def test_the_predictions_are_read_once_per_refresh(animals: Any, monkeypatch: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    predict(task, [(i, "dog", 0.7) for i in range(1, 7)])
    reads: list[int] = []
    real = task.predictions_df

    def counted() -> pd.DataFrame:
        reads.append(1)
        return real()

    monkeypatch.setattr(task, "predictions_df", counted)
    w = LabelingWidget(task, "ann", show_predictions=True)
    assert len(w.buffer) == 6 and all(card["suggestion"]["labels"] == ["dog"] for card in w.buffer)
    assert len(reads) == 1                                            # six cards, one read
    w.REFRESH_SECONDS = 3600.0
    w.press("Enter")
    w.press("2")
    assert len(reads) == 1                                            # no refresh due: no read
    w.REFRESH_SECONDS = 0.0
    w.press("Enter")
    assert len(reads) == 2 and stored(task)[-1] == [3, "ann", "dog"]


def test_bad_show_predictions_is_refused(animals: Any) -> None:
    task = animals.tasks.create("sort", assignee_ids=["ann"])
    with pytest.raises(ValidationError, match="show_predictions"):
        LabelingWidget(task, "ann", show_predictions="yes")  # type: ignore[arg-type]


# -- multi_class and the other types -------------------------------------------------------
def test_multi_class_starts_with_the_labels_scored_half_or_more(animals: Any, unchanged: Any) -> None:
    task = animals.tasks.create("tags", assignee_ids=["ann"], annotation_type="multi_class")
    predict(task, [(1, "cat", 0.9), (1, "dog", 0.5), (1, "bird", 0.49), (2, "bird", 0.2)])
    check = unchanged()
    w = LabelingWidget(task, "ann", show_predictions=True)
    assert w.buffer[0]["suggestion"] == {"labels": ["cat", "dog"], "scores": [0.9, 0.5],
                                         "text": "cat (0.90), dog (0.50)"}
    assert w.buffer[1]["suggestion"]["labels"] == [] and "suggestion" not in w.buffer[2]
    check()                                                           # shown, not stored
    assert w.press("Enter") == "1.txt (#1): cat, dog — the model's suggestion (completed)"
    # the browser: the worker toggled dog off and bird on, then Enter
    assert message(w, "submit", 2, annotations=[{"kind": "class", "label": "cat"}])["ok"]
    df = task.labels_df()
    assert sorted(map(tuple, df[["item_id", "label"]].values.tolist())) == [(1, "cat"), (1, "dog"), (2, "cat")]


def test_box_tasks_show_no_suggestion(animals: Any, monkeypatch: Any) -> None:
    task = animals.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    predict(task, [(1, "dog", 0.9)])
    monkeypatch.setattr(task, "predictions_df", lambda: pytest.fail("a box task reads no predictions"))
    w = LabelingWidget(task, "ann", show_predictions=True)
    assert not w.show_predictions and all("suggestion" not in card for card in w.buffer)
    assert [b["text"] for b in w.key_bindings][-3:] == ["Submit", "Skip", "Undo"]
