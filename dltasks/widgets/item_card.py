"""One item as the browser draws it in the work widgets: a card (name, picture or text, details).

A card is plain data (JSON), built in the kernel and drawn by ``static/work_queue.js``; the
picture travels as a ``data:`` URL, so the browser shows the next items without asking again.

>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> ds = store.datasets.create("notes", labels=["ok"])
>>> _ = ds.items.import_df(__import__("pandas").DataFrame({"name": ["a.txt"], "user.text": ["hello"]}))
>>> card = item_card(ds.items.get(item_id=1), [("Metadata", {"text": "hello", "truth": "ok"})])
>>> card["kind"], card["text"], card["details"]
('text', 'hello', [['Metadata', [['truth', 'ok']]]])
"""
from __future__ import annotations

import base64
import os
from typing import Any, Sequence

__all__ = ["item_card", "IMAGE_FORMATS", "MAX_TEXT_CHARS", "is_url", "flatten"]

#: Text items longer than this are cut (with a note) so a huge file cannot freeze the page.
MAX_TEXT_CHARS = 20_000
#: MIME types drawn as pictures -> the image format name.
IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/gif": "gif", "image/webp": "webp",
                 "image/svg+xml": "svg+xml", "image/bmp": "bmp"}


def is_url(path: str | None) -> bool:
    """Whether ``path`` is an http(s) URL (the browser fetches it) rather than a local file.

    >>> is_url("https://example.com/a.png"), is_url("/data/a.png"), is_url(None)
    (True, False, False)
    """
    return bool(path) and str(path).startswith(("http://", "https://"))


def flatten(meta: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested metadata as dotted keys.

    >>> flatten({"a": {"b": 1}, "c": 2})
    {'a.b': 1, 'c': 2}
    """
    out: dict[str, Any] = {}
    for key, value in meta.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _picture(path: str, mime: str) -> str:
    if is_url(path):
        return path
    with open(path, "rb") as fh:
        return f"data:{mime};base64,{base64.b64encode(fh.read()).decode('ascii')}"


def _text(item: Any, user: dict[str, Any]) -> tuple[str, bool] | None:
    """The item's text and whether it is ``metadata['user']['text']`` (else the file's)."""
    mime = item.mime or ""
    if mime.startswith("text/") and item.path and os.path.isfile(item.path):
        with open(item.path, encoding="utf-8", errors="replace") as fh:
            text, from_metadata = fh.read(MAX_TEXT_CHARS + 1), False
    elif isinstance(user.get("text"), str):
        text, from_metadata = user["text"], True
    else:
        return None
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "\n… (cut at 20,000 characters)"
    return text, from_metadata


def item_card(item: Any, details: Sequence[tuple[str, dict[str, Any]]] = ()) -> dict[str, Any]:
    """The card of ``item``: ``id``, ``name``, ``kind`` (image/text/other), ``src`` or ``text``,
    and ``details``: ``[caption, [[key, value], ...]]`` tables drawn under the buttons (values as text).
    """
    user = dict(item.metadata.get("user") or {})
    mime = item.mime or ""
    out: dict[str, Any] = {"id": int(item.id), "name": item.name or item.filename, "kind": "other",
                           "src": "", "text": ""}
    found: tuple[str, bool] | None = None
    if mime in IMAGE_FORMATS and item.path and (os.path.isfile(item.path) or is_url(item.path)):
        out.update(kind="image", src=_picture(item.path, mime))
    elif (found := _text(item, user)) is not None:
        out.update(kind="text", text=found[0])
    else:
        out["text"] = f"{mime or 'unknown type'}: {item.path or 'no file'}"
    drawn = found is not None and found[1]  # metadata['user']['text'] is on the card already
    tables = [[caption, [[k, "" if v is None else str(v)] for k, v in flatten(rows).items()
                         if not (drawn and k == "text")]] for caption, rows in details]
    out["details"] = [t for t in tables if t[1]]
    return out
