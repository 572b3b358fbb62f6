"""Backends: where a store's operations run.

:class:`~dltasks.backends.base.Backend` is the protocol; :mod:`~dltasks.backends.sql` (SQLite
and PostgreSQL) and :mod:`~dltasks.backends.http` (a ``dltasks serve`` server) implement it;
:mod:`~dltasks.backends.ops` is the table both the HTTP backend and the server read.
:func:`open_backend` picks one by the URL's scheme.

>>> open_backend("sqlite://")
SqlBackend('sqlite://')
"""
from __future__ import annotations

import os
from typing import Any

from dltasks.backends.base import Backend

__all__ = ["Backend", "open_backend"]


def open_backend(url: str | os.PathLike[str] | None = None, token: str | None = None, **options: Any) -> Backend:
    """The backend for ``url``: ``http(s)://`` a server (with ``token``), anything else a SQL store.

    ``None`` is ``./dltasks.db``; a path or ``sqlite:///x.db`` a SQLite file; ``sqlite://``
    memory; ``postgresql://user@host/db`` PostgreSQL.
    """
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        from dltasks.backends.http import HttpBackend

        return HttpBackend(url, token=token, **options)
    from dltasks.backends.sql import SqlBackend

    return SqlBackend(url)
