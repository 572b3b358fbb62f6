"""Strict JSON for stored metadata: refuse what cannot round-trip, list leaf paths, merge.

Examples
--------
>>> dumps({"user": {"a": 1}})
'{"user":{"a":1}}'
>>> leaf_paths({"user": {"a": 1, "b": {"c": 2}}})
['user.a', 'user.b.c']
>>> merge_patch({"user": {"a": 1, "b": 2}}, {"user": {"b": None, "c": 3}})
{'user': {'a': 1, 'c': 3}}
"""
from __future__ import annotations

import json
import math
from typing import Any

from dltasks.errors import ValidationError

__all__ = ["dumps", "loads", "leaf_paths", "merge_patch", "check_jsonable"]


def check_jsonable(value: Any, field: str = "metadata", path: str = "") -> None:
    """Raise ``ValidationError`` naming the path of the first value JSON cannot store."""
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{path or 'value'} is not a finite number", field, value)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError(f"keys must be strings (at {path or 'top level'})", field, k)
            check_jsonable(v, field, f"{path}.{k}" if path else k)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_jsonable(v, field, f"{path}[{i}]")
        return
    raise ValidationError(f"{path or 'value'} cannot be stored as JSON ({type(value).__name__})", field, value)


def dumps(value: Any, field: str = "metadata") -> str:
    """Compact JSON text; ``ValidationError`` for anything that is not plain JSON data."""
    check_jsonable(value, field)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None, default: Any = None) -> Any:
    """Parse stored JSON text (``None`` gives ``default``)."""
    if text is None:
        return default
    if isinstance(text, (dict, list)):  # drivers that parse JSON themselves
        return text
    return json.loads(text)


def leaf_paths(value: dict[str, Any], prefix: str = "") -> list[str]:
    """Dot paths of the non-dict leaves of a nested dict, in order."""
    out: list[str] = []
    for k, v in value.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            out.extend(leaf_paths(v, p))
        else:
            out.append(p)
    return out


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 merge: dicts merge deeply, ``None`` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result
