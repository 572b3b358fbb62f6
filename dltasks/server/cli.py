"""``dltasks serve`` and ``dltasks token``: run the team server, manage its API tokens.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="dltasks")
>>> add_parsers(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["serve", "--store", "team.db"])
>>> args.host, args.port, args.store
('127.0.0.1', 8765, 'team.db')
"""
from __future__ import annotations

import argparse
import inspect
import ipaddress
import os
import sys
from typing import Any

from dltasks.errors import ValidationError
from dltasks.server.memory import limit_malloc_arenas

__all__ = ["add_parsers", "serve", "token_create", "token_list", "token_revoke", "limit_malloc_arenas",
           "check_workers"]

#: ``dltasks serve --workers``: what it does, and why SQLite takes only one process.
WORKERS_HELP = (
    "server processes answering on the one port (default 1). PostgreSQL: they share the store safely (row "
    "locks order the writes to each item, as between one process's threads); each holds its own pool of "
    "connections (mind PostgreSQL's max_connections); about one per CPU core the server may use. SQLite: 1 "
    "only. A SQLite file takes one writer at a time: one process queues its writers on a lock that wakes the "
    "next at once, while writers in different processes wait in SQLite's busy handler, which sleeps and polls. "
    "Measured with 16 clients (bench/bench_server_processes.py), 2 processes submitted 0.89x as fast as one with "
    "a 1.7x p99, the CPUs idle a quarter of the time. Move a team that outgrows one process to PostgreSQL.")


def _default_store() -> str:
    return os.environ.get("DLTASKS_STORE", "dltasks.db")


def add_parsers(subparsers: Any) -> None:
    """Add ``serve`` and ``token`` to the ``dltasks`` command."""
    p = subparsers.add_parser("serve", help="serve a store over HTTP (Clarifai-shaped /v2/tasks and /api/v1)")
    p.add_argument("--store", default=_default_store(), help="store URL or SQLite path (default: $DLTASKS_STORE "
                   "or ./dltasks.db)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--max-body-mb", type=float, default=32.0, help="largest request body accepted (MiB)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--workers", type=int, default=1, metavar="N", help=WORKERS_HELP)
    p.set_defaults(func=serve)

    t = subparsers.add_parser("token", help="create, list or revoke API tokens of the server")
    tsub = t.add_subparsers(dest="token_command", required=True)
    c = tsub.add_parser("create", help="print a new token for USER_ID (registered if new)")
    c.add_argument("user_id")
    c.add_argument("--admin", action="store_true", help="may manage datasets, items, tasks and users")
    c.add_argument("--store", default=_default_store())
    c.set_defaults(func=token_create)
    ls = tsub.add_parser("list", help="list token holders (tokens themselves are stored hashed)")
    ls.add_argument("--store", default=_default_store())
    ls.set_defaults(func=token_list)
    r = tsub.add_parser("revoke", help="revoke every token of USER_ID")
    r.add_argument("user_id")
    r.add_argument("--store", default=_default_store())
    r.set_defaults(func=token_revoke)


def _local_store(url: str) -> Any:
    """The SQL backend of a store URL (a server serves a local store, and keeps it)."""
    from dltasks.backends.sql import SqlBackend

    if url.startswith(("http://", "https://")):
        raise ValidationError("the server serves a local store: give a SQLite path or postgresql:// URL", "store", url)
    if url in ("sqlite://", "sqlite:///:memory:", ":memory:"):
        raise ValidationError("an in-memory store would vanish with the server: give a file or PostgreSQL",
                              "store", url)
    return SqlBackend(url)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_workers(workers: Any, store: str) -> int:
    """The number of server processes to run for ``store`` (a URL or SQLite path), checked.

    PostgreSQL takes any number up to :data:`MAX_WORKERS`; SQLite is served by one process
    (see :data:`WORKERS_HELP`).

    Examples
    --------
    >>> check_workers(4, "postgresql://team@db.example.com/labels")
    4
    >>> check_workers(1, "team.db")
    1
    >>> check_workers(2, "team.db")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: --workers: SQLite is served by one process: ... (got 2)
    >>> check_workers(0, "postgresql://team@db.example.com/labels")
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: --workers: must be a whole number from 1 to 64 (got 0)
    """
    from dltasks.backends.sql.engine import normalise_url

    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValidationError(f"must be a whole number from 1 to {MAX_WORKERS}", "--workers", workers)
    if workers > 1 and normalise_url(store).startswith("sqlite"):
        raise ValidationError("SQLite is served by one process: its writers would queue across processes by "
                              "polling, slower than one process's queue; serve a PostgreSQL store to run "
                              "several", "--workers", workers)
    return workers


#: Seconds a server process may leave uvicorn's health check unanswered before it is replaced (uvicorn: 5).
WORKER_HEALTHCHECK_S = 60

#: More processes than this is a typo, not a deployment (each holds its own connection pool).
MAX_WORKERS = 64


def serve(args: argparse.Namespace) -> int:
    """Run the server until interrupted: one process, or ``--workers N`` behind one port."""
    try:
        import uvicorn

        from dltasks.server.app import create_app
    except ImportError as exc:  # pragma: no cover - without the extra
        print(f"dltasks serve needs the server extra: pip install 'dltasks[server]' ({exc})", file=sys.stderr)
        return 1
    workers = check_workers(getattr(args, "workers", 1), args.store)
    limit_malloc_arenas()
    store = _local_store(args.store)
    if not _is_loopback(args.host):
        print(f"warning: serving on {args.host}: anyone who can reach this address and holds a token can use "
              "the store; prefer 127.0.0.1 behind an HTTPS proxy", file=sys.stderr)
    if not store.count_tokens():
        print(f"no API tokens yet: create one with  dltasks token create YOUR_ID --admin --store {args.store}",
              file=sys.stderr)
    max_body = int(args.max_body_mb * 1024 * 1024)
    from dltasks.server.protocol import REQUEST_READ_TIMEOUT, ServerProtocol

    # keep idle connections 30 s (uvicorn's default is 5): a notebook pausing between calls reuses them;
    # a request that does not arrive whole in 30 s has its connection closed (ServerProtocol); uvicorn
    # runs on uvloop when it is installed (the server extra installs it, and httptools)
    options: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": args.log_level,
                               "timeout_keep_alive": int(REQUEST_READ_TIMEOUT)}
    processes = f" in {workers} processes" if workers > 1 else ""
    print(f"dltasks serving {store.url} on http://{args.host}:{args.port}{processes}  (API docs: /docs)",
          file=sys.stderr)
    if workers == 1:
        app = create_app(store, max_body_bytes=max_body)
        uvicorn.run(app, http=ServerProtocol, **options)
        store.close()
        return 0
    # uvicorn starts each process afresh (spawn) and builds its app with the factory, which reads
    # the store and limit from the environment; the store is migrated above, before any process opens it
    from dltasks.server.app import MAX_BODY_ENV, STORE_ENV

    store.close()
    os.environ[STORE_ENV], os.environ[MAX_BODY_ENV] = store.url, str(max_body)
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:  # uvicorn >= 0.30
        # a new process imports dltasks before it can answer uvicorn's health check, seconds on a busy
        # machine, and a process deep in a big request answers late: only a process silent this long is replaced
        options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_S
    uvicorn.run("dltasks.server.app:app_from_env", factory=True, workers=workers,
                http="dltasks.server.protocol:ServerProtocol", **options)
    return 0


def token_create(args: argparse.Namespace) -> int:
    """Print a new token (shown once; only its hash is stored)."""
    from dltasks.domain.checks import check_user_id

    store = _local_store(args.store)
    print(store.create_token(check_user_id(args.user_id), admin=args.admin))
    store.close()
    return 0


def token_list(args: argparse.Namespace) -> int:
    """Print one line per token: user id, admin or user, created (UTC)."""
    store = _local_store(args.store)
    for user_id, admin, created in store.list_tokens():
        print(f"{user_id}\t{'admin' if admin else 'user'}\t{created}")
    store.close()
    return 0


def token_revoke(args: argparse.Namespace) -> int:
    """Delete every token of a user (running servers forget them within their token TTL)."""
    store = _local_store(args.store)
    n = store.revoke_tokens(args.user_id)
    print(f"revoked {n} token(s) of {args.user_id}")
    store.close()
    return 0
