"""Run a hot statement (built once at import) straight on SQLite's cursor, compiled once.

A submit runs about a dozen small statements.  Through SQLAlchemy each costs about 60 µs of
Python around SQLite's own 10 µs (cache lookup, parameter processing, result wrapping): half of
a submit's CPU.  :func:`run` compiles a statement once per shape and hands its SQL and
parameters to the ``sqlite3`` cursor of the connection's transaction, so the statement is still
written once, in SQLAlchemy, for every dialect.

It takes the short way only when nothing would differ from SQLAlchemy's: SQLite, no expanding
``IN`` and no Python-side column defaults; the types' conversions of values on the way in and
out (a float column's ``float()``, a boolean's ``bool()``) are applied as SQLAlchemy applies them
(:func:`is_direct` says which statements qualify; the submit's all do).  Anything else, and any
other database, goes through ``conn.execute`` as before.  Errors are the driver's and are
translated where every store call translates them (``engine.translate_errors``).

>>> import sqlalchemy as sa
>>> from dltasks.backends.sql.engine import Database
>>> from dltasks.backends.sql import schema as S
>>> db = Database("sqlite://")
>>> statement = sa.select(S.meta_table.c.value).where(S.meta_table.c.key == sa.bindparam("key"))
>>> with db.read() as conn:
...     run(conn, statement, {"key": "schema_version"}).scalar() == str(S.SCHEMA_VERSION), is_direct(conn, statement)
(True, True)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import sqlalchemy as sa

__all__ = ["run", "is_direct", "Rows"]

_NO_VALUE = object()


@dataclass(frozen=True)
class _Plan:
    sql: str
    #: For each ``?``: the parameter's name, its fixed value (``_NO_VALUE``: the caller gives it) and the
    #: function its type converts a value with on the way in (``None``: none).
    binds: tuple[tuple[str, Any, Any], ...]
    #: The type's conversion of each result column on the way out (``None``: none; empty: no conversion).
    results: tuple[Any, ...]


#: (statement id, dialect, parameter names of an INSERT or UPDATE) -> its plan, or None: not direct.
_PLANS: dict[tuple[int, str, tuple[str, ...]], _Plan | None] = {}
#: The statements planned (kept alive, so an id is never reused for another statement).
_KEEP: list[Any] = []


class Rows:
    """What a direct statement returned: the ``sa.Result`` calls the hot paths use."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self._rows, self.rowcount = rows, rowcount

    def first(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def all(self) -> list[tuple[Any, ...]]:
        return self._rows

    def scalars(self) -> _Values:
        return _Values(r[0] for r in self._rows)


class _Values(list):  # type: ignore[type-arg]
    """The first column of each row (``sa.ScalarResult``'s calls)."""

    def all(self) -> list[Any]:
        return list(self)


def _plan(conn: sa.Connection, statement: Any, keys: tuple[str, ...]) -> _Plan | None:
    dialect = conn.dialect
    if dialect.name != "sqlite" or dialect.paramstyle != "qmark":
        return None
    compiled: Any = statement.compile(dialect=dialect, column_keys=list(keys) or None)
    if compiled.positiontup is None or getattr(compiled, "insert_prefetch", None) or \
            getattr(compiled, "update_prefetch", None) or any(b.expanding for b in compiled.binds.values()):
        return None  # Python-side defaults, or an IN list whose length varies: SQLAlchemy's work
    into = compiled._bind_processors
    binds = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        given = bind.required or bind.key in keys  # the caller's value; else the statement's own literal
        binds.append((bind.key, _NO_VALUE if given else bind.effective_value, into.get(name)))
    results = tuple(column[3].result_processor(dialect, None) for column in compiled._result_columns)
    return _Plan(compiled.string, tuple(binds), results if any(results) else ())


def _plan_of(conn: sa.Connection, statement: Any, params: dict[str, Any]) -> _Plan | None:
    # an INSERT's or UPDATE's columns are the parameters given (as SQLAlchemy compiles them)
    keys = tuple(sorted(params)) if isinstance(statement, (sa.Insert, sa.Update)) else ()
    key = (id(statement), conn.dialect.name, keys)
    try:
        return _PLANS[key]
    except KeyError:
        plan = _PLANS[key] = _plan(conn, statement, keys)
        _KEEP.append(statement)
        return plan


def is_direct(conn: sa.Connection, statement: Any, params: dict[str, Any] | None = None) -> bool:
    """Whether :func:`run` hands ``statement`` to the driver itself on ``conn``."""
    return _plan_of(conn, statement, params or {}) is not None


def _values(plan: _Plan, params: dict[str, Any]) -> tuple[Any, ...]:
    out = []
    for name, fixed, convert in plan.binds:
        value = params[name] if fixed is _NO_VALUE else fixed
        out.append(value if convert is None or value is None else convert(value))
    return tuple(out)


def _converted(plan: _Plan, rows: list[Any]) -> list[Any]:
    if not plan.results or not rows:
        return rows
    return [tuple(v if f is None or v is None else f(v) for f, v in zip(plan.results, row)) for row in rows]


def run(conn: sa.Connection, statement: Any, params: dict[str, Any] | Sequence[dict[str, Any]] | None = None
        ) -> Any:
    """``conn.execute(statement, params)``, straight on SQLite's cursor when it can be (see the module).

    ``params``: one dict, or a list of dicts (an executemany: no rows come back).
    """
    if isinstance(params, (list, tuple)) and not params:
        return conn.execute(statement, params)  # whatever SQLAlchemy makes of no rows
    rows_given: list[dict[str, Any]] = list(params) if isinstance(params, (list, tuple)) else []
    first: dict[str, Any] = rows_given[0] if rows_given else params if isinstance(params, dict) else {}
    plan = _plan_of(conn, statement, first)
    if plan is None:
        return conn.execute(statement, params)
    raw: Any = conn.connection.driver_connection
    if rows_given:
        cursor = raw.executemany(plan.sql, [_values(plan, p) for p in rows_given])
        return Rows([], cursor.rowcount)
    cursor = raw.execute(plan.sql, _values(plan, first))
    rows = cursor.fetchall() if cursor.description is not None else []
    return Rows(_converted(plan, rows), cursor.rowcount)
