"""dltasks side by side with Label Studio: the same operations, the same 8 clients, the same machine.

Optional and not in CI (``make test`` never runs it; ``make bench`` runs every ``bench/bench_*.py``
and so this one too): it installs ``label-studio`` (pinned, ``LS_VERSION``) into its own venv,
``--ls-venv`` (default ``~/.cache/dltasks-bench/label-studio-venv``; created with ``pip`` on the
first run, a few minutes, reused after), and never touches the project's ``.venv``.

Label Studio runs as its users run it out of the box: ``label-studio start --no-browser`` on SQLite
(its default) with a fresh ``--data-dir`` under a temp folder, on a free 127.0.0.1 port.  The admin
user and its API token come from ``LABEL_STUDIO_USERNAME`` / ``LABEL_STUDIO_PASSWORD`` /
``LABEL_STUDIO_USER_TOKEN``; since 1.17 a new organisation refuses such legacy tokens (``401``) unless
``LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true`` (``--enable-legacy-api-token``), which the bench sets,
so every request carries ``Authorization: Token <key>`` as on a classic install.  One project with a
yes/no choices config gets ``--items`` (10 000) tasks in one ``POST /api/projects/{id}/import``
(timed: the "import" row), then ``--clients`` client processes (spawn; each its own
``requests`` session) start each operation at the same moment (a barrier) and run
``--requests`` requests of it:

* ``get a task``           — LS ``GET /api/tasks/{id}/`` (a random task of the 10 000);
  dltasks ``GET /v2/tasks/{id}``
* ``list a page``          — LS ``GET /api/tasks/?project=P&page_size=20``; dltasks ``GET /v2/tasks?per_page=20``
* ``submit an annotation`` — LS ``POST /api/tasks/{id}/annotations/`` with a choices result, each client
  on its own tasks of the 10 000-task project; dltasks ``POST /api/v1/tasks/{id}/submit`` on the big
  task (10 000 items x 8 workers, each client on its own random items): ``bench_server``'s ``submit big``
* ``import 10 000 items``  — one request each: LS's import above; dltasks ``ds.items.import_df`` of
  10 000 rows through ``dl.connect(url, token=...)`` (the HTTP backend).  Its "req/s" is items/s and
  its p50 = p99 = the whole import.  Each side first imports 100 rows elsewhere, untimed: the first
  import of a server process loads its import code (dltasks: 0.35-0.42 s for the first import of
  10 000 rows, 0.15-0.30 s after), and a team imports more than once.

The dltasks side is ``bench_server``'s (imported, not copied): ``build`` a SQLite store, ``serve`` it
with ``dltasks serve``, ``run_ops`` with the same clients.  Differences worth knowing: every Label
Studio client uses the one admin token (Label Studio community has no API to mint a token per
user), each dltasks client its own worker's token; Label Studio's ``start`` is Django's threaded
server, as its docs start it (the Docker image puts uwsgi in front).

Prints one table: each operation's req/s, p50 and p99 on both, the ratios (dltasks req/s / LS
req/s; LS p99 / dltasks p99) and whether the issue's goal (dltasks at least ``--goal`` = 10x ahead in
req/s, with no errors) is met; the load average is printed before each side.  Label Studio does
only some 16 requests a second here, so the default ``--requests`` (30 per client per operation)
keeps its side within a few minutes.  Label Studio and the dltasks server are always stopped at the
end (``--keep`` leaves Label Studio running for debugging and prints its URL and token).

    python bench/bench_vs_label_studio.py [--clients 8] [--requests 30] [--items 10000]
        [--ls-venv DIR] [--keep]
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests

import dltasks as dl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_server import _show, build, free_port, run_bursts, run_ops, serve  # noqa: E402  (a sibling bench)

LS_VERSION = "1.23.2"
DEFAULT_VENV = Path.home() / ".cache" / "dltasks-bench" / "label-studio-venv"
LS_USER = "bench@dltasks.io"
LABEL_CONFIG = ('<View><Text name="text" value="$text"/>'
                '<Choices name="choice" toName="text"><Choice value="yes"/><Choice value="no"/></Choices></View>')
RESULT: Any = [{"from_name": "choice", "to_name": "text", "type": "choices", "value": {"choices": ["yes"]}}]
GOAL = 10.0
#: (row name, bench_server's operation, this bench's Label Studio operation)
OPERATIONS = [("get a task", "get", "get"), ("list a page", "list", "list"),
              ("submit an annotation", "submit big", "submit")]
IMPORT = "import {items:,} items"


# -- pure helpers ------------------------------------------------------------------------------------

def summarise(op: str, latencies: list[list[float]], errors: int, wall: float) -> dict[str, Any]:
    """One operation's row from every client's latencies (seconds) and the wall time of the burst.

    >>> summarise("get", [[0.010, 0.020], [0.030, 0.040]], 0, 0.5)
    {'operation': 'get', 'clients': 2, 'requests': 4, 'errors': 0, 'req/s': 8.0, 'p50 ms': 25.0, 'p99 ms': 39.7}
    """
    lat = np.concatenate([np.asarray(x, dtype=float) for x in latencies]) * 1000
    return {"operation": op, "clients": len(latencies), "requests": int(lat.size), "errors": errors,
            "req/s": round(lat.size / wall, 1), "p50 ms": round(float(np.percentile(lat, 50)), 1),
            "p99 ms": round(float(np.percentile(lat, 99)), 1)}


def import_row(seconds: float, items: int) -> dict[str, Any]:
    """The import as a row: items per second in ``req/s``, the whole import in p50 and p99.

    >>> import_row(2.0, 10_000)
    {'operation': 'import', 'clients': 1, 'requests': 1, 'errors': 0, 'req/s': 5000.0, 'p50 ms': 2000.0, 'p99 ms': 2000.0}
    """
    ms = round(seconds * 1000, 1)
    return {"operation": "import", "clients": 1, "requests": 1, "errors": 0, "req/s": round(items / seconds, 1),
            "p50 ms": ms, "p99 ms": ms}


def compare(dl_rows: list[dict[str, Any]], ls_rows: list[dict[str, Any]], items: int = 10_000,
            goal: float = GOAL) -> pd.DataFrame:
    """The side-by-side table: both sides' req/s, p50, p99 per operation, the ratios and the goal.

    ``x req/s`` is dltasks req/s over Label Studio's, ``x p99`` Label Studio's p99 over dltasks';
    the goal is met when ``x req/s >= goal`` and neither side had errors.

    >>> row = {"clients": 8, "requests": 80, "errors": 0}
    >>> dl_rows = [dict(row, operation="get", **{"req/s": 900.0, "p50 ms": 8.0, "p99 ms": 20.0}),
    ...            dict(row, operation="submit big", **{"req/s": 300.0, "p50 ms": 20.0, "p99 ms": 60.0})]
    >>> ls_rows = [dict(row, operation="get", **{"req/s": 30.0, "p50 ms": 250.0, "p99 ms": 500.0}),
    ...            dict(row, operation="submit", **{"req/s": 60.0, "p50 ms": 120.0, "p99 ms": 300.0})]
    >>> t = compare(dl_rows, ls_rows)
    >>> t[["operation", "x req/s", "x p99", "goal 10x"]].to_dict("records")
    [{'operation': 'get a task', 'x req/s': 30.0, 'x p99': 25.0, 'goal 10x': 'yes'}, {'operation': 'submit an annotation', 'x req/s': 5.0, 'x p99': 5.0, 'goal 10x': 'NO'}]
    """
    by_dl = {r["operation"]: r for r in dl_rows}
    by_ls = {r["operation"]: r for r in ls_rows}
    out = []
    for name, dl_op, ls_op in OPERATIONS + [(IMPORT.format(items=items), "import", "import")]:
        if dl_op not in by_dl or ls_op not in by_ls:
            continue
        d, s = by_dl[dl_op], by_ls[ls_op]
        ratio = d["req/s"] / s["req/s"] if s["req/s"] else float("inf")
        ok = ratio >= goal and not d["errors"] and not s["errors"]
        out.append({"operation": name,
                    "dltasks req/s": d["req/s"], "dltasks p50 ms": d["p50 ms"], "dltasks p99 ms": d["p99 ms"],
                    "LS req/s": s["req/s"], "LS p50 ms": s["p50 ms"], "LS p99 ms": s["p99 ms"],
                    "x req/s": round(ratio, 1),
                    "x p99": round(s["p99 ms"] / d["p99 ms"], 1) if d["p99 ms"] else float("inf"),
                    "errors (dl/LS)": f"{d['errors']}/{s['errors']}", f"goal {goal:g}x": "yes" if ok else "NO"})
    return pd.DataFrame(out)


def load_average() -> str:
    """``os.getloadavg()`` as text, e.g. ``'0.52 1.10 1.30'``."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# -- Label Studio ------------------------------------------------------------------------------------

def ensure_label_studio(venv_dir: Path, version: str = LS_VERSION) -> Path:
    """The ``label-studio`` executable of ``venv_dir``, creating the venv and installing it if missing
    (``pip install label-studio==version`` at low priority: several minutes the first time)."""
    exe = venv_dir / "bin" / "label-studio"
    if exe.exists() and installed_version(venv_dir) == version:
        return exe
    if not (venv_dir / "bin" / "python").exists():
        print(f"creating the Label Studio venv {venv_dir}", flush=True)
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    print(f"installing label-studio=={version} into {venv_dir} (a few minutes)", flush=True)
    subprocess.run(["nice", "-n", "10", str(venv_dir / "bin" / "python"), "-m", "pip", "install", "-q",
                    f"label-studio=={version}"], check=True)
    return exe


def installed_version(venv_dir: Path) -> str | None:
    """The label-studio version installed in ``venv_dir`` (``None`` if none)."""
    r = subprocess.run([str(venv_dir / "bin" / "python"), "-c",
                        "import importlib.metadata as m; print(m.version('label-studio'))"],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def start_label_studio(exe: Path, data_dir: Path, token: str, password: str,
                       timeout: float = 900.0) -> tuple[subprocess.Popen[bytes], str]:
    """``label-studio start`` on SQLite in ``data_dir`` on a free 127.0.0.1 port, in its own process
    group; returns once ``/health`` answers (the first start runs every migration: minutes)."""
    port = free_port()
    env = dict(os.environ, LABEL_STUDIO_USERNAME=LS_USER, LABEL_STUDIO_PASSWORD=password,
               LABEL_STUDIO_USER_TOKEN=token, LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
               LABEL_STUDIO_BASE_DATA_DIR=str(data_dir), DJANGO_DB="sqlite", SENTRY_DSN="",
               FRONTEND_SENTRY_DSN="")
    log = open(data_dir / "label-studio.log", "wb")
    proc = subprocess.Popen([str(exe), "start", "--no-browser", "--data-dir", str(data_dir),
                             "--internal-host", "127.0.0.1", "--port", str(port), "--log-level", "WARNING",
                             "--enable-legacy-api-token"],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True, cwd=data_dir)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(url + "/health", timeout=10).status_code == 200:
                return proc, url
        except requests.RequestException:  # migrating, not listening yet
            pass
        time.sleep(1)
    stop(proc, group=True)
    tail = (data_dir / "label-studio.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"Label Studio did not start; the end of its log:\n{tail}")


def stop(proc: subprocess.Popen[bytes], group: bool = False) -> None:
    """Stop ``proc`` (SIGTERM, then SIGKILL after 20 s); with ``group``, its whole process group (a process
    started with ``start_new_session=True``: Label Studio and everything it started)."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if proc.poll() is not None:
            return
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue


def ls_setup(url: str, token: str, items: int, clients: int, per_client: int) -> dict[str, Any]:
    """Check the token, create the project, import ``items`` tasks (timed) and plan the clients' tasks."""
    s = requests.Session()
    s.headers["Authorization"] = f"Token {token}"
    me = s.get(f"{url}/api/current-user/whoami", timeout=60)
    if me.status_code != 200:
        raise RuntimeError(f"Label Studio refused the legacy token ({me.status_code}): {me.text[:300]}")
    for title in ("warm-up", "bench"):  # an untimed import of 100 rows first, as on the dltasks side
        r = s.post(f"{url}/api/projects/", json={"title": title, "label_config": LABEL_CONFIG}, timeout=60)
        r.raise_for_status()
        project = int(r.json()["id"])
        if title == "warm-up":
            s.post(f"{url}/api/projects/{project}/import", json=[{"text": f"w{i}"} for i in range(100)],
                   timeout=600).raise_for_status()
    rows = [{"text": f"{i:06d}.jpg"} for i in range(items)]
    t0 = time.perf_counter()
    r = s.post(f"{url}/api/projects/{project}/import", params={"return_task_ids": "true"}, json=rows, timeout=3600)
    seconds = time.perf_counter() - t0
    r.raise_for_status()
    body = r.json()
    if body.get("task_count") != items or len(body.get("task_ids", [])) != items:
        raise RuntimeError(f"Label Studio imported {body.get('task_count')} tasks, not {items}: {str(body)[:300]}")
    ids = np.asarray(body["task_ids"], dtype=np.int64)
    mine = np.random.default_rng(16).permutation(ids)[:clients * per_client].reshape(clients, per_client)
    return {"url": url, "token": token, "project": project, "tasks": [int(i) for i in ids],
            "mine": mine.tolist(), "import_seconds": seconds}


def ls_client(plan: dict[str, Any], c: int, n: int, operations: tuple[str, ...], barrier: Any, out: Any) -> None:
    """One Label Studio client process: each operation in turn, ``n`` requests after the barrier."""
    s = requests.Session()
    s.headers["Authorization"] = f"Token {plan['token']}"
    url, tasks, rng = plan["url"], plan["tasks"], np.random.default_rng(c)
    for op in operations:
        lat, errors, first = [], 0, ""
        barrier.wait(timeout=600)
        for i in range(n):
            t0 = time.perf_counter()
            if op == "get":
                r = s.get(f"{url}/api/tasks/{tasks[int(rng.integers(len(tasks)))]}/", timeout=120)
            elif op == "list":
                r = s.get(f"{url}/api/tasks/", params={"project": plan["project"], "page_size": 20}, timeout=120)
            else:
                r = s.post(f"{url}/api/tasks/{plan['mine'][c][i]}/annotations/", json={"result": RESULT},
                           timeout=120)
            lat.append(time.perf_counter() - t0)
            if r.status_code >= 300:
                errors += 1
                first = first or f"{r.status_code} {r.text[:200]}"
        out.put((op, lat, errors, first))


def run_ls_ops(plan: dict[str, Any], clients: int, n: int,
               operations: tuple[str, ...] = ("get", "list", "submit")) -> list[dict[str, Any]]:
    """Every Label Studio operation in turn with ``clients`` processes starting it at the same moment."""
    rows = []
    for op, results, wall, _ in run_bursts(ls_client, [(plan, c, n) for c in range(clients)], operations,
                                           timeout=1800):
        rows.append(summarise(op, [r[1] for r in results], sum(r[2] for r in results), wall))
        for first in {r[3] for r in results if r[3]}:
            print(f"  Label Studio {op} error: {first}", flush=True)
    return rows


def label_studio_side(venv_dir: Path, work: Path, clients: int, n: int, items: int,
                      keep: bool) -> list[dict[str, Any]]:
    """Install (once), start, fill and measure Label Studio; stop it unless ``keep``."""
    exe = ensure_label_studio(venv_dir)
    data_dir = Path(tempfile.mkdtemp(prefix="ls-data-", dir=work))
    token, password = secrets.token_hex(20), secrets.token_urlsafe(16)
    print(f"starting Label Studio {installed_version(venv_dir)} (SQLite in {data_dir})", flush=True)
    proc, url = start_label_studio(exe, data_dir, token, password)
    try:
        plan = ls_setup(url, token, items, clients, n)
        print(f"Label Studio: {items:,} tasks imported in {plan['import_seconds']:.1f} s; load average before "
              f"its operations {load_average()}", flush=True)
        t0 = time.monotonic()
        rows = run_ls_ops(plan, clients, n)
        print(f"Label Studio: its operations took {time.monotonic() - t0:.0f} s", flush=True)
        return rows + [import_row(plan["import_seconds"], items)]
    finally:
        if keep:
            print(f"--keep: Label Studio left running at {url} (pid {proc.pid}, process group; user {LS_USER}, "
                  f"password {password}, token {token}, data {data_dir})")
        else:
            stop(proc, group=True)
            shutil.rmtree(data_dir, ignore_errors=True)


# -- dltasks ------------------------------------------------------------------------------------------

def dltasks_side(work: Path, clients: int, n: int, items: int) -> list[dict[str, Any]]:
    """``bench_server``'s store and server with the same clients, plus a timed import over HTTP."""
    folder = Path(tempfile.mkdtemp(prefix="dltasks-", dir=work))
    store_url = str(folder / "bench.db")
    plan = build(store_url, clients, n, items)
    store = dl.connect(store_url)
    admin = store.create_token("admin@bench.io", admin=True)
    store.close()
    proc, url = serve(store_url)
    try:
        remote = dl.connect(url, token=admin)
        warm = remote.datasets.create("warm-up", labels=["yes", "no"])  # untimed, as on the Label Studio side
        warm.items.import_df(pd.DataFrame({"name": [f"w{i}.jpg" for i in range(100)]}))
        ds = remote.datasets.create("import", labels=["yes", "no"])
        frame = pd.DataFrame({"name": [f"{i:06d}.jpg" for i in range(items)]})
        t0 = time.perf_counter()
        imported = ds.items.import_df(frame)
        seconds = time.perf_counter() - t0
        remote.close()
        if imported != items:
            raise RuntimeError(f"dltasks imported {imported} items, not {items}")
        print(f"dltasks: {items:,} items imported in {seconds:.2f} s; load average before its operations "
              f"{load_average()}", flush=True)
        rows = run_ops(url, plan, clients, n, operations=tuple(dl_op for _, dl_op, _ in OPERATIONS),
                       http="requests")  # the Label Studio clients use requests too
    finally:
        stop(proc)
        shutil.rmtree(folder, ignore_errors=True)
    return rows + [import_row(seconds, items)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=30, help="per client and operation (both sides)")
    parser.add_argument("--items", type=int, default=10_000, help="items imported (and of the big submit task)")
    parser.add_argument("--ls-venv", type=Path, default=DEFAULT_VENV, help="the venv Label Studio is installed in")
    parser.add_argument("--keep", action="store_true", help="leave Label Studio running afterwards")
    parser.add_argument("--goal", type=float, default=GOAL, help="how many times ahead dltasks should be")
    args = parser.parse_args(argv)
    if args.clients * args.requests > args.items:
        parser.error("--clients x --requests must be at most --items (each Label Studio client submits on "
                     "tasks of its own)")
    work = Path(tempfile.gettempdir()) / "lsbench"
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs shared by the server and the clients; {args.clients} clients x "
          f"{args.requests} requests per operation; {args.items:,} items")
    print(f"load average before dltasks: {load_average()}", flush=True)
    dl_rows = dltasks_side(work, args.clients, args.requests, args.items)
    print(f"load average before Label Studio: {load_average()}", flush=True)
    ls_rows = label_studio_side(args.ls_venv.expanduser(), work, args.clients, args.requests, args.items,
                                args.keep)
    table = compare(dl_rows, ls_rows, args.items, args.goal)
    print(f"\ndltasks serve (SQLite) vs Label Studio {LS_VERSION} (label-studio start, SQLite); "
          f"x req/s = dltasks req/s / LS req/s, x p99 = LS p99 / dltasks p99; import: req/s is items/s")
    print(_show(table))
    met = (table[f"goal {args.goal:g}x"] == "yes").sum()
    print(f"\ngoal (dltasks >= {args.goal:g}x Label Studio's req/s on every operation): {met} of {len(table)} met")
    return 1 if any(r["errors"] for r in dl_rows + ls_rows) else 0


if __name__ == "__main__":
    sys.exit(main())
