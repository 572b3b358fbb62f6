"""Clarifai's response envelope and status codes, and the map from dltasks errors to HTTP.

Every response carries ``{"status": {"code", "description"}}``: ``10000``/``"Ok"`` on
success; on an error a Clarifai-like code, a description that names the bad field, the
field itself and the right HTTP status.  The handlers are installed by :func:`install`.

Examples
--------
>>> from dltasks.errors import ValidationError
>>> http, body = error_body(ValidationError("must be >= 1", "workers_per_input", 0))
>>> http, body["status"]["code"], body["status"]["field"]
(400, 11102, 'workers_per_input')
>>> ok()["status"]
{'code': 10000, 'description': 'Ok'}
"""
from __future__ import annotations

import json
import logging
from typing import Any

from starlette.responses import Response

from dltasks.backends.wire import jsonable
from dltasks.errors import (ConflictError, DltasksError, NotFoundError, PermissionDeniedError, StoreBusyError,
                            ValidationError)

__all__ = ["SUCCESS", "ok", "encoded", "ok_response", "status", "error_body", "error_response", "ApiProblem", "install",
           "STATUS_NAMES"]

log = logging.getLogger("dltasks.server")

SUCCESS = 10000
TRY_AGAIN = 10030
CONN_INSUFFICIENT_SCOPES = 11007
CONN_KEY_INVALID = 11008
CONN_KEY_NOT_FOUND = 11009
CONN_BAD_REQUEST_FORMAT = 11100
CONN_DOES_NOT_EXIST = 11101
CONN_INVALID_REQUEST = 11102
CONN_METHOD_NOT_ALLOWED = 11103
DATABASE_DUPLICATE_KEY = 40010
RPC_MAX_MESSAGE_SIZE_EXCEEDED = 40033
TASK_CONFLICT = 54100
TASK_MISSING = 54102
INTERNAL_SERVER_ISSUE = 98004
STORE_ERROR = 98005

#: Clarifai's names for the codes this server sends.
STATUS_NAMES = {
    SUCCESS: "SUCCESS", TRY_AGAIN: "TRY_AGAIN", CONN_INSUFFICIENT_SCOPES: "CONN_INSUFFICIENT_SCOPES",
    CONN_KEY_INVALID: "CONN_KEY_INVALID", CONN_KEY_NOT_FOUND: "CONN_KEY_NOT_FOUND",
    CONN_BAD_REQUEST_FORMAT: "CONN_BAD_REQUEST_FORMAT", CONN_DOES_NOT_EXIST: "CONN_DOES_NOT_EXIST",
    CONN_INVALID_REQUEST: "CONN_INVALID_REQUEST", CONN_METHOD_NOT_ALLOWED: "CONN_METHOD_NOT_ALLOWED",
    DATABASE_DUPLICATE_KEY: "DATABASE_DUPLICATE_KEY", RPC_MAX_MESSAGE_SIZE_EXCEEDED: "RPC_MAX_MESSAGE_SIZE_EXCEEDED",
    TASK_CONFLICT: "TASK_CONFLICT", TASK_MISSING: "TASK_MISSING", INTERNAL_SERVER_ISSUE: "INTERNAL_SERVER_ISSUE",
    STORE_ERROR: "STORE_ERROR",
}


class ApiProblem(Exception):
    """An error answered as-is: HTTP status, Clarifai code, description (and maybe a field)."""

    def __init__(self, http_status: int, code: int, description: str, field: str | None = None) -> None:
        super().__init__(description)
        self.http_status, self.code, self.description, self.field = http_status, code, description, field


def status(code: int = SUCCESS, description: str = "Ok", **extra: Any) -> dict[str, Any]:
    """A Clarifai ``status`` object (strings that UTF-8 cannot encode, such as a refused lone
    surrogate quoted back, are escaped so the answer can always be sent)."""
    out: dict[str, Any] = {"code": code, "description": _sendable(description)}
    out.update({k: _sendable(v) for k, v in extra.items() if v is not None})
    return out


def _sendable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_sendable(v) for v in value]
    if isinstance(value, dict):
        return {_sendable(k): _sendable(v) for k, v in value.items()}
    return value


def ok(**payload: Any) -> dict[str, Any]:
    """The success envelope with ``payload`` next to the status."""
    return {"status": status(), **payload}


def encoded(body: dict[str, Any]) -> bytes:
    """An answer's JSON bytes, encoded once: the routes build the wire form their response model
    describes, so FastAPI is not asked to validate and serialize it again (the schemathesis test
    checks every answer against the spec).  NaN and infinities are not JSON: the wire form has none.

    >>> encoded(ok(n=1))
    b'{"status":{"code":10000,"description":"Ok"},"n":1}'
    """
    text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8", "backslashreplace")


def ok_response(**payload: Any) -> Response:
    """:func:`ok` as an encoded JSON response."""
    return Response(encoded(ok(**payload)), media_type="application/json")


def error_response(path: str, exc: BaseException) -> Response:
    """The answer to a request for ``path`` that raised ``exc`` (:func:`error_body`; a task
    route answers Clarifai's task codes).

    >>> from dltasks.errors import NotFoundError
    >>> answer = error_response("/v2/tasks/t1", NotFoundError("no task t1"))
    >>> answer.status_code, answer.body
    (404, b'{"status":{"code":54102,"description":"no task t1"}}')
    """
    http, body = error_body(exc, "/tasks" in path)
    return Response(encoded(body), status_code=http, media_type="application/json")


def error_body(exc: BaseException, tasks_route: bool = False) -> tuple[int, dict[str, Any]]:
    """HTTP status and envelope for an error raised while answering a request."""
    if isinstance(exc, ApiProblem):
        return exc.http_status, {"status": status(exc.code, exc.description, field=exc.field)}
    if isinstance(exc, ValidationError):
        extra: dict[str, Any] = {"field": exc.field, "message": exc.message}
        plain = f"{exc.field}: {exc.message}" if exc.field else exc.message
        if str(exc) != plain:  # the error names the bad value too
            extra["value"] = jsonable(exc.value)
        return 400, {"status": status(CONN_INVALID_REQUEST, str(exc), **extra)}
    if isinstance(exc, PermissionDeniedError):
        return 403, {"status": status(CONN_INSUFFICIENT_SCOPES, str(exc))}
    if isinstance(exc, NotFoundError):
        return 404, {"status": status(TASK_MISSING if tasks_route else CONN_DOES_NOT_EXIST, str(exc))}
    if isinstance(exc, ConflictError):
        return 409, {"status": status(TASK_CONFLICT if tasks_route else DATABASE_DUPLICATE_KEY, str(exc))}
    if isinstance(exc, StoreBusyError):  # locked, lost connection, pool full: try again
        log.warning("store busy: %s", exc)
        return 503, {"status": status(TRY_AGAIN, f"the store could not answer, try again ({exc})")}
    if isinstance(exc, DltasksError):  # permanent (a read-only database): trying again would not help
        log.error("store error: %s", exc)
        return 500, {"status": status(STORE_ERROR, f"the store cannot do this: {exc}")}
    log.exception("unexpected error", exc_info=exc)
    return 500, {"status": status(INTERNAL_SERVER_ISSUE, "internal server error")}


_UNION_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "function-after", "function-plain"}


def _loc_to_field(loc: Any) -> str:
    """``("body", "tasks", 0, "name")`` → ``"tasks[0].name"`` (union member tags dropped)."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")
             and not (isinstance(p, str) and (p in _UNION_TAGS or any(c in p for c in "[('\"")))]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def install(app: Any) -> None:
    """Answer every error of ``app`` with the envelope (FastAPI exception handlers)."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    async def on_validation(request: Any, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request", "type": ""}
        if first.get("type") == "json_invalid":
            return JSONResponse({"status": status(CONN_BAD_REQUEST_FORMAT, "the body is not valid JSON",
                                                  field="body")}, status_code=400)
        fld = _loc_to_field(first.get("loc", ()))
        msg = str(first.get("msg", "invalid value"))
        return JSONResponse({"status": status(CONN_INVALID_REQUEST, f"{fld}: {msg}", field=fld, message=msg)},
                            status_code=400)

    async def on_http(request: Any, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: CONN_DOES_NOT_EXIST, 405: CONN_METHOD_NOT_ALLOWED, 401: CONN_KEY_INVALID,
                403: CONN_INSUFFICIENT_SCOPES, 413: RPC_MAX_MESSAGE_SIZE_EXCEEDED}.get(exc.status_code,
                                                                                       CONN_INVALID_REQUEST)
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse({"status": status(code, detail)}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    async def on_error(request: Any, exc: Exception) -> Response:
        return error_response(request.url.path, exc)

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ApiProblem, on_error)
    app.add_exception_handler(DltasksError, on_error)
    app.add_exception_handler(Exception, on_error)
