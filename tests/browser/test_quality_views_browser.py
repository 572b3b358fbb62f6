"""The quality views of a task in a real JupyterLab: the TaskBoard's Workers tab and the
ConsensusView's choice of truth-inference method.

The store (a SQLite file in the test's temporary folder) has a qualification task and a task
gated by it, answered with times on screen, and a crowd task where the methods disagree on two
items.  The test opens the gated task's Workers tab (who passed, seconds per item, the
throughput chart), then the crowd task's Consensus tab: picks Dawid-Skene (the tied items take
the reliable worker's label) and compares the methods.  Screenshots:
test-artifacts/browser/quality-workers.png and quality-methods.png.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser_helpers import open_and_run, wait_for_run, work, write_notebook  # noqa: F401

import dltasks as dl


def make_store(folder: Path) -> Path:
    """A qualification ('quiz'), a task gated by it ('gated', with times), and 'crowd' (methods disagree)."""
    path = folder / "quality.db"
    ds = dl.connect(path).datasets.create("faces", labels=["Adult", "Child"])
    ds.items.import_df(pd.DataFrame({"name": [f"img{i:02d}.jpg" for i in range(1, 13)]}))
    quiz = ds.tasks.create_qualification_task("quiz", gold={11: "Adult", 12: "Child"}, assignee_ids=["ann", "bob"],
                                              pass_accuracy=1.0)
    for user, answers in {"ann": ["Adult", "Child"], "bob": ["Adult", "Adult"]}.items():
        for item_id, label in zip([11, 12], answers):
            quiz.submit(item_id, user, label, seconds=3.0)
    gated = ds.tasks.create("gated", assignee_ids=["ann", "bob"], items=list(range(1, 5)), qualification=quiz)
    for item_id, seconds in zip(gated.queue("ann"), [4.0, 6.0]):
        gated.submit(item_id, "ann", "Adult", seconds=seconds)
    crowd = ds.tasks.create("crowd", assignee_ids=["ann", "bob", "cy"], items=list(range(1, 9)), workers_per_input=3)
    for item_id in range(1, 7):
        truth = "Adult" if item_id % 2 else "Child"
        crowd.submit(item_id, "cy", "Child" if truth == "Adult" else "Adult")
        crowd.submit(item_id, "ann", truth)
        crowd.submit(item_id, "bob", truth)
    for item_id in (7, 8):
        crowd.submit(item_id, "ann", "Child")
        crowd.submit(item_id, "cy", "Adult")
    return path


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_workers_tab_and_method_choice(lab: str, work: Path, page: Any, artifacts: Path,  # noqa: F811
                                       tmp_path: Path) -> None:
    from playwright.sync_api import expect

    store_path = make_store(tmp_path)
    notebook = write_notebook(tmp_path / "quality.ipynb", [
        f"import dltasks as dl\nstore = dl.connect({str(store_path)!r})\nboard = dl.widgets.TaskBoard(store)\nboard"])
    open_and_run(page, lab, notebook, work)
    wait_for_run(page, 180_000)
    board = page.locator(".dlt-task-board")
    names = board.locator(".dlt-rowpick button")
    expect(names).to_have_count(3, timeout=60_000)

    # -- the gated task's workers: who passed, seconds per item, throughput --------------------
    names.filter(has_text=re.compile("^gated$")).click()
    board.locator(".lm-TabBar-tab", has_text="Workers").click()
    workers = board.locator(".dlt-workers-view")
    expect(workers).to_be_visible()
    expect(workers).to_contain_text("workers get items once they pass the qualification")
    rows = workers.locator(".dlt-table tbody tr")
    expect(rows.filter(has_text="ann")).to_contain_text("5.0 s")
    expect(rows.filter(has_text="ann")).to_contain_text("passed")
    expect(rows.filter(has_text="bob")).to_contain_text("not passed")
    chart = workers.locator("img")
    expect(chart).to_be_visible()
    assert chart.evaluate("i => i.naturalWidth") > 100, "the throughput chart is drawn"
    workers.screenshot(path=artifacts / "quality-workers.png")

    # -- the crowd task's consensus by Dawid-Skene, and the methods compared -------------------
    names.filter(has_text=re.compile("^crowd$")).click()
    board.locator(".lm-TabBar-tab", has_text="Consensus").click()
    view = board.locator(".dlt-consensus-view")
    expect(view).to_be_visible()
    items = view.locator(".dlt-table").last
    tied = items.locator("tbody tr").filter(has_text="#7")
    expect(tied).to_contain_text("tie")
    by = view.locator(".widget-dropdown", has=page.locator("label", has_text="Labels by")).locator("select")
    by.select_option(label="Dawid-Skene")
    expect(view).to_contain_text("labels by Dawid-Skene")
    expect(tied).to_contain_text("Child")
    expect(tied).not_to_contain_text("tie")
    view.locator("button", has_text="Compare methods").click()
    expect(view).to_contain_text("6 methods disagree on 2 of 8 items (25.0%)", timeout=30_000)
    show = view.locator(".widget-dropdown", has=page.locator("label", has_text="Show")).locator("select")
    show.select_option(label="methods disagree (2)")
    expect(items.locator("tbody tr")).to_have_count(2)
    view.screenshot(path=artifacts / "quality-methods.png")
