"""FilterBuilder: field / operator / value rows over a dataset's items, with a live match count."""
from __future__ import annotations

import re
from typing import Any

import ipywidgets as W
import traitlets as T

from dltasks.errors import DltasksError
from dltasks.domain.filters import ITEM_FIELDS, Filters
from dltasks.widgets._common import FieldError

__all__ = ["FilterBuilder", "parse_values"]

OPERATORS = [("=", "eq"), ("≠", "ne"), (">", "gt"), ("<", "lt"), ("≥", "gte"), ("≤", "lte"), ("in", "in"),
             ("not in", "nin"), ("exists", "exists"), ("glob", "glob")]
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_TRUE, _FALSE = {"true", "yes", "1", ""}, {"false", "no", "0"}


def _scalar(text: str, field: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if field in ("name", "filename", "dir", "mime", "path"):
        return text
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if field.startswith("metadata.") and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_values(text: str, operator: str, field: str) -> Any:
    """Turn what was typed in a value box into filter values.

    Numbers become numbers (quote them to keep text), ``in`` / ``nin`` take a comma list,
    ``exists`` takes yes/no.

    >>> parse_values("3", "gt", "metadata.user.n"), parse_values('"3"', "eq", "metadata.user.n")
    (3, '3')
    >>> parse_values("red, blue", "in", "metadata.user.colour")
    ['red', 'blue']
    >>> parse_values("no", "exists", "metadata.user.colour")
    False
    """
    if operator == "exists":
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        return text
    if operator in ("in", "nin"):
        return [_scalar(part, field) for part in text.split(",") if part.strip()]
    if operator == "glob":
        return text.strip()
    return _scalar(text, field)


class FilterBuilder(W.VBox):
    """Conditions on item fields and metadata keys found in the dataset, with a live count.

    Each row is *field operator value*; rows are AND-ed.  ``filters`` is the
    :class:`dltasks.Filters` they make (``None`` with no rows), ``count`` how many items of the
    dataset match (``-1`` while a row is invalid; its error is shown under the rows).

    Parameters
    ----------
    dataset : Dataset
        Whose item fields and ``metadata.user.*`` keys are offered and counted.
    """

    value: T.List[tuple[str, str, Any]] = T.List(help="the conditions, as (field, operator, values) tuples")
    count = T.Int(-1, help="items matching the conditions (-1: invalid conditions)")
    total = T.Int(0, help="items in the dataset")

    def __init__(self, dataset: Any, **kwargs: Any) -> None:
        self.dataset = dataset
        self.fields = [f for f in ITEM_FIELDS if f != "path"] + [f"metadata.{k}" for k in dataset.items.metadata_keys()]
        self.add_button = W.Button(description="condition", icon="plus", layout=W.Layout(width="120px"))
        self.add_button.on_click(lambda _b: self.add_row())
        self.counter = W.HTML()
        self.error = FieldError()
        self.rows = W.VBox()
        self._filters: Filters | None = None
        label = W.HTML("<div style='text-align:right;padding-right:8px'>Items</div>", layout=W.Layout(width="118px"))
        super().__init__([W.HBox([label, self.add_button, self.counter]), self.rows, self.error], **kwargs)
        self.total = dataset.items.count()
        self.refresh()

    @property
    def filters(self) -> Filters | None:
        """The :class:`dltasks.Filters` of the rows (``None`` with no rows); raises on bad rows."""
        if self.count < 0:
            self._build()  # raises the ValidationError the rows give
        return self._filters

    def add_row(self, field: str | None = None, operator: str = "eq", value: str = "") -> W.HBox:
        """Add a condition row (and recount)."""
        fld = W.Dropdown(options=self.fields, value=field or self._default_field(), layout=W.Layout(width="200px"))
        op = W.Dropdown(options=OPERATORS, value=operator, layout=W.Layout(width="90px"))
        text = W.Text(value=value, placeholder="value (a, b for in)", continuous_update=False,
                      layout=W.Layout(width="200px"))
        drop = W.Button(icon="times", tooltip="remove this condition", layout=W.Layout(width="32px"))
        row = W.HBox([fld, op, text, drop], layout=W.Layout(margin="0 0 0 114px"))
        drop.on_click(lambda _b: self.remove_row(row))
        for w in (fld, op, text):
            w.observe(lambda _c: self.refresh(), "value")
        self.rows.children = [*self.rows.children, row]
        self.refresh()
        return row

    def remove_row(self, row: W.HBox) -> None:
        """Remove a condition row (and recount)."""
        self.rows.children = [r for r in self.rows.children if r is not row]
        row.close()
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the filters from the rows and recount the matching items."""
        try:
            self._build()
            count = self.dataset.items.count(self._filters)
        except DltasksError as err:
            self.error.show(str(err))
            self.counter.value = "<span class='dlt-muted'>? items match</span>"
            self.count = -1
            return
        self.error.clear()
        self.counter.value = (f"<b>{count:,}</b> <span class='dlt-muted'>of {self.total:,} items match</span>"
                              if self.rows.children else f"<span class='dlt-muted'>all {count:,} items</span>")
        self.count = count

    def _conditions(self) -> list[tuple[str, str, Any]]:
        out = []
        for row in self.rows.children:
            fld, op, text = (w.value for w in row.children[:3])
            if text.strip() == "" and op != "exists":
                continue  # a row being filled in does not filter yet
            out.append((fld, op, parse_values(text, op, fld)))
        return out

    def _build(self) -> None:
        self._filters = None
        conditions = self._conditions()
        self.value = conditions
        if conditions:
            f = Filters()
            for fld, op, values in conditions:
                f.add(field=fld, values=values, operator=op)
            self._filters = f

    def _default_field(self) -> str:
        meta = [f for f in self.fields if f.startswith("metadata.")]
        return meta[0] if meta else "name"
