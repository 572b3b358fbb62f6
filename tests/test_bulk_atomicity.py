"""A bulk import of 1,000,000 rows that fails on row 500,000 writes nothing.

Two ways to fail: a value caught before anything is written (a metadata value JSON cannot
store → ``ValidationError`` naming the field), and a row the database itself refuses in
the middle of the insert (a filename already in the store → ``ConflictError``).  Either
way the item count, the items themselves and the registered metadata keys are unchanged,
and the store takes the next import normally.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import dltasks as dl
from conftest import sql_db
from dltasks.errors import ConflictError, ValidationError
from dltasks.backends.sql import schema as S

pytestmark = pytest.mark.slow

N = 1_000_000
BAD_ROW = 500_000


def big_frame(n: int = N) -> pd.DataFrame:
    """n rows under /bulk with two user metadata keys (``user.colour``, ``user.batch``)."""
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "name": [f"img_{i:07d}.jpg" for i in range(n)],
        "dir": "/bulk",
        "user.colour": np.array(["red", "green", "blue"])[rng.integers(0, 3, n)],
        "user.batch": np.arange(n) % 100,
    })


@pytest.fixture
def seeded(tmp_path: Any) -> Any:
    """A store file with a dataset holding 3 items (one of them is /bulk/img_0500000.jpg)."""
    store = dl.connect(tmp_path / "bulk.db")
    ds = store.datasets.create("bulk")
    ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg", f"img_{BAD_ROW:07d}.jpg"],
                                     "dir": ["/", "/", "/bulk"], "user.kept": [1, 2, 3]}))
    yield store, ds
    store.close()


def state(store: dl.Store, ds: Any) -> tuple[int, list[str], list[tuple[Any, ...]]]:
    """Item count, metadata keys and every item row (what a failed import must not change)."""
    with sql_db(store).read() as conn:
        rows = [tuple(r) for r in conn.execute(sa.select(S.items).order_by(S.items.c.id))]
    return ds.items.count(), ds.items.metadata_keys(), rows


@pytest.mark.parametrize("where", ["user column", "metadata dicts"])
def test_a_bad_value_on_row_500000_is_caught_before_writing(seeded: Any, where: str) -> None:
    store, ds = seeded
    before = state(store, ds)
    df = big_frame()
    if where == "user column":
        extra = np.full(N, None, dtype=object)
        extra[BAD_ROW] = {1, 2}  # a set: JSON cannot store it
        df["user.extra"] = extra
    else:
        meta = np.full(N, None, dtype=object)
        meta[:] = [{"user": {"source": "scan"}}] * N
        meta[BAD_ROW] = {"user": {"source": object()}}
        df["metadata"] = meta
    with pytest.raises(ValidationError) as err:
        ds.items.import_df(df)
    assert err.value.field == "metadata"
    assert str(BAD_ROW) in str(err.value)
    assert ("user.extra" if where == "user column" else "source") in str(err.value)
    assert state(store, ds) == before


def test_a_conflict_on_row_500000_rolls_back_the_rows_already_inserted(seeded: Any) -> None:
    store, ds = seeded
    before = state(store, ds)
    df = big_frame()
    assert df["name"].iloc[BAD_ROW] == f"img_{BAD_ROW:07d}.jpg"  # already stored under /bulk
    with pytest.raises(ConflictError) as err:
        ds.items.import_df(df)
    assert "UNIQUE" in str(err.value)
    after = state(store, ds)
    assert after == before
    assert "user.batch" not in after[1] and "user.colour" not in after[1]
    # the store is healthy and takes the same import without the clashing row
    with sql_db(store).read() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert ds.items.import_df(df.drop(index=BAD_ROW)) == N - 1
    assert ds.items.count() == before[0] + N - 1
    assert {"user.batch", "user.colour", "user.kept"} <= set(ds.items.metadata_keys())
