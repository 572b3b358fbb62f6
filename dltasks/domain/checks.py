"""Checks of single values (ids, labels, names) and the :class:`Rule` that attaches one to a type.

Every check takes the value and the name of the field it came in, returns the value as it
is stored (stripped, converted) and raises :class:`~dltasks.errors.ValidationError` naming
the field and the bad value.

Examples
--------
>>> check_user_id(" ann@example.com ")
'ann@example.com'
>>> to_item_id("12"), to_item_id(__import__("numpy").int64(3))
(12, 3)
>>> check_label("", "labels")
Traceback (most recent call last):
dltasks.errors.ValidationError: labels: must be a non-empty string (at most 255 characters) (got '')
"""
from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from dltasks.domain.values import text_problem
from dltasks.errors import ValidationError

__all__ = [
    "Rule", "MAX_NAME", "MAX_ID", "MAX_TEXT", "ROLES",
    "check_label", "check_labels", "check_user_id", "check_user_ids", "check_author", "check_name", "check_id",
    "check_ids", "to_item_id", "to_item_ids", "check_role", "check_bool", "check_whole",
]

#: Longest name, label or user id.
MAX_NAME = 255
#: Largest item or annotation id (a signed 64-bit integer).
MAX_ID = 2**63 - 1
#: Longest free-text value (a file name, a folder).
MAX_TEXT = 10_000
#: Assignment roles.
ROLES = ("worker", "reviewer")


@dataclass(frozen=True)
class Rule:
    """How a parameter type is checked: ``check(value, field)``, and its bounds on the wire.

    Used as ``Annotated[str, Rule(check_user_id, max_length=255)]`` in the backend
    operations' signatures: the SDK and the server both run ``check``; the server also
    states the bounds in its request schema.
    """

    check: Callable[[Any, str], Any] | None = None
    max_length: int | None = None
    ge: int | None = None
    le: int | None = None
    item_max_length: int | None = None
    item_ge: int | None = None
    item_le: int | None = None


def _short_text(value: Any, field: str, what: str, limit: int = MAX_NAME) -> str:
    """A non-empty string of at most ``limit`` characters that can be stored, stripped."""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValidationError(what, field, value)
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(problem, field, value)
    return value.strip()


def check_label(label: Any, field: str = "label") -> str:
    """A label is a non-empty string of at most 255 characters (stripped)."""
    return _short_text(label, field, f"must be a non-empty string (at most {MAX_NAME} characters)")


def check_labels(labels: Any, field: str = "labels") -> list[str]:
    """A list of labels (one string is a list of one), checked, without repeats, in order."""
    if labels is None:
        return []
    if isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, Iterable):
        raise ValidationError("must be a list of labels", field, labels)
    return list(dict.fromkeys(check_label(lbl, field) for lbl in labels))


def check_user_id(value: Any, field: str = "user_id") -> str:
    """A user id is a non-empty string of at most 255 characters (e-mails in practice)."""
    return _short_text(value, field, "must be a non-empty string (a user id or e-mail)")


def check_user_ids(values: Any, field: str = "user_ids") -> list[str]:
    """A list of user ids (one string is a list of one), each checked."""
    if isinstance(values, str):
        values = [values]
    if values is None or not isinstance(values, Iterable):
        raise ValidationError("must be a list of user ids", field, values)
    return [check_user_id(v, field) for v in values]


def check_author(author: Any, field: str = "author") -> str:
    """An annotation's author: a user id, ``'import'`` (the default) or ``'model'``."""
    if author is None:
        return "import"
    return _short_text(author, field, "must be a user id, 'import' or 'model'")


def check_name(name: Any, field: str = "name") -> str:
    """A dataset or task name: a non-empty string of at most 255 characters (stripped)."""
    return _short_text(name, field, f"must be a non-empty string (at most {MAX_NAME} characters)")


def check_id(value: Any, field: str = "id") -> str:
    """A dataset or task id: a non-empty string of at most 64 characters."""
    if not isinstance(value, str) or not value or len(value) > 64 or text_problem(value) is not None:
        raise ValidationError("must be an id (a non-empty string)", field, value)
    return value


def check_ids(values: Any, field: str = "ids") -> list[str]:
    """At least one dataset or task id (one string is a list of one), without repeats."""
    if isinstance(values, str):
        values = [values]
    if values is None or not isinstance(values, Iterable):
        raise ValidationError("must be a list of ids", field, values)
    ids = list(dict.fromkeys(check_id(v, field) for v in values))
    if not ids:
        raise ValidationError("give at least one id", field, values)
    return ids


def to_item_id(value: Any, field: str = "item_id") -> int:
    """An item (or annotation) id: a whole number >= 0; digit strings and numpy integers are accepted."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    else:
        raise ValidationError("is not an item id (a whole number)", field, value)
    if not 0 <= number <= MAX_ID:
        raise ValidationError(f"is not an item id (a whole number from 0 to {MAX_ID})", field, value)
    return number


def to_item_ids(values: Any, field: str = "item_ids") -> list[int]:
    """At least one item id (one id is a list of one), each once, in the order given."""
    if isinstance(values, (int, str, np.integer)) or not isinstance(values, Iterable):
        values = [values]
    ids = list(dict.fromkeys(to_item_id(v, field) for v in values))
    if not ids:
        raise ValidationError("give at least one item id", field, values)
    return ids


def check_role(role: Any, field: str = "role") -> str:
    """An assignment role: ``worker`` or ``reviewer``."""
    if role not in ROLES:
        raise ValidationError(f"must be one of {list(ROLES)}", field, role)
    return str(role)


def check_bool(value: Any, field: str) -> bool:
    """``True`` or ``False`` (numpy booleans too), nothing else."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValidationError("must be True or False", field, value)


def check_whole(value: Any, field: str, low: int = 0, high: int | None = None) -> int:
    """A whole number in ``[low, high]`` (numpy integers too; not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low or (
            high is not None and value > high):
        span = f">= {low}" if high is None else f"from {low} to {high}"
        raise ValidationError(f"must be a whole number {span}", field, value)
    return int(value)


#: The longest time an item can be on screen before an answer that is stored (a day).
MAX_SECONDS = 86_400.0


def check_seconds(value: Any, field: str) -> float:
    """A time in seconds: a finite number from 0 to a day.

    >>> check_seconds(2, "seconds")
    2.0
    >>> check_seconds(-1, "seconds")
    Traceback (most recent call last):
    dltasks.errors.ValidationError: seconds: must be a number of seconds from 0 to 86400 (got -1)
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)) or not 0 <= float(value) <= MAX_SECONDS:
        raise ValidationError(f"must be a number of seconds from 0 to {MAX_SECONDS:g}", field, value)
    return float(value)
