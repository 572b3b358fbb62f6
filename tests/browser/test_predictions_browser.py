"""The model's suggestion in the LabelingWidget, in a real JupyterLab (issue 15, predictions).

A notebook opens a SQLite store (a file in the test's temporary folder) with two
``LabelingWidget(task, "ann", show_predictions=True)``: a class task and a multi_class task,
each with a model's predictions on some items.  On the class widget the suggested label's button
is marked (a dashed outline) and the card says what the model suggests; nothing is stored until
a key: Enter stores the suggestion, another label's key stores that label, and Enter on an item
without a suggestion sends nothing.  On the multi_class widget the labels scored 0.5 or more
start toggled on: Enter stores them, toggling changes them.  The store is read from this
process after each key.  Screenshot: test-artifacts/browser/predictions-suggestion.png.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from browser_helpers import distinct_pngs, open_widgets, wait_answered, work, write_notebook  # noqa: F401

import dltasks as dl

LABELS = ["circle", "square", "triangle"]          # keys 1, 2, 3


def make_store(folder: Path) -> tuple[Path, str, str]:
    """A SQLite store with 6 PNG items, a class and a multi_class task for ann, with predictions
    (items 1 and 2 only; item 3 has none)."""
    path = folder / "predictions.db"
    ds = dl.connect(path).datasets.create("shapes", labels=LABELS)
    ds.items.upload(distinct_pngs(folder / "img", 6))
    one = ds.tasks.create("one label", assignee_ids=["ann"])
    one.import_predictions(pd.DataFrame({"item_id": [1, 1, 2], "label": ["square", "circle", "triangle"],
                                         "score": [0.91, 0.09, 0.8]}), model="shapes-v1")
    tags = ds.tasks.create("tags", assignee_ids=["ann"], annotation_type="multi_class")
    tags.import_predictions(pd.DataFrame({"item_id": [1, 1, 1, 2], "label": ["circle", "square", "triangle", "triangle"],
                                          "score": [0.8, 0.6, 0.2, 0.7]}), model="shapes-v1")
    return path, one.id, tags.id


def labels_of(store_path: Path, task_id: str) -> dict[int, list[str]]:
    """ann's labels in the task, read from the store by this process: item -> labels (sorted)."""
    df = dl.connect(store_path).tasks.get(task_id).labels_df()
    out: dict[int, list[str]] = {}
    for item_id, label in df.loc[df["worker"] == "ann", ["item_id", "label"]].itertuples(index=False):
        out.setdefault(int(item_id), []).append(str(label))
    return {i: sorted(v) for i, v in out.items()}


def press(page: Any, widget: Any, key: str) -> None:
    """Hover the widget (it takes the keys), press one key, wait for the kernel's answer."""
    from playwright.sync_api import expect

    widget.locator(".dlt-work-head").hover()
    expect(widget).to_be_focused()
    page.keyboard.press(key)
    wait_answered(widget)


def buttons(widget: Any, css: str = "button") -> list[str]:
    return [re.sub(r"\s+", " ", t).strip() for t in widget.locator(css).all_inner_texts()]


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_the_suggestion_is_marked_and_stored_only_by_a_key(
        lab: str, work: Path, page: Any, artifacts: Path, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    store_path, one_id, tags_id = make_store(tmp_path)
    cells = [f"import dltasks as dl\nstore = dl.connect({str(store_path)!r})"]
    cells += [f"w = dl.widgets.LabelingWidget(store.tasks.get({tid!r}), 'ann', show_predictions=True)\nw"
              for tid in (one_id, tags_id)]
    notebook = write_notebook(tmp_path / "work.ipynb", cells)
    widgets = open_widgets(page, lab, notebook, work, ".dlt-labeling", 2)
    one, tags = widgets.nth(0), widgets.nth(1)

    # -- class: the suggested label's button is marked, the card says so, nothing is stored -----
    expect(one).to_have_attribute("data-item-id", "1")
    assert buttons(one) == ["1 circle", "2 square", "3 triangle", "Enter Accept suggestion", "s Skip", "u Undo"]
    assert buttons(one, "button.dlt-suggested") == ["2 square"]
    outline = one.locator("button.dlt-suggested").evaluate("b => getComputedStyle(b).outlineStyle")
    assert outline == "dashed", "the suggestion is visibly marked"
    expect(one.locator(".dlt-suggestion")).to_have_text(re.compile(r"^Model suggests square \(0\.91\)"))
    time.sleep(1.0)
    assert labels_of(store_path, one_id) == {}, "a suggestion on screen is not an answer"
    one.screenshot(path=artifacts / "predictions-suggestion.png")

    press(page, one, "Enter")                                   # accept: square
    assert labels_of(store_path, one_id) == {1: ["square"]}
    expect(one.locator(".dlt-notes")).to_contain_text("(#1): square — the model's suggestion")
    expect(one).to_have_attribute("data-item-id", "2")
    assert buttons(one, "button.dlt-suggested") == ["3 triangle"]
    press(page, one, "1")                                       # another label's key: circle
    assert labels_of(store_path, one_id) == {1: ["square"], 2: ["circle"]}

    # item 3: no prediction, nothing marked; Enter sends nothing, a label's key answers
    expect(one).to_have_attribute("data-item-id", "3")
    expect(one.locator("button.dlt-suggested")).to_have_count(0)
    expect(one.locator(".dlt-suggestion")).to_have_count(0)
    expect(one.locator("button", has_text="Accept suggestion")).to_be_disabled()
    press(page, one, "Enter")
    expect(one.locator(".dlt-notes")).to_contain_text("nothing to submit on this item")
    assert labels_of(store_path, one_id) == {1: ["square"], 2: ["circle"]}
    expect(one).to_have_attribute("data-item-id", "3")
    press(page, one, "3")
    assert labels_of(store_path, one_id) == {1: ["square"], 2: ["circle"], 3: ["triangle"]}

    # -- multi_class: the labels scored 0.5 or more start toggled on ------------------------------
    expect(tags).to_have_attribute("data-item-id", "1")
    assert buttons(tags, "button[aria-pressed=true]") == ["1 circle", "2 square"]
    assert buttons(tags, "button.dlt-suggested") == ["1 circle", "2 square"]
    expect(tags.locator(".dlt-suggestion")).to_contain_text("Model suggests circle (0.80), square (0.60)")
    assert labels_of(store_path, tags_id) == {}
    press(page, tags, "Enter")
    assert labels_of(store_path, tags_id) == {1: ["circle", "square"]}
    expect(tags).to_have_attribute("data-item-id", "2")
    assert buttons(tags, "button[aria-pressed=true]") == ["3 triangle"]
    for key in ("3", "1"):                                      # triangle off, circle on: in the browser only
        tags.locator(".dlt-work-head").hover()
        page.keyboard.press(key)
    assert buttons(tags, "button[aria-pressed=true]") == ["1 circle"]
    assert labels_of(store_path, tags_id) == {1: ["circle", "square"]}
    press(page, tags, "Enter")
    assert labels_of(store_path, tags_id) == {1: ["circle", "square"], 2: ["circle"]}
    expect(tags.locator(".dlt-notes .dlt-error")).to_have_count(0)
    expect(one.locator(".dlt-notes .dlt-error")).to_have_count(0)
