"""PartitionView, ConsensusView and TaskBoard headless: build on a temp store, click, read the tables."""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import pandas as pd

import dltasks as dl
from dltasks.widgets import ConsensusView, LabelingWidget, PartitionView, TaskBoard, WorkersView

UTC = _dt.timezone.utc


def consensus_task(dataset: Any, **options: Any) -> Any:
    opts = dict(assignee_ids=["ann", "bob", "cy"], workers_per_input=3, review_strategy="consensus",
                reviewer_ids=["rita"], approval_threshold=2, seed=1) | options
    return dataset.tasks.create("vote", **opts)


def vote(task: Any, item_id: int, labels: dict[str, str]) -> None:
    for user, label in labels.items():
        task.submit(item_id, user, label)


# -- PartitionView -------------------------------------------------------------------------
def test_partition_view_shows_each_assignee_with_share_done_and_percent(dataset: Any) -> None:
    task = dataset.tasks.create("split", assignee_ids=["ann", "bob"], weights={"ann": 3, "bob": 1}, seed=0)
    first = task.assignments_df().query("user_id == 'ann'")["item_id"].iloc[0]
    task.submit(int(first), "ann", "Adult")
    view = PartitionView(task)
    assert view.summary.loc["ann", "assigned"] == 8 and view.summary.loc["bob", "assigned"] == 2
    html = view.table.value
    assert html.count("<table") == 1
    assert "<td>ann</td>" in html and "75.0%" in html and "80.0%" in html and "12.5%" in html
    assert bytes(view.partition_chart.value).startswith(b"\x89PNG")
    assert "10 assignments" in view.title.value


def test_partition_view_refreshes_on_demand(dataset: Any) -> None:
    task = dataset.tasks.create("split", assignee_ids=["ann"], seed=0)
    view = PartitionView(task, auto_refresh=False)
    task.submit(int(task.items_df()["item_id"].iloc[0]), "ann", "Child")   # outside any widget
    assert view.summary.loc["ann", "done"] == 0
    chart = bytes(view.partition_chart.value)
    view.refresh_button.click()
    assert view.summary.loc["ann", "done"] == 1 and "10.0%" in view.table.value
    assert bytes(view.partition_chart.value) == chart        # the split did not change: no redraw
    task.add_assignees(["bob"])
    view.refresh()
    assert "<td>bob</td>" in view.table.value and bytes(view.partition_chart.value) != chart


def test_partition_view_refreshes_after_work_is_submitted_in_a_widget(dataset: Any) -> None:
    task = dataset.tasks.create("split", assignee_ids=["ann", "bob"], seed=0)
    view = PartitionView(task, refresh_budget=60.0)  # however slow a loaded machine makes a refresh
    quiet = PartitionView(task, auto_refresh=False)
    labeler = LabelingWidget(task, "ann")
    labeler.label("Adult")
    labeler.label("Child")
    assert view.summary.loc["ann", "done"] == 2
    assert quiet.summary.loc["ann", "done"] == 0


def test_views_refresh_after_work_written_in_code_on_any_copy_of_the_task(dataset: Any) -> None:
    task = consensus_task(dataset)
    split, votes = PartitionView(task, refresh_budget=60.0), ConsensusView(task, refresh_budget=60.0)
    same_task = dataset.tasks.get(task_id=task.id)  # another Task object for the same task
    iid = int(task.items_df()["item_id"].iloc[0])
    vote(same_task, iid, {"ann": "Adult", "bob": "Child"})
    assert split.summary.loc["ann", "done"] == 1 and split.summary.loc["bob", "done"] == 1
    assert votes.consensus.loc[iid, "n_labels"] == 2
    same_task.retract(iid, "bob")
    assert split.summary.loc["bob", "done"] == 0
    assert votes.consensus.loc[iid, "n_labels"] == 1
    vote(same_task, iid, {"cy": "Adult"})
    assert votes.consensus.loc[iid, "status"] == "approved" and votes.consensus.loc[iid, "label"] == "Adult"


def test_a_failing_listener_does_not_undo_or_hide_a_submit(dataset: Any, caplog: Any) -> None:
    from dltasks.work_events import work_events

    class Broken:
        def work_changed(self) -> None:
            raise RuntimeError("view exploded")

    task = dataset.tasks.create("split", assignee_ids=["ann"], seed=0)
    broken = Broken()
    work_events.subscribe(task.id, broken)
    iid = int(task.items_df()["item_id"].iloc[0])
    assert task.submit(iid, "ann", "Adult") == "completed"
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[iid, "ann", "Adult"]]
    assert "view exploded" in caplog.text and task.id in caplog.text
    work_events.unsubscribe(task.id, broken)


def test_a_slow_view_says_it_is_stale_instead_of_refreshing_after_each_label(dataset: Any) -> None:
    task = dataset.tasks.create("split", assignee_ids=["ann"], seed=0)
    view = PartitionView(task)
    view.refresh_budget = 0.0          # as if a refresh took longer than the budget (a huge task)
    LabelingWidget(task, "ann").label("Adult")
    assert view.stale and view.summary.loc["ann", "done"] == 0
    assert "press Refresh" in view.status.value
    view.refresh_button.click()
    assert not view.stale and view.summary.loc["ann", "done"] == 1 and "updated" in view.status.value


# -- ConsensusView -------------------------------------------------------------------------
def test_consensus_view_shows_status_agreement_and_workers(dataset: Any) -> None:
    task = consensus_task(dataset)
    vote(task, 1, {"ann": "Adult", "bob": "Adult"})
    vote(task, 2, {"ann": "Adult", "cy": "Child", "bob": "Adult"})
    vote(task, 3, {"ann": "Child", "bob": "Adult"})
    view = ConsensusView(task)
    assert view.counts.to_dict() == {"pending": 7, "awaiting_consensus": 1, "awaiting_review": 0, "approved": 2,
                                     "rejected": 0}
    expected = task.agreement()
    figures = view.figures.value
    assert f"{100 * expected['percent_agreement']:.1f}%" in figures
    assert f"{expected['fleiss_kappa']:.3f}" in figures and f"{expected['krippendorff_alpha']:.3f}" in figures
    assert "Fleiss" in figures and "Krippendorff" in figures
    assert "<td>cy</td>" in view.worker_table.value and "skill" not in view.worker_table.value
    skilled = ConsensusView(task, skill=True)
    assert "skill" in skilled.worker_table.value
    assert skilled.workers["skill"].notna().all()
    assert bytes(view.status_chart.value).startswith(b"\x89PNG")
    assert "approved at 2 of 3 votes" in view.title.value


def test_consensus_view_reads_the_labels_once_per_refresh(dataset: Any, monkeypatch: Any) -> None:
    task = consensus_task(dataset)
    vote(task, 1, {"ann": "Adult", "bob": "Child", "cy": "Child"})
    reads: list[int] = []
    read = task.labels_df
    monkeypatch.setattr(task, "labels_df", lambda: reads.append(1) or read())
    view = ConsensusView(task, skill=True)
    assert len(reads) == 1
    view.refresh_button.click()
    assert len(reads) == 2
    assert view.consensus.loc[1, "label"] == "Child" and "3</td>" in view.figures.value   # 3 labels
    assert view.workers.loc["ann", "agreement_with_consensus"] == 0.0 and "skill" in view.workers


def rows_of(view: Any) -> list[list[str]]:
    """The items table as the user reads it: one list of cell texts per row (tags stripped)."""
    import re
    body = view.items_table.value.split("<tbody>", 1)[1]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


def test_consensus_view_lists_every_item_with_the_stores_status(dataset: Any) -> None:
    task = consensus_task(dataset, workers_per_input=2, assignee_ids=["ann", "bob"])
    vote(task, 1, {"ann": "Adult", "bob": "Adult"})                 # approved by consensus
    vote(task, 2, {"ann": "Adult", "bob": "Child"})                 # a tie: awaiting review
    vote(task, 3, {"ann": "Child"})                                 # one vote of two
    view = ConsensusView(task, refresh_budget=60.0)  # refreshes after work however loaded the machine
    rows = rows_of(view)
    assert len(rows) == 10                                          # pending items are listed too
    # columns: thumbnail, id, status, label, votes, agreement
    assert rows[0][1:] == ["#1", "approved", "Adult", "2 of 2", "100.0%"]
    assert rows[1][1:] == ["#2", "awaiting review", "tie", "1 of 2", "50.0%"]
    assert rows[2][1:] == ["#3", "awaiting consensus", "Child", "1 of 1", "—"]   # one vote: no agreement
    assert rows[3][1:] == ["#4", "pending", "—", "—", "—"]
    names = [label for label, _ in view.picker.buttons.options]
    assert names[:3] == ["img00.jpg", "img01.jpg", "img02.jpg"]       # file names, not ids
    task.review(2, "rita", approve=False)
    assert rows_of(view)[1][2] == "rejected" and view.counts["rejected"] == 1


def test_consensus_view_filters_items_by_status(dataset: Any) -> None:
    task = consensus_task(dataset)
    vote(task, 1, {"ann": "Adult", "bob": "Adult"})
    vote(task, 2, {"ann": "Adult", "bob": "Child"})                 # tied, still waiting
    view = ConsensusView(task)
    assert view.items_table.value.count("<tr") == 11                # header + the 10 items
    view.filter_box.value = "tied"
    assert view.status_filter == "tied"
    assert view.selected().index.tolist() == [2] and [r[1] for r in rows_of(view)] == ["#2"]
    view.filter_box.value = "approved"
    assert view.selected().index.tolist() == [1]
    view.filter_box.value = "pending"
    assert view.selected().index.tolist() == list(range(3, 11)) and "page 1 of 1 <span class='dlt-muted'>(8 items)" in view.page_label.value
    view.filter_box.value = "awaiting_review"
    assert "no items with this status" in view.items_table.value
    assert ("pending (8)", "pending") in view.filter_box.options and ("tied (1)", "tied") in view.filter_box.options


def test_consensus_view_pages_through_items(dataset: Any) -> None:
    task = consensus_task(dataset)
    for item_id in range(1, 8):
        vote(task, item_id, {"ann": "Adult"})
    view = ConsensusView(task, page_size=4)
    assert view.pages == 3 and "page 1 of 3" in view.page_label.value
    assert view.prev_button.disabled and not view.next_button.disabled
    view.next_button.click()
    view.next_button.click()
    assert view.page == 3 and view.next_button.disabled
    assert [r[1] for r in rows_of(view)] == ["#9", "#10"]
    assert [label for label, _ in view.picker.buttons.options] == ["img08.jpg", "img09.jpg"]
    view.filter_box.value = "awaiting_consensus"                    # a new filter starts at page 1
    assert view.page == 1 and "page 1 of 2 <span class='dlt-muted'>(7 items)" in view.page_label.value


def test_clicking_an_item_shows_it_with_its_votes(dataset: Any) -> None:
    task = consensus_task(dataset)
    vote(task, 2, {"ann": "Adult", "bob": "Child"})
    view = ConsensusView(task, refresh_budget=60.0)
    assert view.detail.layout.display == "none"                     # nothing picked: no empty pane
    view.picker.buttons.value = 2                                   # the click on "img01.jpg"
    assert view.item == 2 and view.detail.layout.display is None
    assert "img01.jpg" in view.detail_title.value and "awaiting consensus" in view.detail_title.value
    assert "<td>ann</td><td>Adult</td>" in view.votes_table.value
    assert "<td>bob</td><td>Child</td>" in view.votes_table.value
    task.submit(2, "cy", "Child")                                   # the pane follows the work
    assert "<td>cy</td><td>Child</td>" in view.votes_table.value and "approved" in view.detail_title.value


def test_consensus_view_shows_thumbnails_of_local_image_files(store: Any, tmp_path: Any) -> None:
    from PIL import Image

    paths = []
    for i, colour in enumerate(["red", "blue"]):
        path = tmp_path / f"shape{i}.png"
        Image.new("RGB", (400, 300), colour).save(path)
        paths.append(str(path))
    ds = store.datasets.create("pictures", labels=["a", "b"])
    ds.items.import_df(pd.DataFrame({"name": ["shape0.png", "shape1.png"], "path": paths, "mime": "image/png"}))
    task = ds.tasks.create("look", assignee_ids=["ann"])
    view = ConsensusView(task)
    html = view.items_table.value
    assert html.count('<img class="dlt-thumb" src="data:image/jpeg;base64,') == 2
    assert len(html) < 20_000                                       # shrunk thumbnails, not the files
    view.item = int(task.items_df()["item_id"].iloc[1])
    assert bytes(view.picture.value) == open(paths[1], "rb").read()


def test_honest_figures_with_one_worker(dataset: Any) -> None:
    task = dataset.tasks.create("solo", assignee_ids=["ann"], seed=0)
    for item_id in (1, 2, 3):
        task.submit(item_id, "ann", "Adult")
    view = ConsensusView(task)
    assert "<td>ann</td><td class=\"num\">3</td><td class=\"num\">0</td><td class=\"num\">—</td>" in view.worker_table.value
    assert "100.0%" not in view.worker_table.value and "100.0%" not in view.items_table.value
    assert "percent agreement</td><td>—</td>" in view.figures.value


def test_consensus_view_updates_when_labels_come_in(dataset: Any) -> None:
    task = consensus_task(dataset)
    view = ConsensusView(task, refresh_budget=60.0)
    assert len(view.consensus) == 0 and "—" in view.figures.value
    for user in ("ann", "bob"):
        task.submit(1, user, "Child")
    assert view.counts["approved"] == 1 and view.consensus.loc[1, "label"] == "Child"
    assert rows_of(view)[0][2:4] == ["approved", "Child"]


def nonzero(counts: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in counts.items() if v}


def test_views_agree_with_the_store_after_every_kind_of_work(dataset: Any) -> None:
    task = consensus_task(dataset, workers_per_input=2, assignee_ids=["ann", "bob"])
    view = ConsensusView(task, refresh_budget=60.0)
    board = TaskBoard(dataset.store)
    board.refresh_budget = 60.0

    def check(expected: dict[str, int]) -> None:
        truth = nonzero(task.items_df()["status"].value_counts())
        assert truth == expected
        assert nonzero(view.counts) == truth                        # the view refreshed by itself
        assert nonzero(board.counts[task.id]) == truth
        for status, n in truth.items():
            assert (f"{status.replace('_', ' ')} ({n})", status) in view.filter_box.options
            assert f"{n} {status.replace('_', ' ')}" in board.table.value   # the progress bar's hover text
        shown = [r[2] for r in rows_of(view)]
        assert nonzero(pd.Series(shown).str.replace(" ", "_").value_counts()) == truth

    check({"pending": 10})
    vote(task, 1, {"ann": "Adult", "bob": "Adult"})
    vote(task, 2, {"ann": "Adult", "bob": "Child"})
    vote(task, 3, {"ann": "Child", "bob": "Adult"})
    vote(task, 4, {"ann": "Child", "bob": "Adult"})
    task.submit(5, "ann", "Child")
    check({"pending": 5, "awaiting_consensus": 1, "awaiting_review": 3, "approved": 1})      # submit
    task.retract(5, "ann")
    check({"pending": 6, "awaiting_review": 3, "approved": 1})                              # retract
    task.review(2, "rita", approve=True)
    check({"pending": 6, "awaiting_review": 2, "approved": 2})                              # approve
    task.review(3, "rita", approve=False)
    check({"pending": 6, "awaiting_review": 1, "approved": 2, "rejected": 1})               # reject
    task.reopen(2, "rita")
    check({"pending": 6, "awaiting_review": 2, "approved": 1, "rejected": 1})               # reopen
    task.set_status([6], "discard", "ann")
    check({"pending": 5, "awaiting_review": 2, "approved": 1, "rejected": 1, "discarded": 1})   # set_status
    # the page shows the store's statuses, not the ones the votes alone would give
    assert rows_of(view)[2][2:4] == ["rejected", "tie"]


def test_consensus_view_shows_the_figures_of_the_tasks_type(dataset: Any) -> None:
    task = consensus_task(dataset)
    vote(task, 1, {"ann": "Adult", "bob": "Child"})
    votes = ConsensusView(task)
    assert votes.charts.layout.display == "none"                     # class tasks: the figures of before
    assert "Agreement per worker" in votes.workers_head.value and ("tied (1)", "tied") in votes.filter_box.options
    boxes = dataset.tasks.create("boxes", annotation_type="box", assignee_ids=["ann", "bob"], workers_per_input=2,
                                 review_strategy="consensus", reviewer_ids=["rita"], approval_threshold=2)
    boxes.submit(1, "ann", annotations=[dl.Box(0, 0, 10, 10, "Adult")])
    boxes.submit(1, "bob", annotations=[dl.Box(0, 0, 10, 8, "Adult")])   # IoU 80 / 100
    view = ConsensusView(boxes)
    assert view.charts.layout.display is None and "Shapes per worker" in view.workers_head.value
    assert rows_of(view)[0][1:] == ["#1", "approved", "2", "0.80", "1"]
    assert "tied" not in [value for _, value in view.filter_box.options]
    view.status_filter = "tied"                                      # no ties between shapes: an empty page
    assert view.selected().empty and "no items with this status" in view.items_table.value


# -- TaskBoard -----------------------------------------------------------------------------
def crowd_task(dataset: Any) -> Any:
    """ann and bob agree on items 1-6 and cy says the opposite; on 7 and 8 only ann (Child) and cy (Adult)
    voted: a tie the majority breaks to "Adult" and the methods that weigh workers give to ann."""
    task = dataset.tasks.create("crowd", assignee_ids=["ann", "bob", "cy"], workers_per_input=3)
    for item_id in range(1, 7):
        truth = "Adult" if item_id % 2 else "Child"
        vote(task, item_id, {"cy": "Child" if truth == "Adult" else "Adult", "ann": truth, "bob": truth})
    for item_id in (7, 8):
        vote(task, item_id, {"ann": "Child", "cy": "Adult"})
    return task


def test_consensus_view_labels_by_a_chosen_method(dataset: Any) -> None:
    task = crowd_task(dataset)
    view = ConsensusView(task, refresh_budget=60.0)
    assert [r[3] for r in rows_of(view)][6:8] == ["tie", "tie"]            # the task's rule: a tie
    assert "labels by" not in view.title.value
    view.methods.dropdown.value = "dawid_skene"                            # the user picks Dawid-Skene
    assert view.method == "dawid_skene"
    expected = task.consensus(method="dawid_skene")
    assert view.consensus["label"].to_dict() == expected["label"].to_dict()
    assert view.consensus.loc[[7, 8], "label"].tolist() == ["Child", "Child"]
    rows = rows_of(view)
    assert rows[6][2:] == ["pending", "Child", "1 of 2", "50.0%",
                           f"{100 * expected.loc[7, 'probability']:.1f}%"]
    assert rows[0][3:5] == ["Adult", "2 of 3"] and rows[8][3:] == ["—", "—", "—", "—"]   # unlabelled: nothing
    assert "labels by Dawid-Skene · statuses: majority of 3 votes" in view.title.value
    assert "with the Dawid-Skene label" in view.workers_head.value
    assert view.workers.loc["cy", "agreement_with_consensus"] == 0.0          # cy agrees with no label
    view.method = "majority"                                               # in code: the same
    assert view.consensus.loc[[7, 8], "label"].tolist() == ["Adult", "Adult"]
    assert [r[3] for r in rows_of(view)][6:8] == ["Adult", "Adult"]
    view.method = ""
    assert [r[3] for r in rows_of(view)][6:8] == ["tie", "tie"] and "probability" not in view.consensus


def test_consensus_view_compares_the_methods(dataset: Any) -> None:
    task = crowd_task(dataset)
    view = ConsensusView(task, refresh_budget=60.0)
    assert view.comparison is None and view.methods.summary.value == ""
    view.methods.toggle.value = True                                       # "Compare methods"
    pd.testing.assert_frame_equal(view.comparison, task.compare_methods(), check_names=False)
    assert "6 methods disagree on 2 of 8 items (25.0%)" in view.methods.summary.value
    table = view.methods.table.value
    assert "<td>#7</td><td>Adult</td><td>Child</td>" in table and "<td>#1</td>" not in table
    assert "<th>majority vote</th>" in table and "<th>Dawid-Skene</th>" in table
    assert ("methods disagree (2)", "disagree") in view.filter_box.options
    view.filter_box.value = "disagree"
    assert view.selected().index.tolist() == [7, 8] and [r[1] for r in rows_of(view)] == ["#7", "#8"]
    task.submit(7, "bob", "Child")                                         # the work moves the comparison
    assert "on 1 of 8 items" in view.methods.summary.value and view.selected().index.tolist() == [8]
    view.compare = False
    assert view.comparison is None and view.status_filter == "all" and view.methods.table.value == ""


def test_the_method_choice_is_for_class_tasks(dataset: Any) -> None:
    task = crowd_task(dataset)
    view = ConsensusView(task)
    try:
        view.method = "vibes"
    except dl.ValidationError as err:
        assert err.field == "method" and "dawid_skene" in str(err)
    else:
        raise AssertionError("an unknown method was taken")
    assert view.method == ""
    empty = ConsensusView(dataset.tasks.create("fresh", assignee_ids=["ann"]), method="glad", compare=True)
    assert empty.consensus.empty and "no votes to compare yet" in empty.methods.summary.value
    shown = flatten(view)                                   # the items filter comes first, the choice beside it
    assert shown.index(view.filter_box) < shown.index(view.methods.dropdown) < shown.index(view.items_table)
    text = ConsensusView(dataset.tasks.create("notes", assignee_ids=["ann"], annotation_type="text"))
    assert text.methods.layout.display == "none" and text.methods.dropdown not in flatten(text)


def flatten(widget: Any) -> list[Any]:
    """The widgets inside ``widget`` in the order the page shows them."""
    return [widget] + [w for child in getattr(widget, "children", ()) for w in flatten(child)]


def make_tasks(dataset: Any) -> list[Any]:
    past = _dt.datetime(2020, 1, 1, tzinfo=UTC)
    a = dataset.tasks.create("alpha", assignee_ids=["ann"], due_date=past, priority="high")
    b = dataset.tasks.create("beta", assignee_ids=["bob", "cy"])
    c = dataset.tasks.create("gamma", assignee_ids=["ann", "bob"])
    c.status = "done"
    c = c.update()
    a.submit(int(a.items_df()["item_id"].iloc[0]), "ann", "Adult")
    return [a, b, c]


def test_task_board_lists_tasks_on_one_html_table(dataset: Any) -> None:
    a, b, c = make_tasks(dataset)
    board = TaskBoard(dataset.store)
    assert board.frame["task"].tolist() == ["gamma", "beta", "alpha"]
    assert [label for label, _ in board.open_box.buttons.options] == ["gamma", "beta", "alpha"]  # first column
    html = board.table.value
    assert html.count("<table") == 1 and html.count("<tr") == 4
    assert html.count('class="dlt-overdue"') == 1      # only alpha is late and still open
    assert "faces" in html and "high" in html and "bob, cy" in html
    assert f'<span class="dlt-id">{c.id[:8]}</span>' in html and c.id not in html     # ids short, muted
    assert board.frame.set_index("task").loc["alpha", "progress"] == 10.0
    assert "width:10.0%" in html and 'title="9 pending, 1 completed"' in html


def test_task_board_abbreviates_assignees_with_the_full_list_on_hover(dataset: Any) -> None:
    team = [f"{n}@example.com" for n in ("ann", "bob", "cy", "dee", "eve")]
    dataset.tasks.create("team", assignee_ids=team)
    html = TaskBoard(dataset.store).table.value
    assert f'<span title="{", ".join(team)}">ann, bob +3</span>' in html
    assert "ann@example.com, bob" not in html.replace(f'title="{", ".join(team)}"', "")


def test_task_board_is_one_widget_tree_whatever_the_number_of_tasks(dataset: Any) -> None:
    def count(widget: Any) -> int:
        return 1 + sum(count(c) for c in getattr(widget, "children", ()))
    small = count(TaskBoard(dataset.store))
    for i in range(30):
        dataset.tasks.create(f"t{i}", assignee_ids=["ann"])
    board = TaskBoard(dataset.store, per_page=25)
    assert count(board) == small
    assert board.pages == 2 and board.table.value.count("<tr") == 26


def test_task_board_filters_by_assignee_and_status_and_pages(dataset: Any) -> None:
    make_tasks(dataset)
    board = TaskBoard(dataset.store, per_page=1)
    assert board.total == 3 and board.pages == 3
    board.next_button.click()
    assert board.page == 2 and board.frame["task"].tolist() == ["beta"]
    board.assignee_box.value = "ann"
    assert board.page == 1 and board.total == 2
    board.status_box.value = "in_progress"
    assert board.total == 1 and board.frame["task"].tolist() == ["alpha"]
    board.assignee_box.value = "nobody" if "nobody" in [v for _, v in board.assignee_box.options] else "cy"
    assert board.frame["task"].tolist() == ["beta"]


def test_clicking_a_task_opens_its_partition_and_consensus(dataset: Any) -> None:
    a, _, _ = make_tasks(dataset)
    board = TaskBoard(dataset.store)
    board.open_box.buttons.value = a.id                # the click on "alpha" in the first column
    assert board.selected == a.id
    (tabs,) = board.detail.children
    part, cons, workers = tabs.children
    assert isinstance(part, PartitionView) and isinstance(cons, ConsensusView) and isinstance(workers, WorkersView)
    assert part.task == a and workers.task == a and tabs.titles == ("Partition", "Consensus", "Workers")
    board.status_box.value = "done"                  # alpha is filtered out: it stays open below
    assert board.open_box.buttons.value is None and board.detail.children == (tabs,)
    board.status_box.value = ""
    assert board.open_box.buttons.value == a.id      # shown picked again
    board.show_task("")
    assert board.detail.children == () and board.open_box.buttons.value is None


def test_task_board_progress_follows_work_done_in_code(dataset: Any) -> None:
    a, _, _ = make_tasks(dataset)
    board = TaskBoard(dataset.store)
    board.refresh_budget = 60.0
    a.submit(int(a.items_df()["item_id"].iloc[1]), "ann", "Child")
    assert board.frame.set_index("task").loc["alpha", "progress"] == 20.0


# -- WorkersView ---------------------------------------------------------------------------
def workers_view_rows(view: Any) -> dict[str, list[str]]:
    """The workers table as the user reads it: user -> the row's cell texts."""
    import re
    body = view.table.value.split("<tbody>", 1)[1]
    rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]
    return {r[0]: r[1:] for r in rows}


def test_workers_view_shows_time_per_item_and_throughput(dataset: Any) -> None:
    task = dataset.tasks.create("timed", assignee_ids=["ann", "bob"], seed=0)
    mine = task.assignments_df().groupby("user_id")["item_id"].apply(list)
    for item_id, seconds in zip(mine["ann"][:3], [4.0, 6.0, 20.0]):
        task.submit(int(item_id), "ann", "Adult", seconds=seconds)
    task.submit(int(mine["bob"][0]), "bob", "Child")                 # answered from code: no time
    view = WorkersView(task, refresh_budget=60.0)
    progress = task.progress()
    rows = workers_view_rows(view)
    assert rows["ann"] == ["5", "3", "60.0%", "6.0 s", f"{progress.loc['ann', 'items_per_hour']:,.1f}"]
    assert rows["bob"] == ["5", "1", "20.0%", "—", "—"]
    assert rows["total"][:3] == ["10", "4", "40.0%"]
    assert "qualification" not in view.table.value and "flagged" not in view.table.value
    assert bytes(view.throughput_chart.value).startswith(b"\x89PNG")
    task.submit(int(mine["bob"][1]), "bob", "Adult", seconds=2.0)    # the view follows the work
    assert workers_view_rows(view)["bob"][:4] == ["5", "2", "40.0%", "2.0 s"]


def test_workers_view_shows_who_passed_the_qualification(dataset: Any) -> None:
    quiz = dataset.tasks.create_qualification_task("quiz", gold={9: "Adult", 10: "Child"},
                                                   assignee_ids=["ann", "bob"], pass_accuracy=1.0)
    task = dataset.tasks.create("gated", assignee_ids=["ann", "bob"], items=list(range(1, 9)), qualification=quiz)
    for user, answers in {"ann": ["Adult", "Child"], "bob": ["Adult", "Adult"]}.items():
        for item_id, label in zip([9, 10], answers):
            quiz.submit(item_id, user, label)
    rows = workers_view_rows(WorkersView(task, charts=False))
    assert rows["ann"][-2:] == ["passed", "100.0%"] and rows["bob"][-2:] == ["not passed", "50.0%"]
    own = WorkersView(quiz, charts=False)
    assert workers_view_rows(own)["bob"][-2:] == ["not passed", "50.0%"]
    assert "pass at 100.0% right" in own.title.value


def test_workers_view_marks_flagged_workers(dataset: Any) -> None:
    task = dataset.tasks.create("honeypots", assignee_ids=["ann", "bob"], items=list(range(1, 9)),
                                gold={9: "Adult", 10: "Child"}, gold_rate=0.2, min_gold_accuracy=0.9, min_gold_n=1,
                                seed=0)
    for user, label in (("ann", "Child"), ("bob", None)):
        for item_id in task.queue(user):
            if item_id in (9, 10):
                task.submit(item_id, user, label or ("Adult" if item_id == 9 else "Child"))
    assert task.flagged_workers()["user_id"].tolist() == ["ann"]
    rows = workers_view_rows(WorkersView(task, charts=False))
    assert rows["ann"][-1] == "flagged" and rows["bob"][-1] == "" and rows["total"][-1] == ""


def test_workers_view_shows_how_often_each_worker_agrees_with_the_model(dataset: Any) -> None:
    task = dataset.tasks.create("predicted", assignee_ids=["ann", "bob"], items=[1, 2, 3, 4], workers_per_input=2)
    for item_id, ann, bob in ((1, "Adult", "Adult"), (2, "Child", "Child"), (3, "Child", "Adult"),
                              (4, "Child", "Child")):
        task.submit(item_id, "ann", ann)
        task.submit(item_id, "bob", bob)
    view = WorkersView(task, charts=False)
    assert "agrees with model" not in view.table.value                    # no predictions: no column
    task.import_predictions(pd.DataFrame({"item_id": [1, 1, 2, 3], "label": ["Adult", "Child", "Child", "Adult"],
                                          "score": [0.7, 0.3, 0.6, 0.8]}), model="m1")
    view.refresh()
    header = re.findall(r"<th[^>]*>(.*?)</th>", view.table.value.split("<tbody>", 1)[0])
    assert header[-1] == "agrees with model"
    rows = workers_view_rows(view)                                          # item 4 has no prediction
    assert rows["ann"][-1] == "66.7% (2 of 3)" and rows["bob"][-1] == "100.0% (3 of 3)"
    assert rows["total"][-1] == "83.3% (5 of 6)"
    assert task.model_agreement().loc["ann", "agree"] == 2                  # the store's figure


def test_workers_view_agreement_with_the_model_before_any_label(dataset: Any) -> None:
    task = dataset.tasks.create("predicted", assignee_ids=["ann"], items=[1, 2])
    task.import_predictions(pd.DataFrame({"item_id": [1], "label": ["Adult"], "score": [0.9]}))
    rows = workers_view_rows(WorkersView(task, charts=False))
    assert rows["ann"][-1] == "—" and rows["total"][-1] == "—"


def test_dl_widgets_exports_every_widget() -> None:
    names = ["TaskForm", "DueDatePicker", "AssigneePicker", "FilterBuilder", "PartitionView", "ConsensusView",
             "TaskBoard", "LabelingWidget", "ReviewWidget", "WorkersView"]
    assert all(hasattr(dl.widgets, n) for n in names)
