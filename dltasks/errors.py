"""The one exception tree of dltasks.

Every error dltasks raises is a :class:`DltasksError`.  Library errors (sqlite3,
SQLAlchemy, requests) are translated into these where they cross into dltasks.

Examples
--------
>>> from dltasks.errors import ValidationError
>>> err = ValidationError("must be at least 1", field="workers_per_input", value=0)
>>> print(err)
workers_per_input: must be at least 1 (got 0)
>>> isinstance(err, ValueError)
True
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "DltasksError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "PermissionDeniedError",
    "ApiError",
    "StoreBusyError",
    "DltasksWarning",
]

_MISSING = object()


class DltasksError(Exception):
    """Base class of every error raised by dltasks."""


class ValidationError(DltasksError, ValueError):
    """Bad input: names the ``field`` and the bad ``value``; nothing was written.

    ``key`` says which element of the field was bad when the field holds several (the assignee
    id of a bad weight), so a form can show the message at that element:

    >>> ValidationError("must not be negative", "weights", -1, key="ann").key
    'ann'
    """

    def __init__(self, message: str, field: str | None = None, value: Any = _MISSING, *, key: Any = None) -> None:
        self.message = message
        self.field = field
        self.key = key
        self.value = None if value is _MISSING else value
        text = f"{field}: {message}" if field else message
        if value is not _MISSING:
            shown = repr(value)
            text += f" (got {shown if len(shown) <= 200 else shown[:200] + '…'})"
        super().__init__(text)


class NotFoundError(DltasksError, KeyError):
    """The thing asked for does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class ConflictError(DltasksError):
    """The write conflicts with what is stored (a duplicate name, an ambiguous lookup)."""


class PermissionDeniedError(DltasksError, PermissionError):
    """The user may not do this (e.g. submit a label on an item assigned to someone else)."""


class StoreBusyError(DltasksError):
    """The store could not answer now (locked, busy, connection lost): the same call may succeed later.

    Any other :class:`DltasksError` from the store (a read-only database, say) is permanent.
    """


class ApiError(DltasksError):
    """An HTTP error from a dltasks server that maps to no more specific error."""

    def __init__(self, message: str, response: Any = None) -> None:
        self.response = response
        super().__init__(message)


class DltasksWarning(UserWarning):
    """Warnings issued by dltasks (turned into errors in the test suite)."""
