"""The ``/api/v1`` routes, one per row of the operation table (:mod:`dltasks.backends.ops`).

Each generated handler does what every operation needs and nothing else: decode the path,
query and body by the operation's parameter types (:mod:`dltasks.backends.wire`), check them
with the same rules the SDK ran (:func:`dltasks.domain.types.check_args`: this is the trust
boundary), check the caller against the row's permission, call the SQL backend, and answer
the result under the row's key in Clarifai's envelope; a frame goes to a client that accepts
``application/vnd.apache.arrow.stream`` as an Arrow IPC stream instead
(:mod:`dltasks.backends.columnar`).  ``GET /api/v1/me`` is the one route
written by hand (it is about the token, not the store).

Examples
--------
>>> from fastapi import APIRouter
>>> router = APIRouter()
>>> add_operation_routes(router)
>>> sorted(r.path for r in router.routes if "submit" in r.path)
['/api/v1/tasks/{task_id}/submit']
"""
from __future__ import annotations

import functools
import inspect
from typing import Annotated, Any, Callable, Optional, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, create_model

from dltasks.backends.columnar import ARROW, accepted_arrow, compression_for, frame_to_arrow, is_frame_type
from dltasks.backends.ops import OPS, Op
from dltasks.backends.wire import from_wire, to_wire
from dltasks.domain.types import check_args
from dltasks.errors import DltasksError, ValidationError
from dltasks.server import models as M
from dltasks.server.deps import authorize, principal
from dltasks.server.errors import encoded, ok
from dltasks.server.gate import BigReadGate
from dltasks.server.schema import request_type, response_type
from dltasks.server.tokens import Principal

__all__ = ["add_operation_routes", "answer_op", "body_model_of", "is_big_read", "API"]

API = "/api/v1"
R = TypeVar("R", bound=Response)


@functools.cache
def body_model_of(op: Op) -> type[BaseModel] | None:
    """The request body of a non-GET operation: its parameters that do not travel in the path
    (``None`` for a GET, or an operation whose parameters all travel in the path).

    >>> sorted(body_model_of(OPS["submit"]).model_fields)
    ['annotations', 'item_id', 'label', 'replace', 'seconds', 'user_id']
    >>> body_model_of(OPS["get_task"]) is None
    True
    """
    if op.method == "GET":
        return None
    fields: dict[str, Any] = {}
    for name, param in op.parameters.items():
        if name in op.path_params:
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (request_type(op.hints[name]), default)
    if not fields:
        return None
    model = create_model(f"{_camel(op.name)}Request", __base__=M._In, **fields)
    model.__doc__ = f"The body of {op.method} {API}{op.path}: {op.summary}"
    return model


def _response_model(op: Op) -> type[BaseModel]:
    fields: dict[str, Any] = {"status": (M.Status, ...), op.key: (response_type(op.hints["return"]), ...)}
    if op.page_rows is not None:
        fields["next_offset"] = (Optional[int], None)
    model = create_model(f"{_camel(op.name)}Response", __base__=M._Out, **fields)
    model.__doc__ = f"The answer of {op.method} {API}{op.path}: the result under {op.key!r}."
    return model


def _camel(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _signature(op: Op, body: type[BaseModel] | None) -> inspect.Signature:
    """What FastAPI reads off the handler: path and query parameters, the body, the caller."""
    params = []
    for name in op.path_params:
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                        annotation=Annotated[request_type(op.hints[name]), Path()]))
    if op.method == "GET":
        for name, param in op.parameters.items():
            if name in op.path_params:
                continue
            tp = request_type(op.hints[name])
            default = param.default if param.default is not inspect.Parameter.empty else ...
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                            annotation=Annotated[tp, Query()], default=default))
    elif body is not None:
        params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body))
    params.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    params.append(inspect.Parameter("who", inspect.Parameter.KEYWORD_ONLY, annotation=Principal,
                                    default=Depends(principal)))
    return inspect.Signature(params)


def is_big_read(op: Op) -> bool:
    """Whether ``op`` answers a big page (a frame page, a page of items): it passes the app's gate.

    >>> is_big_read(OPS["labels_frame"]), is_big_read(OPS["submit"])
    (True, False)
    """
    return op.page_rows is not None or op.name == "query_items"


def _handler(op: Op) -> tuple[Callable[..., Any], type[BaseModel]]:
    body_model = body_model_of(op)

    def serve(params: dict[str, Any], response_class: type[R]) -> R:
        who: Principal = params.pop("who")
        request: Request = params.pop("request")
        body: Optional[BaseModel] = params.pop("body", None)
        if body is not None:
            params.update(body.model_dump(by_alias=True))
        return answer_op(op, request.app.state.backend, who, params, request.headers.get("accept"), response_class)

    handle: Callable[..., Any]
    if is_big_read(op):
        async def handle(**params: Any) -> Response:
            # a place at the app's gate first (waiting on the event loop, not in a worker thread),
            # held until the answer is sent: no big answer is built or waits to be sent outside it
            gate: BigReadGate = params["request"].app.state.big_reads
            return await gate.run(lambda response_class: serve(params, response_class))
    else:
        def handle(**params: Any) -> Response:
            return serve(params, Response)

    handle.__name__ = op.name
    handle.__doc__ = f"{op.method} {API}{op.path}: {op.summary}"
    setattr(handle, "__signature__", _signature(op, body_model))  # what FastAPI reads
    return handle, _response_model(op)


def answer_op(op: Op, backend: Any, who: Principal, params: dict[str, Any], accept: str | None,
              response_class: type[R]) -> R:
    """Call ``op`` for the caller ``who`` with the request's ``params`` (path, query and body
    values, as parsed from the request) and answer: decode them by the operation's parameter
    types, check them with the SDK's rules (the trust boundary), check the caller against the
    row's permission, call the backend, encode the result (as Arrow when ``accept`` asks for it
    and the result is a frame).  Errors are raised, for the app's handlers to answer.

    >>> from dltasks.backends.sql import SqlBackend
    >>> backend, lead = SqlBackend("sqlite://"), Principal(user_id="lead@example.com", admin=True)
    >>> answer = answer_op(OPS["create_dataset"], backend, lead, {"name": "photos", "labels": ["cat"]}, None,
    ...                    Response)
    >>> answer.status_code, b'"name":"photos"' in answer.body
    (200, True)
    >>> answer_op(OPS["create_dataset"], backend, Principal(user_id="ann@example.com", admin=False),
    ...           {"name": "more", "labels": ["cat"]}, None, Response)
    Traceback (most recent call last):
    ...
    dltasks.server.errors.ApiProblem: this needs an admin token; 'ann@example.com' holds a user token
    """
    hints = op.hints
    args = check_args(op.function, {k: _decode(v, hints[k], k) for k, v in params.items()})
    args = authorize(op.permission, who, backend, args)
    arrow = accepted_arrow(accept) if is_frame_type(hints["return"]) else None
    return _respond(op, *_answer(op, backend, args), arrow=arrow, response_class=response_class)


def _answer(op: Op, backend: Any, args: dict[str, Any]) -> tuple[Any, int | None]:
    """Call the operation: its result and, for a frame read, where the next page begins (a page is
    never more than ``page_rows`` rows)."""
    if op.page_rows is None:
        return getattr(backend, op.name)(**args), None
    args["limit"] = min(args.get("limit") or op.page_rows, op.page_rows)  # the client reads on from next_offset
    result = getattr(backend, op.name)(**args)
    return result, result.attrs.get("next_offset")


def _respond(op: Op, result: Any, next_offset: int | None, arrow: dict[str, str] | None,
             response_class: type[R]) -> R:
    """The answer: an Arrow stream (a frame, to a client whose ``Accept`` asks for one: ``arrow``
    are its parameters) or the envelope as JSON bytes, encoded here once.  The wire form
    (:func:`~dltasks.backends.wire.to_wire`) is what the row's response model describes, so FastAPI
    does not validate and serialize it a second time (tests check answers against the spec)."""
    if arrow is not None:
        stream = frame_to_arrow(result, compression=compression_for(arrow), next_offset=next_offset)
        return response_class(stream, media_type=ARROW)
    extra = {} if op.page_rows is None else {"next_offset": next_offset}
    return response_class(encoded(ok(**{op.key: to_wire(result, op.hints["return"])}, **extra)),
                          media_type="application/json")


def _decode(value: Any, hint: Any, field: str) -> Any:
    """A request value as the operation's parameter type; anything malformed is a ValidationError."""
    try:
        return from_wire(value, hint)
    except DltasksError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        raise ValidationError(f"cannot be read ({type(exc).__name__}: {exc})", field) from None


#: A frame read's other answer: an Arrow IPC stream, for ``Accept: application/vnd.apache.arrow.stream``.
_ARROW_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {ARROW: {"schema": {"type": "string", "format": "binary"}}},
                                                          "description": "The frame as JSON, or as an Arrow IPC stream "
                                                          "(its dtypes, index and next_offset in the schema metadata, "
                                                          "key 'dltasks') when the request accepts one"}}


def add_operation_routes(router: APIRouter, responses: dict[int | str, dict[str, Any]] | None = None) -> None:
    """Add one route per operation (literal path segments before parameters, so ``/items/by-path``
    is not read as an item id), and ``GET /api/v1/me``, each documenting the error ``responses``."""
    errors = responses or {}
    router.add_api_route(f"{API}/me", _me, methods=["GET"], response_model=M.MeResponse, tags=["users"],
                         summary="Who the token belongs to", responses=errors)
    for op in sorted(OPS.values(), key=lambda o: o.path.count("{")):
        handle, response = _handler(op)
        router.add_api_route(API + op.path, handle, methods=[op.method], response_model=response,
                             summary=op.summary, tags=[op.tag], name=op.name, operation_id=op.name,
                             responses={**errors, **(_ARROW_RESPONSE if is_frame_type(op.hints["return"]) else {})})


async def _me(who: Principal = Depends(principal)) -> dict[str, Any]:
    """GET the user the calling token belongs to and whether it is an admin token."""
    return ok(user_id=who.user_id, admin=who.admin)
