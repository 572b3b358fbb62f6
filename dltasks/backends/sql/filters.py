"""Item filters (:class:`dltasks.domain.filters.Filters`) compiled to parameterised SQL (never string-built).

Examples
--------
>>> from dltasks.backends.sql import schema as S
>>> f = Filters(field="metadata.user.colour", values="red")
>>> print(where_clause(f, S.items, S.annotations, "sqlite"))
json_extract(items.metadata, :param_1) = :json_extract_1
"""
from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa

from dltasks.domain.filters import Condition, Filters
from dltasks.timeutil import to_epoch

__all__ = ["where_clause", "order_terms"]


def where_clause(filters: Filters, items: sa.Table, annotations: sa.Table, dialect: str) -> sa.ColumnElement[bool]:
    """The SQL condition selecting the rows of ``items`` that ``filters`` match (bound parameters only)."""
    parts: list[sa.ColumnElement[bool]] = []
    if filters.or_filter:
        parts.append(sa.or_(*(_compile(c, items, dialect) for c in filters.or_filter)))
    parts.extend(_compile(c, items, dialect) for c in filters.and_filter)
    if filters.join_filter:
        conds = [_compile(c, annotations, dialect, join=True) for c in filters.join_filter]
        parts.append(sa.exists().where(annotations.c.item_id == items.c.id, *conds))
    return sa.and_(sa.true(), *parts)


def order_terms(filters: Filters | None, items: sa.Table, dialect: str) -> list[sa.ColumnElement[Any]]:
    """ORDER BY terms for the filters' sort, with ``id`` as the tie breaker."""
    terms: list[sa.ColumnElement[Any]] = []
    for fld, direction in (filters.sort if filters is not None else []):
        expr = _column(fld, items, dialect, typed=True)  # PostgreSQL: jsonb, so 9 sorts before 10
        terms.append(expr.desc() if direction == "descending" else expr.asc())
    return terms + [items.c.id.asc()]


def _column(fld: str, table: sa.Table, dialect: str, typed: bool) -> sa.ColumnElement[Any]:
    if fld.startswith("metadata."):
        keys = fld.split(".")[1:]
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            fn = sa.func.jsonb_extract_path if typed else sa.func.jsonb_extract_path_text
            return fn(sa.cast(table.c.metadata, JSONB), *[sa.literal(k) for k in keys])
        path = "$" + "".join(f'."{k}"' for k in keys)
        return sa.func.json_extract(table.c.metadata, sa.literal(path))
    if fld == "creator":
        fld = "author"
    return table.c[fld]


def _bind(value: Any, fld: str, dialect: str, is_json: bool) -> Any:
    if fld == "created_at" and value is not None:
        return to_epoch(value, field="values")
    if is_json and dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return sa.cast(sa.literal(json.dumps(value), sa.Text), JSONB)
    return value


def _compile(c: Condition, table: sa.Table, dialect: str, join: bool = False) -> sa.ColumnElement[bool]:
    is_json = c.field.startswith("metadata.")
    if c.operator == "glob":
        expr = _column(c.field, table, dialect, typed=False)
        if dialect == "sqlite":
            return expr.op("GLOB")(c.values)
        if dialect == "postgresql":  # a regex keeps GLOB's [classes]
            return expr.op("~")(_glob_to_regex(c.values))
        return expr.like(_glob_to_like(c.values), escape="\\")
    expr = _column(c.field, table, dialect, typed=True)
    if c.operator == "exists":
        return expr.is_not(None) if c.values else expr.is_(None)
    if c.operator in ("in", "nin"):
        inside = _in_values(expr, c, dialect, is_json)
        return inside if c.operator == "in" else sa.or_(expr.is_(None), sa.not_(inside))
    value = _bind(c.values, c.field, dialect, is_json)
    if c.values is None:
        return expr.is_(None) if c.operator == "eq" else expr.is_not(None)
    if c.operator == "eq":
        return expr == value
    if c.operator == "ne":
        return expr.is_distinct_from(value)
    return {"gt": expr > value, "lt": expr < value, "gte": expr >= value, "lte": expr <= value}[c.operator]


#: Above this many values an ``in`` condition binds them as one JSON array (one parameter, any length).
_LONG_LIST = 500


def _in_values(expr: Any, c: Condition, dialect: str, is_json: bool) -> sa.ColumnElement[bool]:
    """``expr IN values``: bound one by one, or for a long list as one JSON array the database unpacks."""
    values = [to_epoch(v, field="values") if c.field == "created_at" and v is not None else v for v in c.values]
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        array = sa.cast(sa.literal(json.dumps(values), sa.Text), JSONB)
        if is_json:  # jsonb to jsonb: 9 matches 9, "9" matches "9"
            return expr.in_(sa.select(sa.func.jsonb_array_elements(array)).scalar_subquery())
        if len(values) > _LONG_LIST:
            elements = sa.cast(sa.func.jsonb_array_elements_text(array), expr.type)
            return expr.in_(sa.select(elements).scalar_subquery())
    elif dialect == "sqlite" and len(values) > _LONG_LIST:
        each = sa.func.json_each(sa.literal(json.dumps(values))).table_valued("value")
        return expr.in_(sa.select(each.c.value))
    return expr.in_(values)


def _glob_to_regex(pattern: str) -> str:
    r"""SQLite GLOB as an anchored regular expression (``*``, ``?``, ``[a-z]``, ``[^x]``).

    >>> _glob_to_regex("img0[12].jpg")
    '^img0[12]\\.jpg$'
    """
    out, i, n = ["^"], 0, len(pattern)
    while i < n:
        ch = pattern[i]
        end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("]", "^") else i + 1) if ch == "[" else -1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[" and end != -1:
            body = pattern[i + 1:end]
            neg = body.startswith("^")
            body = body[1:] if neg else body
            out.append("[" + ("^" if neg else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)


def _glob_to_like(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch in "%_\\":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)
