"""Item filters, dtlpy-compatible, as data (the SQL backend compiles them: :mod:`dltasks.backends.sql.filters`).

Semantics as dtlpy: an item matches when (any of the OR conditions holds, if there are any)
AND (all of the AND conditions hold) AND (it has an annotation matching all join conditions,
if there are any).

Examples
--------
>>> f = Filters()
>>> f.add(field="metadata.user.colour", values="red")
>>> f.add(field="dir", values="/train*", operator=FiltersOperations.GLOB)
>>> f.add_join(field="label", values="Adult")
>>> [c.field for c in f.and_filter], [c.field for c in f.join_filter]
(['metadata.user.colour', 'dir'], ['label'])
>>> Filters.from_json(f.to_json()) == f
True
"""
from __future__ import annotations

import enum
import json
import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable

import numpy as np

from dltasks.domain.values import check_int, check_key, check_text
from dltasks.errors import ValidationError

__all__ = [
    "Filters",
    "FiltersOperations",
    "FiltersMethod",
    "FiltersResource",
    "FiltersOrderByDirection",
    "ITEM_FIELDS",
    "JOIN_FIELDS",
    "ITEM_FIELD_KINDS",
    "value_kind",
    "check_applies",
]


class FiltersOperations(str, enum.Enum):
    """Comparison operators (dtlpy names)."""

    EQUAL = "eq"
    NOT_EQUAL = "ne"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"
    GREATER_THAN_OR_EQUAL = "gte"
    LESS_THAN_OR_EQUAL = "lte"
    IN = "in"
    NIN = "nin"
    NOT_IN = "nin"
    EXISTS = "exists"
    GLOB = "glob"


class FiltersMethod(str, enum.Enum):
    """How a condition combines with the others."""

    AND = "and"
    OR = "or"


class FiltersResource(str, enum.Enum):
    """What the filter selects (dltasks filters items)."""

    ITEM = "items"


class FiltersOrderByDirection(str, enum.Enum):
    """Sort direction for :meth:`Filters.sort_by`."""

    ASCENDING = "ascending"
    DESCENDING = "descending"


#: Item fields a filter may name (besides ``metadata.<path>``).
ITEM_FIELDS = ("id", "name", "filename", "dir", "created_at", "mime", "size", "path")
#: Annotation fields ``add_join`` may name.
JOIN_FIELDS = ("label", "author", "creator", "task_id", "created_at", "id")

#: The kind of value each item field holds (``created_at`` takes numbers and dates alike).
ITEM_FIELD_KINDS = {"id": "number", "name": "text", "filename": "text", "dir": "text", "mime": "text",
                    "size": "number", "path": "text"}
#: The most values an ``in`` / ``nin`` condition takes.
MAX_IN_VALUES = 1_000_000
_OPS = {op.value for op in FiltersOperations}
_ALIASES = {"$" + op: op for op in _OPS} | {"=": "eq", "==": "eq", "!=": "ne", ">": "gt", "<": "lt",
                                             ">=": "gte", "<=": "lte", "not_in": "nin"}


@dataclass(frozen=True)
class Condition:
    """One ``field operator values`` condition."""

    field: str
    values: Any
    operator: str = "eq"


def _operator(op: Any) -> str:
    if op is None:
        return "eq"
    name = op.value if isinstance(op, enum.Enum) else str(op).strip().lower()
    name = _ALIASES.get(name, name)
    if name not in _OPS:
        raise ValidationError(f"unknown operator; use one of {sorted(_OPS)}", "operator", op)
    return name


def _method(method: Any) -> str:
    name = method.value if isinstance(method, enum.Enum) else str(method or "and").strip().lower().lstrip("$")
    if name not in ("and", "or"):
        raise ValidationError("unknown method; use 'and' or 'or'", "method", method)
    return name


def _check_field(name: Any, allowed: Iterable[str], what: str) -> str:
    if not isinstance(name, str):
        raise ValidationError(f"{what} field must be a string", "field", name)
    if name.startswith("metadata."):
        for key in name.split(".")[1:]:
            try:
                check_key(key, "field")
            except ValidationError:
                raise ValidationError("metadata paths are dot-separated keys (each 1 to 255 characters, no '\"', "
                                      "'\\' or control characters)", "field", name) from None
        return name
    if name not in allowed:
        raise ValidationError(f"unknown {what} field; use one of {list(allowed)} or metadata.<path>",
                              "field", name)
    return name


def _check_values(op: str, values: Any, fld: str) -> Any:
    if op in ("in", "nin"):
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        values = list(values)
    elif op == "exists":
        if not isinstance(values, bool):
            raise ValidationError("exists takes True or False", "values", values)
    elif op == "glob" and not isinstance(values, str):
        raise ValidationError("glob takes a pattern string", "values", values)
    if isinstance(values, list):
        if len(values) > MAX_IN_VALUES:
            raise ValidationError(f"an '{op}' condition takes at most {MAX_IN_VALUES:,} values", "values", len(values))
        return [_value(v, fld) for v in values]
    return _value(values, fld)


def _value(v: Any, fld: str) -> Any:
    """One condition value as stored: a string, a 64-bit whole number, a finite real, a boolean or None."""
    if v is None or isinstance(v, (bool, np.bool_)):
        return None if v is None else bool(v)
    if isinstance(v, str):
        return check_text(v, "values")
    if isinstance(v, (int, np.integer)):
        return check_int(int(v), "values")
    if isinstance(v, (float, np.floating)) and math.isfinite(float(v)):
        return float(v)
    raise ValidationError(f"values for {fld!r} must be strings, numbers, booleans or None", "values", v)


def value_kind(value: Any) -> str | None:
    """The kind of a stored or typed value, as :func:`check_applies` compares them (None for None).

    >>> [value_kind(v) for v in (3, 2.5, "3", True, None, [1])]
    ['number', 'number', 'text', 'boolean', None, 'other']
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number"
    return "text" if isinstance(value, str) else "other"


def check_applies(field: str, operator: str, values: Any, kinds: Iterable[str]) -> None:
    """Raise when a condition's value is of a kind ``field`` never holds, so it could not apply.

    ``kinds`` are the :func:`value_kind` s of the values the field holds (unknown: empty, and
    nothing is checked).  ``size_px > "big"`` on a field of numbers would silently match nothing
    (or, with ``≠``, everything); it is a mistake, not a question.  ``exists`` and ``glob``
    apply to any field.

    >>> check_applies("metadata.user.size_px", "gt", 12, {"number"})
    >>> check_applies("metadata.user.size_px", "gt", "big", {"number"})
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: values: metadata.user.size_px holds numbers, so text cannot apply (got 'big')
    """
    known = set(kinds)
    if operator in ("exists", "glob") or not known or "other" in known:
        return
    for value in values if isinstance(values, list) else [values]:
        kind = value_kind(value)
        if kind is not None and kind not in known:
            held = " and ".join(sorted(k if k == "text" else k + "s" for k in known))
            raise ValidationError(f"{field} holds {held}, so {'text' if kind == 'text' else 'a ' + kind} "
                                  "cannot apply", "values", value)


class Filters:
    """Select items by their fields, metadata and annotations (dtlpy ``dl.Filters``).

    Parameters
    ----------
    field, values, operator, method:
        An optional first condition, as :meth:`add` takes it.
    resource:
        What is filtered; only ``FiltersResource.ITEM``.
    """

    def __init__(self, field: str | None = None, values: Any = None, operator: Any = None,
                 method: Any = FiltersMethod.AND, resource: Any = FiltersResource.ITEM,
                 **_ignored: Any) -> None:
        res = resource.value if isinstance(resource, enum.Enum) else str(resource)
        if res not in ("items", "item"):
            raise ValidationError("dltasks filters select items", "resource", resource)
        self.resource = FiltersResource.ITEM
        self.and_filter: list[Condition] = []
        self.or_filter: list[Condition] = []
        self.join_filter: list[Condition] = []
        self.sort: list[tuple[str, str]] = []
        if field is not None:
            self.add(field=field, values=values, operator=operator, method=method)

    def add(self, field: str, values: Any, operator: Any = None, method: Any = FiltersMethod.AND) -> None:
        """Add a condition on an item field or ``metadata.<path>``."""
        fld = _check_field(field, ITEM_FIELDS, "item")
        op = _operator(operator)
        cond = Condition(fld, _check_values(op, values, fld), op)
        (self.or_filter if _method(method) == "or" else self.and_filter).append(cond)

    def add_join(self, field: str, values: Any, operator: Any = None, method: Any = FiltersMethod.AND) -> None:
        """Keep items that have an annotation matching this condition (all join conditions)."""
        fld = _check_field(field, JOIN_FIELDS, "annotation")
        if fld.startswith("metadata."):
            raise ValidationError("annotations have no metadata to filter on", "field", field)
        op = _operator(operator)
        _method(method)
        self.join_filter.append(Condition(fld, _check_values(op, values, fld), op))

    def sort_by(self, field: str, value: Any = FiltersOrderByDirection.ASCENDING) -> None:
        """Order the matching items by ``field`` (ascending or descending)."""
        fld = _check_field(field, ITEM_FIELDS, "item")
        direction = value.value if isinstance(value, enum.Enum) else str(value).lower()
        direction = {"asc": "ascending", "desc": "descending"}.get(direction, direction)
        if direction not in ("ascending", "descending"):
            raise ValidationError("use 'ascending' or 'descending'", "value", value)
        self.sort.append((fld, direction))

    def has_field(self, field: str) -> bool:
        """Whether any condition names ``field``."""
        return any(c.field == field for c in self.and_filter + self.or_filter + self.join_filter)

    def pop(self, field: str) -> None:
        """Remove every condition on ``field``."""
        self.and_filter = [c for c in self.and_filter if c.field != field]
        self.or_filter = [c for c in self.or_filter if c.field != field]
        self.join_filter = [c for c in self.join_filter if c.field != field]

    def reset(self) -> None:
        """Remove every condition and sort."""
        self.and_filter, self.or_filter, self.join_filter, self.sort = [], [], [], []

    @property
    def is_empty(self) -> bool:
        """True when the filter selects every item."""
        return not (self.and_filter or self.or_filter or self.join_filter)

    # -- serialisation -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (stored with tasks, sent over HTTP)."""
        return {
            "and": [asdict(c) for c in self.and_filter],
            "or": [asdict(c) for c in self.or_filter],
            "join": [asdict(c) for c in self.join_filter],
            "sort": [list(s) for s in self.sort],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | None) -> Filters:
        """Rebuild a filter from :meth:`to_json` output (validated again)."""
        f = cls()
        if data is None:
            return f
        if isinstance(data, str):
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValidationError("must be a dict from Filters.to_json()", "filters", data)
        for c in data.get("and", []):
            f.add(c["field"], c["values"], c.get("operator"), "and")
        for c in data.get("or", []):
            f.add(c["field"], c["values"], c.get("operator"), "or")
        for c in data.get("join", []):
            f.add_join(c["field"], c["values"], c.get("operator"))
        for fld, direction in data.get("sort", []):
            f.sort_by(fld, direction)
        return f

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filters) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Filters({json.dumps(self.to_json())})"
