"""The TaskForm in a real JupyterLab, typed into in headless Chromium, checked against the store.

A bad value is shown at its field (the name, one assignee's weight, one condition), goes away
once the field is fixed, and a double click on *Create* makes exactly one task in the store.
Screenshots: test-artifacts/browser/form-*.png.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import open_and_run, option_index
from test_quickstart_browser import add_person

import dltasks as dl
from dltasks.demo import build_demo


def notebook_on(store_path: Path, folder: Path) -> Path:
    """A one-cell notebook showing a TaskForm on the demo dataset of the store at ``store_path``."""
    source = ("import dltasks as dl\n"
              f"store = dl.connect({str(store_path)!r})\n"
              "form = dl.widgets.TaskForm(store.datasets.get(name='shapes'))\n"
              "form")
    cell = {"cell_type": "code", "execution_count": None, "id": "form", "metadata": {}, "outputs": [],
            "source": source}
    nb = {"cells": [cell], "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                       "name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    path = folder / "taskform.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_form_errors_follow_the_fields_and_a_double_click_makes_one_task(lab: str, page: Any, artifacts: Path,
                                                                         tmp_path: Path) -> None:
    from playwright.sync_api import expect

    store_path = tmp_path / "form.db"
    dataset = build_demo(store_path, n_items=60).datasets.get(name="shapes")
    before = sorted(t.name for t in dataset.tasks.list())
    kernel = open_and_run(page, lab, notebook_on(store_path, tmp_path), artifacts / "form")
    form = page.locator(".dlt-task-form")
    form.wait_for(timeout=120_000)
    expect(kernel).to_be_visible(timeout=120_000)
    create = form.locator("button", has_text="Create task")

    # -- the name: refused beside the name box, gone once a name is typed --------------------
    name_box = "input[placeholder='e.g. faces-round-1']"
    name = form.locator(name_box)
    name_error = form.locator(".widget-hbox", has=page.locator(name_box)).locator(".dlt-error")
    create.click()
    expect(name_error).to_contain_text("must be a non-empty string")
    name.fill("form round")
    name.press("Enter")
    expect(name_error).to_have_count(0)
    expect(form.locator(".dlt-error")).to_have_count(0)

    # -- a bad weight: at that weight, not by the assignee box --------------------------------
    entry_box = "input[placeholder='user id or e-mail']"
    entry = form.locator(entry_box).first
    for user in ("alice@example.com", "bob@example.com"):
        add_person(entry, form, user)
    alice = form.locator(".widget-hbox").filter(
        has=page.locator(".widget-label", has_text=re.compile(r"^alice@example\.com$"))).last
    weight = alice.locator("input").first
    weight.fill("-1")
    weight.press("Enter")
    expect(alice.locator(".dlt-error")).to_contain_text("must be a finite number from 0")
    expect(form.locator(".widget-hbox", has=page.locator(entry_box)).locator(".dlt-error")).to_have_count(0)
    expect(form.locator(".dlt-error")).to_have_count(1)
    weight.fill("2")
    weight.press("Enter")
    expect(form.locator(".dlt-error")).to_have_count(0)

    # -- a condition that cannot apply: at the condition, not "0 of 60 items" ------------------
    form.locator("button", has_text="condition").click()
    condition = form.locator(".dlt-condition")
    field_select, operator_select = condition.locator("select").nth(0), condition.locator("select").nth(1)
    expect(operator_select.locator("option")).not_to_have_count(0)
    field_select.select_option(index=option_index(field_select, "metadata.user.size_px"))
    operator_select.select_option(index=option_index(operator_select, ">"))
    value = condition.locator("input")
    value.fill("big")
    value.press("Enter")
    expect(condition.locator(".dlt-error")).to_contain_text("metadata.user.size_px holds numbers, so text "
                                                            "cannot apply (got 'big')")
    expect(form).to_contain_text("? items match")
    expect(form).not_to_contain_text("0 of 60 items match")
    form.screenshot(path=artifacts / "form-condition-error.png")
    value.fill("0")
    value.press("Enter")
    expect(form).to_contain_text("60 of 60 items match")
    expect(form.locator(".dlt-error")).to_have_count(0)
    expect(form.locator(".dlt-table").filter(has_text="target share").first).to_contain_text("alice@example.com")

    # -- a double click on Create: one task, shown once, the name first ----------------------
    create.dblclick()
    status = form.locator(".dlt-ok")
    expect(status).to_have_text("created task 'form round'")
    expect(form.locator(".dlt-partition-view")).to_have_count(1)
    expect(form.locator("text=Preview of the split")).to_be_hidden()
    expect(create).to_be_disabled()
    expect(kernel).to_be_visible()
    task = dataset.tasks.get(task_name="form round")
    expect(form.locator(".dlt-muted", has_text="· id")).to_have_text(f"· id {task.id[:8]}")
    assert task.id not in form.inner_text()
    form.screenshot(path=artifacts / "form-created.png")
    after = sorted(t.name for t in dl.connect(str(store_path)).datasets.get(name="shapes").tasks.list())
    assert after == sorted([*before, "form round"])             # exactly one task more
    assert (task.assignee_ids, task.weights) == (["alice@example.com", "bob@example.com"],
                                                 {"alice@example.com": 2.0, "bob@example.com": 1.0})
