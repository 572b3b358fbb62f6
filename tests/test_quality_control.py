"""Quality control on every backend: gold items in queues, flagging and redistribution, qualification,
dynamic overlap, time per item, predictions that are not votes, and the history of it all."""
from __future__ import annotations

import collections

import pandas as pd
import pytest

import dltasks as dl
from dltasks.domain.history import replay_answers
from dltasks.errors import PermissionDeniedError, ValidationError

W3 = ["ann", "bob", "cy"]


@pytest.fixture
def pets(store: dl.Store) -> dl.Dataset:
    """A dataset of 80 items, labels cat/dog: items 1-60 are work, 61-80 have known answers."""
    ds = store.datasets.create("pets", labels=["cat", "dog"])
    ds.items.import_df(pd.DataFrame({"name": [f"p{i:03d}.jpg" for i in range(80)]}))
    return ds


def gold_of(ds: dl.Dataset) -> dict[int, str]:
    ids = ds.items.to_df()["id"].astype(int).tolist()
    return {i: ("cat" if i % 2 else "dog") for i in ids[60:]}


def test_gold_is_mixed_into_every_queue_at_the_rate_once_per_worker(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("g", assignee_ids=W3, gold=gold, gold_rate=0.2, seed=7)
    # gold is not the task's work
    assert task.status_counts().to_dict() == {"pending": 60}
    assert task.progress().loc["total", "assigned"] == 60
    for user in W3:
        queue = task.queue(user)
        golds = [i for i in queue if i in gold]
        assert len(golds) == len(set(golds))  # never twice to one worker
        assert abs(len(golds) - 0.2 * len(queue)) <= 1  # the rate, within one item
        places = [queue.index(g) for g in golds]
        assert max(places) - min(places) >= len(queue) // 2  # spread through the queue, not bunched
        assert task.queue(user, limit=5) == queue[:5]


def test_a_gold_answer_looks_like_work_and_is_scored_apart(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("g", assignee_ids=["ann"], gold=gold, gold_rate=0.2, seed=1)
    golds = [i for i in task.queue("ann") if i in gold]
    real = [i for i in task.queue("ann") if i not in gold][0]
    assert task.submit(real, "ann", "cat", seconds=2.0) == "completed"
    right, wrong = golds[0], golds[1]
    assert task.submit(right, "ann", gold[right], seconds=3.0) == "completed"
    assert task.submit(wrong, "ann", "cat" if gold[wrong] == "dog" else "dog") == "completed"
    answers = task.gold_df().set_index("item_id")
    assert answers.loc[right, "correct"] and not answers.loc[wrong, "correct"]
    assert answers.loc[right, "seconds"] == 3.0 and answers.loc[right, "gold"] == gold[right]
    assert task.labels_df()["item_id"].tolist() == [real]  # gold answers are not the task's labels
    assert right not in task.queue("ann") and wrong not in task.queue("ann")
    quality = task.worker_quality(skill=False).loc["ann"]
    assert quality["gold_n"] == 2 and quality["gold_accuracy"] == 0.5 and quality["gold_low"] < 0.5
    assert list(task.history()["action"]) == ["submit", "gold", "gold"]


def test_a_worker_under_the_gold_bar_is_flagged_and_their_items_go_to_the_others(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("g", assignee_ids=W3, gold=gold, gold_rate=0.25, min_gold_accuracy=0.7, min_gold_n=2,
                             workers_per_input=2, review_strategy="consensus", reviewer_ids=["rev"],
                             approval_threshold=2, seed=3)
    ann_real = [i for i in task.queue("ann") if i not in gold]
    labelled = ann_real[0]
    task.submit(labelled, "ann", "cat")
    before = task.progress()["assigned"]
    for item in [i for i in task.queue("ann") if i in gold][:2]:
        task.submit(item, "ann", "cat" if gold[item] == "dog" else "dog")
    flagged = task.flagged_workers()
    assert flagged["user_id"].tolist() == ["ann"] and flagged["gold_accuracy"].tolist() == [0.0]
    assert task.queue("ann") == []
    with pytest.raises(PermissionDeniedError, match="flagged"):
        task.submit(ann_real[1], "ann", "cat")
    # every open item of ann's went to bob or cy: each item still has two workers who count
    assignments = task.assignments_df(role="worker")
    counted = assignments[assignments["user_id"] != "ann"].groupby("item_id")["user_id"].nunique()
    assert (counted == 2).all() and len(counted) == 60
    assert task.progress().loc["ann", "assigned"] == 1  # the item ann labelled stays hers, done
    gains = task.progress()["assigned"][["bob", "cy"]] - before[["bob", "cy"]]
    assert gains.sum() == len(ann_real)  # her pending items, and one more worker for the item she labelled
    assert abs(gains["bob"] - gains["cy"]) <= 1  # an exact split
    # ann's label stays in the store, shown as excluded, and leaves consensus
    assert labelled in task.labels_df().query("worker == 'ann'")["item_id"].tolist()
    assert task.worker_quality(skill=False).loc["ann", "flagged"]
    other = assignments[(assignments["item_id"] == labelled) & (assignments["user_id"] != "ann")]["user_id"].iloc[0]
    assert task.submit(labelled, other, "cat") == "awaiting_consensus"  # ann's 'cat' does not count
    actions = collections.Counter(task.history()["action"])
    assert actions["flag"] == 1 and actions["redistribute"] == len(ann_real)
    # the history is complete: replaying its answer actions rebuilds the labels (gold answers kept apart)
    replayed = replay_answers(task.history_df(), "class")
    assert replayed.values.tolist() == task.labels_df()[["item_id", "worker", "label"]].values.tolist()


def test_a_qualification_task_gates_real_items(pets):
    gold = dict(list(gold_of(pets).items())[:4])
    quiz = pets.tasks.create_qualification_task("quiz", gold=gold, assignee_ids=["ann", "bob"], pass_accuracy=0.75)
    task = pets.tasks.create("work", assignee_ids=["ann", "bob"], items=list(range(1, 11)), qualification=quiz)
    assert task.queue("ann") == [] and sorted(quiz.queue("ann")) == sorted(gold)
    first = task.assignments_df(user_id="ann")["item_id"].iloc[0]
    with pytest.raises(PermissionDeniedError, match="qualification"):
        task.submit(int(first), "ann", "cat")
    items = sorted(gold)
    for i, item in enumerate(items):
        quiz.submit(item, "ann", gold[item] if i < 3 else ("cat" if gold[item] == "dog" else "dog"))  # 3 of 4
        quiz.submit(item, "bob", "cat" if gold[item] == "dog" else "dog")  # 0 of 4
    results = quiz.qualification_df().set_index("user_id")
    assert results.loc["ann", ["answered", "correct", "passed"]].tolist() == [4, 3, True]
    assert results.loc["bob", ["answered", "correct", "passed"]].tolist() == [4, 0, False]
    assert len(task.queue("ann")) == 5 and task.queue("bob") == []
    assert task.submit(int(first), "ann", "cat") == "completed"


def test_dynamic_overlap_adds_a_worker_exactly_when_needed(pets):
    task = pets.tasks.create("d", assignee_ids=["a", "b", "c", "d"], items=[1, 2, 3], worker_strategy="dynamic",
                             min_workers=2, max_workers=3, review_strategy="consensus", reviewer_ids=["rev"],
                             approval_threshold=2, seed=5)
    assert (task.worker_strategy, task.workers_per_input, task.max_workers) == ("dynamic", 2, 3)

    def workers(item: int) -> list[str]:
        df = task.assignments_df(role="worker")
        return df[df["item_id"] == item]["user_id"].tolist()

    first, second = workers(1)
    task.submit(1, first, "cat")
    assert task.submit(1, second, "cat") == "approved" and len(workers(1)) == 2  # agreed: nobody added
    a, b = workers(2)
    task.submit(2, a, "cat")
    assert task.submit(2, b, "dog") == "awaiting_consensus"  # disagreed: one more worker
    third = [w for w in workers(2) if w not in (a, b)]
    assert len(third) == 1 and len(workers(2)) == 3
    assert task.submit(2, third[0], "dog") == "approved"
    x, y = workers(3)
    task.submit(3, x, "cat")
    task.submit(3, y, "dog")
    assert len(workers(3)) == 3 and set(workers(3)) >= {x, y}  # never one who has seen it
    # a third opinion that agrees with nobody: at max_workers the item goes to review, nobody else is added
    task2 = pets.tasks.create("d3", assignee_ids=["a", "b", "c", "d"], items=[4], worker_strategy="dynamic",
                              min_workers=2, max_workers=3, review_strategy="consensus", reviewer_ids=["rev"],
                              approval_threshold=3, seed=5)
    ws = task2.assignments_df(role="worker")["user_id"].tolist()
    task2.submit(4, ws[0], "cat")
    task2.submit(4, ws[1], "cat")
    ws3 = task2.assignments_df(role="worker")["user_id"].tolist()
    added = [w for w in ws3 if w not in ws]
    assert len(added) == 1
    assert task2.submit(4, added[0], "dog") == "awaiting_review"
    assert len(task2.assignments_df(role="worker")) == 3  # never beyond max_workers
    assert collections.Counter(task2.history()["action"])["extend"] == 1


def test_time_per_item_is_stored_and_summed_up(pets, unchanged):
    task = pets.tasks.create("t", assignee_ids=["ann", "bob"], items=list(range(1, 7)), seed=2)
    ann = task.queue("ann")
    for item, seconds in zip(ann, [2.0, 4.0, 9.0]):
        task.submit(item, "ann", "cat", seconds=seconds)
    bob = task.queue("bob")
    task.submit(bob[0], "bob", "dog")
    labels = task.labels_df().set_index("item_id")
    assert labels.loc[ann, "seconds"].tolist() == [2.0, 4.0, 9.0] and pd.isna(labels.loc[bob[0], "seconds"])
    progress = task.progress()
    assert progress.loc["ann", "median_seconds"] == 4.0
    assert progress.loc["ann", "items_per_hour"] == pytest.approx(3600 * 3 / 15)
    assert pd.isna(progress.loc["bob", "median_seconds"])
    check = unchanged()
    with pytest.raises(ValidationError, match="seconds") as err:
        task.submit(bob[1], "bob", "dog", seconds=-3)
    assert err.value.field == "seconds"
    check()


def test_predictions_order_the_queue_and_are_never_votes(pets):
    task = pets.tasks.create("p", assignee_ids=["ann"], items=[1, 2, 3, 4], order="uncertainty",
                             review_strategy="consensus", reviewer_ids=["rev"], approval_threshold=1)
    preds = pd.DataFrame({"item_id": [1, 1, 2, 3, 3], "label": ["cat", "dog", "cat", "cat", "dog"],
                          "score": [0.9, 0.1, 0.7, 0.55, 0.45]})
    assert task.import_predictions(preds, model="resnet") == 5
    assert task.queue("ann") == [3, 2, 1, 4]  # lowest margin first; unpredicted last
    assert task.status_counts().to_dict() == {"pending": 4} and task.labels_df().empty
    task.submit(3, "ann", "dog")
    assert task.labels_df()["label"].tolist() == ["dog"]
    assert task.model_agreement().loc["ann", ["labels", "agree"]].tolist() == [1, 0]
    with pytest.raises(ValidationError, match="label"):
        task.import_predictions(pd.DataFrame({"item_id": [1], "label": ["owl"], "score": [0.5]}))
    with pytest.raises(ValidationError, match="item 9 is not in task"):
        task.import_predictions(pd.DataFrame({"item_id": [9], "label": ["cat"], "score": [0.5]}))


def test_gold_items_take_predictions_like_any_item(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("g", assignee_ids=["ann"], items=[1, 2], gold=gold, gold_rate=0.3)
    golds = [i for i in task.queue("ann") if i in gold]
    preds = pd.DataFrame({"item_id": [1, golds[0]], "label": ["cat", "dog"], "score": [0.9, 0.8]})
    assert task.import_predictions(preds) == 2  # a gold item without a suggestion would stand out
    assert task.predictions_df()["item_id"].tolist() == sorted([1, golds[0]])


@pytest.mark.parametrize("kwargs, field", [
    (dict(gold={1: "owl"}, gold_rate=0.1), "gold"),
    (dict(gold_rate=0.1), "gold"),
    (dict(gold={1: "cat"}), "gold_rate"),
    (dict(gold={999: "cat"}, gold_rate=0.1), "gold"),
    (dict(gold={1: "cat"}, gold_rate=0.7), "gold_rate"),
    (dict(worker_strategy="dynamic", min_workers=2, max_workers=3), "review_strategy"),
    (dict(min_workers=2), "min_workers"),
    (dict(order="random"), "order"),
])
def test_bad_quality_options_name_the_field_and_write_nothing(pets, unchanged, kwargs, field):
    check = unchanged()
    with pytest.raises(ValidationError) as err:
        pets.tasks.create("bad", assignee_ids=W3, **kwargs)
    assert err.value.field == field
    check()


def test_a_qa_task_measures_its_reviewers_with_gold(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("work", assignee_ids=["ann"], items=list(range(1, 11)))
    for item in range(1, 11):
        task.submit(item, "ann", "cat")
    qa = pets.tasks.create_qa_task(task, assignee_ids=["rev"], gold=dict(list(gold.items())[:4]), gold_rate=0.25)
    assert qa.status_counts().to_dict() == {"pending": 10}
    queue = qa.queue("rev")
    golds = [i for i in queue if i in gold]
    assert len(golds) == 3 and len(queue) == 13  # 10 items to check, gold a quarter of the queue (within one)
    qa.submit(golds[0], "rev", gold[golds[0]])
    assert qa.worker_quality(skill=False).loc["rev", ["gold_n", "gold_accuracy"]].tolist() == [1, 1.0]


def test_gold_of_a_multi_class_task_compares_label_sets(pets):
    task = pets.tasks.create("m", assignee_ids=["ann"], items=list(range(1, 11)), annotation_type="multi_class",
                             gold={61: ["cat", "dog"], 62: []}, gold_rate=0.2, seed=2)
    golds = [i for i in task.queue("ann") if i in (61, 62)]
    assert sorted(golds) == [61, 62]
    task.submit(61, "ann", annotations=[dl.Classification("dog"), dl.Classification("cat")])
    task.submit(62, "ann", annotations=[dl.Classification("cat")])
    assert task.gold_df().set_index("item_id")["correct"].to_dict() == {61: True, 62: False}


def test_flagging_never_reopens_a_decided_item_and_queues_skip_decided_items(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("t", assignee_ids=["ann", "bob", "cy", "dan"], workers_per_input=3,
                             review_strategy="consensus", approval_threshold=2, reviewer_ids=["rev"], gold=gold,
                             gold_rate=0.3, min_gold_accuracy=0.6, min_gold_n=2, seed=0)
    first, second, third = task.assignments_df(role="worker").query("item_id == 1")["user_id"].tolist()
    task.submit(1, first, "cat")
    assert task.submit(1, second, "cat") == "approved"
    assert 1 not in task.queue(third)  # nobody is asked for a decided item

    def flag(user: str) -> None:
        for item in [i for i in task.queue(user) if i in gold][:2]:
            task.submit(item, user, "cat" if gold[item] == "dog" else "dog")

    flag(second)  # a voter of the approved item
    flag(third)  # the worker it no longer needed
    assert set(task.flagged_workers()["user_id"]) == {second, third}
    assert task.statuses_df().set_index("item_id").loc[1, "status"] == "approved"  # decided is decided
    assert task.assignments_df(role="worker").query("item_id == 1")["user_id"].tolist() == [first, second]


def _refusal(call) -> tuple[str, str]:
    """What a refused call tells the worker: the error's class and message, item id blanked."""
    with pytest.raises(dl.errors.DltasksError) as caught:
        call()
    return type(caught.value).__name__, str(caught.value)


def test_retract_and_status_actions_on_a_gold_item_answer_as_on_a_real_item(pets):
    gold = gold_of(pets)
    task = pets.tasks.create("g", assignee_ids=["ann", "bob"], gold=gold, gold_rate=0.2, seed=3)
    queue = task.queue("ann")
    g1, g2 = [i for i in queue if i in gold][:2]
    r1, r2 = [i for i in queue if i not in gold][:2]
    # nothing answered yet: the same refusal, naming the item, for a gold item and a real one
    assert _refusal(lambda: task.retract(g1, "ann"))[1].replace(f"item {g1} ", "item X ") == \
        _refusal(lambda: task.retract(r1, "ann"))[1].replace(f"item {r1} ", "item X ")
    # answer, then withdraw: the same statuses back, and the gold answer is gone from the store
    assert task.submit(g1, "ann", gold[g1]) == task.submit(r1, "ann", "cat")
    assert task.retract(g1, "ann") == task.retract(r1, "ann")
    assert g1 not in set(task.gold_df()["item_id"]) and r1 not in set(task.labels_df()["item_id"])
    assert g1 in task.queue("ann") and r1 in task.queue("ann")  # both are served again
    assert task.submit(g1, "ann", gold[g1]) == "completed"  # and answered again without replace=True
    assert task.gold_df().set_index("item_id").loc[g1, "correct"]
    # a status action on a mixed batch marks both kinds; neither is served any more
    assert task.set_status([g2, r2], "discard", "ann") == 2
    assert g2 not in task.queue("ann") and r2 not in task.queue("ann")
    history = task.history()
    gold_rows = history[(history["item_id"].isin([g1, g2])) & (history["user_id"] == "ann")]
    assert list(gold_rows["action"]) == ["gold", "gold", "gold", "gold"]
    assert list(gold_rows["after"].fillna("-")) == [gold[g1], "-", gold[g1], "discard"]
    # bob's queue is his own: his gold item is still pending, and he cannot act on ann's answers
    assert _refusal(lambda: task.retract(g1, "bob"))[0] == "NotFoundError"
    # the real items' work replays from the history as before (gold answers are not labels)
    replayed = replay_answers(task.history_df(), "class")
    labels = task.labels_df()
    assert replayed[["item_id", "worker", "label"]].values.tolist() == \
        labels[["item_id", "worker", "label"]].values.tolist()


def test_a_status_action_on_a_gold_item_not_in_the_queue_is_refused_and_writes_nothing(pets, unchanged):
    gold = gold_of(pets)
    task = pets.tasks.create("g", assignee_ids=["ann"], gold=gold, gold_rate=0.1, seed=3)
    served = {i for i in task.queue("ann") if i in gold}
    other = next(i for i in gold if i not in served)  # a gold item never put in ann's queue
    real = next(i for i in task.queue("ann") if i not in gold)
    check = unchanged()
    with pytest.raises(PermissionDeniedError, match=f"item {other} of task .* is not assigned to 'ann'"):
        task.set_status([real, other], "discard", "ann")
    check()
