"""Opening a store: engine settings per dialect, all-or-nothing transactions, bulk inserts.

SQLite runs in WAL mode with foreign keys on and a busy timeout; write transactions start
with ``BEGIN IMMEDIATE`` so two kernels writing to one file queue up instead of failing
with ``database is locked``.  Inside one process, writers to a SQLite store queue on a lock
first (:attr:`Database.write_lock`): SQLite's own busy handler polls with sleeps of up to
100 ms, so under many concurrent writers (a server's threads) a waiting write could sleep
long after the lock was free; a thread waiting on the lock is woken at once.  PostgreSQL
uses psycopg 3, row locks, and ``COPY`` for bulk inserts.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import StaticPool

from dltasks.errors import ConflictError, DltasksError, StoreBusyError, ValidationError
from dltasks.backends.sql import schema

__all__ = ["Database", "normalise_url"]

BUSY_TIMEOUT_MS = 60_000


def normalise_url(url: str | os.PathLike[str] | None) -> str:
    """Map what ``dl.connect`` accepts to an SQLAlchemy URL.

    >>> normalise_url(None)
    'sqlite:///dltasks.db'
    >>> normalise_url("data/x.db")
    'sqlite:///data/x.db'
    >>> normalise_url("postgresql://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    if url is None:
        return "sqlite:///dltasks.db"
    url = os.fspath(url)
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" in url:
        return url
    return f"sqlite:///{url}"


class Database:
    """An SQLAlchemy engine with dltasks' transaction rules; shared by every repository."""

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        self.url = normalise_url(url)
        self.engine = _make_engine(self.url)
        self.dialect = self.engine.dialect.name
        self._local = threading.local()
        self._held: list[sa.Connection] = []  #: threads' own connections for writes that must not wait
        #: One writer at a time per SQLite store in this process (``None``: the database queues writers).
        self.write_lock: threading.Lock | None = threading.Lock() if self.dialect == "sqlite" else None
        with self.read() as conn:
            current = schema.is_current(conn)
        if not current:  # only a new or older store takes the write lock
            with self.atomic() as conn:
                schema.migrate(conn)
        if self.dialect == "sqlite" and not self._has_statistics():
            self.refresh_statistics()

    # -- the query planner's statistics -----------------------------------------------------
    def _has_statistics(self) -> bool:
        with self.read() as conn:
            return conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").first() is not None

    def refresh_statistics(self) -> None:
        """Let SQLite's planner know the tables' sizes again (after a bulk write: a task, an import).

        Without them it reads one item's assignments through the worker-queue index, a scan of
        the whole task (115 ms per submit on a 100k-item task), instead of the primary key.
        A sampled ``ANALYZE`` (400 rows per index) costs a few tens of milliseconds; a busy store
        skips it.  Other databases keep their own statistics.
        """
        if self.dialect != "sqlite" or getattr(self._local, "conn", None) is not None:
            return
        try:
            with self.atomic() as conn:
                conn.exec_driver_sql("PRAGMA analysis_limit=400")
                conn.exec_driver_sql("ANALYZE")
        except StoreBusyError:
            pass

    # -- transactions -------------------------------------------------------------------
    @contextlib.contextmanager
    def atomic(self) -> Iterator[sa.Connection]:
        """A write transaction: commits at the end of the block, rolls back on any error.

        Nested ``atomic()`` blocks join the outer transaction, so the outermost block is
        all-or-nothing; each nested block is a savepoint, so an operation that fails inside a
        larger block leaves nothing of itself behind when the caller catches its error.
        """
        current = getattr(self._local, "conn", None)
        if current is not None:
            with translate_errors(), current.begin_nested():
                yield current
            return
        no_wait = getattr(self._local, "no_wait", False) and self.dialect == "sqlite"
        with self._writer(no_wait), translate_errors(), self._connection(no_wait) as conn:
            conn.info["write"] = True
            try:
                with conn.begin():
                    self._local.conn = conn
                    try:
                        yield conn
                    finally:
                        self._local.conn = None
            finally:
                conn.info.pop("write", None)

    @contextlib.contextmanager
    def _connection(self, no_wait: bool) -> Iterator[sa.Connection]:
        """A connection from the pool; for a call that must not wait, this thread's own connection,
        kept open, on which SQLite does not wait for another process's lock."""
        if not no_wait:
            with self.engine.connect() as pooled:
                yield pooled
            return
        own: sa.Connection | None = getattr(self._local, "no_wait_conn", None)
        if own is None or own.closed or own.invalidated:
            own = self.engine.connect()
            _set_busy_timeout(own, 0)
            self._local.no_wait_conn = own
            self._held.append(own)
        yield own

    @contextlib.contextmanager
    def without_waiting(self) -> Iterator[None]:
        """In this block (this thread), a write that would wait for another writer (a thread of
        this process, or another process on a SQLite file) raises :class:`StoreBusyError` at
        once instead, before it has read or written anything, and so does a read SQLite would
        make wait (rare in WAL mode): so a caller that must not block (a server's event loop)
        can try a short call now and hand it to a thread otherwise.  On PostgreSQL it changes
        nothing (its writers wait on row locks).

        >>> db = Database("sqlite://")
        >>> with db.without_waiting(), db.atomic() as conn:
        ...     conn.exec_driver_sql("SELECT 1").scalar()
        1
        """
        self._local.no_wait = True
        try:
            yield
        finally:
            self._local.no_wait = False

    @contextlib.contextmanager
    def _writer(self, no_wait: bool = False) -> Iterator[None]:
        """Hold this process's write lock of a SQLite store (waiting at most the busy timeout, or
        not at all)."""
        lock = self.write_lock
        if lock is None:
            yield
            return
        if no_wait:
            if not lock.acquire(blocking=False):
                raise StoreBusyError("database busy: another writer of this process holds the store")
        elif not lock.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise StoreBusyError(f"database busy: no write turn in {BUSY_TIMEOUT_MS / 1000:g} s")
        try:
            yield
        finally:
            lock.release()

    @contextlib.contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A read-only connection (joins an open ``atomic()`` block of this thread)."""
        current = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        no_wait = getattr(self._local, "no_wait", False) and self.dialect == "sqlite"
        with translate_errors(), self._connection(no_wait) as conn:
            with conn.begin():
                yield conn

    # -- bulk writes ---------------------------------------------------------------------
    def insert_rows(self, conn: sa.Connection, table: sa.Table, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]] | Iterator[Sequence[Any]]) -> None:
        """Insert many rows (tuples in ``columns`` order) the fastest way the dialect has."""
        raw: Any = conn.connection.driver_connection
        names = ", ".join(_quote(c) for c in columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in columns)
            cur = raw.cursor()
            cur.executemany(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)
            cur.close()
        elif self.dialect == "postgresql":
            with raw.cursor().copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:  # pragma: no cover - other dialects through SQLAlchemy
            conn.execute(sa.insert(table), [dict(zip(columns, r)) for r in rows])

    def close(self) -> None:
        """Release the connection pool (and the connections threads keep for writes that must not wait)."""
        held, self._held = self._held, []
        for conn in held:
            with contextlib.suppress(Exception):  # a connection of a thread that is gone: close it anyway
                conn.close()
        self.engine.dispose()


def _set_busy_timeout(conn: sa.Connection, ms: int) -> None:
    """How long SQLite waits for another process's write lock on this connection (0: not at all)."""
    if conn.dialect.name == "sqlite":
        conn.connection.driver_connection.execute(f"PRAGMA busy_timeout={int(ms)}")  # type: ignore[union-attr]


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}}
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            path = sa.engine.make_url(url).database
            if path and not path.startswith("file:") and os.path.dirname(path):  # a URI names an existing file
                os.makedirs(os.path.dirname(path), exist_ok=True)
        engine = sa.create_engine(url, **kwargs)
        _sqlite_events(engine, memory)
        return engine
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (ImportError, sa.exc.ArgumentError) as exc:
        raise ValidationError(f"cannot open this store ({exc})", "url", url) from None


def _sqlite_events(engine: sa.Engine, memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


#: Words of a database error that passes (a lock, a lost connection): the call may be repeated.
_TRANSIENT = ("locked", "busy", "connection", "could not connect", "server closed", "terminating", "deadlock",
              "could not serialize", "timeout", "timed out")


def _store_error(message: str) -> DltasksError:
    """A database's operational error as a retryable :class:`StoreBusyError` or a permanent one."""
    text = message.splitlines()[0] if message else "unknown"
    if any(word in text.lower() for word in _TRANSIENT):
        return StoreBusyError(f"database busy: {text}")
    return DltasksError(f"database error: {text}")


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn database errors into the dltasks error tree where they cross into dltasks."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        raise ConflictError(f"the write conflicts with stored data: {exc.orig}") from exc
    except sa.exc.OperationalError as exc:
        raise _store_error(str(exc.orig)) from exc
    except sa.exc.TimeoutError as exc:  # "QueuePool limit reached": every connection busy for the pool timeout
        raise StoreBusyError(f"database busy: {exc}") from exc
    except sa.exc.DataError as exc:  # PostgreSQL: a NUL character, a number out of range, bad JSON
        raise ValidationError(f"a value cannot be stored: {str(exc.orig).splitlines()[0]}") from exc
    except Exception as exc:  # driver errors raised from the raw bulk paths
        name = type(exc).__name__
        if name in ("IntegrityError", "UniqueViolation", "ForeignKeyViolation"):
            raise ConflictError(f"the write conflicts with stored data: {exc}") from exc
        if name == "OperationalError" and type(exc).__module__.startswith(("sqlite3", "psycopg")):
            raise _store_error(str(exc)) from exc
        psycopg = sys.modules.get("psycopg")
        if psycopg is not None and isinstance(exc, psycopg.DataError):  # from the COPY path
            raise ValidationError(f"a value cannot be stored: {str(exc).splitlines()[0]}") from exc
        raise
