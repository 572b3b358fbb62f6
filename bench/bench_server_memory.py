"""Server memory under concurrent hostile reads: items near the metadata limit, read all at once.

A store holds ``--items`` items, each with ~60 KiB of user metadata (just under the 64 KiB
limit).  ``--clients`` threads then read for ``--seconds``: each, in turn, reads every item as
a frame with its metadata (``items.to_df(metadata="dict")``) and the first page of 1 000 items
(``items.list``), through a ``dltasks serve`` process on 127.0.0.1.  The figure is the server
process's peak resident memory (``VmHWM``).

ours
    the server as ``dltasks serve`` runs it: frames in pages (at most 200 000 rows, and for
    items at most 8 MB of metadata a page), at most 2 big reads at a time
    (``handlers.BIG_READS``), big answers encoded once, 2 malloc arenas.
reference
    the same server with those bounds lifted: a frame in one response, every read at once,
    glibc's default arenas (what the server did before).

Usage::

    python bench/bench_server_memory.py                   # about 2 minutes
    python bench/bench_server_memory.py --items 500 --seconds 10
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
    from dltasks.server import handlers
    from dltasks.server.app import create_app
    from dltasks.server.cli import limit_malloc_arenas

    if side == "ours":
        limit_malloc_arenas()  # as dltasks serve does
    if side == "reference":
        for name, op in ops.OPS.items():
            if op.page_rows is not None:
                ops.OPS[name] = dataclasses.replace(op, page_rows=10**9)
        items.PAGE_BYTES = 2**62
        handlers._big_reads = threading.BoundedSemaphore(10_000)
    uvicorn.run(create_app(store), host="127.0.0.1", port=port, log_level="error")


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--serve", nargs=3, metavar=("SIDE", "STORE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[1], int(args.serve[2]), args.serve[0])
        return 0
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
