"""Answers of task reads kept while they are still true: the server's cache of encoded task pages.

A dashboard asks for the same page of tasks every few seconds, and tasks change far less often
than that.  An answer is kept with the store's catalog version it was read at
(:mod:`dltasks.backends.sql.catalog`: it changes on every write to datasets, tasks or their
members, in the writer's own transaction, from any process) and is given again only while

- the store's catalog version is still that one (one small read per request), and
- no task on it has become overdue since (``overdue`` is the only field that changes with the
  clock alone: an answer expires at the first due date after the time it was read).

An answer is kept with the version read *before* it was read: a write that commits while it is
read moves the version past that one, so such an answer is never given again (the versions
only grow), and one version read per request is enough.  The cache is bounded in bytes
(answers and their keys; least recently used answers go first) and is per server process.

Examples
--------
>>> cache = AnswerCache(max_bytes=100, max_entry_bytes=40)  # bytes of answers and keys
>>> cache.put(("list", 1), version=7, body=b"[1,2]", expires=50.0)
>>> cache.get(("list", 1), version=7, now=10.0)
b'[1,2]'
>>> cache.get(("list", 1), version=8, now=10.0) is None  # the catalog changed
True
>>> cache.put(("list", 1), version=7, body=b"[1,2]", expires=50.0)
>>> cache.get(("list", 1), version=7, now=50.0) is None  # a task on it is overdue now
True
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable

__all__ = ["AnswerCache", "expiry_of", "MAX_BYTES", "MAX_ENTRY_BYTES"]

#: Bytes of answers one server process keeps at most (about 30 pages of 1000 tasks).
MAX_BYTES = 32 * 1024 * 1024
#: A bigger answer is not kept.
MAX_ENTRY_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class _Entry:
    version: int
    expires: float
    body: bytes
    cost: int  #: the bytes it counts for: its body and its key (a page asked for 1 000 ids has a long key)


def expiry_of(due_dates: Iterable[float], now: float) -> float:
    """When an answer read at ``now`` about tasks due at ``due_dates`` (epoch seconds) stops
    being true: the first due date still to come (a task then becomes overdue).

    >>> expiry_of([5.0, 30.0, 20.0], now=10.0), expiry_of([5.0], now=10.0)
    (20.0, inf)
    """
    return min((d for d in due_dates if d > now), default=math.inf)


class AnswerCache:
    """Encoded answers by key, each with the catalog version it was read at and its expiry
    (thread-safe: the loop and the store threads both answer task reads)."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        self.max_bytes, self.max_entry_bytes = max_bytes, max_entry_bytes
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0  #: answers given from the cache, and read from the store

    @property
    def size(self) -> int:
        """Bytes of answers (and their keys) kept now."""
        return self._bytes

    def get(self, key: Hashable, version: int, now: float) -> bytes | None:
        """The answer kept for ``key`` if it was read at ``version`` and has not expired at ``now``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or now >= entry.expires:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry.body

    def put(self, key: Hashable, version: int, body: bytes, expires: float) -> None:
        """Keep ``body`` for ``key`` (not if it and its key are bigger than ``max_entry_bytes``)."""
        cost = len(body) + len(repr(key))
        if cost > self.max_entry_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = _Entry(version, expires, body, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def answer(self, key: Hashable, version_of: Callable[[], int],
               read: Callable[[], tuple[bytes, Iterable[float]]]) -> bytes:
        """The answer for ``key``: kept, or ``read()`` (its body and the due dates of its tasks)
        and kept with the catalog version read before it.

        >>> cache, version, reads = AnswerCache(), [1], []
        >>> def read():
        ...     reads.append(1)
        ...     return b"page", [math.inf]
        >>> cache.answer("k", lambda: version[0], read), cache.answer("k", lambda: version[0], read), len(reads)
        (b'page', b'page', 1)
        >>> version[0] = 2  # a task changed
        >>> cache.answer("k", lambda: version[0], read), len(reads)
        (b'page', 2)
        """
        before, now = version_of(), time.time()
        kept = self.get(key, before, now)
        with self._lock:  # counted under the lock: the loop and store threads both answer
            if kept is not None:
                self.hits += 1
            else:
                self.misses += 1
        if kept is not None:
            return kept
        body, due_dates = read()
        self.put(key, before, body, expiry_of(due_dates, now))
        return body

    def _drop(self, key: Any) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.cost
