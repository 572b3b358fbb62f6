"""Benchmark big reads through ``dltasks serve`` against the same reads on the server's own store (issue 16).

Cases (defaults):

``labels_df``
    ``task.labels_df()`` of a class task of 333,334 items x 3 workers: 1,000,002 labels
    (item_id, worker, label, seconds; a tenth of the seconds not measured, NaN).
``items.to_df``
    ``dataset.items.to_df()`` of the task's dataset, 1,000,000 items with two user metadata
    keys (``colour`` text, ``score`` float): 11 columns, a datetime among them.

Sides:

``local``
    the read on the server's own store (a SQLite file, ``dl.connect(path)``) in this process.
``json`` / ``arrow``
    the read through a live ``dltasks serve`` on 127.0.0.1 (its own process), frames sent as
    JSON (``Accept: application/json``, what the client did before issue 16) or as Arrow IPC
    streams (``Accept: application/vnd.apache.arrow.stream``), page by page as the client
    reads them (``page_rows`` rows per page; items also cut at ``PAGE_BYTES`` of metadata).
    ``default`` is what ``dl.connect(url)`` does out of the box (before issue 16: JSON).

Each figure is the best of ``--repeat`` runs, the sides interleaved (the machine is shared):
wall seconds, the CPU seconds of this process (the client) and of the server's process
(``psutil``), their sum, and the MB of response bodies received.  The ratio is remote /
local, for wall and for CPU (client + server vs local); the target, <= 2x, is judged on CPU
(client and server run one after the other, so on an idle machine the remote wall time is
about that sum; on a shared machine wall times follow its load).  Before timing, each remote read is checked equal to
the local one (``assert_frame_equal``) on the full data.

The store is built once (items by ``import_df``, the task by ``tasks.create``, the labels
inserted in bulk straight into the annotations table and the statuses re-derived by the
store's own ``recompute_statuses``: one ``task.submit`` per label would take most of an
hour) and cached in ``--cache`` (default ``$TMPDIR/dltasks-bench-big-reads``) under a name
with a hash of the store schema.

Usage::

    python bench/bench_big_reads.py                        # about 5 minutes with a built store
    python bench/bench_big_reads.py --items 200000 --task-items 66667 --repeat 1
    python bench/bench_big_reads.py --formats json,arrow   # the sides through the server
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import psutil
import requests
from pandas.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
import dltasks as dl  # noqa: E402
from dltasks.backends.sql import schema as S  # noqa: E402
from bench_widgets import note, schema_tag  # noqa: E402  (the cache is named by the store schema)

LABELS = ["cat", "dog", "fox", "owl"]
WORKERS = ["ann@example.com", "bob@example.com", "cy@example.com"]
ADMIN = "bench@example.com"
TARGET_RATIO = 2.0
SEED = 16


# -- the store -----------------------------------------------------------------------------------
def build_store(path: Path, n_items: int, task_items: int) -> None:
    """A dataset of ``n_items`` items and a task over the first ``task_items``, every worker's label in."""
    rng = np.random.default_rng(SEED)
    store = dl.connect(str(path))
    note(f"building {n_items:,} items ...")
    ds = store.datasets.create("big", labels=LABELS)
    ds.items.import_df(pd.DataFrame({"name": [f"img{i:07d}.jpg" for i in range(n_items)],
                                     "dir": [f"/part{i % 10}" for i in range(n_items)],
                                     "user.colour": rng.choice(["red", "green", "blue"], n_items),
                                     "user.score": rng.random(n_items).round(4)}))
    ids = ds.items.to_df(metadata="none")["id"].tolist()[:task_items]
    note(f"building a task of {task_items:,} items x {len(WORKERS)} workers ...")
    task = ds.tasks.create("big", assignee_ids=WORKERS, workers_per_input=len(WORKERS), items=ids, seed=SEED)
    _bulk_labels(store, task.id, ids, rng)
    store.close()


def _bulk_labels(store: dl.Store, task_id: str, ids: list[int], rng: np.random.Generator) -> None:
    """Every worker labels every item of the task (bulk: see the module doc)."""
    import sqlalchemy as sa

    from dltasks.backends.sql.rules import rules as read_rules
    from dltasks.backends.sql.work import recompute_statuses

    n = len(ids) * len(WORKERS)
    note(f"inserting {n:,} labels ...")
    items = np.repeat(np.asarray(ids), len(WORKERS)).tolist()
    authors = np.tile(np.asarray(WORKERS), len(ids)).tolist()
    labels = rng.choice(LABELS, n, p=[0.5, 0.3, 0.15, 0.05]).tolist()
    seconds = rng.gamma(2.0, 3.0, n).round(3)
    seconds[rng.random(n) < 0.1] = np.nan  # not measured
    secs = [None if s != s else s for s in seconds.tolist()]
    now = time.time()
    with store.atomic() as conn:
        store.backend.db.insert_rows(  # type: ignore[attr-defined]
            conn, S.annotations, ("item_id", "label", "author", "task_id", "created_at", "seconds"),
            zip(items, labels, authors, [task_id] * n, [now] * n, secs))
        a = S.assignments
        conn.execute(sa.update(a).where(a.c.task_id == task_id, a.c.role == "worker").values(status="done"))
        recompute_statuses(conn, task_id, read_rules(conn, task_id))


# -- the server ----------------------------------------------------------------------------------
class Server:
    """``dltasks serve`` over ``store`` in its own process, on a free 127.0.0.1 port."""

    def __init__(self, store: Path, token: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", str(store),
                                      "--port", str(self.port), "--log-level", "warning"], cwd=ROOT,
                                     stderr=subprocess.DEVNULL)
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(self.url + "/api/v1/me", headers={"Authorization": f"Key {token}"},
                                timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("dltasks serve did not start")
            time.sleep(0.2)

    def cpu(self) -> float:
        """CPU seconds the server's process has used so far."""
        t = self.ps.cpu_times()
        return t.user + t.system

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()


# -- timing --------------------------------------------------------------------------------------
#: Bytes of response bodies the clients received (a response hook on each client's session).
RECEIVED = [0]


def _count_bytes(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    RECEIVED[0] += len(response.content)


def measure(read: Callable[[], pd.DataFrame], server: Server | None) -> dict[str, float]:
    """One read: wall, client CPU, server CPU (0 locally), their sum, the rows read and the MB received."""
    s0, b0 = (server.cpu() if server else 0.0), RECEIVED[0]
    c0, w0 = time.process_time(), time.perf_counter()
    frame = read()
    wall, client = time.perf_counter() - w0, time.process_time() - c0
    srv = server.cpu() - s0 if server else 0.0
    return {"wall": wall, "cpu_client": client, "cpu_server": srv, "cpu": client + srv, "rows": len(frame),
            "mb": (RECEIVED[0] - b0) / 1e6}


def readers(store: dl.Store) -> dict[str, Callable[[], pd.DataFrame]]:
    ds = store.datasets.get(name="big")
    task = ds.tasks.get(task_name="big")
    return {"labels_df": task.labels_df, "items.to_df": ds.items.to_df}


def connect_remote(url: str, token: str, fmt: str) -> dl.Store:
    """A client of the server; ``fmt`` the frames it asks for (``default``: the client's own choice)."""
    options: dict[str, Any] = {} if fmt == "default" else {"frames": fmt}
    store = dl.connect(url, token=token, timeout=600, **options)
    store.backend.http.session.hooks["response"].append(_count_bytes)  # type: ignore[attr-defined]
    return store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--task-items", type=int, default=333_334)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", default="json,arrow", help="comma-separated: json, arrow, default")
    ap.add_argument("--cases", default="labels_df,items.to_df")
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "dltasks-bench-big-reads"))
    ap.add_argument("--no-check", action="store_true", help="skip the equality check before timing")
    args = ap.parse_args()
    formats = [f for f in args.formats.split(",") if f]
    cases = [c for c in args.cases.split(",") if c]

    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"big-{args.items}-{args.task_items}-{schema_tag()}.db"
    if not path.exists():
        t0 = time.perf_counter()
        build_store(path.with_suffix(".tmp"), args.items, args.task_items)
        path.with_suffix(".tmp").rename(path)
        note(f"built {path} in {time.perf_counter() - t0:.0f} s")
    local = dl.connect(str(path))
    token = local.create_token(ADMIN, admin=True)
    server = Server(path, token)
    try:
        remotes = {fmt: connect_remote(server.url, token, fmt) for fmt in formats}
        sides: dict[str, tuple[dict[str, Callable[[], pd.DataFrame]], Server | None]] = {"local": (readers(local), None)}
        sides.update({fmt: (readers(r), server) for fmt, r in remotes.items()})
        if not args.no_check:
            for case in cases:
                want = sides["local"][0][case]()
                for fmt in formats:
                    assert_frame_equal(sides[fmt][0][case](), want, obj=f"{case} ({fmt})")
                note(f"checked: {case} through the server equals the local read ({len(want):,} rows)")
                del want
        best: dict[tuple[str, str], dict[str, float]] = {}
        for r in range(args.repeat):
            for case in cases:
                order = list(sides) if r % 2 == 0 else list(reversed(sides))
                for side in order:
                    read, srv = sides[side]
                    m = measure(read[case], srv)
                    note(f"  {case:12s} {side:8s} wall {m['wall']:6.2f} s  cpu {m['cpu']:6.2f} s "
                         f"(client {m['cpu_client']:.2f}, server {m['cpu_server']:.2f})")
                    key = (case, side)
                    if key not in best or m["wall"] < best[key]["wall"]:
                        best[key] = m
    finally:
        server.stop()
        local.close()

    print(report(best, cases, formats))
    print(json.dumps({f"{c}/{s}": {k: round(v, 3) for k, v in m.items()} for (c, s), m in best.items()}))


def report(best: dict[tuple[str, str], dict[str, float]], cases: list[str], formats: list[str]) -> str:
    """The table: per case and side, wall and CPU seconds and the ratios to the local read."""
    lines = [f"{'case':12s} {'side':8s} {'rows':>9s} {'MB':>6s} {'wall s':>7s} {'cpu s':>7s} {'client':>7s} "
             f"{'server':>7s} {'wall x':>7s} {'cpu x':>7s}  target <= {TARGET_RATIO:g}x"]
    for case in cases:
        base = best[(case, "local")]
        for side in ["local", *formats]:
            m = best[(case, side)]
            wx, cx = m["wall"] / base["wall"], m["cpu"] / base["cpu"]
            verdict = "" if side == "local" else ("met" if cx <= TARGET_RATIO else "NOT met")
            lines.append(f"{case:12s} {side:8s} {int(m['rows']):9,d} {m.get('mb', 0):6.1f} {m['wall']:7.2f} {m['cpu']:7.2f} "
                         f"{m['cpu_client']:7.2f} {m['cpu_server']:7.2f} {wx:7.2f} {cx:7.2f}  {verdict}")
    lines.append("(the verdict is on CPU, client + server: the remote sides run one after the other, so on an "
                 "idle machine their wall time is about that sum; wall times on a shared machine vary with its load)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
