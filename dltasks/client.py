"""``RemoteStore``: the store of a ``dltasks serve`` server, used like a local store.

``dl.connect("http://host:port", token=...)`` returns one.  Its repositories have the
local store's methods and hand out the same entity classes (``Dataset``, ``Item``,
``Annotation``, ``Task``, ``TaskPage``), so SDK code and widgets run unchanged; each call
is one or a few HTTP requests.  Errors come back as the dltasks exceptions
(``ValidationError`` naming the field, ``NotFoundError``, ``ConflictError``,
``PermissionDeniedError``; ``ApiError`` for anything else, with the response).

Examples
--------
>>> import dltasks as dl
>>> dl.connect("http://127.0.0.1:9", token=None)  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
dltasks.errors.ValidationError: token: connecting to a server needs an API token
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import requests

from dltasks.errors import DltasksError, ValidationError
from dltasks.remote.datasets import RemoteDatasets, RemoteUsers
from dltasks.remote.http import Transport
from dltasks.remote.tasks import RemoteTasks, RemoteWork

__all__ = ["RemoteStore"]


class RemoteStore:
    """A store served by ``dltasks serve``: ``.datasets``, ``.users``, ``.tasks``, ``.work``.

    Parameters
    ----------
    url : str
        The server, e.g. ``"http://127.0.0.1:8765"``.
    token : str, optional
        An API token (``dltasks token create USER_ID``); default ``$DLTASKS_TOKEN``.
    timeout : float
        Seconds to wait for the connection and for each answer.
    retries : int
        Extra attempts for calls that are safe to repeat (reads, overwrites, deletes) after a
        dropped connection or a 502/503/504.  Label submissions are never sent twice.
    session : requests.Session, optional
        A configured session (proxies, certificates); a new one by default.

    Attributes
    ----------
    user_id : str
        Whom the token belongs to.
    admin : bool
        Whether the token may manage datasets, items, tasks and users.
    """

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0, retries: int = 3,
                 session: requests.Session | None = None) -> None:
        token = token or os.environ.get("DLTASKS_TOKEN")
        if not token:
            raise ValidationError("connecting to a server needs an API token (token=… or $DLTASKS_TOKEN; "
                                  "create one with `dltasks token create USER_ID`)", "token")
        self.url = url.rstrip("/")
        self.http = Transport(self.url, token, timeout=timeout, retries=retries, session=session)
        try:
            me = self.http.request("GET", "/api/v1/me")
        except Exception:
            self.http.close()
            raise
        self.user_id: str = me["user_id"]
        self.admin: bool = bool(me["admin"])
        self.datasets = RemoteDatasets(self)
        self.users = RemoteUsers(self)
        self.tasks = RemoteTasks(self)
        self.work = RemoteWork(self)

    def create_token(self, user_id: str, admin: bool = False) -> str:
        """A new API token for ``user_id`` (needs an admin token; the user is registered if new)."""
        return str(self.http.request("POST", "/api/v1/tokens", {"user_id": user_id, "admin": bool(admin)})["token"])

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Not available remotely: each server call is all-or-nothing on its own."""
        raise DltasksError("a remote store has no client-side transactions; each call is atomic on the server")
        yield  # pragma: no cover

    def close(self) -> None:
        """Close the HTTP session."""
        self.http.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r}, user_id={self.user_id!r}, admin={self.admin})"
