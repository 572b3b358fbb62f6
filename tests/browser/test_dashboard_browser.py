"""notebooks/dashboard.ipynb served by Voilà as an app, opened in headless Chromium.

A demo store is built in a temporary folder, Voilà serves the dashboard over it (127.0.0.1, a
free port), and the page must show the TaskBoard with the demo's tasks; picking the consensus
task's name (the first column, one button per row beside the table) shows its partition and
consensus views; clicking an item of the consensus view shows it with its votes.  Screenshots:
test-artifacts/browser/dashboard*.png (``dashboard-consensus.png`` is the README's
``docs/img/consensus.png``: see ``DLTASKS_UPDATE_DOCS_IMG`` in conftest.py).
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from browser_helpers import REPO, free_port, option_index, serve

from dltasks.demo import ANNOTATORS, CONSENSUS_TASK, TEST_TASK, build_demo

pytest.importorskip("voila", reason="Voilà (the jupyter extra) is not installed")

DASHBOARD = REPO / "notebooks" / "dashboard.ipynb"
TASKS = [CONSENSUS_TASK, TEST_TASK, f"{TEST_TASK}_qa"]


@pytest.fixture(scope="module")
def voila(artifacts: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Voilà serving the dashboard over a fresh demo store; yields the app's URL."""
    store_path = tmp_path_factory.mktemp("dashboard") / "dltasks.db"
    build_demo(store_path, n_items=120).close()
    env = dict(os.environ, DLTASKS_STORE=str(store_path), MPLBACKEND="agg")
    port = free_port()
    cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
           "--Voila.port_retries=0", "--show_tracebacks=True", str(DASHBOARD)]
    url = f"http://127.0.0.1:{port}/"
    # The app itself runs the notebook on every visit: probe a static file instead.
    with serve(cmd, url + "voila/static/extension.js", artifacts / "voila.log", env, "Voilà"):
        yield url


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_dashboard_in_voila(voila: str, page: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page.goto(voila)
    board = page.locator(".dlt-task-board")
    board.wait_for(timeout=120_000)
    names = board.locator(".dlt-rowpick button")
    for name in TASKS:
        expect(names.filter(has_text=re.compile(f"^{re.escape(name)}$"))).to_have_count(1)
    expect(board).to_contain_text("(4 tasks)")
    page.screenshot(path=artifacts / "dashboard.png")
    assert_rows_aligned(board)
    width = board.locator(".dlt-rowpick").first.evaluate(
        "e => e.parentElement.querySelector('table').getBoundingClientRect().right - e.getBoundingClientRect().left")
    columns = board.locator(".dlt-rows th").evaluate_all("ths => ths.map(t => [t.innerText, t.offsetWidth])")
    assert width <= 940, f"the board is {width} px wide: it must fit a 1024-px notebook ({columns})"
    expect(page.get_by_text("dltasks · task dashboard")).to_be_visible()         # the markdown cell
    assert page.locator("pre, code", has_text="import dltasks").count() == 0    # an app: no code shown
    page.screenshot(path=artifacts / "dashboard.png")
    padded_screenshot(page, board, artifacts / "dashboard-board.png")            # docs/img/board.png

    # -- click the consensus task: its split, then its consensus -----------------------------
    names.filter(has_text=re.compile(f"^{re.escape(CONSENSUS_TASK)}$")).click()
    split = board.locator(".dlt-partition-view")
    expect(split).to_be_visible()
    expect(split).to_contain_text(CONSENSUS_TASK)
    for worker in ANNOTATORS:
        expect(split.locator(".dlt-table")).to_contain_text(worker)
    wait_for_images(page, split)
    page.screenshot(path=artifacts / "dashboard-partition.png")

    board.locator(".lm-TabBar-tab", has_text="Consensus").click()
    consensus = board.locator(".dlt-consensus-view")
    expect(consensus).to_be_visible()
    expect(consensus).to_contain_text(f"Consensus — {CONSENSUS_TASK}")
    expect(consensus).to_contain_text("Fleiss' kappa")
    for worker in ANNOTATORS:
        expect(consensus.locator(".dlt-table").nth(1)).to_contain_text(worker)     # agreement per worker
    wait_for_images(page, consensus)
    page.screenshot(path=artifacts / "dashboard-consensus-page.png")

    # -- only the disputed items: the short table the README shows ---------------------------
    items = consensus.locator(".dlt-rows .dlt-table")
    expect(items.locator("img.dlt-thumb").first).to_be_visible()               # thumbnails, not ids
    show = consensus.locator(".widget-dropdown", has=page.locator("label", has_text="Show")).locator("select")
    show.select_option(index=option_index(show, "awaiting review"))
    expect(consensus).to_contain_text(re.compile(r"page 1 of 1 \(\d+ items\)"))
    expect(items.locator("tbody tr").first).to_contain_text("awaiting review")
    statuses = items.locator("tbody td:nth-child(3)").all_inner_texts()
    assert statuses and set(statuses) == {"awaiting review"}, statuses
    assert_rows_aligned(consensus)
    padded_screenshot(page, consensus, artifacts / "dashboard-consensus.png")

    # -- click an item: it is shown with its votes under the table ----------------------------
    first = consensus.locator(".dlt-rowpick button").first
    name = first.inner_text().strip()
    first.click()
    detail = consensus.locator(".dlt-item-detail")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text(name)
    expect(detail).to_contain_text("awaiting review")
    expect(detail.locator(".dlt-table")).to_contain_text("@example.com")          # the votes, by worker
    expect(detail.locator("img")).to_be_visible()
    page.screenshot(path=artifacts / "dashboard-item.png", full_page=True)

    for failure in ("Error displaying widget", "There was an error when executing cell", "Traceback"):
        expect(page.get_by_text(failure)).to_have_count(0)


def assert_rows_aligned(view: Any) -> None:
    """The buttons of the first column sit on the rows of the table beside them (within 2 px)."""
    buttons = view.locator(".dlt-rowpick button").first.locator("xpath=ancestor::div[contains(@class,'dlt-rowpick')]")
    picker = buttons.first
    tops = picker.locator("button").evaluate_all("bs => bs.map(b => b.getBoundingClientRect().top)")
    rows = picker.evaluate("""p => [...p.parentElement.querySelectorAll('.dlt-rows tbody tr')]
                                    .map(r => r.getBoundingClientRect().top)""")
    assert len(tops) == len(rows) and tops, (tops, rows)
    assert max(abs(a - b) for a, b in zip(tops, rows)) <= 2, list(zip(tops, rows))


def wait_for_images(page: Any, view: Any) -> None:
    """Wait until every chart and picture ``view`` shows has loaded (an image with a size)."""
    images = view.locator("img")
    assert images.count() >= 1, "the view has no chart"
    page.wait_for_function("imgs => imgs.every(i => !i.offsetParent || (i.complete && i.naturalWidth > 0))",
                           arg=images.element_handles())


def padded_screenshot(page: Any, element: Any, path: Path, pad: int = 10) -> None:
    """A screenshot of what ``element`` shows, with a margin around it.

    Widget boxes stretch to the page's width: the shot ends at the rightmost table, chart or
    control instead, so a README can show it at its natural size.
    """
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    right = element.evaluate("""el => Math.max(...[...el.querySelectorAll(
        'table, img, button, select, b, span')].map(e => e.getBoundingClientRect().right))""")
    page.screenshot(path=path, clip={"x": max(0, box["x"] - pad), "y": max(0, box["y"] - pad),
                                     "width": min(box["width"], right - box["x"]) + 2 * pad,
                                     "height": box["height"] + 2 * pad})
