"""A request-size limit as plain ASGI middleware (bodies over the limit get a 413 envelope)."""
from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from dltasks.server.errors import RPC_MAX_MESSAGE_SIZE_EXCEEDED, status

__all__ = ["BodyLimit", "DEFAULT_MAX_BODY", "replaying"]

#: 32 MiB: room for an import of ~100 000 item rows in one request.
DEFAULT_MAX_BODY = 32 * 1024 * 1024



class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` before the app reads them."""

    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)

    async def _refuse(self, send: Send) -> None:
        text = json.dumps({"status": status(RPC_MAX_MESSAGE_SIZE_EXCEEDED,
                                            f"the request body is larger than the server's limit "
                                            f"({self.max_bytes} bytes); send it in parts")}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": text})


def replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives a body already read whole once more, then goes on as the connection does."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
