"""The short way in for the write operations: from the operation table to the handler, no detour.

A labeller's submit is the request a team server answers most, and FastAPI spent more of the
server's CPU on it than the store did: matching the path against a hundred routes one by one,
solving the route's dependencies, and four more layers of middleware (``py-spy`` under
``bench/bench_server.py``: routing 15 % and dependency solving 26 % of the event loop's time
for a submit).  :class:`WriteDispatch` sits in front of FastAPI's routing and answers the write
(non-GET) operations of :mod:`dltasks.backends.ops` itself:

* it finds the operation by method and path segments (literal segments win, as in FastAPI);
* it checks the caller's token (:func:`dltasks.server.deps.caller`), validates the JSON body
  with the route's own body model (:func:`dltasks.server.handlers.body_model_of`, in pydantic's
  Python mode, as FastAPI does), and runs the same :func:`~dltasks.server.handlers.answer_op`
  in a store thread, or, for an action on one item of a SQLite store (:data:`ITEM_ACTIONS`), on
  the event loop when no other writer holds the store;
* errors are answered by :func:`dltasks.server.errors.error_response`, as the app's handlers do.

Anything it does not answer goes on to FastAPI unchanged: GET requests, the Clarifai routes,
big reads (they pass the gate), and any request whose path values or body do not validate:
FastAPI answers those with its usual 400 naming the field.  So the answers are the same either
way, and the routes, their documentation and ``/openapi.json`` stay FastAPI's.

Examples
--------
>>> routes = write_routes()
>>> route, values = find_route(routes, "POST", "/api/v1/tasks/t-1/submit")
>>> route.op.name, values
('submit', {'task_id': 't-1'})
>>> find_route(routes, "GET", "/api/v1/tasks/t-1") is None  # GETs stay with FastAPI
True
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dltasks.backends.ops import OPS, Op
from dltasks.server.deps import caller
from dltasks.server.errors import error_response
from dltasks.server.handlers import API, answer_op, body_model_of, is_big_read
from dltasks.server.limits import replaying
from dltasks.server.schema import request_type
from dltasks.server.threads import run_store_call

__all__ = ["WriteRoute", "write_routes", "find_route", "WriteDispatch", "ITEM_ACTIONS"]

#: The actions on one item (a few milliseconds of store work, one transaction each): they run
#: where :func:`~dltasks.server.threads.run_store_call` says, on the event loop of a SQLite
#: store when no other writer holds it (a submit cost the server 3.8 ms of CPU under 8 clients
#: in a thread, 2.0-2.2 ms on the loop; 1.0 ms since its statements run straight on the
#: cursor).  A longer write (an import, a new task) runs in a store thread, so it never holds
#: the loop.
ITEM_ACTIONS = frozenset({"submit", "review", "reopen", "retract"})


@dataclass(frozen=True)
class WriteRoute:
    """One write operation's route: its path split into segments (``None`` where a value goes)."""

    op: Op
    segments: tuple[str | None, ...]
    names: tuple[str, ...]  #: the path parameters, in order
    body: type[BaseModel] | None
    path_types: dict[str, TypeAdapter[Any]]


def write_routes() -> dict[tuple[str, int], list[WriteRoute]]:
    """The write operations' routes by method and segment count, fewest path values first."""
    table: dict[tuple[str, int], list[WriteRoute]] = {}
    for op in sorted(OPS.values(), key=lambda o: o.path.count("{")):
        if op.method == "GET" or is_big_read(op):
            continue
        parts = (API + op.path).split("/")
        segments = tuple(None if p.startswith("{") else p for p in parts)
        names = tuple(p[1:-1] for p in parts if p.startswith("{"))
        route = WriteRoute(op, segments, names, body_model_of(op),
                           {n: TypeAdapter(request_type(op.hints[n])) for n in names})
        table.setdefault((op.method, len(parts)), []).append(route)
    return table


def find_route(table: dict[tuple[str, int], list[WriteRoute]], method: str, path: str
               ) -> tuple[WriteRoute, dict[str, str]] | None:
    """The write route ``method`` and ``path`` name, with the path's values; ``None`` if none does."""
    parts = path.split("/")
    for route in table.get((method, len(parts)), ()):
        values = []
        for want, got in zip(route.segments, parts):
            if want is None:
                if not got:
                    break
                values.append(got)
            elif want != got:
                break
        else:
            return route, dict(zip(route.names, values))
    return None


class WriteDispatch:
    """ASGI middleware: answers the write operations straight from the table (module docstring).

    >>> from dltasks.server.app import create_app
    >>> [m.cls.__name__ for m in create_app("sqlite://").user_middleware]  # outermost first
    ['BodyLimit', 'WriteDispatch']
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes = write_routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] != "GET" and not scope.get("root_path"):
            found = find_route(self.routes, scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        route, values = found
        headers = _first_headers(scope["headers"])
        body = await _whole_body(receive)
        params = _parsed(route, values, headers, body)
        if params is None:  # FastAPI answers what does not validate, with its 400 naming the field
            await self.app(scope, replaying(body, receive), send)
            return
        state = scope["app"].state
        accept = _text(headers.get(b"accept"))
        try:
            who = await caller(state.tokens, _text(headers.get(b"authorization")))
            def answer() -> Response:
                return answer_op(route.op, state.backend, who, params, accept, Response)

            if route.op.name in ITEM_ACTIONS:
                response = await run_store_call(state.backend, answer)
            else:
                response = await anyio.to_thread.run_sync(answer)
        except Exception as exc:  # answered as the app's exception handlers answer it
            response = error_response(scope["path"], exc)
        await response(scope, receive, send)


def _parsed(route: WriteRoute, values: dict[str, str], headers: dict[bytes, bytes], body: bytes
            ) -> dict[str, Any] | None:
    """The request's parameters as FastAPI would pass them, or ``None`` if any does not validate."""
    try:
        params = {name: route.path_types[name].validate_python(value) for name, value in values.items()}
        if route.body is not None:
            kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            if kind != b"application/json" or not body:
                return None
            params.update(route.body.model_validate(json.loads(body)).model_dump(by_alias=True))
        return params
    except (PydanticError, ValueError):  # json's errors are ValueErrors
        return None


async def _whole_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _first_headers(raw: list[tuple[bytes, bytes]]) -> dict[bytes, bytes]:
    """The request's headers by (lower-case) name, the first of a repeated one (as Starlette reads them)."""
    headers: dict[bytes, bytes] = {}
    for name, value in raw:
        headers.setdefault(name, value)
    return headers


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")
