"""Several processes (notebook kernels) writing to one store file at the same time.

4 processes start together (they wait for a "go" file) and each makes 500 metadata
updates (``item.update()``) and 500 annotation creates.  Every process must exit 0 with
no error output (no ``database is locked`` reaching the user), every write must be there,
and the processes must really have overlapped in time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dltasks as dl

pytestmark = pytest.mark.slow

PROCESSES = 4
WRITES = 500
ROOT = Path(__file__).resolve().parents[1]

WORKER = textwrap.dedent("""
    import json, os, sys, time
    import dltasks as dl

    path, go, p, writes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = dl.connect(path)
    ds = store.datasets.get(name="shared")
    ids = ds.items.to_df(metadata="none")["id"].tolist()
    mine = ids[p * writes:(p + 1) * writes]           # metadata: each process its own items
    while not os.path.exists(go):
        time.sleep(0.001)
    start = time.time()
    for j, item_id in enumerate(mine):
        item = ds.items.get(item_id=item_id)
        item.metadata["user"]["writer"] = p
        item.metadata["user"]["step"] = j
        item = item.update()
        assert item.metadata["user"]["writer"] == p
        # annotations: spread over every process's items, so writers touch shared rows
        target = ds.items.get(item_id=ids[(j * %(processes)d + p) %% len(ids)])
        target.annotations.create(label="cat" if j %% 2 else "dog", author=f"proc{p}")
    print(json.dumps({"start": start, "end": time.time()}))
""")


def test_four_processes_write_at_once_and_nothing_is_lost(tmp_path: Any) -> None:
    path, go = tmp_path / "shared.db", tmp_path / "go"
    store = dl.connect(path)
    ds = store.datasets.create("shared", labels=["cat", "dog"])
    n = PROCESSES * WRITES
    ds.items.import_df(pd.DataFrame({"name": [f"img_{i:05d}.jpg" for i in range(n)], "user.writer": -1}))
    store.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = WORKER % {"processes": PROCESSES}
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path), str(go), str(p), str(WRITES)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for p in range(PROCESSES)]
    time.sleep(0.5)  # let every process open the store and load its ids
    go.touch()
    outs = [proc.communicate(timeout=300) for proc in procs]

    for proc, (out, err) in zip(procs, outs):
        assert proc.returncode == 0, err
        assert err == "", err
        assert "locked" not in out
    spans = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans), "the processes did not overlap"

    store = dl.connect(path)
    ds = store.datasets.get(name="shared")
    items = ds.items.to_df()
    assert len(items) == n
    assert items["metadata.user.writer"].tolist() == [i // WRITES for i in range(n)]
    assert items["metadata.user.step"].tolist() == [i % WRITES for i in range(n)]
    annotations = ds.annotations.to_df()
    assert len(annotations) == n
    assert annotations["author"].value_counts().to_dict() == {f"proc{p}": WRITES for p in range(PROCESSES)}
    assert sorted(annotations["item_id"]) == sorted(items["id"])  # one per item, none lost or doubled
    store.close()
