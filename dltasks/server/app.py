"""The FastAPI application: Clarifai's task API plus dltasks' own routes, over one store.

Examples
--------
>>> from dltasks.server.app import create_app
>>> app = create_app("sqlite://")
>>> sorted(p for p in app.openapi()["paths"] if p.startswith("/v2"))[:2]
['/v2/tasks', '/v2/tasks/{task_id}']
"""
from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from dltasks.backends.sql import SqlBackend
from dltasks.client import Store
from dltasks.errors import ValidationError
from dltasks.server import errors, models
from dltasks.server.answer_cache import AnswerCache
from dltasks.server.dispatch import WriteDispatch
from dltasks.server.gate import BIG_READS, BigReadGate
from dltasks.server.limits import DEFAULT_MAX_BODY, BodyLimit
from dltasks.server.threads import check_threads, store_threads, use_store_threads
from dltasks.server.tokens import TokenCache
from dltasks.version import __version__

__all__ = ["create_app", "app_from_env", "STORE_ENV", "MAX_BODY_ENV"]

#: The store a server process opened by :func:`app_from_env` serves (``dltasks serve --workers N`` sets it).
STORE_ENV = "DLTASKS_SERVE_STORE"
#: Its request body limit in bytes (unset: :data:`~dltasks.server.limits.DEFAULT_MAX_BODY`).
MAX_BODY_ENV = "DLTASKS_SERVE_MAX_BODY"

_ERRORS = {
    400: "Bad input: `status.field` names the field; nothing was written",
    401: "No or invalid `Authorization: Key <token>` header",
    403: "The token may not do this",
    404: "No such task, dataset, item or user",
    409: "Conflicts with stored data (a taken name, an ambiguous lookup)",
    413: "The request body is over the server's size limit",
    500: "The store cannot do this (e.g. it is read-only): trying again will not help",
    503: "The store is busy or unreachable: try again",
}

DESCRIPTION = """\
Clarifai-shaped task API (`/v2/tasks`, `/v2/users/{user_id}/apps/{app_id}/tasks`) and
dltasks' own routes (`/api/v1/…`) over one dltasks store.  Every request needs
`Authorization: Key <token>` (`dltasks token create USER_ID [--admin] --store URL`).
Every response has Clarifai's envelope `{"status": {"code": 10000, "description": "Ok"}, …}`.
"""


def _backend(store: Any) -> SqlBackend:
    """The SQL backend to serve: given, a store's, or opened from a URL."""
    if isinstance(store, (str, os.PathLike)):
        return SqlBackend(store)
    backend = store.backend if isinstance(store, Store) else store
    if not isinstance(backend, SqlBackend):
        raise ValidationError("the server needs a local store (SQLite or PostgreSQL), not a remote one",
                              "store", store)
    return backend


def create_app(store: Any, max_body_bytes: int = DEFAULT_MAX_BODY, token_ttl: float = 10.0,
               big_reads: int = BIG_READS, threads: int | None = None) -> FastAPI:
    """The ASGI app serving ``store`` (a :class:`dltasks.Store` or its URL).

    Parameters
    ----------
    store : Store, SqlBackend or str
        A local store (or its backend or URL); an in-memory SQLite store only suits a
        single-threaded test client.
    max_body_bytes : int
        Larger request bodies are refused with 413.
    token_ttl : float
        Seconds a looked-up token is remembered (a revoked token works that long at most).
    big_reads : int
        Big answers (frame pages, pages of items) between building and sent at once
        (:mod:`dltasks.server.gate`); more wait their turn.
    threads : int, optional
        Store calls run at once, in worker threads (:mod:`dltasks.server.threads`; default: 2
        on SQLite, 4 on PostgreSQL); more wait their turn.  Set when the server starts.

    Returns
    -------
    fastapi.FastAPI
        The app; run it with uvicorn (``dltasks serve`` does).
    """
    from dltasks.server import handlers, routes_clarifai

    gate = BigReadGate(big_reads)  # the options are checked before a store is opened: a refusal leaves nothing
    if threads is not None:
        check_threads(threads)
    backend = _backend(store)
    app = FastAPI(title="dltasks", version=__version__, description=DESCRIPTION)
    app.state.backend = backend
    app.state.store = Store(backend)  # the SDK over the same backend, for the Clarifai routes
    app.state.tokens = TokenCache(backend, ttl=token_ttl)
    app.state.answers = AnswerCache()  # task reads' answers while the catalog is unchanged
    app.state.big_reads = gate
    app.state.threads = store_threads(backend.url, threads)
    app.router.add_event_handler("startup", use_store_threads(app.state.threads))
    responses: dict[int | str, dict[str, Any]] = {
        code: {"model": models.ErrorResponse, "description": text} for code, text in _ERRORS.items()}
    routes_clarifai.add_clarifai_routes(app.router, responses)  # on the app's router: matched in one pass
    handlers.add_operation_routes(app.router, responses)
    errors.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(WriteDispatch)  # the write operations, straight from the table (inside the body limit)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


def app_from_env() -> FastAPI:
    """The app of one server process of ``dltasks serve --workers N`` (uvicorn's app factory).

    uvicorn starts each of the N processes afresh and builds its app by calling this function
    (``uvicorn.run("dltasks.server.app:app_from_env", factory=True, workers=N)``), so the
    options travel in the environment: :data:`STORE_ENV` (the store URL or SQLite path) and
    :data:`MAX_BODY_ENV` (bytes).  Each process opens the store itself (its own connections,
    closed when the process stops) and keeps glibc's malloc to a few arenas, as a single server
    process does.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "team.db")
    >>> os.environ[STORE_ENV], os.environ[MAX_BODY_ENV] = path, "1024"
    >>> app = app_from_env()
    >>> app.state.backend.url.endswith("team.db")
    True
    >>> app.state.backend.close()
    >>> del os.environ[STORE_ENV], os.environ[MAX_BODY_ENV]
    >>> app_from_env()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: store: no store to serve: set DLTASKS_SERVE_STORE (dltasks serve ...) (got None)
    """
    from dltasks.server.memory import limit_malloc_arenas

    url = os.environ.get(STORE_ENV)
    if not url:
        raise ValidationError(f"no store to serve: set {STORE_ENV} (dltasks serve --workers sets it)", "store", url)
    raw = os.environ.get(MAX_BODY_ENV)
    try:
        max_body = DEFAULT_MAX_BODY if raw is None else int(raw)
    except ValueError:
        raise ValidationError("must be a whole number of bytes", MAX_BODY_ENV, raw) from None
    limit_malloc_arenas()
    app = create_app(url, max_body_bytes=max_body)
    app.router.add_event_handler("shutdown", app.state.backend.close)  # the process's connections, on a clean stop
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The spec with FastAPI's 422 replaced by the 400 this server really sends."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for path in spec.get("paths", {}).values():
        for op in path.values():
            op.get("responses", {}).pop("422", None)
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    app.openapi_schema = spec
    return spec
