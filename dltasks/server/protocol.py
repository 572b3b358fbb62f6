"""The server's HTTP protocol: uvicorn's h11 protocol with a deadline for reading each request.

uvicorn closes a keep-alive connection that stays idle after a response, but waits for ever
on a connection that sends nothing, half a request line or headers, or half a body.
:class:`DeadlineH11Protocol` gives every request :data:`REQUEST_READ_TIMEOUT` seconds from its
first byte (or from the connection, for the first request) to arrive whole, and closes the
connection otherwise, so a slow or stalled client holds no connection, and no request
waiting for its body, longer than that.  ``dltasks serve`` runs with it (``http=`` of
``uvicorn.Config``), with the keep-alive timeout set to the same 30 s.

Examples
--------
>>> DeadlineH11Protocol.read_timeout
30.0
"""
from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["DeadlineH11Protocol", "REQUEST_READ_TIMEOUT", "protocol_with_timeout"]

#: Seconds a request may take to arrive whole (request line, headers and body).
REQUEST_READ_TIMEOUT = 30.0


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request does not arrive whole in time."""

    read_timeout = REQUEST_READ_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of a new request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm()  # the request arrived whole (or the connection is closing)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout, self._expired)

    def _disarm(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            self.logger.info("closing a connection whose request did not arrive within %.0f s", self.read_timeout)
            self.transport.close()


def protocol_with_timeout(seconds: float) -> Any:
    """:class:`DeadlineH11Protocol` with another deadline (tests use a short one)."""
    return type("DeadlineH11Protocol", (DeadlineH11Protocol,), {"read_timeout": float(seconds)})
