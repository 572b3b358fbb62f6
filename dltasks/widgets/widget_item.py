"""ItemView: one item as a person labelling it needs to see it (image or text, and its metadata)."""
from __future__ import annotations

import html
import os
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets as T

from dltasks.errors import DltasksError
from dltasks.widgets._common import TABLE_CSS, html_table
from dltasks.widgets.item_card import IMAGE_FORMATS, MAX_TEXT_CHARS, flatten, is_url

__all__ = ["ItemView"]

class ItemView(W.VBox):
    """Shows an :class:`~dltasks.Item`: the picture for image items, the text for text items,
    then the item's name and its ``metadata['user']`` as a table.

    Text comes from the file (``text/*`` items) or from ``metadata['user']['text']``.
    """

    item_id = T.Int(-1, help="id of the item shown (-1: none)")
    kind = T.Unicode("", help="'image', 'text', 'other' or '' when empty")

    def __init__(self, **kwargs: Any) -> None:
        self.title = W.HTML()
        self.picture = W.Image(layout=W.Layout(max_width="480px", max_height="360px", object_fit="contain"))
        self.text = W.HTML(layout=W.Layout(max_width="720px"))
        self.meta = W.HTML()
        super().__init__([self.title, self.picture, self.text, self.meta], **kwargs)
        self.clear()

    def clear(self, note: str = "") -> None:
        """Show nothing (or a note)."""
        self.item_id, self.kind = -1, ""
        self.title.value = f'<span class="dlt-muted">{html.escape(note)}</span>' if note else ""
        self.picture.layout.display = "none"
        self.text.value = ""
        self.meta.value = ""

    def show_item(self, dataset: Any, item_id: int) -> None:
        """Show ``dataset``'s item ``item_id``, or the error that reading it raised."""
        try:
            self.show(dataset.items.get(item_id=item_id))
        except DltasksError as err:
            self.clear(str(err))

    def show(self, item: Any) -> None:
        """Show one item."""
        self.item_id = int(item.id)
        self.title.value = f"<b>{html.escape(item.filename or item.name)}</b> <span class='dlt-muted'>#{item.id}</span>"
        mime = item.mime or ""
        user = dict(item.metadata.get("user") or {})
        self.picture.layout.display = "none"
        self.text.value = ""
        if mime in IMAGE_FORMATS and item.path and (os.path.isfile(item.path) or is_url(item.path)):
            self._show_image(item.path, IMAGE_FORMATS[mime])
        elif mime.startswith("text/") and item.path and os.path.isfile(item.path):
            with open(item.path, encoding="utf-8", errors="replace") as fh:
                self._show_text(fh.read(MAX_TEXT_CHARS + 1))
        elif isinstance(user.get("text"), str):
            self._show_text(user["text"])
        else:
            self.kind = "other"
            where = item.path or "no file"
            what = html.escape(mime or "unknown type")
            self.text.value = f"<span class='dlt-muted'>{what}: {html.escape(where)}</span>"
        flat = flatten(user)
        if self.kind == "text":
            flat.pop("text", None)  # already shown above
        if flat:
            frame = pd.DataFrame({"value": [str(v) for v in flat.values()]},
                                 index=pd.Index(list(flat), name="metadata"))
            self.meta.value = TABLE_CSS + html_table(frame)
        else:
            self.meta.value = ""

    def _show_image(self, path: str, fmt: str) -> None:
        self.kind = "image"
        if is_url(path):
            self.picture.format, self.picture.value = "url", path.encode()
        else:
            with open(path, "rb") as fh:
                self.picture.format, self.picture.value = fmt, fh.read()
        self.picture.layout.display = None

    def _show_text(self, text: str) -> None:
        self.kind = "text"
        cut = len(text) > MAX_TEXT_CHARS
        body = html.escape(text[:MAX_TEXT_CHARS])
        note = "<div class='dlt-muted'>(cut at 20,000 characters)</div>" if cut else ""
        self.text.value = (f"<div style='white-space:pre-wrap;border:1px solid #d9dee5;border-radius:4px;"
                           f"padding:8px;max-height:320px;overflow:auto;background:#fafbfc'>{body}</div>{note}")
