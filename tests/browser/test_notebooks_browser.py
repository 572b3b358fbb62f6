"""Every notebook of notebooks/ run in a real JupyterLab, in headless Chromium, as a person would.

nbval checks that each cell runs in a kernel; this checks what the page shows: Run > Run All
Cells on a copy of the notebook (under test-artifacts/, so autosave never touches the committed
file), then no error output, every code cell executed, and every widget displayed (no
"Error displaying widget", no "Loading widget..." left).  One JupyterLab serves all notebooks;
each notebook's kernel is shut down after it, with anything it started (notebook 06 starts a
server).  Screenshots: test-artifacts/browser/notebooks/<notebook>.png.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (REPO, error_outputs, open_notebook, run_all_cells, shut_down_kernel,
                             wait_for_run)

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
#: The tallest page Chromium screenshots in one piece; longer notebooks are cut there.
MAX_SHOT_HEIGHT = 15_000


@pytest.fixture
def shots(artifacts: Path) -> Path:
    folder = artifacts / "notebooks"
    folder.mkdir(exist_ok=True)
    return folder


def whole_notebook_screenshot(page: Any, path: Path) -> None:
    """Hide the file browser and grow the window to the notebook's length: one shot shows every cell."""
    if page.locator("#jp-left-stack").is_visible():
        page.keyboard.press("Control+b")            # View > Show Left Sidebar, off
    below = page.locator(".jp-WindowedPanel-outer").first.evaluate(
        """el => {                                  // how far the last cell reaches below the visible part
            const cells = el.querySelectorAll('.jp-Cell');
            const bottom = cells[cells.length - 1].getBoundingClientRect().bottom;
            return bottom - el.getBoundingClientRect().top + el.scrollTop - el.clientHeight;
        }""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(size["height"] + max(0, int(below)) + 40,
                                                                  MAX_SHOT_HEIGHT)})
    page.locator(".jp-WindowedPanel-outer").first.evaluate("el => { el.scrollTop = 0; }")
    page.wait_for_timeout(500)                      # let the layout follow the new size
    page.screenshot(path=path)


@pytest.mark.browser
@pytest.mark.timeout(600)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_runs_clean_in_jupyterlab(notebook: Path, lab_server: Any, page: Any, shots: Path) -> None:
    from playwright.sync_api import expect

    copy = open_notebook(page, lab_server.url, notebook, shots)
    try:
        run_all_cells(page)
        prompts = wait_for_run(page)
        expect(page.locator(".jp-OutputArea-output", has_text="Loading widget...")).to_have_count(0)
        whole_notebook_screenshot(page, shots / f"{notebook.stem}.png")
        errors = error_outputs(page)
        assert not errors, f"{notebook.name} shows errors:\n" + "\n---\n".join(e[-2000:] for e in errors)
        not_run = [i for i, p in enumerate(prompts) if not any(ch.isdigit() for ch in p)]
        assert not not_run, f"{notebook.name}: code cells {not_run} did not run (prompts {prompts})"
    finally:
        leftovers = shut_down_kernel(lab_server.url, lab_server.proc.pid, copy)
    assert not leftovers, f"{notebook.name} left processes running: {leftovers}"
