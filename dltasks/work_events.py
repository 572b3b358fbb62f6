"""Tell whoever listens in this process that work was written on a task.

Every work action of a :class:`~dltasks.tasks.Task` (``submit``, ``set_status``, ``review``,
``retract``) calls :meth:`WorkEvents.notify` after its write succeeded, whether the call came
from a widget or from code.  Views (the partition and consensus views) subscribe and refresh;
listeners are held weakly, so a view that is no longer shown is simply forgotten.

>>> class Counter:
...     seen = 0
...     def work_changed(self):
...         self.seen += 1
>>> events, counter = WorkEvents(), Counter()
>>> events.subscribe("t1", counter)
>>> events.notify("t1"); events.notify("t2")
>>> counter.seen
1
"""
from __future__ import annotations

import logging
import weakref
from collections import defaultdict
from typing import Any, Protocol

__all__ = ["WorkListener", "WorkEvents", "work_events"]

log = logging.getLogger(__name__)


class WorkListener(Protocol):
    """Anything with a ``work_changed()`` method."""

    def work_changed(self) -> None:
        """Work was written on the task this listener subscribed to."""


class WorkEvents:
    """Listeners per task id, called after work on that task is written (weakly held)."""

    def __init__(self) -> None:
        self._listeners: dict[str, weakref.WeakSet[Any]] = defaultdict(weakref.WeakSet)

    def subscribe(self, task_id: str, listener: WorkListener) -> None:
        """Call ``listener.work_changed()`` after each work action on ``task_id``."""
        self._listeners[task_id].add(listener)

    def unsubscribe(self, task_id: str, listener: WorkListener) -> None:
        """Stop telling ``listener``."""
        self._listeners[task_id].discard(listener)

    def notify(self, task_id: str) -> None:
        """Tell every live listener of ``task_id`` that its work changed.

        The work is already written: a listener that fails is logged, not raised to the
        caller of ``submit`` (who would otherwise believe the label was lost).
        """
        for listener in list(self._listeners.get(task_id, ())):
            try:
                listener.work_changed()
            except Exception:
                log.exception("a listener of task %s failed after work was written", task_id)


#: The process-wide events the SDK's work actions notify.
work_events = WorkEvents()
