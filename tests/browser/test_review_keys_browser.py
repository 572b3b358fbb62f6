"""The ReviewWidget in a real JupyterLab, typed at: one key = one decision, on the item on screen.

A SQLite store (in the test's temporary folder) holds a manual-review task whose worker, ann,
labelled every item (from this process).  In a notebook made here rita reviews with the keys:
``a`` approves ann's label, ``1``-``3`` approve with that label (a correction), ``r`` rejects,
``u`` takes the last decision back (the item awaits review again).  The store is read from this
process after every round.  A second test shows a ConsensusView of the same task and a TaskBoard
beside the ReviewWidget and checks that the status counts they show are the store's
(``task.status_counts()``) after approve, reject and undo.
Screenshots: test-artifacts/browser/review-keys.png, review-consensus.png.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (distinct_pngs, open_widgets, press_keys, type_round, wait_answered,
                             widget_notebook, work)

import dltasks as dl

LABELS = ["circle", "square", "triangle"]          # keys 1, 2, 3
ROUNDS = ((120, "a2ra1a3r2a"), (30, "3ar1a2ra2a"))
N_ITEMS = 40


def review_store(folder: Path) -> tuple[Path, str, dict[int, str]]:
    """A store with a manual-review task (worker ann, reviewer rita) in which ann labelled every item.

    Returns the store's path, the task's id and ann's label of each item.
    """
    path = folder / "review.db"
    ds = dl.connect(path).datasets.create("shapes", labels=LABELS)
    ds.items.upload(distinct_pngs(folder / "img", N_ITEMS), item_metadata={"camera": "bench 2"})
    task = ds.tasks.create("review keys", assignee_ids=["ann"], review_strategy="manual", reviewer_ids=["rita"])
    ids = sorted(task.assignments_df(user_id="ann")["item_id"].astype(int))
    given = {item_id: LABELS[n % 3] for n, item_id in enumerate(ids)}
    for item_id, label in given.items():
        task.submit(item_id, "ann", label)
    return path, task.id, given


def decision(key: str, given: str) -> tuple[str, str, str | None]:
    """What a key leaves on an item ann labelled ``given``: (status, label, reviewer_label).

    >>> decision("a", "circle"), decision("2", "circle"), decision("1", "circle"), decision("r", "circle")
    (('approved', 'circle', None), ('approved', 'square', 'square'), ('approved', 'circle', None), \
('rejected', 'circle', None))
    """
    if key == "r":
        return "rejected", given, None
    if key == "a":
        return "approved", given, None
    label = LABELS[int(key) - 1]
    return "approved", label, (label if label != given else None)


def items_of(store_path: Path, task_id: str) -> dict[int, tuple[str, str, str | None]]:
    """Every item of the task as the store has it now: item -> (status, label, reviewer_label)."""
    df = dl.connect(store_path).tasks.get(task_id).items_df()
    return {int(r.item_id): (r.status, r.label, r.reviewer_label if isinstance(r.reviewer_label, str) else None)
            for r in df.itertuples(index=False)}



@pytest.mark.browser
@pytest.mark.timeout(240)
def test_review_keys_are_one_decision_each_on_the_item_on_screen(
        lab: str, work: Path, page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    store_path, task_id, given = review_store(tmp_path)
    notebook = widget_notebook(tmp_path, store_path, [task_id], widget="ReviewWidget", user="rita")
    widget = open_widgets(page, lab, notebook, work, ".dlt-review", 1).first
    buttons = [re.sub(r"\s+", " ", b).strip() for b in widget.locator("button").all_inner_texts()]
    assert buttons == ["a Approve", "1 circle", "2 square", "3 triangle", "r Reject", "u Undo"]
    expect(widget).to_contain_text("Labels given")
    widget.screenshot(path=artifacts / "review-keys.png")

    want = {i: ("awaiting_review", label, None) for i, label in given.items()}
    for pace, keys in ROUNDS:
        log = type_round(page, widget, keys, pace)
        on_screen = [int(e["item_id"]) for e in log]
        assert len(set(on_screen)) == len(keys), f"{pace} ms: one key per item on screen: {on_screen}"
        want.update({i: decision(e["key"], given[i]) for i, e in zip(on_screen, log)})
        assert items_of(store_path, task_id) == want, f"{pace} ms round: keys {keys} on items {on_screen}"
        expect(widget.locator(".dlt-notes .dlt-error")).to_have_count(0)

    # u: the last decision (an approve) is taken back; that item awaits review again, on screen
    last = on_screen[-1]
    assert log[-1]["key"] == "a"
    press_keys(page, "u", 0)
    wait_answered(widget)
    want[last] = ("awaiting_review", given[last], None)
    assert items_of(store_path, task_id) == want
    expect(widget).to_have_attribute("data-item-id", str(last))
    expect(widget.locator(".dlt-notes")).to_contain_text(f"(#{last}): your decision is taken back")
    # a reject taken back: the item awaits review again too (and is on screen)
    log = type_round(page, widget, "ru", 250)
    assert int(log[0]["item_id"]) == last and int(log[1]["item_id"]) != last
    assert items_of(store_path, task_id) == want
    expect(widget).to_have_attribute("data-item-id", str(last))


def view_counts(view: Any) -> dict[str, int]:
    """The item counts a ConsensusView shows (its "Show" list: ``awaiting review (37)``…)."""
    texts = view.locator("select").first.locator("option").all_inner_texts()
    out = {}
    for text in texts:
        name, n = re.fullmatch(r"(.+) \(([\d,]+)\)", text.replace("\xa0", " ").strip()).groups()
        if name not in ("all", "tied"):
            out[name.replace(" ", "_")] = int(n.replace(",", ""))
    return out


def board_counts(board: Any) -> dict[str, int]:
    """The item counts the TaskBoard shows for its one task (its progress bar's hover text:
    ``37 awaiting review, 2 approved, 1 rejected``)."""
    text = board.locator(".dlt-table div[title]", has_text="%").first.get_attribute("title")
    return {name.replace(" ", "_"): int(n.replace(",", ""))
            for n, name in re.findall(r"([\d,]+) ([a-z ]+?)(?:,|$)", text)}


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_views_show_the_stores_counts_after_approve_reject_and_undo(
        lab: str, work: Path, page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    store_path, task_id, _given = review_store(tmp_path)
    notebook = widget_notebook(tmp_path, store_path, [task_id], widget="ReviewWidget", user="rita",
                               more=("view = dl.widgets.ConsensusView(task)\nview",
                                     "board = dl.widgets.TaskBoard(store)\nboard"))
    widget = open_widgets(page, lab, notebook, work, ".dlt-review", 1).first
    view, board = page.locator(".dlt-consensus-view"), page.locator(".dlt-task-board")
    expect(view.locator("select").first.locator("option").first).to_contain_text(f"all ({N_ITEMS})")

    def store_counts() -> dict[str, int]:
        counts = dl.connect(store_path).tasks.get(task_id).status_counts()
        return {str(s): int(n) for s, n in counts.items() if n}

    def agree(step: str) -> None:
        from playwright.sync_api import TimeoutError

        want = store_counts()
        shows = """([root, want]) => {
            const opts = [...document.querySelector(root).querySelector('select').options].map(o => o.text);
            return Object.entries(want).every(([s, n]) => opts.some(
                t => t.replace(/\\u00a0/g, ' ').startsWith(s.replace(/_/g, ' ') + ' (' + n + ')')));
        }"""
        try:  # the view refreshes itself after work written in its kernel, while a refresh is quick
            page.wait_for_function(shows, arg=[".dlt-consensus-view", want], timeout=5_000)
        except TimeoutError:  # on a loaded machine it says "press Refresh" instead: do as a person would
            expect(view).to_contain_text("press Refresh")
            view.locator("button", has_text="Refresh").first.click()
            page.wait_for_function(shows, arg=[".dlt-consensus-view", want], timeout=20_000)
        shown = {s: n for s, n in view_counts(view).items() if n}
        assert shown == want, f"after {step}: the view shows {shown}, the store has {want}"
        deadline = time.monotonic() + 10                     # the board redraws itself after work
        while board_counts(board) != want and time.monotonic() < deadline:
            time.sleep(0.2)
        assert board_counts(board) == want, f"after {step}: the board shows {board_counts(board)}, the store {want}"

    agree("nothing")
    for step, keys in (("approve, approve as square, reject", "a2r"), ("undo (an approve)", "au"),
                       ("reject then approve", "ra"), ("reject, then undo it", "ru")):
        type_round(page, widget, keys, 250)
        agree(step)
    view.screenshot(path=artifacts / "review-consensus.png")
    board.screenshot(path=artifacts / "review-board.png")
