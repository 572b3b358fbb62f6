"""The packed read behind ``task.labels_df()``: the same rows as a plain read, or none at all."""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import sql_db
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.coded_read import MAX_DICTIONARY, pack_votes, read_packed_labels, read_task_labels, unpack_votes


def plain_read(store, task_id: str) -> list[list[object]]:
    """The task's votes by an ordinary row query, sorted by item, worker, label."""
    a = S.annotations
    with sql_db(store).read() as conn:
        rows = conn.execute(sa.select(a.c.item_id, a.c.author, a.c.label).where(a.c.task_id == task_id)).all()
    return sorted([int(i), w, v] for i, w, v in rows)


def labelled_task(dataset, workers=("ann", "bob", "cy"), k: int = 2):
    """A task whose every item got a label from each of its ``k`` workers (labels alternate)."""
    task = dataset.tasks.create("votes", assignee_ids=list(workers), workers_per_input=k, seed=3)
    for n, (iid, user) in enumerate(task.assignments_df()[["item_id", "user_id"]].itertuples(index=False)):
        task.submit(int(iid), user, ["Adult", "Child"][n % 3 == 0])
    return task


@given(st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 5), st.integers(0, 3)), max_size=50))
@settings(max_examples=60, deadline=None)
def test_pack_then_unpack_gives_the_votes_back(votes):
    workers, labels = ["a", "b", "c", "d", "e", "f"], ["w", "x", "y", "z"]
    arr = np.array(votes, dtype=np.int64).reshape(-1, 3)
    packed = pack_votes(arr[:, 0], arr[:, 1], arr[:, 2], n_workers=len(workers) + 1, n_labels=len(labels) + 1)
    out = unpack_votes(packed, workers, labels)
    assert out.values.tolist() == [[i, workers[w], labels[v]] for i, w, v in votes]


def test_labels_df_lists_every_vote_by_item_then_worker(store, dataset):
    task = labelled_task(dataset)
    df = task.labels_df()
    assert list(df.columns) == ["item_id", "worker", "label", "seconds"] and df["seconds"].isna().all()
    assert len(df) == 20 and df[["item_id", "worker", "label"]].values.tolist() == plain_read(store, task.id)
    assert df["label"].value_counts().to_dict() == {"Adult": 13, "Child": 7}


def test_the_packed_read_matches_a_plain_read(store, dataset):
    task = labelled_task(dataset)
    with sql_db(store).read() as conn:
        packed = read_packed_labels(conn, task.id, task.assignee_ids, task.labels)
    assert packed is not None  # the fast path was taken
    assert packed.values.tolist() == plain_read(store, task.id)
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == plain_read(store, task.id)
    assert task.labels_df()["item_id"].dtype == np.int64


def test_a_value_outside_the_dictionaries_refuses_the_packed_read(store, dataset):
    task = labelled_task(dataset)
    with sql_db(store).read() as conn:
        # a worker who labelled is missing, or a label is: no silent mis-decoding
        assert read_packed_labels(conn, task.id, ["ann", "bob"], task.labels) is None
        assert read_packed_labels(conn, task.id, task.assignee_ids, ["Adult"]) is None
        # the retry with the stored values is exact
        again = read_task_labels(conn, task.id, ["ann", "bob"], ["Adult"])
    assert again is not None and again.values.tolist() == plain_read(store, task.id)


def test_a_pool_task_reads_its_claimers_labels(store, dataset):
    task = dataset.tasks.create("pool", workers_per_input=1)
    ids = task.items_df()["item_id"].tolist()
    task.submit(ids[0], "zoe", "Adult")
    task.submit(ids[1], "yan", "Child")
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[ids[0], "zoe", "Adult"], [ids[1], "yan", "Child"]]
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == plain_read(store, task.id)


def test_an_unlabelled_task_gives_an_empty_frame(dataset):
    task = dataset.tasks.create("none yet", assignee_ids=["ann"])
    df = task.labels_df()
    assert df.empty and list(df.columns) == ["item_id", "worker", "label", "seconds"]


def test_many_workers_take_the_plain_read(store, dataset):
    workers = [f"w{i:03d}@lab.org" for i in range(MAX_DICTIONARY + 1)]
    task = dataset.tasks.create("crowd", assignee_ids=workers, workers_per_input=1, seed=1)
    for iid, user in task.assignments_df()[["item_id", "user_id"]].itertuples(index=False):
        task.submit(int(iid), user, "Adult")
    with sql_db(store).read() as conn:
        assert read_packed_labels(conn, task.id, workers, task.labels) is None
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == plain_read(store, task.id)
    assert len(task.labels_df()) == 10


def test_a_string_too_long_for_the_database_falls_back_and_keeps_the_transaction(tmp_path):
    import dltasks as dl

    store = dl.connect(tmp_path / "limit.db")
    ds = store.datasets.create("faces", labels=["Adult", "Child"])
    ds.items.import_df(pd.DataFrame({"name": [f"img{i:02d}.jpg" for i in range(10)]}))
    task = labelled_task(ds)
    with sql_db(store).atomic() as conn:  # inside a write transaction: it must stay usable
        raw = conn.connection.dbapi_connection
        old = raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 40)  # 20 packed votes need ~100 characters
        try:
            assert read_packed_labels(conn, task.id, task.assignee_ids, task.labels) is None
            assert conn.execute(sa.select(sa.func.count()).select_from(S.annotations)).scalar() == 20
        finally:
            raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, old)
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == plain_read(store, task.id)
    store.close()


def test_big_item_ids_pack_without_overflow(store, dataset):
    big = 50_000_000  # times 4 workers times 3 labels is past a 32-bit integer
    with sql_db(store).atomic() as conn:
        conn.execute(sa.insert(S.items).values(id=big, dataset_id=dataset.id, name="/far.jpg", dir="/",
                                               filename="/far.jpg", metadata="{}", created_at=0.0))
    task = dataset.tasks.create("far", assignee_ids=["ann", "bob"], workers_per_input=2, items=[big], seed=0)
    task.submit(big, "bob", "Child")
    task.submit(big, "ann", "Adult")
    with sql_db(store).read() as conn:
        packed = read_packed_labels(conn, task.id, task.assignee_ids, task.labels)
    assert packed is not None and packed.values.tolist() == [[big, "ann", "Adult"], [big, "bob", "Child"]]
    assert task.labels_df()[["item_id", "worker", "label"]].values.tolist() == [[big, "ann", "Adult"], [big, "bob", "Child"]]
