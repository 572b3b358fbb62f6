"""The LabelingWidget's tools by task type and the ReviewWidget of shapes, headless.

Each answer is sent as ``work_queue.js`` sends it when Enter is pressed: ``{seq, action:
"submit", item_id, annotations: [{kind, label, geo | text}]}`` for the item that was on screen
(image pixels).  The store is read afterwards.  The browser half (drawing with the mouse on a
scaled picture, toggles, the text box) is tested in JupyterLab in
``tests/browser/test_boxes_browser.py``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PIL import Image
from test_widgets_work import Browser

import dltasks as dl
from dltasks.widgets import LabelingWidget, ReviewWidget

try:
    from dltasks import agreement
except ImportError:                                 # not written yet: the review draws the workers' shapes only
    agreement = None

LABELS = ["car", "bus", "bike"]


@pytest.fixture
def pictures(store: dl.Store, tmp_path: Path) -> Any:
    """A dataset of three 800 x 600 PNG pictures whose size is in their system metadata."""
    folder = tmp_path / "pics"
    folder.mkdir()
    paths = []
    for i in range(3):
        paths.append(folder / f"street-{i}.png")
        Image.new("RGB", (800, 600), (40 * i, 90, 160)).save(paths[-1])
    ds = store.datasets.create("streets", labels=LABELS)
    ds.items.upload(paths)
    for item in ds.items.get_all_items():
        item.metadata["system"].update(width=800, height=600)
        item.update()
    return ds


def box(left: float, top: float, right: float, bottom: float, label: str) -> dict[str, Any]:
    """A box as the browser sends it."""
    return {"kind": "box", "label": label, "geo": [[left, top], [right, bottom]]}


def rows_of(task: Any, worker: str = "ann") -> list[list[Any]]:
    """The worker's rows of the long answers frame: item, kind, label, left, top, right, bottom."""
    df = task.labels_df()
    df = df[df["worker"] == worker]
    return [[int(r.item_id), r.kind, r.label, *(None if pd.isna(v) else v for v in (r.left, r.top, r.right, r.bottom))]
            for r in df.itertuples(index=False)]


def statuses(task: Any) -> dict[int, str]:
    df = task.statuses_df()
    return dict(zip(df["item_id"].astype(int), df["status"]))


def submit(browser: Browser, item_id: int | None, annotations: Any) -> dict[str, Any]:
    browser.seq += 1
    browser.widget._handle_custom_msg({"seq": browser.seq, "action": "submit", "item_id": item_id, "label": None,
                                       "annotations": annotations}, [])
    return browser.acks[-1]


# -- box -------------------------------------------------------------------------------------
def test_a_box_task_gets_the_box_tool_and_its_keys(pictures: Any) -> None:
    task = pictures.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    w = LabelingWidget(task, "ann")
    assert w.tool == "box" and "dlt-tool-box" in w.css_class
    assert [(k["key"], k["text"], k["local"]) for k in w.key_bindings] == [
        ("1", "car", True), ("2", "bus", True), ("3", "bike", True), ("Delete", "Delete box", True),
        ("Enter", "Submit", False), ("s", "Skip", False), ("u", "Undo", False)]
    card = w.buffer[0]
    assert card["kind"] == "image" and card["name"] == "street-0.png" and "draft" not in card
    assert "works in the browser" in w.press("1") and w.item_id == 1 and rows_of(task) == []


def test_boxes_sent_for_the_item_on_screen_are_stored_in_image_pixels(pictures: Any) -> None:
    """Two items answered before the kernel answers either: each answer lands on its own item."""
    task = pictures.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    w = LabelingWidget(task, "ann")
    browser = Browser(w)
    first, second = browser.on_screen(), browser.on_screen({1})
    ack = submit(browser, first, [box(10.5, 20, 300, 250.2, "car"), box(400, 100, 799, 599, "bus")])
    assert ack["ok"] and ack["text"] == "street-0.png (#1): 2 boxes (car, bus) (completed)"
    ack = submit(browser, second, [])
    assert ack["ok"] and ack["text"] == "street-1.png (#2): nothing here (no boxes) (completed)"
    assert rows_of(task) == [[1, "box", "car", 10.5, 20.0, 300.0, 250.2], [1, "box", "bus", 400.0, 100.0, 799.0, 599.0],
                             [2, "none", None, None, None, None, None]]
    assert statuses(task) == {1: "completed", 2: "completed", 3: "pending"}
    assert w.item_id == 3 and w.counter == "2 / 3 done (67%)"


def test_a_box_outside_the_image_is_refused_on_the_card_and_nothing_is_written(pictures: Any, unchanged: Any) -> None:
    task = pictures.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    w = LabelingWidget(task, "ann")
    browser = Browser(w)
    check = unchanged()
    ack = submit(browser, 1, [box(10, 10, 50, 50, "car"), box(700, 500, 820, 590, "car")])
    assert not ack["ok"]
    assert ack["text"].startswith("street-0.png (#1): annotations: the box reaches x = 820 outside the image "
                                  "(0 to 800 pixels wide)")
    check()
    assert w.item_id == 1 and w.buffer[0]["id"] == 1 and not w.can_undo   # still on screen, to mend
    ack = submit(browser, 1, [box(10, 10, 50, 50, "train")])               # a label the task does not have
    assert not ack["ok"] and "train" in ack["text"]
    ack = submit(browser, 1, [box(50, 10, 10, 50, "car")])                 # left > right
    assert not ack["ok"] and "positive area" in ack["text"]
    ack = submit(browser, 1, "car")                                        # not a list: refused, not "nothing here"
    assert not ack["ok"] and "list of annotations" in ack["text"]
    check()
    assert submit(browser, 1, [box(700, 500, 800, 590, "car")])["ok"]
    assert rows_of(task) == [[1, "box", "car", 700.0, 500.0, 800.0, 590.0]]


def test_undo_withdraws_the_boxes_and_shows_them_again_to_change(pictures: Any) -> None:
    task = pictures.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    w = LabelingWidget(task, "ann")
    browser = Browser(w)
    sent = [box(10, 20, 30, 40, "car"), box(100, 100, 200, 220, "bike")]
    assert submit(browser, 1, sent)["ok"] and w.item_id == 2
    note = w.press("u")
    assert note == ("street-0.png (#1): your answer 2 boxes (car, bike) is withdrawn (pending); "
                    "change it and press Enter, or skip")
    assert w.item_id == 1 and rows_of(task) == [] and statuses(task)[1] == "pending"
    assert w.buffer[0]["draft"] == [{"kind": "box", "label": "car", "geo": [[10.0, 20.0], [30.0, 40.0]]},
                                    {"kind": "box", "label": "bike", "geo": [[100.0, 100.0], [200.0, 220.0]]}]
    assert submit(browser, 1, [box(12, 20, 30, 40, "bus")])["ok"]         # changed and sent again
    assert rows_of(task) == [[1, "box", "bus", 12.0, 20.0, 30.0, 40.0]]
    assert "draft" not in LabelingWidget(task, "ann").buffer[0]            # the draft is gone once answered
    assert w.answer([]) == "completed" and rows_of(task)[-1] == [2, "none", None, None, None, None, None]
    w.undo()
    assert [r[0] for r in rows_of(task)] == [1] and w.item_id == 2 and w.buffer[0]["draft"] == []


def test_enter_in_code_and_skip_on_a_box_task(pictures: Any) -> None:
    task = pictures.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
    w = LabelingWidget(task, "ann")
    assert w.press("s") == "skipped street-0.png (#1)" and w.queue == [2, 3, 1]
    assert w.press("Enter") == "street-1.png (#2): nothing here (no boxes) (completed)"   # no shapes sent
    assert w.answer([dl.Box(1, 2, 3, 4, label="car")]) == "completed"
    assert rows_of(task) == [[2, "none", None, None, None, None, None], [3, "box", "car", 1.0, 2.0, 3.0, 4.0]]
    assert w.answer([dl.Box(1, 2, 3, 4, label="lorry")]) is None and "lorry" in w.note


# -- polygon -----------------------------------------------------------------------------------
def test_polygons_are_stored_and_a_two_point_polygon_is_refused(pictures: Any, unchanged: Any) -> None:
    task = pictures.tasks.create("roofs", assignee_ids=["ann"], annotation_type="polygon")
    w = LabelingWidget(task, "ann")
    assert w.tool == "polygon"
    assert [k["key"] for k in w.key_bindings] == ["1", "2", "3", "Delete", "Escape", "Enter", "s", "u"]
    browser = Browser(w)
    check = unchanged()
    ack = submit(browser, 1, [{"kind": "polygon", "label": "car", "geo": [[10, 10], [50, 10]]}])
    assert not ack["ok"] and "at least 3 distinct points" in ack["text"]
    check()
    roof = [[10.0, 10.0], [50.5, 12.0], [30.0, 44.0]]
    ack = submit(browser, 1, [{"kind": "polygon", "label": "bus", "geo": roof}])
    assert ack["ok"] and ack["text"] == "street-0.png (#1): 1 polygon (bus) (completed)"
    assert submit(browser, 2, [])["ok"]
    df = task.labels_df()
    assert df[["item_id", "kind", "label"]].values.tolist() == [[1, "polygon", "bus"], [2, "none", None]]
    assert df["geo"].tolist() == [roof, None]
    assert "withdrawn" in w.undo() and w.item_id == 2 and len(task.labels_df()) == 1


# -- multi_class -------------------------------------------------------------------------------
def test_a_multi_class_set_an_empty_set_and_undo(pictures: Any, unchanged: Any) -> None:
    task = pictures.tasks.create("tags", assignee_ids=["ann"], annotation_type="multi_class")
    w = LabelingWidget(task, "ann")
    assert w.tool == "toggle"
    assert [(k["key"], k["action"], k["local"]) for k in w.key_bindings][:4] == [
        ("1", "toggle", True), ("2", "toggle", True), ("3", "toggle", True), ("Enter", "submit", False)]
    browser = Browser(w)
    ack = submit(browser, 1, [{"kind": "class", "label": "car"}, {"kind": "class", "label": "bike"}])
    assert ack["ok"] and ack["text"] == "street-0.png (#1): car, bike (completed)"
    ack = submit(browser, 2, [])
    assert ack["ok"] and ack["text"] == "street-1.png (#2): no label applies (completed)"
    check = unchanged()
    ack = submit(browser, 3, [{"kind": "class", "label": "car"}, {"kind": "class", "label": "car"}])
    assert not ack["ok"] and "twice" in ack["text"]
    check()
    assert rows_of(task) == [[1, "class", "car", None, None, None, None], [1, "class", "bike", None, None, None, None],
                             [2, "none", None, None, None, None, None]]
    w.undo()                                                      # the empty set is withdrawn...
    assert w.item_id == 2 and w.buffer[0]["draft"] == [] and statuses(task)[2] == "pending"
    assert submit(browser, 2, [{"kind": "class", "label": "bus"}])["ok"]   # ...and replaced
    assert rows_of(task)[-1] == [2, "class", "bus", None, None, None, None]


# -- text ----------------------------------------------------------------------------------------
def test_a_free_text_and_an_empty_one(pictures: Any, unchanged: Any) -> None:
    task = pictures.tasks.create("captions", assignee_ids=["ann"], annotation_type="text")
    w = LabelingWidget(task, "ann")
    assert w.tool == "text" and [k["key"] for k in w.key_bindings] == ["Enter", "s", "u"]
    browser = Browser(w)
    check = unchanged()
    ack = submit(browser, 1, [{"kind": "text", "text": "   "}])
    assert not ack["ok"] and "non-empty" in ack["text"]
    assert not submit(browser, 1, [])["ok"]                      # a text task takes one text
    check()
    ack = submit(browser, 1, [{"kind": "text", "text": "A red bus,\nturning left"}])
    assert ack["ok"] and ack["text"] == "street-0.png (#1): 'A red bus, turning left' (completed)"
    assert task.labels_df()[["item_id", "kind", "text"]].values.tolist() == [[1, "text", "A red bus,\nturning left"]]
    w.undo()
    assert w.buffer[0]["draft"] == [{"kind": "text", "text": "A red bus,\nturning left"}]


def test_a_class_task_keeps_its_one_key_labels(pictures: Any) -> None:
    task = pictures.tasks.create("kind", assignee_ids=["ann"])
    w = LabelingWidget(task, "ann")
    assert w.tool == "keys" and [k["action"] for k in w.key_bindings] == ["label"] * 3 + ["skip", "undo"]
    assert w.press("2") == "street-0.png (#1): bus (completed)"
    assert "unknown action 'submit'" in w.act("submit", 2, annotations=[])     # not a class task's action
    assert task.labels_df()[["item_id", "label"]].values.tolist() == [[1, "bus"]]


# -- review ----------------------------------------------------------------------------------------
def reviewed_boxes(pictures: Any) -> Any:
    task = pictures.tasks.create("boxes", assignee_ids=["ann", "bob"], workers_per_input=2, annotation_type="box",
                                 review_strategy="manual", reviewer_ids=["rita"])
    task.submit(1, "ann", annotations=[dl.Box(10, 10, 110, 90, "car"), dl.Box(300, 300, 400, 380, "bus")])
    task.submit(1, "bob", annotations=[dl.Box(12, 8, 108, 92, "car")])
    task.submit(2, "ann", annotations=[])
    task.submit(2, "bob", annotations=[])
    return task


def test_review_of_boxes_draws_every_workers_shapes_with_a_legend(pictures: Any) -> None:
    task = reviewed_boxes(pictures)
    w = ReviewWidget(task, "rita")
    assert "dlt-shapes" in w.css_class and [k["key"] for k in w.key_bindings] == ["a", "r", "u"]
    assert w.queue == [1, 2]
    card = w.buffer[0]
    drawn = [(s["worker"], s["label"], s["geo"], s["colour"]) for s in card["shapes"] if not s["consensus"]]
    assert drawn == [("ann", "car", [[10.0, 10.0], [110.0, 90.0]], "#1f77b4"),
                     ("ann", "bus", [[300.0, 300.0], [400.0, 380.0]], "#1f77b4"),
                     ("bob", "car", [[12.0, 8.0], [108.0, 92.0]], "#ff7f0e")]
    assert card["legend"][:2] == [["ann", "#1f77b4", "2 shapes"], ["bob", "#ff7f0e", "1 shape"]]
    consensus = [(s["label"], s["geo"], s["colour"]) for s in card["shapes"] if s["consensus"]]
    if hasattr(agreement, "consensus_shapes"):      # both cars match (IoU 0.9): one consensus box, the median
        assert consensus == [("car", [[11.0, 9.0], [109.0, 91.0]], "#111111")]
        assert card["legend"][2] == ["consensus", "#111111", "1 shape (≥ 2 workers)"]
    else:                                           # dltasks.agreement not there yet: the workers' shapes only
        assert consensus == [] and card["legend"][2] == ["consensus", "#111111", "not available"]
    details = dict((caption, rows) for caption, rows in card["details"])
    assert details["Answers given"] == [["ann", "2 boxes (car, bus)"], ["bob", "1 box (car)"]]
    assert dict(w.buffer[1]["details"][0][1]) == {"ann": "nothing here (no boxes)", "bob": "nothing here (no boxes)"}
    assert w.press("1") == "key '1' does nothing here"                         # no correction label here


def test_review_of_boxes_approve_reject_and_undo(pictures: Any) -> None:
    task = reviewed_boxes(pictures)
    w = ReviewWidget(task, "rita")
    assert w.press("a") == "street-0.png (#1): approved" and statuses(task)[1] == "approved"
    assert w.press("r") == "street-1.png (#2): rejected (back to its workers)" and statuses(task)[2] == "rejected"
    assert "taken back" in w.press("u") and statuses(task)[2] == "awaiting_review" and w.item_id == 2
    assert len(task.labels_df()) == 5                                          # the answers stayed


def test_review_of_multi_class_and_text_shows_each_workers_answer(pictures: Any) -> None:
    tags = pictures.tasks.create("tags", assignee_ids=["ann", "bob"], workers_per_input=2,
                                 annotation_type="multi_class", review_strategy="manual", reviewer_ids=["rita"])
    tags.submit(1, "ann", annotations=[dl.Classification("car"), dl.Classification("bus")])
    tags.submit(1, "bob", annotations=[])
    w = ReviewWidget(tags, "rita")
    assert w.buffer[0]["details"][0] == ["Answers given", [["ann", "car, bus"], ["bob", "no label applies"]]]
    assert "shapes" not in w.buffer[0] and [k["key"] for k in w.key_bindings] == ["a", "r", "u"]
    texts = pictures.tasks.create("captions", assignee_ids=["ann"], annotation_type="text",
                                  review_strategy="manual", reviewer_ids=["rita"])
    texts.submit(2, "ann", annotations=[dl.FreeText("a bus")])
    w = ReviewWidget(texts, "rita")
    assert w.buffer[0]["details"][0] == ["Answers given", [["ann", "'a bus'"]]]
    assert w.press("a") == "street-1.png (#2): approved" and statuses(texts)[2] == "approved"
