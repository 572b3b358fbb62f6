"""The LabelingWidget in a real JupyterLab measures how long each item was on screen before its key.

A notebook opens a SQLite store (a file in the test's temporary folder) with one LabelingWidget.
The test labels the first item at once, waits about a second on the second and answers it, then
hides the page (``document.hidden``, as a tab in the background) for two seconds while the third
item is on screen: the store, read from this process, has about one second for the second item
and less than the hidden time for the third.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import distinct_pngs, open_widgets, press_keys, wait_answered, widget_notebook, work  # noqa: F401

import dltasks as dl

LABELS = ["circle", "square"]

_HIDE = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def seconds_by_item(store_path: Path, task_id: str) -> dict[int, float]:
    """ann's stored seconds per item, read by this process."""
    df = dl.connect(store_path).tasks.get(task_id).labels_df()
    return {int(i): float(s) for i, s in zip(df["item_id"], df["seconds"])}


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_the_time_an_item_was_on_screen_is_stored_with_its_label(
        lab: str, work: Path, page: Any, tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect

    store_path = tmp_path / "time.db"
    ds = dl.connect(store_path).datasets.create("shapes", labels=LABELS)
    ds.items.upload(distinct_pngs(tmp_path / "img", 5))
    task_id = ds.tasks.create("timed", assignee_ids=["ann"]).id
    notebook = widget_notebook(tmp_path, store_path, [task_id])
    widget = open_widgets(page, lab, notebook, work, ".dlt-labeling", 1).first
    widget.locator(".dlt-work-head").hover()
    expect(widget).to_be_focused()

    first = int(widget.get_attribute("data-item-id"))
    press_keys(page, "1", 0)                                   # the first item: whatever it was
    expect(widget).not_to_have_attribute("data-item-id", str(first))
    second = int(widget.get_attribute("data-item-id"))
    shown = time.perf_counter()
    time.sleep(1.0)                                            # the second item, about a second on screen
    press_keys(page, "2", 0)
    waited = time.perf_counter() - shown
    expect(widget).not_to_have_attribute("data-item-id", str(second))
    third = int(widget.get_attribute("data-item-id"))

    time.sleep(0.3)
    page.evaluate(_HIDE, True)                                 # the tab goes to the background
    time.sleep(2.0)
    page.evaluate(_HIDE, False)
    time.sleep(0.3)
    press_keys(page, "1", 0)
    wait_answered(widget)

    times = seconds_by_item(store_path, task_id)
    print(f"stored seconds: {times} (the second item waited {waited:.2f} s by this process's clock)")
    assert set(times) == {first, second, third}
    assert 0.5 <= times[second] <= 10, "about one second on screen"
    assert times[second] <= waited + 0.5, "never more than the time the item could have been on screen"
    assert 0.3 <= times[third] < 1.8, "the two seconds the page was hidden do not count"
