"""The store: where datasets, items, annotations, tasks and users live.

``connect()`` opens ./dltasks.db; ``connect("x.db")`` / ``"sqlite:///x.db"`` a file,
``"sqlite://"`` memory, ``"postgresql://…"`` a PostgreSQL database.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import sqlalchemy as sa

from dltasks.store.engine import Database

__all__ = ["Store", "connect"]


class Store:
    """A local store (SQLite or PostgreSQL): ``store.datasets``, ``.tasks``, ``.users``."""

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        from dltasks.datasets import Datasets
        from dltasks.tasks import Tasks
        from dltasks.users import Users

        self.db = Database(url)
        self.url = self.db.url
        self.datasets = Datasets(self)
        self.users = Users(self)
        self.tasks = Tasks(self)
        from dltasks.task_work import LocalWork

        self.work = LocalWork(self)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sa.Connection]:
        """All-or-nothing: every write in the block commits together or not at all."""
        with self.db.atomic() as conn:
            yield conn

    def close(self) -> None:
        """Close the store's connections."""
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def connect(url: str | os.PathLike[str] | None = None, token: str | None = None, **kwargs: Any) -> Any:
    """Open a store: a SQLite file (default ``./dltasks.db``), PostgreSQL, or a dltasks server.

    ``http://host:port`` URLs connect to ``dltasks serve`` with ``token``.
    """
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        from dltasks.client import RemoteStore

        return RemoteStore(url, token=token, **kwargs)
    return Store(url)
