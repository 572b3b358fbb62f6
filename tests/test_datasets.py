"""Datasets, users, the store: names, labels, errors, schema version, connect URLs."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

import dltasks as dl
from conftest import sql_db
from dltasks.errors import ConflictError, DltasksError, NotFoundError, ValidationError
from dltasks.backends.sql import schema as S


def test_create_get_list_delete(store):
    ds = store.datasets.create("faces", labels=["Adult"])
    assert store.datasets.get(name="faces") == ds == store.datasets.get(dataset_id=ds.id)
    assert [d.name for d in store.datasets.list()] == ["faces"]
    assert ds.add_labels(["Child", "Adult"]) == ["Adult", "Child"]
    assert store.datasets.get(name="faces").labels == ["Adult", "Child"]
    assert store.datasets.to_df()[["name", "items_count"]].values.tolist() == [["faces", 0]]
    assert ds.delete()
    with pytest.raises(NotFoundError):
        store.datasets.get(name="faces")


def test_duplicate_name_conflicts(store, unchanged):
    store.datasets.create("faces")
    check = unchanged()
    with pytest.raises(ConflictError, match="faces"):
        store.datasets.create("faces")
    with pytest.raises(ValidationError) as info:
        store.datasets.create("  ")
    assert info.value.field == "name"
    check()


def test_deleting_a_dataset_removes_its_items(dataset, store):
    dataset.items.get_all_items()[0].annotations.create(label="Adult")
    dataset.delete()
    with sql_db(store).read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(S.items)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(S.annotations)).scalar() == 0


def test_users(store):
    before = store.users.to_df()["id"].tolist()  # a server lists its admin token's user
    store.users.create("ann@x.io", name="Ann")
    with pytest.raises(ConflictError):
        store.users.create("ann@x.io")
    assert store.users.ensure(["ann@x.io", "bob@x.io"]) == ["ann@x.io", "bob@x.io"]
    assert [u for u in store.users.to_df()["id"] if u not in before] == ["ann@x.io", "bob@x.io"]
    with pytest.raises(ValidationError) as info:
        store.users.create("")
    assert info.value.field == "user_id"


def test_connect_forms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dl.connect().close()
    assert (tmp_path / "dltasks.db").exists()
    s = dl.connect(f"sqlite:///{tmp_path / 'y.db'}")
    s.datasets.create("a")
    s.close()
    assert dl.connect(tmp_path / "y.db").datasets.get(name="a").name == "a"
    assert dl.connect("sqlite://").datasets.list() == []


def test_wal_mode_and_foreign_keys(tmp_path):
    s = dl.connect(tmp_path / "w.db")
    with sql_db(s).read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_store_from_a_newer_dltasks_is_refused_and_older_is_upgraded(tmp_path, monkeypatch):
    path = tmp_path / "v.db"
    dl.connect(path).close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.update(S.meta_table).values(value=str(S.SCHEMA_VERSION + 1)))
    with pytest.raises(DltasksError, match="newer dltasks"):
        dl.connect(path)
    with engine.begin() as conn:
        conn.execute(sa.update(S.meta_table).values(value=str(S.SCHEMA_VERSION - 1)))
    calls = []
    monkeypatch.setitem(S.MIGRATIONS, S.SCHEMA_VERSION - 1, lambda conn: calls.append(True))
    dl.connect(path).close()
    assert calls == [True]
    with engine.begin() as conn:
        assert conn.execute(sa.select(S.meta_table.c.value)).scalar() == str(S.SCHEMA_VERSION)


@pytest.mark.local_only("a remote store has no client-side transactions; each server call is atomic")
def test_atomic_block_is_all_or_nothing(store):
    with pytest.raises(RuntimeError):
        with store.atomic():
            store.datasets.create("a")
            store.datasets.create("b")
            raise RuntimeError("boom")
    assert store.datasets.list() == []


def test_opening_an_older_store_adds_indexes_it_lacks(tmp_path):
    path = tmp_path / "old.db"
    dl.connect(path).close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_assignments_user_items")
    dl.connect(path).close()
    with engine.begin() as conn:
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("assignments")}
    assert "ix_assignments_user_items" in names


def test_a_version_1_store_gets_the_covering_indexes(tmp_path):
    path = tmp_path / "v1.db"
    s = dl.connect(path)
    ds = s.datasets.create("faces", labels=["Adult", "Child"])
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg"]}))
    task = ds.tasks.create("t", assignee_ids=["ann"], seed=0)
    iid = int(task.items_df()["item_id"].iloc[0])
    task.submit(iid, "ann", "Child")
    s.close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:  # make it what version 1 wrote
        conn.exec_driver_sql("DROP INDEX ix_annotations_task_votes")
        conn.exec_driver_sql("CREATE INDEX ix_annotations_task ON annotations (task_id, item_id)")
        conn.exec_driver_sql("DROP INDEX ix_assignments_user_items")
        conn.exec_driver_sql("CREATE INDEX ix_assignments_task_user ON assignments (task_id, user_id, role, status)")
        conn.execute(sa.update(S.meta_table).values(value="1"))
    s = dl.connect(path)
    assert s.tasks.get(task.id).labels_df()[["item_id", "worker", "label"]].values.tolist() == [[iid, "ann", "Child"]]
    s.close()
    with engine.begin() as conn:
        names = {ix["name"] for table in ("annotations", "assignments") for ix in sa.inspect(conn).get_indexes(table)}
        assert conn.execute(sa.select(S.meta_table.c.value)).scalar() == str(S.SCHEMA_VERSION)
        votes = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT item_id, author, label FROM annotations WHERE task_id = 'x'").all()
        queue = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT item_id, status FROM assignments WHERE task_id = 'x' AND user_id = 'ann' "
            "AND role = 'worker' ORDER BY item_id").all()
    assert {"ix_annotations_task_votes", "ix_assignments_user_items"} <= names
    assert not {"ix_annotations_task", "ix_assignments_task_user"} & names
    assert "COVERING INDEX ix_annotations_task_votes" in votes[0][-1]
    assert "COVERING INDEX ix_assignments_user_items" in queue[0][-1] and len(queue) == 1  # no sort step
