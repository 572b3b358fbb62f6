"""The big-read gate: at most a few big answers in memory at once, from building to sent.

A big read (a frame page, a page of items with their metadata) builds an answer of up to
tens of MB.  :class:`BigReadGate` lets :data:`BIG_READS` of them be answered at a time: a
request waits for a place *on the event loop* (so a waiting request holds no worker thread,
and small requests never queue behind big ones), builds its answer in one of the gate's own
worker threads (not the store threads of :mod:`dltasks.server.threads`), and
keeps its place until the answer's last byte has been handed to the connection
(:class:`GatedResponse`), so a client that reads slowly cannot make answers pile up in the
server's memory.  Each app has its own gate (:func:`dltasks.server.app.create_app`).

Examples
--------
>>> import asyncio
>>> from starlette.responses import Response
>>> gate = BigReadGate(1)
>>> async def answer():
...     return await gate.run(lambda response_class: response_class(b"page"))
>>> response = asyncio.run(answer())
>>> gate.in_use, type(response).__name__
(1, 'GatedResponse')
>>> async def sent():
...     async def send(message): pass
...     await response({"type": "http"}, None, send)
>>> asyncio.run(sent())
>>> gate.in_use
0
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from typing import Any, Callable

import anyio
import anyio.to_thread
from starlette.responses import Response

from dltasks.errors import ValidationError

__all__ = ["BIG_READS", "BigReadGate", "GatedResponse"]

#: Big reads answered at once; others wait their turn.  With pages of at most 8 MB of item
#: metadata (``PAGE_BYTES``) and 200 000 rows of a frame, this bounds the server's memory.
BIG_READS = 2


class GatedResponse(Response):
    """A response that gives its gate's place back once it is sent (or fails to be sent, or is
    dropped unsent)."""

    _release: Callable[[], None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._give_back()

    def _give_back(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __del__(self) -> None:  # a response never sent (its request was cancelled) frees its place too
        self._give_back()


class BigReadGate:
    """At most ``places`` big answers between "started building" and "sent"."""

    def __init__(self, places: int = BIG_READS) -> None:
        if isinstance(places, bool) or not isinstance(places, int) or places < 1:
            raise ValidationError("must be a whole number of at least 1", "big_reads", places)
        self.places = places
        self.in_use = 0  #: places taken now (an answer being built, or built and not yet sent)
        self._free = asyncio.Semaphore(places)
        self._threads: anyio.CapacityLimiter | None = None  # its own worker threads, made on the serving loop

    async def run(self, build: Callable[[type[GatedResponse]], GatedResponse]) -> GatedResponse:
        """Wait for a place, build the answer in one of the gate's own worker threads (``build``
        makes it of the class it is given; the store threads stay free for small requests), and
        return it holding the place until it is sent; an error while building gives the place
        back at once."""
        await self._free.acquire()
        self.in_use += 1
        try:
            if self._threads is None:
                self._threads = anyio.CapacityLimiter(self.places)
            response = await anyio.to_thread.run_sync(build, GatedResponse, limiter=self._threads)
        except BaseException:
            self._give_back()
            raise
        response._release = functools.partial(self._give_back_from, asyncio.get_running_loop(), threading.get_ident())
        return response

    def _give_back_from(self, loop: asyncio.AbstractEventLoop, loop_thread: int) -> None:
        """Give a place back from any thread: a response dropped unsent may be collected in a worker
        thread, and the semaphore is the serving loop's (not thread-safe), so it is handed to the loop."""
        if threading.get_ident() == loop_thread or loop.is_closed():
            self._give_back()
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits for a place
            loop.call_soon_threadsafe(self._give_back)

    def _give_back(self) -> None:
        self.in_use -= 1
        self._free.release()
