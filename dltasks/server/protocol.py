"""The server's HTTP protocol: uvicorn's, with a deadline for reading each request.

uvicorn closes a keep-alive connection that stays idle after a response, but waits for ever
on a connection that sends nothing, half a request line or headers, or half a body.  The
protocols here give every request :data:`REQUEST_READ_TIMEOUT` seconds from its first byte
(or from the connection, for the first request) to arrive whole, and close the connection
otherwise, so a slow or stalled client holds no connection, and no request waiting for its
body, longer than that.  ``dltasks serve`` runs with :data:`ServerProtocol` (``http=`` of
``uvicorn.Config``), with the keep-alive timeout set to the same 30 s.

:data:`ServerProtocol` is :class:`DeadlineHttpToolsProtocol` (uvicorn's httptools protocol:
the C parser costs a request about half the server CPU of the pure-Python h11 one) when
``httptools`` is installed, as the ``server`` extra does, and :class:`DeadlineH11Protocol`
otherwise.

Examples
--------
>>> ServerProtocol.read_timeout
30.0
>>> protocol_with_timeout(2.5).read_timeout
2.5
"""
from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DeadlineH11Protocol", "DeadlineHttpToolsProtocol", "ServerProtocol", "REQUEST_READ_TIMEOUT",
           "protocol_with_timeout"]

#: Seconds a request may take to arrive whole (request line, headers and body).
REQUEST_READ_TIMEOUT = 30.0


class _ReadDeadline:
    """The deadline itself: armed when a request's first byte (or the connection) arrives,
    disarmed when the request is whole; on expiry the connection closes if the request is still
    incomplete.  A protocol says when that is (:meth:`_request_incomplete`)."""

    read_timeout = REQUEST_READ_TIMEOUT
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    logger: Any
    _deadline: asyncio.TimerHandle | None = None

    def _request_incomplete(self) -> bool:
        raise NotImplementedError

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self._request_incomplete() and not self.transport.is_closing():
            self.logger.info("closing a connection whose request did not arrive within %.0f s", self.read_timeout)
            self.transport.close()


class DeadlineH11Protocol(_ReadDeadline, H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request does not arrive whole in time."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of a new request on a kept-alive connection
        super().data_received(data)
        if not self._request_incomplete():
            self._disarm()  # the request arrived whole (or the connection is closing)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _request_incomplete(self) -> bool:
        return self.conn.their_state in (h11.IDLE, h11.SEND_BODY)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: the h11 protocol serves
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

if HttpToolsProtocol is not None:
    class DeadlineHttpToolsProtocol(_ReadDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol, closing a connection whose request does not arrive whole
        in time (the parser's callbacks say when a request begins and when it is whole)."""

        _reading = True  # from the connection until its first request is whole

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and not self._reading:
                self._reading = True  # the first bytes of a new request on a kept-alive connection
                self._arm()
            super().data_received(data)

        def on_message_complete(self) -> None:
            self._reading = False
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _request_incomplete(self) -> bool:
            return self._reading

    ServerProtocol: type = DeadlineHttpToolsProtocol
else:  # pragma: no cover - the server extra installs httptools
    ServerProtocol = DeadlineH11Protocol


def protocol_with_timeout(seconds: float, base: type | None = None) -> Any:
    """:data:`ServerProtocol` (or ``base``) with another deadline (tests use a short one)."""
    base = base or ServerProtocol
    return type(base.__name__, (base,), {"read_timeout": float(seconds)})
