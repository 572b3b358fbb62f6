"""Conversions between the time forms users pass and the UTC epoch seconds we store.

Examples
--------
>>> to_epoch("2025-03-11T00:00:00+00:00")
1741651200.0
>>> from_epoch(1741651200.0).isoformat()
'2025-03-11T00:00:00+00:00'
"""
from __future__ import annotations

import datetime as _dt
import time
from typing import Any, overload

import numpy as np

from dltasks.errors import ValidationError

__all__ = ["now", "to_epoch", "from_epoch"]

#: Seconds timestamps beyond this (year ~2286) are almost surely milliseconds.
_MAX_SECONDS = 1e10


def now() -> float:
    """Current time as UTC epoch seconds."""
    return time.time()


def to_epoch(value: Any, field: str = "due_date") -> float:
    """Turn a seconds timestamp, ``datetime``, ``date`` or ISO string into UTC epoch seconds.

    Naive datetimes are read as local time (as ``datetime.timestamp()`` does), so the
    seeds' ``datetime.datetime(...).timestamp()`` and the datetime itself agree.
    A number that looks like milliseconds is refused with a ``ValidationError``, and so is
    any time outside the years dltasks stores (1653 to 2286: ``±1e10`` epoch seconds).

    >>> to_epoch("9999-12-31T23:00:00-05:00")
    Traceback (most recent call last):
    dltasks.errors.ValidationError: due_date: is outside the times dltasks stores (1653 to 2286) (got '9999-12-31T23:00:00-05:00')
    """
    if isinstance(value, bool):
        raise ValidationError("must be a timestamp, datetime, date or ISO string", field, value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        seconds = float(value)
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            raise ValidationError("must be a finite timestamp", field, value)
        if abs(seconds) > _MAX_SECONDS:
            raise ValidationError(
                "looks like milliseconds; pass seconds (divide by 1000)", field, value
            )
        return seconds
    try:
        seconds = _seconds(value, field)
    except (OverflowError, OSError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(_RANGE, field, value) from None
    if not abs(seconds) <= _MAX_SECONDS:
        raise ValidationError(_RANGE, field, value)
    return seconds


_RANGE = "is outside the times dltasks stores (1653 to 2286)"


def _seconds(value: Any, field: str) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc).timestamp()
    if isinstance(value, str):
        try:
            parsed = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("is not an ISO-8601 date or time", field, value) from None
        return parsed.timestamp()
    try:  # pandas timestamps
        import pandas as pd

        if isinstance(value, pd.Timestamp):
            return float(value.timestamp())
    except ImportError:  # pragma: no cover
        pass
    raise ValidationError("must be a timestamp, datetime, date or ISO string", field, value)


@overload
def from_epoch(seconds: float) -> _dt.datetime: ...
@overload
def from_epoch(seconds: None) -> None: ...
def from_epoch(seconds: float | None) -> _dt.datetime | None:
    """UTC-aware datetime for stored epoch seconds (``None`` stays ``None``).

    A stored value beyond what a datetime holds (written before dltasks checked the range)
    reads as the first or last time there is, so no stored row can make a read fail.
    """
    if seconds is None:
        return None
    try:
        return _dt.datetime.fromtimestamp(float(seconds), tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return _FIRST if float(seconds) < 0 else _LAST


_FIRST = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
_LAST = _dt.datetime.max.replace(tzinfo=_dt.timezone.utc)
