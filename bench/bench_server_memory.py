"""Server memory under concurrent hostile reads: items near the metadata limit, read all at once.

A store holds ``--items`` items, each with ~60 KiB of user metadata (just under the 64 KiB
limit).  ``--clients`` threads then read for ``--seconds``: each, in turn, reads every item as
a frame with its metadata (``items.to_df(metadata="dict")``) and the first page of 1 000 items
(``items.list``), through a ``dltasks serve`` process on 127.0.0.1.  The figure is the server
process's peak resident memory (``VmHWM``).

ours
    the server as ``dltasks serve`` runs it: frames in pages (at most 200 000 rows, and for
    items at most 8 MB of metadata a page), at most 2 big reads at a time
    (``dltasks.server.gate.BIG_READS``, each held from building to sent), big answers encoded
    once, 2 malloc arenas.
reference
    the same server with those bounds lifted: a frame in one response, every read at once,
    glibc's default arenas (what the server did before).

mixed (issue 16: bounded memory)
    ``dltasks serve`` (the command, one process) under ``--mixed-clients`` (500) concurrent
    requests for ``--mixed-seconds``: one thread and connection per client, each sending its
    kind of request again and again as soon as the last is answered, so 500 requests are in
    flight at once.  The mix: 100 get a task, 100 list tasks (1 000 a page, the most), 100
    submit labels (each its own worker, on a task of ``--mixed-items`` items), and the largest
    pages allowed: 50 pages of 1 000 items with ~60 KiB of metadata each (cut at 8 MB), 50
    item frames with metadata (a page: 200 000 rows or 8 MB of metadata), 50 pages of 200 000
    assignments and 50 of 200 000 item statuses.  The responses are read and dropped.  The
    figure is the server's peak resident memory against the documented bound of 500 MB (on
    SQLite), with latency per kind and errors (must be 0).  The run lasts until every client's
    last request is answered: the big reads are answered 2 at a time, so with 200 of them
    queued this is minutes (7 on a loaded 2-core machine).  ``--arrow``: the frame reads ask
    for Arrow IPC streams (``Accept: application/vnd.apache.arrow.stream``) instead of JSON.

Usage::

    python bench/bench_server_memory.py                   # about 5-10 minutes
    python bench/bench_server_memory.py --items 500 --seconds 10 --mixed-seconds 10
    python bench/bench_server_memory.py --case mixed
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import dltasks as dl  # noqa: E402

TARGET_MB = 500


def serve(store: str, port: int, side: str) -> None:
    """Run a server (in this child process), with the bounds lifted for the reference."""
    import dataclasses

    import uvicorn

    from dltasks.backends import ops
    from dltasks.backends.sql import items
    from dltasks.server.app import create_app
    from dltasks.server.gate import BIG_READS
    from dltasks.server.cli import limit_malloc_arenas

    if side == "ours":
        limit_malloc_arenas()  # as dltasks serve does
    if side == "reference":
        for name, op in ops.OPS.items():
            if op.page_rows is not None:
                ops.OPS[name] = dataclasses.replace(op, page_rows=10**9)
        items.PAGE_BYTES = 2**62
    big_reads = BIG_READS if side == "ours" else 10_000
    uvicorn.run(create_app(store, big_reads=big_reads), host="127.0.0.1", port=port, log_level="error")


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(path: str, n_items: int) -> str:
    store = dl.connect(path)
    ds = store.datasets.create("hostile")
    blob = "x" * (60 * 1024)
    for start in range(0, n_items, 200):
        names = [f"{i}.jpg" for i in range(start, min(n_items, start + 200))]
        ds.items.import_df(pd.DataFrame({"name": names, "user.blob": [blob] * len(names)}))
    token = store.create_token("lead@example.com", admin=True)
    store.close()
    return token


def run(side: str, path: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", side, path, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                remote = dl.connect(url, token=token, timeout=600)
                break
            except dl.DltasksError:
                time.sleep(0.1)
        ds_id = remote.datasets.get(name="hostile").id
        errors: list[str] = []
        reads = [0]

        def client() -> None:
            store = dl.connect(url, token=token, timeout=600)
            ds = store.datasets.get(dataset_id=ds_id)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    ds.items.to_df(metadata="dict")
                    ds.items.list(page_size=1000)
                    reads[0] += 2
                except Exception as exc:  # every failure is one a user would see
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                    return

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return {"side": side, "peak_mb": peak_mb(server.pid), "reads": reads[0], "errors": len(errors),
                "first_error": errors[0] if errors else ""}
    finally:
        server.terminate()
        server.wait(timeout=30)


#: The mixed case: (kind, share of the clients).
MIX = [("get task", 0.2), ("list tasks", 0.2), ("submit", 0.2), ("items page", 0.1), ("items frame page", 0.1),
       ("assignments page", 0.1), ("statuses page", 0.1)]
BIG_PAGE = 200_000  # ops.PAGE_ROWS: the most rows a frame page holds


def build_mixed(path: str, n_hostile: int, n_items: int, submitters: int) -> dict[str, Any]:
    """The hostile dataset, a dataset of ``n_items`` items with two tasks over it: one worker on
    every item (frames of ``n_items`` rows) and one shared by ``submitters`` workers."""
    admin = build(path, n_hostile)
    store = dl.connect(path)
    hostile = store.datasets.get(name="hostile").id
    ds = store.datasets.create("big", labels=["yes", "no"])
    for start in range(0, n_items, 100_000):
        stop = min(n_items, start + 100_000)
        ds.items.import_df(pd.DataFrame({"name": [f"{i:07d}.jpg" for i in range(start, stop)],
                                         "user.site": [f"site-{i % 17}" for i in range(start, stop)]}))
    whole = ds.tasks.create(task_name="one worker", assignee_ids=["solo@example.com"], seed=1)
    workers = [f"w{i:03d}@example.com" for i in range(submitters)]
    work = ds.tasks.create(task_name="work", assignee_ids=workers, seed=2)
    assigned = work.assignments_df()
    items = {w: [int(i) for i in assigned.loc[assigned["user_id"] == w, "item_id"]] for w in workers}
    tokens = {w: store.create_token(w) for w in workers}
    store.close()
    return {"admin": admin, "hostile": hostile, "big": ds.id, "whole": whole.id, "work": work.id,
            "items": items, "tokens": tokens, "workers": workers}


def mixed_request(kind: str, plan: dict[str, Any], worker: str | None, n: int) -> tuple[str, str, dict[str, Any]]:
    """Method, path and (JSON body or query) of the ``n``-th request of a client of ``kind``."""
    api = "/api/v1"
    if kind == "get task":
        return "GET", f"{api}/tasks/{plan['work']}", {}
    if kind == "list tasks":
        return "GET", f"{api}/tasks", {"per_page": 1000}
    if kind == "submit":
        assert worker is not None
        mine = plan["items"][worker]
        return "POST", f"{api}/tasks/{plan['work']}/submit", {"item_id": mine[n % len(mine)], "user_id": worker,
                                                               "label": "yes", "replace": n >= len(mine)}
    if kind == "items page":
        return "POST", f"{api}/datasets/{plan['hostile']}/items/query", {"offset": 0, "limit": 1000}
    if kind == "items frame page":
        return "POST", f"{api}/datasets/{plan['hostile']}/items/frame", {"metadata": "dict", "offset": 0,
                                                                          "limit": BIG_PAGE}
    if kind == "assignments page":
        return "GET", f"{api}/tasks/{plan['whole']}/assignments", {"offset": 0, "limit": BIG_PAGE}
    return "GET", f"{api}/tasks/{plan['whole']}/items", {"offset": 0, "limit": BIG_PAGE}


def send(session: Any, url: str, method: str, path: str, values: dict[str, Any]) -> tuple[int, int]:
    """One request; the answer read in 1 MiB chunks and dropped: (status, bytes)."""
    if method == "GET":
        r = session.get(url + path, params=values, timeout=900, stream=True)
    else:
        r = session.post(url + path, json=values, timeout=900, stream=True)
    size = sum(len(chunk) for chunk in r.iter_content(2**20))
    r.close()
    return r.status_code, size


ARROW = "application/vnd.apache.arrow.stream"


def run_mixed(path: str, plan: dict[str, Any], clients: int, seconds: float, arrow: bool = False) -> dict[str, Any]:
    """``dltasks serve`` under ``clients`` concurrent mixed requests for ``seconds``; its peak RSS."""
    import numpy as np
    import requests

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "dltasks.cli", "serve", "--store", path, "--host", "127.0.0.1",
                               "--port", str(port), "--log-level", "error"])
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(1200):
            try:
                requests.get(url + "/api/v1/me", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.1)
        kinds = [kind for kind, share in MIX for _ in range(round(share * clients))]
        admin = requests.Session()
        admin.headers["Authorization"] = f"Key {plan['admin']}"
        for kind in dict.fromkeys(kinds):  # every kind answers before the load (a changed route fails here)
            if kind != "submit":
                code, _ = send(admin, url, *mixed_request(kind, plan, None, 0))
                assert code == 200, f"{kind}: HTTP {code}"
        idle_mb = current_mb(server.pid)
        lock = threading.Lock()
        latency: dict[str, list[float]] = {k: [] for k, _ in MIX}
        failures: dict[str, list[str]] = {k: [] for k, _ in MIX}
        sizes: dict[str, int] = {k: 0 for k, _ in MIX}
        barrier = threading.Barrier(len(kinds) + 1)
        deadline = [0.0]

        def client(kind: str, index: int) -> None:
            session = requests.Session()
            worker = None
            if kind == "submit":
                worker = plan["workers"][index % len(plan["workers"])]
                session.headers["Authorization"] = f"Key {plan['tokens'][worker]}"
            else:
                session.headers["Authorization"] = f"Key {plan['admin']}"
                if arrow:
                    session.headers["Accept"] = f"{ARROW}, application/json;q=0.5"
            barrier.wait(timeout=300)
            n = 0
            while time.monotonic() < deadline[0]:
                t0 = time.perf_counter()
                try:
                    code, size = send(session, url, *mixed_request(kind, plan, worker, n))
                    error = "" if code == 200 else f"HTTP {code}"
                except requests.RequestException as exc:
                    code, size, error = 0, 0, f"{type(exc).__name__}: {exc}"[:200]
                with lock:
                    latency[kind].append(time.perf_counter() - t0)
                    sizes[kind] += size
                    if error:
                        failures[kind].append(error)
                n += 1
            session.close()

        threads = [threading.Thread(target=client, args=(kind, i), daemon=True) for i, kind in enumerate(kinds)]
        for t in threads:
            t.start()
        deadline[0] = time.monotonic() + seconds
        barrier.wait(timeout=300)
        start = time.monotonic()
        for t in threads:
            t.join()
        wall = time.monotonic() - start
        rows = []
        for kind, _ in MIX:
            lat = np.asarray(latency[kind]) * 1000
            rows.append({"kind": kind, "clients": kinds.count(kind), "requests": len(lat),
                         "errors": len(failures[kind]), "MB read": round(sizes[kind] / 2**20),
                         "p50 ms": round(float(np.percentile(lat, 50))) if len(lat) else None,
                         "p99 ms": round(float(np.percentile(lat, 99))) if len(lat) else None})
        return {"peak_mb": peak_mb(server.pid), "idle_mb": idle_mb, "wall": wall, "rows": rows,
                "first_errors": [e for errs in failures.values() for e in errs[:1]]}
    finally:
        server.terminate()
        server.wait(timeout=60)


def current_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def mixed(args: argparse.Namespace) -> bool:
    """The mixed case: print its table and figure; whether the bound held with no error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mixed.db")
        plan = build_mixed(path, args.items, args.mixed_items, round(dict(MIX)["submit"] * args.mixed_clients))
        print(f"\nmixed: dltasks serve (SQLite), {args.mixed_clients} concurrent clients for {args.mixed_seconds:.0f} s "
              f"({os.cpu_count()} CPUs shared with the clients, load average before {os.getloadavg()[0]:.2f}); "
              f"{args.items:,} items x 60 KiB and {args.mixed_items:,} items x 1 worker; frames as "
              f"{'Arrow' if args.arrow else 'JSON'}")
        result = run_mixed(path, plan, args.mixed_clients, args.mixed_seconds, args.arrow)
    print(pd.DataFrame(result["rows"]).to_string(index=False))
    errors = sum(r["errors"] for r in result["rows"])
    met = result["peak_mb"] <= TARGET_MB and errors == 0
    print(f"server RSS: {result['idle_mb']:.0f} MB idle, peak {result['peak_mb']:.0f} MB over {result['wall']:.0f} s; "
          f"bound: <= {TARGET_MB} MB with no error: {'met' if met else 'NOT met'}")
    for e in result["first_errors"]:
        print(f"  error: {e}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("hostile", "mixed", "all"), default="all")
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--mixed-clients", type=int, default=500)
    parser.add_argument("--mixed-items", type=int, default=BIG_PAGE)
    parser.add_argument("--mixed-seconds", type=float, default=30.0)
    parser.add_argument("--arrow", action="store_true", help="the mixed case's frame reads ask for Arrow streams")
    parser.add_argument("--serve", nargs=3, metavar=("SIDE", "STORE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[1], int(args.serve[2]), args.serve[0])
        return 0
    if args.case in ("hostile", "all"):
        hostile(args)
    if args.case in ("mixed", "all"):
        mixed(args)
    return 0


def hostile(args: argparse.Namespace) -> None:
    """The hostile-reads case, ours against the reference."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hostile.db")
        token = build(path, args.items)
        print(f"{args.items:,} items x 60 KiB of metadata ({args.items * 60 / 1024:.0f} MiB), {args.clients} clients "
              f"reading for {args.seconds:.0f} s; server peak RSS (VmHWM)")
        ours = run("ours", path, token, args.clients, args.seconds)
        ref = run("reference", path, token, args.clients, args.seconds)
    print(f"{'side':10} {'peak MB':>8} {'reads':>6} {'errors':>6}")
    for row in (ours, ref):
        print(f"{row['side']:10} {row['peak_mb']:8.0f} {row['reads']:6d} {row['errors']:6d}  {row['first_error']}")
    ratio = ours["peak_mb"] / ref["peak_mb"] if ref["peak_mb"] else float("nan")
    met = ours["peak_mb"] <= TARGET_MB and ours["errors"] == 0
    print(f"ours / reference: {ratio:.2f}; target: ours <= {TARGET_MB} MB with no error: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
