"""notebooks/01_quickstart.ipynb in a real JupyterLab, clicked through in headless Chromium.

Run all cells, fill the TaskForm by hand (the notebook's autofill is off), press Create, see
the partition table and chart, label a few items in the LabelingWidget as two workers, and
see the ConsensusView count the labels.  Screenshots: test-artifacts/browser/*.png.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import REPO, open_and_run

NOTEBOOK = REPO / "notebooks" / "01_quickstart.ipynb"
WORKERS = ["alice@example.com", "bob@example.com", "carol@example.com"]


def field(form: Any, kind: str, label: str) -> Any:
    """The input (or select) of the ipywidget of class ``kind`` whose description is ``label``."""
    box = form.locator(f".widget-{kind}").filter(has=form.page.locator("label", has_text=re.compile(f"^{label}$")))
    return box.locator("select" if kind == "dropdown" else "input").first


def add_person(picker_input: Any, form: Any, user: str) -> None:
    from playwright.sync_api import expect

    picker_input.fill(user)
    picker_input.press("Enter")
    form.locator(".widget-label", has_text=re.compile(f"^{re.escape(user)}$")).first.wait_for()
    expect(picker_input).to_have_value("")          # the picker cleared the box: ready for the next one


def loaded_images(locator: Any) -> int:
    return int(locator.evaluate_all("imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"))


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_quickstart_round_in_jupyterlab(lab: str, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    kernel = open_and_run(page, lab, NOTEBOOK, artifacts)

    form = page.locator(".dlt-task-form")
    form.wait_for(timeout=120_000)
    expect(page.locator(".jp-OutputArea-output", has_text="no task yet")).to_be_visible(timeout=120_000)
    expect(page.locator(".jp-OutputArea-output i", has_text="Create a task with the form above")).to_be_visible()
    form.screenshot(path=artifacts / "01-form-empty.png")

    # -- fill the form by hand ---------------------------------------------------------------
    name = form.locator("input[placeholder='e.g. faces-round-1']")
    name.fill("browser round")
    name.press("Enter")
    assignee_box, reviewer_box = (form.locator("input[placeholder='user id or e-mail']").nth(i) for i in (0, 1))
    for user in WORKERS:
        add_person(assignee_box, form, user)
    per_item = field(form, "text", "per item")
    per_item.fill("2")
    per_item.press("Enter")
    field(form, "dropdown", "Review").select_option(label="consensus")
    add_person(reviewer_box, form, "rita@example.com")
    preview = form.locator(".dlt-table").filter(has_text="target share").first
    expect(preview).to_contain_text("carol@example.com")
    expect(preview).to_contain_text("actual share")
    form.screenshot(path=artifacts / "02-form-filled-with-preview.png")

    form.locator("button", has_text="Create task").click()

    # -- the created task's split ------------------------------------------------------------
    expect(form.locator(".dlt-ok")).to_contain_text("created task 'browser round'", timeout=60_000)
    split = form.locator(".dlt-partition-view")
    table = split.locator(".dlt-table")
    for user in WORKERS:
        expect(table).to_contain_text(user)
    expect(split.locator("img")).to_have_count(1)
    page.wait_for_function("el => el.complete && el.naturalWidth > 200",
                           arg=split.locator("img").element_handle())
    assert loaded_images(split.locator("img")) == 1
    split.screenshot(path=artifacts / "03-partition-after-create.png")
    label_as = page.locator(".widget-toggle-buttons", has=page.locator("label", has_text="Label as"))
    buttons = label_as.locator("button")
    expect(buttons).to_have_count(len(WORKERS))
    assert buttons.all_inner_texts() == WORKERS                          # "Label as" shows whole e-mails,
    assert buttons.evaluate_all("bs => bs.every(b => b.scrollWidth <= b.clientWidth)")   # none cut short

    # -- label as two workers ----------------------------------------------------------------
    labeler = page.locator(".dlt-labeling")
    labeler.wait_for()
    consensus = page.locator(".dlt-consensus-view")
    labels_row = consensus.locator("tr", has=page.locator("td", has_text=re.compile("^labels$")))
    labels_figure = labels_row.locator("td").nth(1)
    expect(labels_figure).to_have_text("0")
    page.wait_for_function("el => el.complete && el.naturalWidth > 0",
                           arg=labeler.locator("img").first.element_handle())
    labeler.screenshot(path=artifacts / "04-labeling.png")
    given = 0
    for user_index, label in ((0, "circle"), (1, "circle")):
        if user_index:
            page.locator(".widget-toggle-buttons button", has_text=WORKERS[user_index]).click()
            expect(page.locator(".dlt-labeling")).to_contain_text(f"labelling as {WORKERS[user_index]}")
        labeler = page.locator(".dlt-labeling")
        for done in range(1, 4):
            labeler.locator("button.dlt-button", has_text=label).click()
            given += 1
            expect(labeler).to_contain_text(f"{done} / ")
            expect(labels_figure).to_have_text(str(given))
    expect(labeler).to_contain_text("3 / ")

    # -- consensus and the split have followed -----------------------------------------------
    expect(kernel).to_be_visible()                            # the last refresh has finished
    expect(consensus.locator(".dlt-muted", has_text="updated")).to_be_visible()
    labelled_row = consensus.locator("tr", has=page.locator("td", has_text=re.compile("^items labelled$")))
    expect(labelled_row.locator("td").nth(1)).to_have_text(re.compile("^[3-6]$"))   # 3 items each, some shared
    expect(consensus).to_contain_text(re.compile(r"approved\s\((0|1|2|3)\)"))        # the store's statuses
    assert loaded_images(consensus.locator("img")) >= 1                           # the chart (and thumbnails)
    done_cells = table.locator("tr", has_text=WORKERS[0]).locator("td")
    expect(done_cells.nth(5)).to_have_text("3")
    consensus.screenshot(path=artifacts / "05-consensus-after-labelling.png")
    page.screenshot(path=artifacts / "06-page.png")
