"""What a stored value may be: text, metadata keys, numbers, JSON nesting and size.

One rule each, applied on every input path (items, metadata updates, tasks, annotations,
filters), so that nothing stored can make a later read fail:

- **text** (names, labels, ids, metadata strings and keys): valid Unicode that UTF-8 can
  encode (no lone surrogates such as ``"\\ud800"``) and no NUL character;
- **metadata keys**: 1 to 255 characters, none of ``.`` (it separates the levels of a path:
  ``metadata.user.camera.model``), ``"``, ``\\`` or a control character;
- **whole numbers**: signed 64-bit (``-2**63`` to ``2**63 - 1``), as both databases store them;
  real numbers finite;
- **nesting**: at most :data:`MAX_DEPTH` levels of dicts and lists;
- **size**: an item's metadata (or a task's) at most :data:`MAX_METADATA_BYTES` of JSON.

Examples
--------
>>> check_json({"user": {"camera": {"model": "X"}}}, "metadata")
>>> check_json({"user": {"camera.model": "X"}}, "metadata")
Traceback (most recent call last):
dltasks.errors.ValidationError: metadata: key 'camera.model' at user: a key may not contain '.', '"', '\\\\' or control characters (got 'camera.model')
>>> check_json({"n": 10**30}, "metadata")
Traceback (most recent call last):
dltasks.errors.ValidationError: metadata: n is a whole number beyond 64 bits (got 1000000000000000000000000000000)
"""
from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from dltasks.errors import ValidationError

__all__ = ["MAX_DEPTH", "MAX_METADATA_BYTES", "MIN_INT", "MAX_INT", "check_text", "check_key", "check_json",
           "check_int", "text_problem"]

#: The deepest nesting of dicts and lists in stored metadata.
MAX_DEPTH = 32
#: The largest metadata of one item (or task), as compact JSON text, in bytes.
MAX_METADATA_BYTES = 64 * 1024
MIN_INT, MAX_INT = -(2**63), 2**63 - 1

_BAD_KEY = re.compile(r'[."\\\x00-\x1f\x7f]')


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored (``None`` when it can)."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return None


def check_text(value: str, field: str) -> str:
    """``value`` if it can be stored as text; a ``ValidationError`` naming ``field`` otherwise."""
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(problem, field, value)
    return value


def check_key(key: Any, field: str, where: str = "") -> str:
    """A metadata key: 1–255 characters without ``.``, ``"``, ``\\`` or control characters."""
    at = f" at {where}" if where else ""
    if not isinstance(key, str) or not key or len(key) > 255:
        raise ValidationError(f"keys must be strings of 1 to 255 characters{at}", field, key)
    if _BAD_KEY.search(key):
        raise ValidationError(f"key {key!r}{at}: a key may not contain '.', '\"', '\\\\' or control characters",
                              field, key)
    problem = text_problem(key)
    if problem is not None:
        raise ValidationError(f"key{at} {problem}", field, key)
    return key


def check_int(value: int, field: str, path: str = "value") -> int:
    """A whole number that fits in 64 bits."""
    if not MIN_INT <= value <= MAX_INT:
        raise ValidationError(f"{path} is a whole number beyond 64 bits", field, value)
    return value


def check_json(value: Any, field: str, path: str = "", depth: int = 0, metadata: bool = True) -> None:
    """Refuse (naming the path) the first part of ``value`` that cannot be stored as JSON.

    ``metadata``: dict keys follow :func:`check_key` (they are metadata paths); otherwise any
    storable text is a key (a weight's user id, say).
    """
    where = path or "value"
    if value is None or isinstance(value, (bool, np.bool_)):
        return
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            raise ValidationError(f"{where} {problem}", field, value)
        return
    if isinstance(value, (int, np.integer)):
        check_int(int(value), field, where)
        return
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise ValidationError(f"{where} is not a finite number", field, value)
        return
    if isinstance(value, (dict, list, tuple)):
        if depth >= MAX_DEPTH:
            raise ValidationError(f"{where} nests deeper than {MAX_DEPTH} levels", field, "…")
        if isinstance(value, dict):
            for k, v in value.items():
                if metadata:
                    check_key(k, field, path or "top level")
                elif not isinstance(k, str) or text_problem(k) is not None:
                    raise ValidationError(f"keys must be text (at {path or 'top level'})", field, k)
                check_json(v, field, f"{path}.{k}" if path else k, depth + 1, metadata)
        else:
            for i, v in enumerate(value):
                check_json(v, field, f"{path}[{i}]", depth + 1, metadata)
        return
    raise ValidationError(f"{where} cannot be stored as JSON ({type(value).__name__})", field, value)
