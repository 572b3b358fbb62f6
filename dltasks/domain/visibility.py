"""What workers and reviewers see of an item's ``metadata['user']``: a task's ``show_metadata`` option.

A task names the metadata keys its workers and reviewers see (``show_metadata=["camera",
"site.city"]``: dot paths into ``metadata['user']``, each level a metadata key of
:mod:`dltasks.domain.values`).  Left out (``None``), they see every top-level key except
those that would give the answer away, :data:`HIDDEN_METADATA`: ``truth``, ``gold``,
``prediction``, ``predictions``, ``ground_truth`` and ``answer``.  ``show_metadata=[]`` shows
nothing.

Examples
--------
>>> meta = {"truth": "circle", "colour": "red", "camera": {"model": "X", "iso": 100}}
>>> visible_metadata(meta, None)
{'colour': 'red', 'camera': {'model': 'X', 'iso': 100}}
>>> visible_metadata(meta, ["camera.model", "truth", "missing"])
{'camera.model': 'X', 'truth': 'circle'}
>>> check_show_metadata(["camera.model", "colour"], "show_metadata")
['camera.model', 'colour']
>>> check_show_metadata(["a..b"], "show_metadata")
Traceback (most recent call last):
dltasks.errors.ValidationError: show_metadata: 'a..b' is not a metadata path: dot-separated keys of 1 to 255 characters without '"', '\\' or control characters (got 'a..b')
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from dltasks.domain.values import check_key
from dltasks.errors import ValidationError

__all__ = ["HIDDEN_METADATA", "MAX_SHOWN_KEYS", "MAX_PATH", "check_show_metadata", "visible_metadata"]

#: Keys of ``metadata['user']`` hidden from workers and reviewers unless a task's ``show_metadata`` names them.
HIDDEN_METADATA = ("truth", "gold", "prediction", "predictions", "ground_truth", "answer")
#: The most keys one ``show_metadata`` list names.
MAX_SHOWN_KEYS = 1000
#: The longest metadata path (as the ``metadata_keys`` table stores paths).
MAX_PATH = 512


def check_show_metadata(value: Any, field: str) -> list[str] | None:
    """``None``, or a list of metadata paths (each once, in order); a ``ValidationError`` naming ``field`` otherwise.

    >>> check_show_metadata(None, "show_metadata") is None
    True
    >>> check_show_metadata("colour", "show_metadata")
    Traceback (most recent call last):
    dltasks.errors.ValidationError: show_metadata: must be a list of metadata keys, or None for the default (got 'colour')
    """
    if value is None:
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ValidationError("must be a list of metadata keys, or None for the default", field, value)
    if len(value) > MAX_SHOWN_KEYS:
        raise ValidationError(f"names at most {MAX_SHOWN_KEYS} keys", field, len(value))
    out: list[str] = []
    for path in value:
        if not isinstance(path, str) or len(path) > MAX_PATH:
            raise ValidationError(f"each key must be a string of at most {MAX_PATH} characters", field, path)
        try:
            for key in path.split("."):
                check_key(key, field)
        except ValidationError:
            raise ValidationError(f"{path!r} is not a metadata path: dot-separated keys of 1 to 255 characters "
                                  "without '\"', '\\' or control characters", field, path) from None
        if path not in out:
            out.append(path)
    return out


def _lookup(meta: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Whether ``path`` (dot-separated keys) is in ``meta``, and its value."""
    value: Any = meta
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            return False, None
        value = value[key]
    return True, value


def visible_metadata(user_meta: Mapping[str, Any] | None, show_metadata: Sequence[str] | None) -> dict[str, Any]:
    """The part of an item's ``metadata['user']`` that workers and reviewers see.

    ``show_metadata=None``: every top-level key but :data:`HIDDEN_METADATA`, in stored order;
    a list: only the paths it names, in its order, keyed by the path (a missing one is left out).

    >>> visible_metadata({"gold": 1, "size": 2}, None), visible_metadata({"gold": 1, "size": 2}, [])
    ({'size': 2}, {})
    """
    meta = user_meta if isinstance(user_meta, Mapping) else {}
    if show_metadata is None:
        return {k: v for k, v in meta.items() if k not in HIDDEN_METADATA}
    out: dict[str, Any] = {}
    for path in show_metadata:
        found, value = _lookup(meta, path)
        if found:
            out[path] = value
    return out
