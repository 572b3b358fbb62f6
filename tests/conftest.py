"""Shared fixtures: a fresh store per test (SQLite file; PostgreSQL too when DLTASKS_PG_URL is set)."""
from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

import dltasks as dl
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.engine import normalise_url

#: Every SDK test runs on a SQLite file, through a live `dltasks serve` (real uvicorn on a free
#: 127.0.0.1 port, real requests client), and on PostgreSQL when DLTASKS_PG_URL is set.
BACKENDS = ["sqlite", "server"] + (["postgresql"] if os.environ.get("DLTASKS_PG_URL") else [])


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "local_only(reason): the test needs an in-process store")


def _fresh_pg_store() -> dl.Store:
    url = os.environ["DLTASKS_PG_URL"]
    engine = sa.create_engine(normalise_url(url))
    with engine.begin() as conn:
        S.metadata.drop_all(conn)
    engine.dispose()
    return dl.connect(url)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Any]:
    """An empty store: a SQLite file, a live server over one, or a wiped PostgreSQL database.

    The remote store's ``server_db`` is the server's database (:func:`sql_db`), so tests can
    assert what was written.
    """
    marker = request.node.get_closest_marker("local_only")
    if request.param == "server" and marker is not None:
        pytest.skip(f"runs on an in-process store only: {marker.args[0] if marker.args else ''}")
    if request.param == "server":
        from server_fixtures import LiveServer

        server = LiveServer(str(tmp_path / "server.db"))
        remote = server.connect()
        remote.server_db = server.store.backend.db
        yield remote
        remote.close()
        server.stop()
        return
    s = dl.connect(tmp_path / "test.db") if request.param == "sqlite" else _fresh_pg_store()
    yield s
    s.close()


@pytest.fixture
def dataset(store: dl.Store) -> Any:
    """A dataset 'faces' with labels Adult/Child and 10 items with user metadata."""
    ds = store.datasets.create("faces", labels=["Adult", "Child"])
    ds.items.import_df(pd.DataFrame({
        "name": [f"img{i:02d}.jpg" for i in range(10)],
        "dir": ["/train"] * 6 + ["/test"] * 4,
        "user.colour": ["red", "blue", "green", "red", "blue", "red", "green", "red", "blue", "red"],
        "user.size": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    }))
    return ds


def sql_db(store: Any) -> Any:
    """The SQL database behind a store: its own, or (for a remote store) the live server's."""
    return getattr(store, "server_db", None) or store.backend.db


def snapshot_rows(store: dl.Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, to assert that a failed call wrote nothing."""
    out = {}
    with sql_db(store).read() as conn:
        for name, table in S.metadata.tables.items():
            rows = conn.execute(sa.select(table)).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@pytest.fixture
def unchanged(store: dl.Store) -> Callable[[], Any]:
    """Call it to take a snapshot; call the result to assert nothing changed since."""
    def take() -> Callable[[], None]:
        before = snapshot_rows(store)

        def check() -> None:
            assert snapshot_rows(store) == before

        return check
    return take


def drop_column(path: Any, table: str, column: str) -> None:
    """Make the SQLite store at ``path`` look as it did before ``table.column`` existed."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    engine.dispose()
