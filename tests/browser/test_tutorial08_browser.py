"""notebooks/08_quality_control.ipynb in a real JupyterLab: run all cells, then read what a person reads.

Run > Run All Cells on a copy of the tutorial; every cell runs without an error, and the outputs
on the page say what the tutorial's text says they say: the worker flagged on gold is Erin (the
careless one), flagged under the 0.6 bar after at least 5 gold answers, with an empty queue and her
items handed to the other four; the quiz serves real items only to those who passed; dynamic
overlap uses fewer labels than three workers per item, at no worse accuracy, and the percentages
printed are those of the numbers printed; the three charts are drawn.  Screenshots:
test-artifacts/browser/08-*.png.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import REPO, error_outputs, open_notebook, run_all_cells, shut_down_kernel, wait_for_run, work

NOTEBOOK = REPO / "notebooks" / "08_quality_control.ipynb"
WORKERS = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"]
ERIN = "erin@example.com"


def printed(text: str, pattern: str) -> re.Match[str]:
    """The one match of ``pattern`` in the page's outputs (the test fails naming what was missing)."""
    found = re.findall(pattern, text)
    assert len(found) == 1, f"{pattern!r} is printed {len(found)} times in:\n{text[-3000:]}"
    match = re.search(pattern, text)
    assert match is not None
    return match


def percent_fewer(fewer: int, more: int) -> int:
    """The saving as the notebook prints it: ``1 - fewer / more`` in whole percent.

    >>> percent_fewer(489, 600)
    19
    """
    return round(100 * (1 - fewer / more))


@pytest.mark.browser
@pytest.mark.timeout(600)
def test_tutorial08_runs_and_shows_its_findings(lab_server: Any, page: Any, work: Path, artifacts: Path) -> None:
    from playwright.sync_api import expect

    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    copy = open_notebook(page, lab_server.url, NOTEBOOK, work)
    try:
        run_all_cells(page)
        prompts = wait_for_run(page)
        assert error_outputs(page) == []
        assert all(any(ch.isdigit() for ch in p) for p in prompts), f"cells that did not run: {prompts}"
        text = "\n".join(page.locator(".jp-OutputArea-output").all_inner_texts())

        # -- gold: Erin is flagged, her queue is empty, her items went to the other four ----------------------
        queue = printed(text, r"Alice's queue: (\d+) items, (\d+) of them gold")
        assert 0 < int(queue[2]) <= 0.1 * int(queue[1]) + 1                      # gold_rate 0.1, within one
        flag = printed(text, r"(\S+@example\.com) flagged at (\d+)/(\d+) gold right: (\d+) items went to (\{[^}]*\})")
        who, right, answered, moved = flag[1], int(flag[2]), int(flag[3]), int(flag[4])
        receivers = ast.literal_eval(flag[5])
        assert who == ERIN
        assert answered >= 5 and right / answered < 0.6                         # min_gold_n=5, min_gold_accuracy=0.6
        assert moved > 0 and sum(receivers.values()) == moved and set(receivers) == set(WORKERS) - {ERIN}
        assert ast.literal_eval(printed(text, r"their queues now: (\{[^}]*\})")[1]) == {ERIN: []}
        flagged_table = page.locator(".jp-OutputArea-output table", has_text="flagged_at")
        expect(flagged_table).to_have_count(1)
        expect(flagged_table.locator("tbody tr")).to_have_count(1)
        expect(flagged_table.locator("tbody tr")).to_contain_text(ERIN)

        # -- qualification: nothing before the quiz; after it, only those who passed; then all to them -----------
        before = ast.literal_eval(printed(text, r"items served before the quiz: (\{[^}]*\})")[1])
        after = ast.literal_eval(printed(text, r"items served after the quiz: +(\{[^}]*\})")[1])
        shared = ast.literal_eval(printed(text, r"after redistribute: +(\{[^}]*\})")[1])
        assert set(before) == set(WORKERS) and set(before.values()) == {0}
        passed = {w for w, n in after.items() if n > 0}
        assert passed and ERIN not in passed
        assert {w for w, n in shared.items() if n > 0} == passed and sum(shared.values()) == 50

        # -- dynamic overlap: fewer labels, the percentages those of the numbers, accuracy no worse --------------
        sdk = printed(text, r"3 workers per item: (\d+) labels; dynamic overlap: (\d+) labels \((\d+)% fewer\)")
        assert int(sdk[1]) == 600 and int(sdk[2]) < 600 and int(sdk[3]) == percent_fewer(int(sdk[2]), 600)
        runs = re.findall(r"(.+): dynamic overlap (\d+) labels instead of (\d+) \((\d+)% fewer\), "
                          r"accuracy ([\d.]+)% vs ([\d.]+)%", text)
        assert [r[0] for r in runs] == ["demo workers (0.60-0.95)", "stronger crowd (0.80-0.98)"], runs
        for _, dynamic, fixed, saving, accuracy_dynamic, accuracy_fixed in runs:
            assert int(fixed) == 600 and int(saving) == percent_fewer(int(dynamic), int(fixed)) > 0
            assert float(accuracy_dynamic) >= float(accuracy_fixed)
        assert int(runs[1][3]) > int(runs[0][3])                                 # the stronger crowd saves more

        # -- truth inference, predictions -----------------------------------------------------------------------
        disagree = printed(text, r"the methods disagree on (\d+) of (\d+) items")
        assert int(disagree[2]) == 200 and 0 < int(disagree[1]) < 200
        printed(text, r"160 predictions imported")
        printed(text, r"item statuses: \{'completed': 80\} · labels: 80 \(the predictions are no labels\)")

        # -- the three charts, drawn ------------------------------------------------------------------------------
        charts = page.locator(".jp-RenderedImage img")
        expect(charts).to_have_count(3)
        page.wait_for_function("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)",
                               arg=charts.element_handles())
        for n, name in enumerate(["08-dynamic-overlap.png", "08-seconds-per-item.png", "08-throughput.png"]):
            charts.nth(n).scroll_into_view_if_needed()
            charts.nth(n).screenshot(path=artifacts / name)
        assert page_errors == [], "no script error in the page"
    finally:
        leftovers = shut_down_kernel(lab_server.url, lab_server.proc.pid, copy)
    assert not leftovers, f"the tutorial left processes running: {leftovers}"
