"""DueDatePicker and AssigneePicker: the two task inputs that are more than one box."""
from __future__ import annotations

import datetime as _dt
import html
from typing import Any, Iterable, Mapping

import ipywidgets as W
import traitlets as T

from dltasks.errors import ValidationError
from dltasks.domain.task_options import DEFAULT_DUE_DAYS
from dltasks.domain.checks import check_user_id
from dltasks.widgets._common import FieldError

__all__ = ["DueDatePicker", "AssigneePicker"]

_LABEL = W.Layout(width="110px")


def _zone(tz: Any) -> _dt.tzinfo:
    if tz is None:
        return _dt.datetime.now().astimezone().tzinfo or _dt.timezone.utc
    if isinstance(tz, str):
        from zoneinfo import ZoneInfo

        return ZoneInfo(tz)
    return tz


def _zone_text(tz: _dt.tzinfo, when: _dt.datetime) -> str:
    local = when.astimezone(tz)
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = getattr(tz, "key", None) or local.tzname() or ""
    return offset if name in ("", "UTC") and offset == "UTC+00:00" else f"{name} ({offset})"


def _until(when: _dt.datetime) -> str:
    seconds = (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
    if seconds < 0:
        return "<span class='dlt-error'>in the past</span>"
    days, rest = divmod(int(seconds), 86400)
    return f"<span class='dlt-muted'>in {days} d {rest // 3600} h</span>"


class DueDatePicker(W.VBox):
    """A due date: a date, a time of day and the time zone they are read in.

    ``value`` is a timezone-aware ``datetime`` (or ``None`` while the date is empty);
    it can be passed straight to ``dataset.tasks.create(due_date=...)``.

    Parameters
    ----------
    value : datetime, optional
        Initial due date; default in ``DEFAULT_DUE_DAYS`` days at 18:00.  Naive datetimes
        are read in ``tz``.
    tz : tzinfo or IANA name, optional
        Zone the date and time are entered in; default the kernel's local zone.
    """

    value = T.Instance(_dt.datetime, allow_none=True, help="the due date, timezone-aware")

    def __init__(self, value: _dt.datetime | None = None, tz: Any = None, description: str = "Due date",
                 **kwargs: Any) -> None:
        self.tz = _zone(tz)
        if value is None:
            day = _dt.datetime.now(self.tz).date() + _dt.timedelta(days=DEFAULT_DUE_DAYS)
            value = _dt.datetime.combine(day, _dt.time(18, 0), tzinfo=self.tz)
        self.date = W.DatePicker(description=description, style={"description_width": "110px"})
        self.time = W.TimePicker(step=60, layout=W.Layout(width="130px"))
        self.zone = W.HTML(layout=W.Layout(margin="0 0 0 8px"))
        self.hint = W.HTML(layout=W.Layout(margin="0 0 0 12px"))
        self.error = FieldError()
        self._syncing = False
        super().__init__([W.HBox([self.date, self.time, self.zone, self.hint]), self.error], **kwargs)
        self.date.observe(self._from_inputs, "value")
        self.time.observe(self._from_inputs, "value")
        self.value = value

    @property
    def timestamp(self) -> float | None:
        """The due date as UTC epoch seconds (``None`` when empty)."""
        return None if self.value is None else self.value.timestamp()

    @T.validate("value")
    def _aware(self, proposal: Any) -> _dt.datetime | None:
        when = proposal["value"]
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=self.tz)
        return when

    @T.observe("value")
    def _to_inputs(self, change: Any) -> None:
        when = change["new"]
        self._syncing = True
        try:
            if when is None:
                self.date.value = None
            else:
                local = when.astimezone(self.tz)
                self.date.value, self.time.value = local.date(), local.time().replace(second=0, microsecond=0)
        finally:
            self._syncing = False
        self._show(when)

    def _from_inputs(self, _change: Any) -> None:
        if self._syncing:
            return
        day, hour = self.date.value, self.time.value or _dt.time(0, 0)
        self.value = None if day is None else _dt.datetime.combine(day, hour, tzinfo=self.tz)

    def _show(self, when: _dt.datetime | None) -> None:
        ref = when or _dt.datetime.now(_dt.timezone.utc)
        self.zone.value = f"<span class='dlt-muted'>{html.escape(_zone_text(self.tz, ref))}</span>"
        self.hint.value = "" if when is None else _until(when)
        self.error.clear()


class AssigneePicker(W.VBox):
    """Pick the people who work on (or review) a task.

    Known users of the store are offered as you type; a new id or e-mail is added as typed
    (it is registered when the task is created).  With ``weighted=True`` every assignee gets a
    weight box: the relative share of the items they receive in a partitioned task.

    ``value`` is the list of ids, ``weights`` the ``{id: weight}`` dict.  An error about one
    assignee's weight is shown at that weight (:meth:`weight_error`); ids and e-mails are shown
    whole, however long.

    >>> picker = AssigneePicker(known=[])
    >>> picker.add("a.very.long.name@example.com"), picker.add("bob")
    (True, True)
    >>> picker.weight_error("bob").show("must not be negative")
    >>> picker.weight_error("bob").text, picker.weight_error("a.very.long.name@example.com").text
    ('must not be negative', '')
    """

    value = T.List(T.Unicode(), help="the assignee ids, in the order added")
    weights = T.Dict(help="{assignee id: weight}")
    weighted = T.Bool(True, help="show a weight box per assignee")

    def __init__(self, store: Any = None, value: Iterable[str] = (), weights: Mapping[str, float] | None = None,
                 weighted: bool = True, description: str = "Assignees", known: Iterable[str] | None = None,
                 **kwargs: Any) -> None:
        ids = list(known) if known is not None else ([u.id for u in store.users.list()] if store is not None else [])
        self.known = ids
        self.entry = W.Combobox(options=ids, ensure_option=False, continuous_update=False,
                                placeholder="user id or e-mail", description=description,
                                style={"description_width": "110px"}, layout=W.Layout(width="360px"))
        self.add_button = W.Button(description="Add", icon="user-plus", layout=W.Layout(width="80px"))
        self.error = FieldError()
        self.rows = W.VBox(layout=W.Layout(margin="0 0 0 114px"))
        self._boxes: dict[str, W.HBox] = {}
        super().__init__([W.HBox([self.entry, self.add_button, self.error]), self.rows], **kwargs)
        self.entry.observe(self._typed, "value")
        self.add_button.on_click(lambda _b: self._typed(None))
        self.weighted = weighted
        start = {u: float((weights or {}).get(u, 1.0)) for u in value}
        self.set_trait("weights", start)
        self.value = list(start)

    # -- public ---------------------------------------------------------------------------
    def add(self, user_id: str, weight: float = 1.0) -> bool:
        """Add an assignee; show an error and return False for a blank or repeated id."""
        try:
            uid = check_user_id(user_id, "assignee_ids")
        except ValidationError as err:
            self.error.show(err.message)
            return False
        if uid in self.value:
            self.error.show(f"{uid} is already in the list")
            return False
        self.error.clear()
        self.weights = {**self.weights, uid: float(weight)}
        self.value = [*self.value, uid]
        return True

    def remove(self, user_id: str) -> None:
        """Take an assignee off the list."""
        self.value = [u for u in self.value if u != user_id]

    def set_weight(self, user_id: str, weight: float) -> None:
        """Change one assignee's weight (as typing in its box does)."""
        self._boxes[user_id].children[1].value = float(weight)

    def weight_error(self, user_id: str) -> FieldError:
        """The error shown at ``user_id``'s weight."""
        error: FieldError = self._boxes[user_id].children[3]
        return error

    def clear_errors(self) -> None:
        """Clear the error by the entry box and at every weight."""
        self.error.clear()
        for row in self._boxes.values():
            row.children[3].clear()

    # -- internals ------------------------------------------------------------------------
    def _typed(self, _change: Any) -> None:
        text = self.entry.value.strip()
        if text and self.add(text):
            self.entry.value = ""

    @T.observe("value", "weighted")
    def _redraw(self, _change: Any) -> None:
        self.set_trait("weights", {u: float(self.weights.get(u, 1.0)) for u in self.value})
        for uid in self.value:
            if uid not in self._boxes:
                self._boxes[uid] = self._row(uid)
        for uid in [u for u in self._boxes if u not in self.value]:
            self._boxes.pop(uid).close()
        for row in self._boxes.values():
            row.children[1].layout.display = None if self.weighted else "none"
        self.rows.children = [self._boxes[u] for u in self.value]

    def _row(self, uid: str) -> W.HBox:
        box = W.FloatText(value=self.weights[uid], step=0.5, description="weight",
                          style={"description_width": "50px"}, layout=W.Layout(width="140px"))
        box.observe(lambda c: self._weight_changed(uid, c["new"]), "value")
        drop = W.Button(icon="times", tooltip=f"remove {uid}", layout=W.Layout(width="32px"))
        drop.on_click(lambda _b: self.remove(uid))
        name = W.Label(uid, tooltip=uid, layout=W.Layout(min_width="220px", width="auto"))
        return W.HBox([name, box, drop, FieldError()])

    def _weight_changed(self, uid: str, weight: float) -> None:
        if uid in self.weights:
            self.weights = {**self.weights, uid: float(weight)}
