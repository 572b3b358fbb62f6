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
from typing import Any

import numpy as np

from dltasks.domain.values import MAX_METADATA_BYTES, check_json
from dltasks.errors import ValidationError

__all__ = ["dumps", "loads", "leaf_paths", "merge_patch", "check_jsonable", "check_size"]


def check_jsonable(value: Any, field: str = "metadata", path: str = "") -> None:
    """Raise ``ValidationError`` naming the path of the first value that cannot be stored
    (the rules of :mod:`dltasks.domain.values`: text, keys, 64-bit numbers, nesting)."""
    check_json(value, field, path)


def _plain(value: Any) -> Any:
    """numpy scalars as the Python numbers they are (for the JSON encoder)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any, field: str = "metadata", max_bytes: int | None = None, metadata: bool = True) -> str:
    """Compact JSON text; ``ValidationError`` for anything that cannot be stored, or longer than ``max_bytes``.

    ``metadata=False`` for JSON that is not user metadata (weights by user id, label lists):
    its keys need not be metadata keys.
    """
    check_json(value, field, metadata=metadata)
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_plain)
    if max_bytes is not None:
        check_size(text, field, max_bytes)
    return text


def check_size(text: str, field: str, max_bytes: int = MAX_METADATA_BYTES, row: str = "") -> None:
    """Refuse JSON text longer than ``max_bytes`` (UTF-8 bytes)."""
    if len(text) > max_bytes // 4 and len(text.encode("utf-8")) > max_bytes:
        raise ValidationError(f"{row}is {len(text.encode('utf-8')):,} bytes of JSON; the most is {max_bytes:,}",
                              field, f"{text[:40]}…")


def loads(text: str | None, default: Any = None) -> Any:
    """Parse stored JSON text (``None`` gives ``default``)."""
    if text is None:
        return default
    if isinstance(text, (dict, list)):  # drivers that parse JSON themselves
        return text
    if text == "{}":  # most stored metadata and options: no parser needed
        return {}
    if text == "[]":
        return []
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
