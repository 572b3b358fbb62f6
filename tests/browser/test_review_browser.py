"""notebooks/05_label_and_review.ipynb in a real JupyterLab: the review queue and the task board.

Run all cells, filter the TaskBoard by assignee and open the task's consensus tab (the board
first: it does not depend on the review), then approve an item in the ReviewWidget.  Screenshots: test-artifacts/browser/1*-*.png.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import REPO, open_and_run

NOTEBOOK = REPO / "notebooks" / "05_label_and_review.ipynb"


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_review_and_board_in_jupyterlab(lab: str, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    kernel = open_and_run(page, lab, NOTEBOOK, artifacts)

    board = page.locator(".dlt-task-board")
    expect(board.locator(".dlt-rowpick").first).to_contain_text("shapes: label and review", timeout=180_000)
    expect(kernel).to_be_visible(timeout=120_000)

    # -- the board: filter by assignee, open the task's consensus ----------------------------
    rows_before = board.locator(".dlt-table tbody tr").count()
    board.locator(".widget-dropdown", has=page.locator("label", has_text="Assignee")).locator("select") \
        .select_option(label="quinn@example.com")
    expect(board.locator(".dlt-table tbody tr")).not_to_have_count(rows_before)
    expect(board.locator(".dlt-rowpick").first).not_to_contain_text("shapes: label and review")
    board.locator(".widget-dropdown", has=page.locator("label", has_text="Assignee")).locator("select") \
        .select_option(label="everyone")
    expect(board.locator(".dlt-rowpick").first).to_contain_text("shapes: label and review")
    board.locator(".lm-TabBar-tab", has_text="Consensus").click()
    expect(board.locator(".dlt-consensus-view")).to_be_visible()
    expect(kernel).to_be_visible()
    board.screenshot(path=artifacts / "11-task-board.png")

    # -- review: approve the item shown ------------------------------------------------------
    review = page.locator(".dlt-review")
    counter = review.locator(".dlt-count")
    expect(counter).to_contain_text("awaiting review")
    waiting = int(re.search(r"(\d+) awaiting review", counter.inner_text()).group(1))
    assert waiting >= 1, "the notebook should leave items for the reviewer"
    expect(review.locator("img").first).to_be_visible()
    expect(review).to_contain_text("Labels given")
    expect(review).to_contain_text("Approve (a) gives")
    review.screenshot(path=artifacts / "10-review-queue.png")
    shown = review.get_attribute("data-item-id")
    review.locator("button.dlt-button", has_text="Approve").click()
    expect(counter).to_contain_text(f"{waiting - 1:,} awaiting review")
    expect(review.locator(".dlt-notes > div").last).to_contain_text(f"(#{shown}): approved")
    expect(review).to_have_attribute("data-unanswered", "0")
