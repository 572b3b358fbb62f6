"""The LabelingWidget in a real JupyterLab, typed at: one key = one label, on the item on screen.

A notebook made here opens a SQLite store (a file in the test's temporary folder) with one
LabelingWidget per task.  The test hovers a widget, presses label keys (real key events) at
250, 120, 60 and 30 ms apart, logs in the page which item the widget showed at each keydown,
waits until the kernel has answered every key, then reads the store from this process:
exactly one label per key, on the item that was on screen, with the key's label, and no other.
Skip / Undo are mixed in on another task; the stale-queue test writes labels from this process
(another connection) while the widget is open.  Screenshot: test-artifacts/browser/labeling-keys.png.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import (cell_kinds, distinct_pngs, open_widgets, press_keys, type_round,
                             wait_answered, widget_notebook, work)

import dltasks as dl

LABELS = ["circle", "square", "triangle"]          # keys 1, 2, 3
PACES_MS = (250, 120, 60, 30)
ROUND_KEYS = "123213312132"                        # 12 keys per round, every label, varying
MIXED_KEYS = "12s3u1su2s13u2"                      # skip and undo among the labels
N_ITEMS = 60


def make_store(folder: Path, task_names: list[str]) -> tuple[Path, list[str]]:
    """A SQLite store with 60 distinct PNG items and one task per name, each worked by ann alone."""
    path = folder / "keys.db"
    store = dl.connect(path)
    ds = store.datasets.create("shapes", labels=LABELS)
    ds.items.upload(distinct_pngs(folder / "img", N_ITEMS), item_metadata={"camera": "bench 2"})
    ids = [ds.tasks.create(name, assignee_ids=["ann"]).id for name in task_names]
    return path, ids


def labels_of(store_path: Path, task_id: str, user: str = "ann") -> dict[int, list[str]]:
    """Every label ``user`` has in the task, read from the store by this process: item -> labels."""
    df = dl.connect(store_path).tasks.get(task_id).labels_df()
    out: dict[int, list[str]] = {}
    for item_id, label in df.loc[df["worker"] == user, ["item_id", "label"]].itertuples(index=False):
        out.setdefault(int(item_id), []).append(label)
    return out


def intervals(log: list[dict[str, Any]]) -> str:
    gaps = sorted(b["t"] - a["t"] for a, b in zip(log, log[1:]))
    return f"{gaps[0]:.0f}-{gaps[-1]:.0f} ms (median {gaps[len(gaps) // 2]:.0f})"


def expected_steps(log: list[dict[str, Any]]) -> list[tuple[str, int, str | None]]:
    """The steps the keys of ``log`` leave: (``label`` or ``skip``, item, label), oldest first.

    A label or a skip is one step on the item on screen; Undo takes back the last step.
    """
    steps: list[tuple[str, int, str | None]] = []
    for e in log:
        if e["key"] == "u":
            if steps:
                steps.pop()
        elif e["key"] == "s":
            steps.append(("skip", int(e["item_id"]), None))
        else:
            steps.append(("label", int(e["item_id"]), LABELS[int(e["key"]) - 1]))
    return steps



@pytest.mark.browser
@pytest.mark.timeout(300)
def test_label_keys_at_every_pace_are_one_label_each_on_the_item_on_screen(
        lab: str, work: Path, page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    names = [f"keys every {p} ms" for p in PACES_MS] + ["skip and undo"]
    store_path, task_ids = make_store(tmp_path, names)
    notebook = widget_notebook(tmp_path, store_path, task_ids)
    widgets = open_widgets(page, lab, notebook, work, ".dlt-labeling", len(names))
    cells_before = cell_kinds(page)
    assert cells_before == ["code"] * (len(names) + 1)
    buttons = widgets.first.locator("button").all_inner_texts()
    assert [re.sub(r"\s+", " ", b).strip() for b in buttons] == \
        ["1 circle", "2 square", "3 triangle", "s Skip", "u Undo"], "the buttons show their keys"

    problems = []
    for n, pace in enumerate(PACES_MS):
        widget = widgets.nth(n)
        log = type_round(page, widget, ROUND_KEYS, pace)
        print(f"{pace} ms round: key intervals {intervals(log)}")
        on_screen = [int(e["item_id"]) for e in log]
        want = {i: [LABELS[int(e["key"]) - 1]] for i, e in zip(on_screen, log)}
        got = labels_of(store_path, task_ids[n])
        if len(set(on_screen)) != len(log) or got != want:
            problems.append(f"{pace} ms: items on screen {on_screen}; store {got}; wanted {want}")
        expect(widget.locator(".dlt-notes .dlt-error")).to_have_count(0)
        if pace == PACES_MS[0]:
            widget.screenshot(path=artifacts / "labeling-keys.png")
    assert not problems, "\n".join(problems)

    # -- skip and undo among the labels ------------------------------------------------------
    widget, task_id = widgets.nth(len(PACES_MS)), task_ids[-1]
    log = type_round(page, widget, MIXED_KEYS, 120)
    steps = expected_steps(log)
    want = {i: [str(label)] for kind, i, label in steps if kind == "label"}
    skipped = {i for kind, i, _ in steps if kind == "skip"} - set(want)
    assert labels_of(store_path, task_id) == want
    task = dl.connect(store_path).tasks.get(task_id)
    pending = set(task.assignments_df(user_id="ann", status="pending")["item_id"].astype(int))
    assert skipped and skipped <= pending, "a skipped item is not labelled and still ann's to do"
    assert len(pending) == N_ITEMS - len(want)
    # one more Undo, once everything is answered: the last label is withdrawn and its item is back
    kind, last, _ = steps[-1]
    assert kind == "label"
    press_keys(page, "u", 0)
    wait_answered(widget)
    expect(widget).to_have_attribute("data-item-id", str(last))
    assert last not in labels_of(store_path, task_id)
    expect(widget.locator(".dlt-notes")).to_contain_text("withdrawn")

    # -- none of the keys reached JupyterLab: the notebook's cells are as they were -------------
    assert cell_kinds(page) == cells_before


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_labels_written_elsewhere_are_refused_on_screen_and_leave_the_queue(
        lab: str, work: Path, page: Any, artifacts: Path, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from dltasks.widgets.work_queue import WorkQueueWidget

    store_path, (task_id,) = make_store(tmp_path, ["stale queue"])
    notebook = widget_notebook(tmp_path, store_path, [task_id])
    widget = open_widgets(page, lab, notebook, work, ".dlt-labeling", 1).first
    other = dl.connect(store_path).tasks.get(task_id)         # another process's connection
    queue = sorted(other.assignments_df(user_id="ann", status="pending")["item_id"].astype(int))
    assert widget.get_attribute("data-item-id") == str(queue[0])
    # ann labels the item on screen, the next one and one further on, elsewhere
    elsewhere = {queue[0]: "triangle", queue[1]: "triangle", queue[5]: "square"}
    for item_id, label in elsewhere.items():
        other.submit(item_id, "ann", label)
    time.sleep(WorkQueueWidget.REFRESH_SECONDS + 0.2)       # the widget's queue is older than a refresh

    # two keys 30 ms apart: the first on the item on screen, the second on the next
    log = type_round(page, widget, "11", 30)
    on_screen = [int(e["item_id"]) for e in log]
    assert on_screen[0] == queue[0]
    notes = widget.locator(".dlt-notes")
    expect(notes.locator(".dlt-error", has_text=f"#{queue[0]})")).to_contain_text("moved on")
    if on_screen[1] == queue[1]:  # pressed before the kernel's answer came: refused too, by the queue or the store
        expect(notes).to_contain_text(re.compile(
            f"#{queue[1]}\\)?: (no longer in your queue; the key was ignored|ann already labelled [^—]+— moved on)"))
    expect(widget).not_to_have_attribute("data-item-id", re.compile(f"^({queue[0]}|{queue[1]})$"))

    # later keys: each labels the item on screen; the items labelled elsewhere never come back
    log += type_round(page, widget, "123", 250)
    ahead = queue[10]
    other.submit(ahead, "ann", "circle")                      # written while the widget is open
    elsewhere[ahead] = "circle"
    time.sleep(WorkQueueWidget.REFRESH_SECONDS + 0.2)
    log += type_round(page, widget, "3213213", 250)
    shown = [int(e["item_id"]) for e in log]
    assert not set(shown[2:]) & set(elsewhere), f"items labelled elsewhere shown again: {shown}"
    want = {i: [LABELS[int(e["key"]) - 1]] for i, e in zip(shown, log) if i not in elsewhere}
    want.update({i: [label] for i, label in elsewhere.items()})
    assert labels_of(store_path, task_id) == want, "one label per key on screen; those written elsewhere kept"
    expect(widget.locator(".dlt-count")).to_contain_text(f"{len(want)} / {N_ITEMS} done")
