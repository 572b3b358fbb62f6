"""notebooks/07_boxes_and_formats.ipynb in a real JupyterLab: run all cells, then draw a box by hand.

Run > Run All Cells on a copy of the tutorial; then, in Alice's LabelingWidget, drag a box around
the shape of the picture on screen with the mouse at human speed (the demo's pictures are 64 x 64
pixels, shown at 480), press its label's number key and Enter.  The store the notebook printed
(``Store: <path>``) is then read from this process: Alice's answer on that item is that one box,
with that label, within 1 px (image pixels) of the points the mouse was on.  The ReviewWidget
draws the item the workers did not agree on.  Screenshot: test-artifacts/browser/07-box-drawn.png.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (REPO, error_outputs, open_notebook, run_all_cells, shut_down_kernel, wait_answered,
                             wait_for_run, work)

import dltasks as dl
from dltasks.demo import IMAGE_SIZE, true_boxes

NOTEBOOK = REPO / "notebooks" / "07_boxes_and_formats.ipynb"
TASK = "shapes: draw boxes"          # the notebook's task
ALICE = "alice@example.com"
STEPS, PAUSE = 12, 0.12              # a person's drag: the mouse moves in steps, with pauses


def to_screen(box: dict[str, float], x: float, y: float) -> tuple[int, int]:
    """The whole screen pixel nearest to image pixel (x, y) of a picture shown in ``box``."""
    scale = box["width"] / IMAGE_SIZE
    return round(box["x"] + x * scale), round(box["y"] + y * scale)


def to_image(box: dict[str, float], point: tuple[int, int]) -> tuple[float, float]:
    """The image pixel under screen point ``point`` (what the widget should store)."""
    scale = box["width"] / IMAGE_SIZE
    return (point[0] - box["x"]) / scale, (point[1] - box["y"]) / scale


def drag_slowly(page: Any, start: tuple[int, int], end: tuple[int, int]) -> None:
    page.mouse.move(*start, steps=STEPS)
    page.mouse.down()
    time.sleep(PAUSE)
    page.mouse.move(*end, steps=STEPS)
    time.sleep(PAUSE)
    page.mouse.up()
    time.sleep(PAUSE)


def store_path_printed(page: Any) -> str:
    """The store the notebook opened: its first cell prints ``Store: <path>``."""
    text = page.locator(".jp-OutputArea-output", has_text="Store: ").first.inner_text()
    found = re.search(r"Store: (\S+)", text)
    assert found, text
    return found.group(1)


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_draw_a_box_in_tutorial07(lab_server: Any, page: Any, work: Path, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    copy = open_notebook(page, lab_server.url, NOTEBOOK, work)
    try:
        run_all_cells(page)
        prompts = wait_for_run(page)
        assert error_outputs(page) == []
        assert all(any(ch.isdigit() for ch in p) for p in prompts), f"cells that did not run: {prompts}"
        with dl.connect(store_path_printed(page)) as store:
            dataset = store.datasets.get(name="shapes")
            task = next(t for t in dataset.tasks.list(per_page=100) if t.name == TASK)
            truth = true_boxes(dataset)
            labels = task.labels

        drawing = page.locator(".dlt-labeling")
        expect(drawing).to_have_count(1)
        expect(drawing).not_to_have_attribute("data-item-id", "", timeout=30_000)
        item_id = int(drawing.get_attribute("data-item-id"))
        overlay = drawing.locator(".dlt-card .dlt-overlay")
        expect(overlay).to_have_attribute("data-natural", f"{IMAGE_SIZE}x{IMAGE_SIZE}")
        overlay.scroll_into_view_if_needed()
        picture = drawing.locator(".dlt-card .dlt-picture img").bounding_box()
        assert picture is not None and picture["width"] == pytest.approx(480, abs=1), picture

        # -- around the shape, as a person would: corner to corner, then its label's key, Enter ------------
        shape = truth.loc[item_id]
        start = to_screen(picture, shape.left, shape.top)
        end = to_screen(picture, shape.right, shape.bottom)
        drag_slowly(page, start, end)
        key = str(labels.index(shape.label) + 1)
        page.keyboard.press(key)
        expect(overlay).to_have_attribute("data-shapes", "1")
        expect(drawing.locator(".dlt-hint")).to_contain_text(f"1 box: {shape.label}")
        drawing.screenshot(path=artifacts / "07-box-drawn.png")
        page.keyboard.press("Enter")
        wait_answered(drawing)
        expect(drawing).not_to_have_attribute("data-item-id", str(item_id))
        expect(drawing.locator(".dlt-notes")).to_contain_text(f"#{item_id}")
        expect(drawing.locator(".dlt-notes .dlt-error")).to_have_count(0)

        with dl.connect(store_path_printed(page)) as store:
            answers = store.tasks.get(task.id).labels_df()
        mine = answers[(answers["worker"] == ALICE) & (answers["item_id"] == item_id)]
        (x1, y1), (x2, y2) = to_image(picture, start), to_image(picture, end)
        assert mine[["kind", "label"]].values.tolist() == [["box", shape.label]], mine
        stored = mine[["left", "top", "right", "bottom"]].iloc[0].tolist()
        assert stored == pytest.approx([x1, y1, x2, y2], abs=1.0), f"stored {stored}; the mouse was on " \
            f"{[x1, y1, x2, y2]} (image pixels)"
        assert stored == pytest.approx(shape[["left", "top", "right", "bottom"]].tolist(), abs=1.0)

        # -- the reviewer's item: every worker's boxes drawn ------------------------------------------------
        review = page.locator(".dlt-review")
        review.scroll_into_view_if_needed()
        expect(review.locator(".dlt-overlay")).to_have_attribute("data-natural", f"{IMAGE_SIZE}x{IMAGE_SIZE}")
        expect(review.locator(".dlt-legend")).to_contain_text("alice@example.com: 1 shape")
        expect(review.locator(".dlt-legend")).to_contain_text("bob@example.com: 1 shape")
        assert page_errors == [], "no script error in the page"
    finally:
        leftovers = shut_down_kernel(lab_server.url, lab_server.proc.pid, copy)
    assert not leftovers, f"the tutorial left processes running: {leftovers}"
