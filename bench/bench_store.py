"""Benchmark the item store against raw sqlite3 / pandas doing the same work.

Cases (default 1,000,000 items, three user metadata keys: colour, score, batch):

``import_df``
    ours: ``dataset.items.import_df(df)`` from a DataFrame (name, dir, path, size,
    ``user.colour``, ``user.score``, ``user.batch``) into a fresh store, timed from the
    call to the commit: validation, JSON building, inserting, committing.
    reference: ``sqlite3.executemany`` + ``COMMIT`` of the *same rows* into an identical
    empty schema (a store dltasks just created: same tables, same indexes, same PRAGMAs).
    The reference is handed pre-built tuples with the metadata JSON strings already built
    (that work is outside its timer), so the ratio is everything dltasks adds on top of
    the bare insert.  After the runs both files are compared row by row (``EXCEPT``).
``to_df``
    ours: ``dataset.items.to_df()`` (metadata flattened to ``metadata.user.*`` columns).
    reference: ``pandas.read_sql`` over a plain ``sqlite3`` connection of the same table
    and columns (``json_extract`` per key, ``created_at`` parsed to UTC datetimes).
``to_df_filtered``
    ours: ``to_df(filters=Filters().add("metadata.user.colour", "red"))`` (~20 % of rows).
    reference: the same SQL by hand: ``sqlite3`` execute + ``fetchall`` + ``DataFrame``.

Before timing, a small run (2,000 items) checks that each reference returns exactly what
dltasks returns (``assert_frame_equal``), so the comparison is like for like.

Every run is a fresh Python process; peak memory is that process's peak resident set
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), so it includes the interpreter, pandas
and the input frame (``base MB`` in the JSON output is the RSS just before the timed
call).  Each case runs ``--repeat`` times, ours and the reference alternating (the
machine is shared: alternating lets background load hit both sides alike; who goes
first swaps every repeat, and ``os.sync()`` runs before each), each run in a fresh
process (writes into a fresh file).  Times are the best run, memory the highest.

Usage::

    python bench/bench_store.py                  # 1,000,000 items, about 5 minutes
    python bench/bench_store.py --items 100000 --repeat 1
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout
import dltasks as dl  # noqa: E402

TARGET_RATIO = 1.5
MEMORY_LIMIT_MB = 1500
CHECK_ITEMS = 2000
DATASET = "bench"
COLOURS = np.array(["red", "green", "blue", "yellow", "black"])
USER_KEYS = ("colour", "score", "batch")
COLUMNS = ("dataset_id", "name", "dir", "filename", "path", "mime", "size", "metadata", "created_at")
SIDES = (("ours", "ref"), ("ref", "ours"))  # who goes first swaps every repeat
PRAGMAS = ("journal_mode", "synchronous", "foreign_keys", "cache_size", "temp_store", "mmap_size")


# -- data ---------------------------------------------------------------------------------
def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """The import frame: n image items in 10 folders with three user metadata keys."""
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    names = [f"img_{k:07d}.jpg" for k in range(n)]
    dirs = (np.char.add("/train/part", (i % 10).astype(str))).tolist()
    return pd.DataFrame({
        "name": names,
        "dir": dirs,
        "path": [f"/data/raw/part{k % 10}/img_{k:07d}.jpg" for k in range(n)],
        "size": rng.integers(10_000, 2_000_000, n),
        "user.colour": COLOURS[rng.integers(0, len(COLOURS), n)],
        "user.score": rng.random(n).round(6),
        "user.batch": rng.integers(0, 100, n),
    })


def reference_rows(df: pd.DataFrame, dataset_id: str, created: float) -> list[tuple[Any, ...]]:
    """The rows dltasks stores for ``df``, built in plain Python (not timed)."""
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    colour, score, batch = (df[f"user.{k}"].tolist() for k in USER_KEYS)
    return [
        (dataset_id, name, d, f"{d}/{name}", path, "image/jpeg", size,
         '{"user":' + dumps({"colour": c, "score": s, "batch": b}) + ',"system":{}}', created)
        for name, d, path, size, c, s, b in zip(df["name"].tolist(), df["dir"].tolist(), df["path"].tolist(),
                                               df["size"].tolist(), colour, score, batch)
    ]


def flat_sql(where: str = "") -> str:
    """The SELECT ``to_df()`` runs, written by hand."""
    meta = ", ".join(f"json_extract(metadata, '$.\"user\".\"{k}\"') AS \"metadata.user.{k}\""
                     for k in sorted(USER_KEYS))
    return (f"SELECT id, dataset_id, name, dir, filename, path, mime, size, created_at, {meta} "
            f"FROM items WHERE dataset_id = ? {where} ORDER BY id")


FILTER_SQL = "AND json_extract(metadata, '$.\"user\".\"colour\"') = ?"


# -- the runs (each in its own process) ----------------------------------------------------
def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def raw_connect(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the PRAGMAs a dltasks connection has."""
    store = dl.connect(path)
    with store.backend.db.engine.connect() as c:
        values = {p: c.exec_driver_sql(f"PRAGMA {p}").scalar() for p in PRAGMAS}
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    for p, v in values.items():
        conn.execute(f"PRAGMA {p}={v}")
    return conn


def import_ours(n: int, work: Path) -> float:
    df = make_frame(n)
    store = dl.connect(work / "ours.db")
    ds = store.datasets.create(DATASET)
    gc.collect()
    start = time.perf_counter()
    ds.items.import_df(df)
    seconds = time.perf_counter() - start
    assert ds.items.count() == n
    store.close()
    return seconds


def import_ref(n: int, work: Path) -> float:
    df = make_frame(n)
    store = dl.connect(work / "ref.db")  # the identical empty schema, plus the dataset row
    dataset_id = store.datasets.create(DATASET).id
    store.close()
    rows = reference_rows(df, dataset_id, time.time())
    conn = raw_connect(work / "ref.db")
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO items ({', '.join(COLUMNS)}) VALUES ({marks})"
    gc.collect()
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def read_ours(path: Path, filtered: bool) -> Callable[[], pd.DataFrame]:
    ds = dl.connect(path).datasets.get(name=DATASET)
    filters = None
    if filtered:
        filters = dl.Filters()
        filters.add("metadata.user.colour", "red")
    return lambda: ds.items.to_df(filters=filters)


def read_ref(path: Path, filtered: bool) -> Callable[[], pd.DataFrame]:
    conn = raw_connect(path)
    dataset_id = conn.execute("SELECT id FROM datasets WHERE name = ?", (DATASET,)).fetchone()[0]
    if not filtered:
        return lambda: pd.read_sql(flat_sql(), conn, params=(dataset_id,),
                                   parse_dates={"created_at": {"unit": "s", "utc": True}})

    def by_hand() -> pd.DataFrame:
        cur = conn.execute(flat_sql(FILTER_SQL), (dataset_id, "red"))
        df = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        return df
    return by_hand


def child(case: str, side: str, n: int, work: Path, repeat: int) -> dict[str, Any]:
    base = rss_mb()
    if case == "import_df":
        seconds = (import_ours if side == "ours" else import_ref)(n, work)
        return {"seconds": seconds, "peak_mb": peak_mb(), "base_mb": base}
    fn = (read_ours if side == "ours" else read_ref)(work / "ours.db", case == "to_df_filtered")
    times, rows = [], 0
    for _ in range(repeat):
        gc.collect()
        base = max(base, rss_mb())
        start = time.perf_counter()
        df = fn()
        times.append(time.perf_counter() - start)
        rows = len(df)
        del df
    return {"seconds": min(times), "peak_mb": peak_mb(), "base_mb": base, "rows": rows}


def run_child(script: Path, args: list[str]) -> dict[str, Any]:
    """Run ``script --child ...`` in a fresh interpreter; return the JSON it prints last.

    ``os.sync()`` first: the previous run's dirty pages would otherwise be written back
    while this one runs, slowing whichever side happens to go second.
    """
    os.sync()
    out = subprocess.run([sys.executable, str(script), "--child", *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- checks ---------------------------------------------------------------------------------
def check_like_for_like(work: Path) -> None:
    """At a small size: each reference returns what dltasks returns."""
    import_ours(CHECK_ITEMS, work)
    import_ref(CHECK_ITEMS, work)
    assert rows_differing(work) == 0, "the reference import stores different rows"
    for filtered in (False, True):
        ours, ref = read_ours(work / "ours.db", filtered)(), read_ref(work / "ours.db", filtered)()
        pd.testing.assert_frame_equal(ours, ref)
    for f in work.glob("*.db*"):
        f.unlink()


def rows_differing(work: Path) -> int:
    """Rows of ours.db and ref.db that differ (every column but id and created_at).

    Metadata is compared as JSON values (key by key, with types): the reference's stdlib
    JSON writes ``1.6e-05`` where pandas' writer gives ``0.000016``.
    """
    conn = sqlite3.connect(work / "ours.db")
    conn.execute("ATTACH DATABASE ? AS ref", (str(work / "ref.db"),))
    meta = ", ".join(f"json_extract(metadata, '$.user.{k}'), json_type(metadata, '$.user.{k}')" for k in USER_KEYS)
    cols = (f"name, dir, filename, path, mime, size, {meta}, json_type(metadata, '$.system'), "
            "(SELECT count(*) FROM json_each(metadata, '$.user')), (SELECT count(*) FROM json_each(metadata))")
    only_in = "(SELECT count(*) FROM (SELECT {c} FROM {a}.items EXCEPT SELECT {c} FROM {b}.items))"
    n = conn.execute(f"SELECT {only_in.format(c=cols, a='main', b='ref')} + "
                     f"{only_in.format(c=cols, a='ref', b='main')}").fetchone()[0]
    conn.close()
    return int(n)


# -- report ---------------------------------------------------------------------------------
def print_table(rows: list[dict[str, Any]]) -> None:
    """case | ours (s) | reference (s) | ratio | target | peak MB ours / ref | pass."""
    head = (f"{'case':<52} {'ours (s)':>9} {'ref (s)':>9} {'ratio':>6} {'target':>8} {'peak MB':>8} {'ref MB':>7}"
            "  result")
    print(head)
    print("-" * len(head))
    for r in rows:
        ref = f"{r['ref']:9.4f}" if r.get("ref") is not None else f"{'-':>9}"
        ratio = f"{r['ours'] / r['ref']:6.2f}" if r.get("ref") else f"{'-':>6}"
        ref_mb = f"{r['ref_mb']:7.0f}" if r.get("ref_mb") is not None else f"{'-':>7}"
        print(f"{r['case']:<52} {r['ours']:9.4f} {ref} {ratio} {r['target']:>8} {r['peak_mb']:8.0f} {ref_mb}  "
              f"{'PASS' if r['ok'] else 'FAIL'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (best is reported)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the store files go (default: a temp dir)")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "SIDE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="dltasks-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.items, work, args.repeat)))
        return 0
    script = Path(__file__).resolve()
    try:
        check_like_for_like(work)
        n = args.items
        print(f"dltasks store bench: {n:,} items, 3 metadata keys; best of {args.repeat}; "
              f"peak MB = peak RSS of a fresh process per case (input frame included)")
        results: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in range(args.repeat):  # alternate, so load on the machine hits both sides alike
            for side in SIDES[r % 2]:
                for f in work.glob(f"{side}.db*"):
                    f.unlink()
                results.setdefault(("import_df", side), []).append(
                    run_child(script, ["import_df", side, "--items", str(n), "--workdir", str(work)]))
        differing = rows_differing(work)
        for r in range(args.repeat):
            for case in ("to_df", "to_df_filtered"):
                for side in SIDES[r % 2]:
                    results.setdefault((case, side), []).append(run_child(
                        script, [case, side, "--items", str(n), "--workdir", str(work), "--repeat", "1"]))
        labels = {"import_df": "import_df  vs sqlite3.executemany", "to_df": "to_df()  vs pandas.read_sql",
                  "to_df_filtered": "to_df(metadata filter)  vs sqlite3 by hand"}
        table = []
        for case, label in labels.items():
            ours, ref = results[(case, "ours")], results[(case, "ref")]
            t_ours, t_ref = min(r["seconds"] for r in ours), min(r["seconds"] for r in ref)
            mb = max(r["peak_mb"] for r in ours)
            table.append({"case": label, "ours": t_ours, "ref": t_ref, "target": f"<={TARGET_RATIO}x",
                          "peak_mb": mb, "ref_mb": max(r["peak_mb"] for r in ref),
                          "ok": t_ours <= TARGET_RATIO * t_ref and mb < MEMORY_LIMIT_MB})
        print_table(table)
        rows = results[("to_df_filtered", "ours")][0].get("rows")
        print(f"\nfiltered rows: {rows:,}; import: rows differing between ours and the reference: {differing}; "
              f"memory target: peak < {MEMORY_LIMIT_MB} MB")
        return 0 if all(r["ok"] for r in table) and differing == 0 else 1
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
