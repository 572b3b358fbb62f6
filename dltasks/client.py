"""The store you talk to: ``store.datasets``, ``store.tasks``, ``store.users`` over one backend.

``dl.connect()`` opens ./dltasks.db; ``connect("x.db")`` / ``"sqlite:///x.db"`` a file,
``"sqlite://"`` memory, ``"postgresql://…"`` a PostgreSQL database, and
``"http://host:port"`` (with ``token=``) a ``dltasks serve`` server: the same :class:`Store`
and the same repositories on every backend.

Examples
--------
>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> store
Store('sqlite://')
>>> store.datasets.create("faces", labels=["Adult", "Child"]).labels
['Adult', 'Child']
>>> dl.connect("http://127.0.0.1:9", token=None)
Traceback (most recent call last):
dltasks.errors.ValidationError: token: connecting to a server needs an API token (token=… or $DLTASKS_TOKEN; create one with `dltasks token create USER_ID`)
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, cast

from dltasks.backends import Backend, open_backend
from dltasks.backends.ops import Checked
from dltasks.datasets import Datasets
from dltasks.tasks import Tasks
from dltasks.users import Users

__all__ = ["Store", "connect"]


class Store:
    """A store of datasets, items, tasks and users on one backend (SQLite, PostgreSQL or a server).

    Parameters
    ----------
    backend : Backend
        Where the operations run (:func:`dltasks.backends.open_backend` picks one by URL).

    Attributes
    ----------
    backend : Backend
        That backend, as given.
    ops : Backend
        The same operations with their arguments checked first: what the repositories call.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.ops: Backend = cast(Backend, Checked(backend))
        self.datasets = Datasets(self)
        self.users = Users(self)
        self.tasks = Tasks(self)

    @property
    def url(self) -> str:
        """Where the store is (a database URL or a server's)."""
        return self.backend.url

    @property
    def user_id(self) -> str | None:
        """Whom a server's token belongs to (``None`` for a local store)."""
        return getattr(self.backend, "user_id", None)

    @property
    def local(self) -> bool:
        """Whether the database is in this process (``atomic()`` works), not behind a server."""
        return self.user_id is None

    @property
    def admin(self) -> bool:
        """Whether this store may manage datasets, items, tasks and users (always, locally)."""
        return bool(getattr(self.backend, "admin", True))

    def create_token(self, user_id: str, admin: bool = False) -> str:
        """A new API token for ``user_id`` (on a server: needs an admin token; the user is registered if new)."""
        return self.ops.create_token(user_id, admin)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Any]:
        """All-or-nothing: every write in the block commits together or not at all (local stores)."""
        with self.backend.atomic() as conn:
            yield conn

    def close(self) -> None:
        """Close the store's connections."""
        self.backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.user_id is None:
            return f"Store({self.url!r})"
        return f"Store({self.url!r}, user_id={self.user_id!r}, admin={self.admin})"


def connect(url: str | os.PathLike[str] | None = None, token: str | None = None, **options: Any) -> Store:
    """Open a store: a SQLite file (default ``./dltasks.db``), PostgreSQL, or a dltasks server.

    ``http://host:port`` URLs connect to ``dltasks serve`` with ``token`` (default
    ``$DLTASKS_TOKEN``); ``options`` go to the HTTP backend (``timeout``, ``retries``, ``session``).
    """
    return Store(open_backend(url, token=token, **options))
