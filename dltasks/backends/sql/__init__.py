"""The SQL backend: SQLite (the default) and PostgreSQL through SQLAlchemy Core.

All of dltasks' SQL lives in this package: the engine and its transaction rules
(:mod:`~dltasks.backends.sql.engine`), the schema and its migrations
(:mod:`~dltasks.backends.sql.schema`), the filter compiler
(:mod:`~dltasks.backends.sql.filters`), the fast bulk paths (:mod:`~dltasks.backends.sql.frames`,
:mod:`~dltasks.backends.sql.coded_read`) and one part per concept (datasets and users, items,
annotations, tasks, work, tokens), joined in :class:`SqlBackend`.

>>> backend = SqlBackend("sqlite://")
>>> backend.url, backend.db.dialect
('sqlite://', 'sqlite')
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import sqlalchemy as sa

from dltasks.backends.sql.annotations import AnnotationsSql
from dltasks.backends.sql.catalog import CatalogSql
from dltasks.backends.sql.datasets import DatasetsSql
from dltasks.backends.sql.engine import Database
from dltasks.backends.sql.items import ItemsSql
from dltasks.backends.sql.predictions import PredictionsSql
from dltasks.backends.sql.tasks import TasksSql
from dltasks.backends.sql.tokens import Principal, TokensSql
from dltasks.backends.sql.work import WorkSql

__all__ = ["SqlBackend", "Principal"]


class SqlBackend(DatasetsSql, TokensSql, ItemsSql, AnnotationsSql, TasksSql, WorkSql, PredictionsSql, CatalogSql):
    """A store in a SQLite file (or memory) or a PostgreSQL database: every :class:`~dltasks.backends.base.Backend` operation.

    Parameters
    ----------
    url : str or path, optional
        ``None`` for ``./dltasks.db``, a file path, ``"sqlite://"`` (memory), ``"sqlite:///x.db"``
        or ``"postgresql://user@host/db"``.
    """

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        self.db = Database(url)
        self.url: str = self.db.url

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sa.Connection]:
        """All-or-nothing: every operation called in the block commits together or not at all."""
        with self.db.atomic() as conn:
            yield conn

    def close(self) -> None:
        """Release the connection pool."""
        self.db.close()

    def __repr__(self) -> str:
        return f"SqlBackend({self.url!r})"

    def __enter__(self) -> SqlBackend:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
