"""The LabelingWidget typed at in Jupyter Notebook 7 and in Voilà (issue 13: JupyterLab 4,
Notebook 7 and Voilà; JupyterLab is test_labeling_keys_browser.py).

Each test makes a SQLite store (60 distinct PNGs, one task per round, worked by ann alone) and a
notebook showing one LabelingWidget per task, opens it in a real Notebook 7 or Voilà in headless
Chromium, hovers a widget and presses label keys (real key events) a fixed interval apart, logging
in the page which item the widget showed at each keydown.  Once the kernel has answered every key,
this process reads the store: exactly one label per key, on the item that was on screen, with the
key's label, and no other.  Notebook 7's command mode has its own one-key shortcuts (M: to
Markdown, A / B: insert a cell, X: cut it; 1-6 make headings of Markdown cells only): the
notebook's cells are checked unchanged after the label keys and after M, B, A, X pressed on the
widget, and then changed by M pressed on a cell, so that the check can fail.
Screenshots: test-artifacts/browser/labeling-notebook7.png and labeling-voila.png.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pytest
from browser_helpers import (cell_kinds, open_widgets_notebook7, press_keys, type_round, watch_console, widget_notebook,
                             widgets_shown, work)
from test_labeling_keys_browser import LABELS, intervals, labels_of, make_store

ROUND_KEYS = "1232131231"                          # 10 keys per round, every label, varying


def round_problems(store_path: Path, task_id: str, log: list[dict[str, Any]], what: str) -> list[str]:
    """What is wrong in the store after the keys of ``log`` (empty when each key left one label,
    the key's, on the item on screen, and nothing else was written)."""
    on_screen = [int(e["item_id"]) for e in log]
    want = {i: [LABELS[int(e["key"]) - 1]] for i, e in zip(on_screen, log)}
    got = labels_of(store_path, task_id)
    if len(set(on_screen)) == len(log) and got == want:
        return []
    return [f"{what}: items on screen {on_screen}; store {got}; wanted {want}"]


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_label_keys_in_notebook7_are_one_label_each_and_leave_the_cells_alone(
        notebook7: Any, page: Any, artifacts: Path, work: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    paces = (120, 30)
    store_path, task_ids = make_store(tmp_path, [f"notebook 7, keys every {p} ms" for p in paces])
    notebook = widget_notebook(tmp_path, store_path, task_ids)
    widgets = open_widgets_notebook7(page, notebook7.url, notebook, work, ".dlt-labeling", len(paces))
    # Notebook 7's own page (its menu panel), not JupyterLab's
    expect(page.locator("#menu-panel")).to_be_visible()
    assert "/notebooks/" in page.url and page.locator("#jp-main-dock-panel").count() == 0
    cells_before = cell_kinds(page)
    assert cells_before == ["code"] * (len(paces) + 1)

    problems: list[str] = []
    log_first: list[dict[str, Any]] = []
    for n, pace in enumerate(paces):
        widget = widgets.nth(n)
        log = type_round(page, widget, ROUND_KEYS, pace)
        log_first = log_first or log
        print(f"Notebook 7, {pace} ms round: key intervals {intervals(log)}")
        problems += round_problems(store_path, task_ids[n], log, f"{pace} ms")
        expect(widget.locator(".dlt-notes .dlt-error")).to_have_count(0)
        expect(widget.locator(".dlt-count")).to_contain_text(f"{len(ROUND_KEYS)} / 60 done")
        if n == 0:
            widget.screenshot(path=artifacts / "labeling-notebook7.png")
    assert not problems, "\n".join(problems)
    # none of the keys reached Notebook 7's shortcuts, nor do its own one-key shortcuts (M: to
    # Markdown, B / A: insert a cell, X: cut the cell) while the widget has the focus ...
    widget = widgets.first
    widget.locator(".dlt-work-head").hover()
    expect(widget).to_be_focused()
    press_keys(page, "mbax", 100)
    page.wait_for_timeout(500)
    assert cell_kinds(page) == cells_before
    assert round_problems(store_path, task_ids[0], log_first, "after M, B, A, X") == []
    # ... which change the notebook when a cell has the focus (the checks above can fail)
    page.locator(".jp-CodeCell .jp-InputPrompt").first.click()
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    expect(page.locator(".jp-Notebook .jp-Cell").first).to_have_class(re.compile(r"\bjp-MarkdownCell\b"))
    assert cell_kinds(page) == ["markdown"] + cells_before[1:]


@pytest.mark.browser
@pytest.mark.timeout(150)
def test_label_keys_in_voila_are_one_label_each_on_the_item_on_screen(
        voila_app: Callable[[Path], str], page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    store_path, (task_id,) = make_store(tmp_path, ["Voilà, keys every 60 ms"])
    url = voila_app(widget_notebook(tmp_path, store_path, [task_id]))
    console = watch_console(page)
    page.goto(url)
    widget = widgets_shown(page, ".dlt-labeling", 1, console).first
    log = type_round(page, widget, ROUND_KEYS, 60)
    print(f"Voilà, 60 ms round: key intervals {intervals(log)}")
    assert round_problems(store_path, task_id, log, "60 ms") == []
    expect(widget.locator(".dlt-notes .dlt-error")).to_have_count(0)
    expect(widget.locator(".dlt-count")).to_contain_text(f"{len(ROUND_KEYS)} / 60 done")
    widget.screenshot(path=artifacts / "labeling-voila.png")
