"""WorkQueueWidget: the kernel half of the keyboard work widgets (labelling and review).

The browser (``static/work_queue.js``) holds the next :data:`WorkQueueWidget.BUFFER` items of
the person's queue and advances at once on a key; each key sends ``(action, item_id, label)``
for the item that was on screen.  This class records it against that item only (through
:meth:`act`, the one entry for keys, buttons and code), answers, and keeps the queue live:
items finished elsewhere (another kernel, code, another widget) leave it at the next refresh.

Subclasses say which keys exist (:meth:`bindings`), how to read the queue (:meth:`read_queue`),
what one action does (:meth:`perform`) and how Undo takes one back (:meth:`take_back`).

The browser's ``tool`` (a trait) says how an answer is made on the card: ``keys`` (one key is
the answer, today's class labels), or a tool that keeps the answer being made for each item
in the browser (``toggle``: several labels; ``text``; ``box`` and ``polygon``: shapes drawn
on the picture, ``static/shape_tool.js``) and sends it whole with Enter, as ``annotations``.

Each action on an item also carries ``seconds``: how long the item was on screen before it, as
the browser measured it (only while the browser tab was shown and the widget in view).  The
subclass stores it with the answer where the store takes it; :attr:`WorkQueueWidget.timings`
keeps it for every item finished here.
"""
from __future__ import annotations

import logging
import math
import pathlib
import time
from dataclasses import dataclass
from typing import Any, Callable

import anywidget
import traitlets as T

from dltasks.errors import ConflictError, DltasksError, ValidationError
from dltasks.widgets.item_card import item_card

__all__ = ["WorkQueueWidget", "Binding", "Done", "check_seconds", "seconds_from_browser"]

_STATIC = pathlib.Path(__file__).parent / "static"
#: The browser half, in the order it is put together: the tools first, then the widget.
_SCRIPTS = ("shape_tool.js", "answer_tools.js", "work_queue.js")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Binding:
    """One key of a work widget: the key, the action it sends, the label it carries, the button text.

    ``on_item``: the action concerns the item on screen (a label, a skip, a review), not the
    widget (Undo).  ``local``: the key acts in the browser only, on the answer being made (a
    label picked for a box, a toggled label); the kernel never sees it.

    >>> Binding("1", "label", "cat", "cat").as_dict()["title"]
    'cat (key 1)'
    """

    key: str
    action: str
    label: str | None
    text: str
    on_item: bool = True
    style: str = ""
    local: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The binding as the browser reads it."""
        return {"key": self.key, "action": self.action, "label": self.label, "text": self.text,
                "on_item": self.on_item, "style": self.style, "local": self.local,
                "title": f"{self.text} (key {self.key})" if self.key else self.text}


def check_seconds(seconds: float | None) -> float | None:
    """Time on screen as an action takes it: None (not measured) or a finite number of seconds >= 0.

    >>> check_seconds(3), check_seconds(None)
    (3.0, None)
    >>> check_seconds(-1)
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: seconds: must be a finite number >= 0 (got -1)
    """
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or seconds < 0:
        raise ValidationError("must be a finite number >= 0", "seconds", seconds)
    return float(seconds)


def seconds_from_browser(value: Any) -> float | None:
    """The ``seconds`` of a browser message, None when it is missing or not a time (never an error:
    a bad clock must not lose the answer).

    >>> seconds_from_browser(1.25), seconds_from_browser("2"), seconds_from_browser(float("inf"))
    (1.25, None, None)
    """
    try:
        return check_seconds(value)
    except ValidationError:
        return None


def _script() -> str:
    """The browser half as one ES module: the tools, then the widget (anywidget loads one module)."""
    return "\n".join((_STATIC / name).read_text(encoding="utf-8") for name in _SCRIPTS)


class Done(Exception):
    """:meth:`WorkQueueWidget.perform` finished the item: it leaves the queue (``note`` says how).

    >>> Done("a.png (#1): cat (completed)", undo="cat").undo
    'cat'
    """

    def __init__(self, note: str, undo: Any = None) -> None:
        super().__init__(note)
        self.note, self.undo = note, undo


class WorkQueueWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Base of :class:`~dltasks.widgets.LabelingWidget` and :class:`~dltasks.widgets.ReviewWidget`.

    >>> from dltasks.widgets import LabelingWidget, ReviewWidget
    >>> [cls.__mro__[1].__name__ for cls in (LabelingWidget, ReviewWidget)]
    ['WorkQueueWidget', 'WorkQueueWidget']
    """

    _esm = _script()
    _css = _STATIC / "work_queue.css"

    #: Items the browser holds ahead of the one on screen.
    BUFFER = 12
    #: The queue is read again (live) at most this often, in seconds, while the person works.
    REFRESH_SECONDS = 2.0

    heading = T.Unicode("").tag(sync=True)
    subheading = T.Unicode("").tag(sync=True)
    css_class = T.Unicode("").tag(sync=True)
    tool = T.Unicode("keys", help="how the browser makes an answer: keys, toggle, text, box, polygon").tag(sync=True)
    empty_text = T.Unicode("").tag(sync=True)
    key_bindings = T.List(T.Dict(), help="the keys and their buttons, as the browser reads them").tag(sync=True)
    buffer = T.List(T.Dict()).tag(sync=True)
    notes = T.List(T.Dict()).tag(sync=True)
    counter = T.Unicode("").tag(sync=True)
    can_undo = T.Bool(False).tag(sync=True)
    done = T.Int(0, help="the person's items finished in the task").tag(sync=True)
    total = T.Int(0, help="the person's items in the task").tag(sync=True)
    item_id = T.Int(-1, help="the first item of the queue (-1 when it is empty)")

    def __init__(self, task: Any, user_id: str, **kwargs: Any) -> None:
        self.task, self.user_id = task, user_id
        self.dataset = task.dataset
        self.queue: list[int] = []
        #: Steps Undo takes back, last first: (action, item_id, what to undo).
        self.history: list[tuple[str, int, Any]] = []
        self._cards: dict[int, dict[str, Any]] = {}
        #: Names of items shown before (the notes about them name what the person saw).
        self._names: dict[int, str] = {}
        #: Items the store refused as already decided: the live queue leaves them out.
        self._refused: set[int] = set()
        #: Seconds each item finished here was on screen before its answer (as the browser measured
        #: it; items answered from code without ``seconds`` are not in it).
        self.timings: dict[int, float] = {}
        self._read_at = 0.0
        self._listeners: list[Callable[..., Any]] = []
        super().__init__(**kwargs)
        self.key_bindings = [b.as_dict() for b in self.bindings()]
        self.on_msg(self._on_browser)
        self.reload()

    # -- to write in a subclass -----------------------------------------------------------
    def bindings(self) -> list[Binding]:
        """The keys of this widget, in the order of their buttons."""
        raise NotImplementedError

    def read_queue(self) -> tuple[list[int], int, int]:
        """The store's queue now: (pending item ids in order, items done, items in all)."""
        raise NotImplementedError

    def read_window(self, limit: int) -> tuple[list[int], bool] | None:
        """The first ``limit`` pending items in item order and whether that is all of them;
        None when only :meth:`read_queue` can tell (then each refresh reads the whole queue)."""
        return None

    def details(self, item: Any) -> list[tuple[str, dict[str, Any]]]:
        """The tables shown under the item's buttons (caption, rows)."""
        return []

    def extras(self, item: Any) -> dict[str, Any]:
        """More fields of the item's card for the browser's tool (a draft answer, shapes to draw)."""
        return {}

    def perform(self, action: str, item_id: int, label: str | None, annotations: list[Any] | None = None,
                seconds: float | None = None) -> str:
        """Do ``action`` on ``item_id`` (with a label, or a whole answer as ``annotations``; ``seconds``:
        its time on screen, None when not measured); raise :class:`Done` when the item leaves the queue."""
        raise NotImplementedError

    def take_back(self, action: str, item_id: int, what: Any) -> str:
        """Undo one finished step; return the note to show."""
        raise NotImplementedError

    def counter_text(self) -> str:
        """The progress line shown beside the bar."""
        pct = 100 * self.done / self.total if self.total else 0
        return f"{self.done} / {self.total} done ({pct:.0f}%)"

    # -- public ---------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the queue from the store again (and forget what Undo could take back)."""
        self.history.clear()
        self._cards.clear()
        self._refused.clear()
        self._refresh(force=True)
        self._publish()

    def press(self, key: str) -> str:
        """What a key press in the browser does, on the item on screen; return the note shown.

        Keys without a binding are ignored (the note says so), and so are the keys that act in
        the browser only (on the answer being made there).
        """
        binding = next((b for b in self.bindings() if b.key and b.key.lower() == key.lower()), None)
        if binding is None:
            return self._note("muted", f"key {key!r} does nothing here")
        if binding.local:
            return self._note("muted", f"key {key!r} works in the browser, on the answer being made there")
        return self.act(binding.action, self.item_id if binding.on_item else None, binding.label)

    def act(self, action: str, item_id: int | None = None, label: str | None = None,
            annotations: list[Any] | None = None, seconds: float | None = None) -> str:
        """Do ``action`` (a binding's action) on ``item_id``; return the note shown.

        ``annotations``: a whole answer (``submit``), as the browser sends it (JSON
        definitions) or as definitions (``dl.Box`` …).  ``seconds``: how long the item was on
        screen before this action (the browser measures it; None from code unless given).
        Each action concerns the item it names, never "whatever is first now": an item no
        longer in the queue is ignored, with a note.
        """
        seconds = check_seconds(seconds)
        try:
            if action == "undo":
                return self._undo()
            if action not in {b.action for b in self.bindings() if not b.local}:
                return self._note("error", f"unknown action {action!r}", ok=False)
            if item_id is None or item_id not in self.queue:
                return self._note("muted", f"{self._name(item_id)}: no longer in your queue; "
                                           f"the key was ignored", item_id, ok=False)
            try:
                text = self.perform(action, item_id, label, annotations, seconds)
            except Done as done:
                self._leave(item_id)
                if seconds is not None:
                    self.timings[item_id] = seconds
                self.history.append((action, item_id, done.undo))
                for listener in self._listeners:
                    listener(action, item_id, label)
                return self._note("ok", done.note, item_id)
            except ConflictError as refused:  # decided, or labelled elsewhere: the store's rule, not ours
                if item_id in self.queue:
                    self.queue.remove(item_id)
                self._refused.add(item_id)
                self._read_at = 0.0  # read the queue now: what else changed?
                return self._note("error", f"{self._name(item_id)}: {refused} — moved on", item_id, ok=False)
            except DltasksError as err:
                return self._note("error", f"{self._name(item_id)}: {err}", item_id, ok=False)
            return self._note("muted", text, item_id)
        finally:
            self._refresh()
            self._publish()

    def on_action(self, callback: Callable[[str, int, str | None], Any], remove: bool = False) -> None:
        """Call ``callback(action, item_id, label)`` after each finished action (not after Undo)."""
        if remove:
            self._listeners.remove(callback)
        else:
            self._listeners.append(callback)

    @property
    def note(self) -> str:
        """The last note shown ('' when none)."""
        return self.notes[-1]["text"] if self.notes else ""

    # -- internals ------------------------------------------------------------------------
    def _on_browser(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        """One message from the browser: act on it and always answer (the browser waits for it)."""
        item_id = content.get("item_id")
        label = content.get("label")
        annotations = content.get("annotations")
        try:
            note = self.act(str(content.get("action")), int(item_id) if isinstance(item_id, int) else None,
                            label if isinstance(label, str) else None, annotations,
                            seconds_from_browser(content.get("seconds")))
            ok = bool(self.notes[-1].get("ok")) if self.notes else False
        except Exception as err:  # a bug, not a refusal: say so on screen and in the log, still answer
            _log.exception("work widget: %s on item %s failed", content.get("action"), item_id)
            note, ok = self._note("error", f"{self._name(item_id)}: could not finish ({err!r})", item_id,
                                  ok=False), False
        self.send({"kind": "ack", "seq": content.get("seq"), "item_id": item_id, "ok": ok, "text": note})

    def _undo(self) -> str:
        if not self.history:
            return self._note("muted", "nothing to undo", ok=False)
        action, iid, what = self.history.pop()
        try:
            text = self.take_back(action, iid, what)
        except DltasksError as err:
            return self._note("error", f"could not undo on {self._name(iid)}: {err}", iid, ok=False)
        if iid in self.queue:
            self.queue.remove(iid)
        self.queue.insert(0, iid)
        self._read_at = 0.0  # the next refresh reads the counts again
        return self._note("muted", text, iid)

    def _leave(self, item_id: int) -> None:
        if item_id in self.queue:
            self.queue.remove(item_id)
        self.done += 1

    def _refresh(self, force: bool = False) -> None:
        """Read the queue again when it is older than REFRESH_SECONDS; keep this widget's order.

        A full read at first; then, while the person works, only the head of the queue
        (:meth:`read_window`) when the subclass can read it, so a refresh costs the same on a
        100-item task and a 1M-item one.  Items that stopped (or started) being pending count
        as done (or not done) from then on.
        """
        if not force and time.monotonic() - self._read_at < self.REFRESH_SECONDS:
            return
        try:
            window = None if force else self.read_window(4 * self.BUFFER)
            if window is None:
                pending, self.done, self.total = self.read_queue()
                complete, last = True, -1
            else:
                pending, complete = window
                last = max(pending, default=-1)
        except DltasksError as err:
            self._note("error", str(err), ok=False)
            return
        self._read_at = time.monotonic()
        in_store = set(pending)
        finished = {i for i in self._refused if i not in in_store and (complete or i <= last)}
        self._refused -= finished  # refused because done elsewhere: they count as done now
        still = in_store - self._refused
        known = set(self.queue)
        kept = [i for i in self.queue if i in still or (not complete and i > last)]
        added = [i for i in pending if i not in known and i in still]
        if window is not None:
            self.done += len(self.queue) - len(kept) - len(added) + len(finished)
        self.queue = kept + added

    def _card(self, item_id: int) -> dict[str, Any]:
        card = self._cards.get(item_id)
        if card is None:
            try:
                item = self.dataset.items.get(item_id=item_id)
                card = {**item_card(item, self.details(item)), **self.extras(item)}
            except DltasksError as err:
                card = {"id": item_id, "name": f"item {item_id}", "kind": "other", "src": "",
                        "text": str(err), "details": []}
            self._cards[item_id] = card
        return card

    def _publish(self) -> None:
        ahead = self.queue[:self.BUFFER]
        for iid, card in self._cards.items():  # notes about items already shown still use their names
            if iid not in ahead:
                self._names[iid] = card["name"]
        if len(self._names) > 10 * self.BUFFER:
            self._names = dict(list(self._names.items())[-self.BUFFER:])
        self._cards = {i: c for i, c in self._cards.items() if i in set(ahead)}
        self.buffer = [self._card(i) for i in ahead]
        self.item_id = ahead[0] if ahead else -1
        self.can_undo = bool(self.history)
        self.counter = self.counter_text()

    def _name(self, item_id: int | None) -> str:
        if item_id is None:
            return "no item"
        card = self._cards.get(item_id)
        name = card["name"] if card else self._names.get(item_id)
        return f"{name} (#{item_id})" if name else f"item #{item_id}"

    def _note(self, kind: str, text: str, item_id: int | None = None, ok: bool = True) -> str:
        """Show a note; ``ok``: the action it reports was carried out (the browser's answer says so)."""
        self.notes = [*self.notes[-3:], {"kind": kind, "text": text, "item_id": item_id, "ok": ok}]
        return text
