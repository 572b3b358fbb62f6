"""How many worker threads a server process runs store calls on: few, and fewer on SQLite.

Every request that reads or writes the store runs its store call in a worker thread, so the
event loop keeps reading and answering other connections meanwhile.  More threads do not make
a Python server faster: they share one interpreter lock, and on SQLite one writer at a time.
With anyio's default of 40 threads, 8 clients kept 8 threads busy at once and every request
cost the server about twice the CPU it costs alone (the threads handing the lock to each
other; ``bench/bench_server.py``: get 3.1 ms of server CPU with 8 clients, 1.5 ms alone).  So a
server runs :func:`store_threads` of them: 2 on SQLite (a long call, an import, does not stall
every other request), 4 on PostgreSQL (whose round trips leave the lock to other threads).
Big reads build their answers on threads of their own (:mod:`dltasks.server.gate`), so small
requests never wait for a big one's thread.

A short call on a SQLite store skips the thread altogether (:func:`run_store_call`): an action
on one item, a task, a page of tasks.  Handing it to a thread and back cost the server about a
millisecond of CPU under load, more than the call itself.  It runs on the event loop when
SQLite need not wait for another writer; when it would, it waits for its turn in a store
thread, so the loop never waits.

Examples
--------
>>> store_threads("sqlite:////srv/team.db"), store_threads("postgresql://team@db/labels")
(2, 4)
>>> store_threads("sqlite:///team.db", 0)
Traceback (most recent call last):
...
dltasks.errors.ValidationError: threads: must be a whole number from 1 to 64 (got 0)
"""
from __future__ import annotations

from typing import Any, Callable, Coroutine, TypeVar

import anyio.to_thread

from dltasks.errors import StoreBusyError, ValidationError

__all__ = ["SQLITE_THREADS", "POSTGRES_THREADS", "MAX_THREADS", "store_threads", "check_threads",
           "use_store_threads", "run_store_call"]

T = TypeVar("T")

#: Store calls at once on SQLite: one writes while another reads (WAL) or waits its turn.
SQLITE_THREADS = 2
#: Store calls at once on PostgreSQL (each holds one of the pool's connections while it runs).
POSTGRES_THREADS = 4
#: More than this is a typo: the threads would only queue for the interpreter lock.
MAX_THREADS = 64


def store_threads(url: str, threads: int | None = None) -> int:
    """The number of store calls a server process runs at once: ``threads`` if given (checked),
    else the store's default (:data:`SQLITE_THREADS`, :data:`POSTGRES_THREADS`)."""
    if threads is None:
        return SQLITE_THREADS if url.startswith("sqlite") else POSTGRES_THREADS
    return check_threads(threads)


def check_threads(threads: Any) -> int:
    """``threads`` if it is a thread count a server may run (1 to :data:`MAX_THREADS`), else a
    ``ValidationError`` naming ``threads``.

    >>> check_threads(3)
    3
    >>> check_threads("4")
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: threads: must be a whole number from 1 to 64 (got '4')
    """
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValidationError(f"must be a whole number from 1 to {MAX_THREADS}", "threads", threads)
    return threads


def use_store_threads(threads: int) -> Callable[[], Coroutine[Any, Any, None]]:
    """The app's startup step that sizes its event loop's worker threads to ``threads``.

    FastAPI runs the store calls of plain (``def``) routes and dependencies with anyio's default
    thread limiter, which belongs to the running event loop: so it is sized when the server
    starts, on the loop that will serve.

    Examples
    --------
    >>> import asyncio
    >>> async def serve():
    ...     await use_store_threads(3)()
    ...     return anyio.to_thread.current_default_thread_limiter().total_tokens
    >>> asyncio.run(serve())
    3
    """
    async def size_threads() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads

    return size_threads


async def run_store_call(backend: Any, call: Callable[[], T], short: bool = True) -> T:
    """``call()`` where it costs least: on the event loop on a SQLite store, unless SQLite would
    make it wait for another writer (then in a store thread, from the start); in a store thread
    on PostgreSQL, whose round trips would hold the loop.

    ``call`` must be safe to start again: one transaction, or reads only (a call refused for
    waiting has read and written nothing of that transaction).  Only a ``short`` call (one item,
    one page of the default size) may hold the loop; any other goes to a store thread.

    Examples
    --------
    >>> import asyncio
    >>> from dltasks.backends.sql import SqlBackend
    >>> backend = SqlBackend("sqlite://")
    >>> asyncio.run(run_store_call(backend, lambda: backend.create_dataset("photos", ["cat"]).name))
    'photos'
    >>> import threading
    >>> loop_thread = threading.get_ident()
    >>> on_loop = lambda: threading.get_ident() == loop_thread
    >>> asyncio.run(run_store_call(backend, on_loop)), asyncio.run(run_store_call(backend, on_loop, short=False))
    (True, False)
    """
    if short and backend.db.dialect == "sqlite":
        try:
            with backend.db.without_waiting():
                return call()
        except StoreBusyError:
            pass  # another writer holds the store: wait for it in a thread
    return await anyio.to_thread.run_sync(call)
