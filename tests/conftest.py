"""Shared fixtures: a fresh store per test (SQLite file; PostgreSQL too when DLTASKS_PG_URL is set)."""
from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pandas as pd
import pytest
import sqlalchemy as sa

import dltasks as dl
from dltasks.store import schema as S

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("DLTASKS_PG_URL") else [])


def _fresh_pg_store() -> dl.Store:
    url = os.environ["DLTASKS_PG_URL"]
    engine = sa.create_engine(dl.store.engine.normalise_url(url))
    with engine.begin() as conn:
        S.metadata.drop_all(conn)
    engine.dispose()
    return dl.connect(url)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[dl.Store]:
    """An empty store: a SQLite file in tmp_path, or a wiped PostgreSQL database."""
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


def snapshot_rows(store: dl.Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, to assert that a failed call wrote nothing."""
    out = {}
    with store.db.read() as conn:
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
