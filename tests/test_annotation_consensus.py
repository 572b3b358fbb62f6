"""Consensus of every annotation type through the store (the status each submit derives with
dltasks.agreement.agreed_items) and the task's analyses; on every backend (the ``store`` fixture)."""
from __future__ import annotations

import dltasks as dl
from test_annotation_types import images, make_task  # noqa: F401  (fixture)


def consensus_task(ds, annotation_type, **options):
    return make_task(ds, annotation_type, assignee_ids=["ann", "bob", "cat"], review_strategy="consensus",
                     reviewer_ids=["rev"], approval_threshold=2, **options)


def test_boxes_matched_by_two_of_three_workers_approve_the_item_and_a_stray_box_is_outvoted(store, images):
    task = consensus_task(images, "box")
    assert task.submit(1, "ann", annotations=[dl.Box(10, 10, 50, 50, "car")]) == "awaiting_consensus"
    # bob's box overlaps ann's with IoU 0.82, and bob adds a box nobody else drew
    assert task.submit(1, "bob", annotations=[dl.Box(12, 12, 52, 50, "car"), dl.Box(70, 5, 90, 20, "bus")]) \
        == "awaiting_consensus"  # the stray bus: 1 worker drew it, only 1 answered without it
    assert task.submit(1, "cat", annotations=[dl.Box(11, 9, 49, 51, "car")]) == "approved"  # outvoted now
    shapes = task.consensus_shapes()
    assert shapes[["item_id", "label", "left", "top", "right", "bottom", "n_workers"]].values.tolist() == [
        [1, "car", 11.0, 10.0, 50.0, 50.0, 3]]
    quality = task.worker_quality()
    assert quality.loc["bob", ["precision", "recall"]].tolist() == [0.5, 1.0]
    assert quality.loc["ann", ["precision", "recall"]].tolist() == [1.0, 1.0]
    decided = task.consensus()
    assert decided.loc[1, "status"] == "approved" and 0.8 < decided.loc[1, "agreement"] < 1.0
    assert task.items_df().set_index("item_id").loc[1, ["status", "n_workers"]].tolist() == ["approved", 3]


def test_with_unmatched_review_a_stray_box_sends_the_item_to_review(store, images):
    task = consensus_task(images, "box", unmatched="review")
    task.submit(1, "ann", annotations=[dl.Box(10, 10, 50, 50, "car")])
    task.submit(1, "bob", annotations=[dl.Box(12, 12, 52, 50, "car"), dl.Box(70, 5, 90, 20, "bus")])
    assert task.submit(1, "cat", annotations=[dl.Box(11, 9, 49, 51, "car")]) == "awaiting_review"
    assert task.review(1, "rev") == "approved"
    # changing the rule re-derives the statuses of undecided items only
    task.submit(2, "ann", annotations=[dl.Box(10, 10, 50, 50, "car")])
    task.submit(2, "bob", annotations=[dl.Box(10, 10, 50, 50, "car"), dl.Box(70, 5, 90, 20, "bus")])
    assert task.submit(2, "cat", annotations=[dl.Box(10, 10, 50, 50, "car")]) == "awaiting_review"
    task.unmatched = "outvoted"
    task.update()
    assert task.status_counts().to_dict() == {"approved": 2, "pending": 3}


def test_boxes_that_do_not_overlap_enough_are_not_matched(store, images):
    task = consensus_task(images, "box", iou_threshold=0.9)
    task.submit(1, "ann", annotations=[dl.Box(10, 10, 50, 50, "car")])
    task.submit(1, "bob", annotations=[dl.Box(12, 12, 52, 50, "car")])  # IoU 0.82 < 0.9
    assert task.submit(1, "cat", annotations=[dl.Box(30, 30, 70, 70, "car")]) == "awaiting_review"
    assert task.consensus_shapes().empty


def test_everybody_drawing_nothing_is_agreement(store, images):
    task = consensus_task(images, "polygon")
    task.submit(3, "ann", annotations=[])
    assert task.submit(3, "bob", annotations=[]) == "approved"


def test_multi_class_labels_are_agreed_one_by_one(store, images):
    task = consensus_task(images, "multi_class")
    task.submit(1, "ann", annotations=[dl.Classification("car"), dl.Classification("bus")])
    assert task.submit(1, "bob", annotations=[dl.Classification("car")]) == "awaiting_consensus"  # bus: 1 v 1
    assert task.submit(1, "cat", annotations=[dl.Classification("car")]) == "approved"  # bus outvoted 2 to 1
    summary = task.agreement()
    assert summary["items"] == 1 and summary["workers"] == 3
    assert 0 < summary["mean_agreement"] < 1


def test_free_texts_agree_after_normalising_case_and_spaces(store, images):
    task = consensus_task(images, "text")
    task.submit(1, "ann", annotations=[dl.FreeText("A red  car")])
    assert task.submit(1, "bob", annotations=[dl.FreeText(" a RED car ")]) == "approved"
    task.submit(2, "ann", annotations=[dl.FreeText("red car")])
    task.submit(2, "bob", annotations=[dl.FreeText("blue car")])
    assert task.submit(2, "cat", annotations=[dl.FreeText("green car")]) == "awaiting_review"


def test_workers_who_each_choose_another_label_do_not_agree_that_none_applies(store, images):
    task = consensus_task(images, "multi_class")
    task.submit(1, "ann", annotations=[dl.Classification("car")])
    task.submit(1, "bob", annotations=[dl.Classification("bus")])
    assert task.submit(1, "cat", annotations=[dl.Classification("bike")]) == "awaiting_review"
    task.submit(2, "ann", annotations=[])
    task.submit(2, "bob", annotations=[dl.Classification("bus")])
    assert task.submit(2, "cat", annotations=[]) == "approved"  # two say no label applies


def test_workers_who_each_draw_their_box_elsewhere_do_not_agree_that_nothing_is_there(store, images):
    task = consensus_task(images, "box")
    task.submit(1, "ann", annotations=[dl.Box(0, 0, 20, 20, "car")])
    task.submit(1, "bob", annotations=[dl.Box(40, 40, 60, 60, "car")])
    assert task.submit(1, "cat", annotations=[dl.Box(70, 10, 90, 30, "car")]) == "awaiting_review"
    assert task.consensus().loc[1, "status"] == "awaiting_review"
