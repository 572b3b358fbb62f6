"""FilterBuilder: field / operator / value rows over a dataset's items, with a live match count."""
from __future__ import annotations

import re
from typing import Any

import ipywidgets as W
import traitlets as T

from dltasks.errors import DltasksError, ValidationError
from dltasks.domain.filters import ITEM_FIELD_KINDS, ITEM_FIELDS, Filters, check_applies, value_kind
from dltasks.widgets._common import FieldError

__all__ = ["FilterBuilder", "parse_values"]

OPERATORS = [("=", "eq"), ("≠", "ne"), (">", "gt"), ("<", "lt"), ("≥", "gte"), ("≤", "lte"), ("in", "in"),
             ("not in", "nin"), ("exists", "exists"), ("glob", "glob")]
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_TRUE, _FALSE = {"true", "yes", "1", ""}, {"false", "no", "0"}
#: How many items that have a metadata key are read to learn the kinds of value it holds.
KIND_SAMPLE = 200


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


def _at(metadata: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(metadata, dict) or key not in metadata:
            return None
        metadata = metadata[key]
    return metadata


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
    dataset match (``-1`` while a row is invalid).  A bad row's error is shown at that row: a
    value the domain refuses, or one that cannot apply to what the field holds (``size_px > big``
    when ``size_px`` holds numbers: :func:`dltasks.domain.filters.check_applies`).

    >>> import dltasks as dl, pandas as pd
    >>> ds = dl.connect("sqlite://").datasets.create("d")
    >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a", "b"], "metadata.user.n": [1, 5]}))
    >>> fb = FilterBuilder(ds)
    >>> _ = fb.add_row("metadata.user.n", "gt", "big")
    >>> fb.count, fb.row_error_text(0)
    (-1, "metadata.user.n holds numbers, so text cannot apply (got 'big')")
    >>> fb.rows.children[0].children[2].value = "2"
    >>> fb.count, fb.row_error_text(0)
    (1, '')

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
        self._kinds: dict[str, set[str]] = {}
        label = W.HTML("<div style='text-align:right;padding-right:8px'>Items</div>", layout=W.Layout(width="118px"))
        super().__init__([W.HBox([label, self.add_button, self.counter]), self.rows, self.error], **kwargs)
        self.total = dataset.items.count()
        self.refresh()

    @property
    def filters(self) -> Filters | None:
        """The :class:`dltasks.Filters` of the rows (``None`` with no rows); raises on bad rows.

        The ValidationError raised carries the row's index as ``key``.
        """
        if self.count < 0:
            bad = [err for err in self._build() if err is not None]
            if bad:
                raise bad[0]
        return self._filters

    def add_row(self, field: str | None = None, operator: str = "eq", value: str = "") -> W.HBox:
        """Add a condition row (and recount)."""
        fld = W.Dropdown(options=self.fields, value=field or self._default_field(), layout=W.Layout(width="200px"))
        op = W.Dropdown(options=OPERATORS, value=operator, layout=W.Layout(width="90px"))
        text = W.Text(value=value, placeholder="value (a, b for in)", continuous_update=False,
                      layout=W.Layout(width="200px"))
        drop = W.Button(icon="times", tooltip="remove this condition", layout=W.Layout(width="32px"))
        row = W.HBox([fld, op, text, drop, FieldError()], layout=W.Layout(margin="0 0 0 114px"))
        row.add_class("dlt-condition")
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

    def row_error(self, index: int) -> FieldError:
        """The error shown at condition row ``index`` (0-based)."""
        error: FieldError = self.rows.children[index].children[4]
        return error

    def row_error_text(self, index: int) -> str:
        """The error shown at condition row ``index`` ('' when none)."""
        return self.row_error(index).text

    def refresh(self) -> None:
        """Rebuild the filters from the rows, show each bad row's error at it, recount the items."""
        self.error.clear()
        errors = self._build()
        for index, err in enumerate(errors):
            self.row_error(index).show("" if err is None else _text(err))
        try:
            if any(errors):
                raise ValidationError("fix the condition marked", "filters")
            count = self.dataset.items.count(self._filters)
        except DltasksError as err:
            if not isinstance(err, ValidationError) or err.field != "filters":
                self.error.show(str(err))
            self.counter.value = "<span class='dlt-muted'>? items match</span>"
            self.count = -1
            return
        self.counter.value = (f"<b>{count:,}</b> <span class='dlt-muted'>of {self.total:,} items match</span>"
                              if self.rows.children else f"<span class='dlt-muted'>all {count:,} items</span>")
        self.count = count

    def kinds(self, field: str) -> set[str]:
        """The kinds of value ``field`` holds (read once from up to ``KIND_SAMPLE`` items that have it)."""
        if field in ITEM_FIELD_KINDS:
            return {ITEM_FIELD_KINDS[field]}
        if not field.startswith("metadata.") or field in self._kinds:
            return self._kinds.get(field, set())
        path = field.split(".")[1:]
        page = self.dataset.items.list(Filters(field=field, values=True, operator="exists"), page_size=KIND_SAMPLE)
        found = {value_kind(_at(item.metadata, path)) for item in page.items}
        self._kinds[field] = {k for k in found if k is not None}
        return self._kinds[field]

    def _build(self) -> list[ValidationError | None]:
        """Set ``value`` and the filters from the rows; return each row's error (None: fine)."""
        self._filters = None
        conditions, errors = [], list[ValidationError | None]()
        f = Filters()
        for index, row in enumerate(self.rows.children):
            fld, op, text = (w.value for w in row.children[:3])
            errors.append(None)
            if text.strip() == "" and op != "exists":
                continue  # a row being filled in does not filter yet
            values = parse_values(text, op, fld)
            try:
                f.add(field=fld, values=values, operator=op)
                check_applies(fld, op, values, self.kinds(fld))
            except ValidationError as err:
                err.key = index
                errors[index] = err
            conditions.append((fld, op, values))
        self.value = conditions
        if conditions and not any(errors):
            self._filters = f
        return errors

    def _default_field(self) -> str:
        meta = [f for f in self.fields if f.startswith("metadata.")]
        return meta[0] if meta else "name"


def _text(err: ValidationError) -> str:
    return err.message + ("" if err.value is None else f" (got {err.value!r})")
