"""The seeds' code, read from ../shared/seeds, runs as written against dltasks.

One substitution is made, and the seed itself asks for it: the Dataloop item id
'632dadf7b28a0c0da317dfc8' is replaced by the id of the user's own item ("find out the
item_id of the sample that you want").  Blocks that are printed output, not code
(the ``Iterate Entity: 100%|…`` listing), are recognised and skipped.
"""
from __future__ import annotations

import ast
import datetime
import os
import re
from pathlib import Path
from typing import Any

import pytest

import dltasks as dl

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
SEED_ITEM_ID = "632dadf7b28a0c0da317dfc8"


def code_blocks(text: str) -> list[str]:
    """Python code of a seed: fenced ```python blocks, or the blocks after 'Copied' lines."""
    fenced = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    if fenced:
        return fenced
    blocks, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != "Copied":
            continue
        body: list[str] = []
        for nxt in lines[i + 1:]:
            if not nxt.strip() and body and _parses("\n".join(body)):
                break
            body.append(nxt)
        blocks.append("\n".join(body))
    return blocks


def _parses(src: str) -> bool:
    try:
        ast.parse(src)
        return True
    except SyntaxError:
        return False


def seed(name: str) -> str:
    path = SEEDS / name
    if not path.exists():
        message = f"seed {name} not found beside the repo (expected in {SEEDS})"
        if os.environ.get("CI"):  # CI always has ../shared: a missing seed is a broken setup
            pytest.fail(message)
        pytest.skip(message)
    return path.read_text()


@pytest.fixture
def tutorial(store, tmp_path):
    """The state the seed chapters assume: a dataset with test1.jpg, relabelled 'Adult'."""
    dataset = store.datasets.create("tutorial", labels=["Adult", "Child"])
    image = tmp_path / "test1.jpg"
    image.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 64)
    item = dataset.items.upload(local_path=str(image))
    annotation = item.annotations.create(label="Child")
    annotation.label = "Adult"  # "the label change we did earlier"
    annotation.update()
    extra = tmp_path / "test2.jpg"
    extra.write_bytes(b"\xff\xd8\xff\xe0" + b"\1" * 64)
    dataset.items.upload(local_path=str(extra))
    return {"dl": dl, "dataset": dataset, "store": store, "_item": item}


def complete_all(task: dl.Task) -> None:
    """Workers finish their items, so the QA task has 'completed items' to review."""
    for row in task.assignments_df().itertuples():
        task.submit(int(row.item_id), row.user_id, "Adult")


def run_blocks(blocks: list[str], ns: dict[str, Any], before_qa: Any = None) -> int:
    ran = 0
    for block in blocks:
        if not _parses(block):
            assert block.lstrip().startswith("Iterate Entity"), f"a seed block does not parse:\n{block}"
            continue
        code = block.replace(SEED_ITEM_ID, str(ns["_item"].id))
        if "create_qa_task" in code and before_qa is not None:
            before_qa(ns)
        exec(compile(code, "<seed>", "exec"), ns)
        ran += 1
    return ran


def test_seed_002_metadata_and_tasks_run_as_written(tutorial):
    ns = tutorial
    ran = run_blocks(code_blocks(seed("002_e3cf5fb0e4059d92.txt")), ns, before_qa=lambda ns: complete_all(ns["task"]))
    assert ran == 8
    dataset = ns["dataset"]
    item = dataset.items.get(item_id=ns["_item"].id)
    assert item.metadata["user"]["dateTime"] == ns["now"]  # the bulk update wrote the latest `now`
    untouched = dataset.items.get(filepath="/test2.jpg")
    assert "dateTime" not in untouched.metadata["user"]  # test2 has no 'Adult' label
    assert ns["task"].name == "<task_name>" and len(ns["task"].items_df()) == 2
    qa = ns["qa_task"]
    assert qa.type == "qa" and qa.items_df()["item_id"].tolist() == [item.id]
    assert qa.due_date == datetime.datetime(day=1, month=1, year=2029).astimezone(datetime.timezone.utc)


@pytest.mark.parametrize("name", ["000_88acbaa21f69e006.txt", "001_2f2333790824a159.txt"])
def test_seed_task_chapters_run_as_written(tutorial, name):
    ns = tutorial
    f = dl.Filters()
    f.add(field="dir", values="/")
    ns["filters"] = f
    ns["datetime"] = datetime
    ran = run_blocks(code_blocks(seed(name)), ns, before_qa=lambda ns: complete_all(ns["task"]))
    assert ran == 3
    store = ns["store"]
    names = sorted(t.name for t in store.tasks.list())
    assert names == ["<task_name>", "test_task1", "test_task1_qa"]
    first = ns["dataset"].tasks.get(task_name="test_task1")
    assert first.overdue and first.assignee_ids == ["<annotator1@dataloop.ai>", "<annotator2@dataloop.ai>"]
    assert sorted(first.progress().drop(index="total")["assigned"]) == [1, 1]  # divided equally
