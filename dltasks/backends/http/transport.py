"""HTTP transport of the HTTP backend: a ``requests.Session`` with the token, timeouts, retries of
idempotent calls, and the one place where HTTP errors become dltasks exceptions.

Examples
--------
>>> t = Transport("http://127.0.0.1:9", token="dlt_x", retries=0, timeout=0.5)
>>> t.session.headers["Authorization"]
'Key dlt_x'
>>> try:
...     t.request("GET", "/api/v1/me")
... except ApiError as exc:
...     print("cannot reach" in str(exc))
True
"""
from __future__ import annotations

import json
import time
from typing import Any

import requests

from dltasks.backends.wire import jsonable
from dltasks.errors import (ApiError, ConflictError, NotFoundError, PermissionDeniedError,
                            ValidationError)
from dltasks.version import __version__

__all__ = ["Transport", "raise_for_response", "IDEMPOTENT"]

#: Methods retried after a dropped connection or a 502/503/504 (they are safe to repeat).
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRY_STATUS = (502, 503, 504)


def _validation_error(st: dict[str, Any], description: str) -> ValidationError:
    message = st.get("message") or description
    exc = ValidationError(message, st.get("field"))
    exc.value = st.get("value")
    exc.args = (description,)
    return exc


def raise_for_response(response: requests.Response) -> dict[str, Any]:
    """The JSON body of a successful response; the matching dltasks error otherwise.

    400 and 413 → :class:`ValidationError` (with the server's ``field``), 401 and 403 →
    :class:`PermissionDeniedError`, 404 → :class:`NotFoundError`, 409 →
    :class:`ConflictError`, anything else → :class:`ApiError` carrying the response.
    """
    try:
        body = response.json()
    except ValueError:
        body = {}
    st = body.get("status") if isinstance(body, dict) else None
    st = st if isinstance(st, dict) else {}
    if response.ok and st.get("code", 10000) == 10000:
        return body
    description = str(st.get("description") or response.reason or "request failed")
    code = response.status_code
    if code in (400, 413, 422):
        raise _validation_error(st, description)
    if code in (401, 403):
        raise PermissionDeniedError(description)
    if code == 404:
        raise NotFoundError(description)
    if code == 409:
        raise ConflictError(description)
    raise ApiError(f"the server answered {code}: {description}", response=response)


def _dumps(body: Any) -> str:
    try:
        return json.dumps(body, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):  # numpy scalars, NaN: make plain JSON data first
        return json.dumps(jsonable(body), allow_nan=False, separators=(",", ":"))


class Transport:
    """Sends requests to one server with ``Authorization: Key <token>``.

    Parameters
    ----------
    url : str
        The server, e.g. ``"http://127.0.0.1:8765"``.
    token : str
        An API token (``dltasks token create USER_ID``).
    timeout : float
        Seconds to wait for a connection and for each read.
    retries : int
        Extra attempts for idempotent calls (and reads sent as POST) after a dropped
        connection or a 502/503/504; other calls are never repeated.
    backoff : float
        First pause between attempts (doubling each time).
    session : requests.Session, optional
        A session to use (e.g. with proxies or certificates set up).
    """

    def __init__(self, url: str, token: str, timeout: float = 30.0, retries: int = 3, backoff: float = 0.1,
                 session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Key {token}", "Accept": "application/json",
                                     "User-Agent": f"dltasks/{__version__}"})

    def request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None,
                retry: bool | None = None) -> dict[str, Any]:
        """Send one call; return the JSON body or raise the dltasks error for it.

        ``retry`` overrides whether the call may be repeated (default: idempotent methods).
        """
        return raise_for_response(self.send(method, path, body, params, retry))

    def send(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None,
             retry: bool | None = None, accept: str | None = None) -> requests.Response:
        """Send one call and return its successful response (any media type), or raise the dltasks
        error for it; ``accept`` replaces the session's ``Accept: application/json``.

        >>> t = Transport("http://127.0.0.1:9", token="dlt_x", retries=0, timeout=0.5)
        >>> try:
        ...     t.send("GET", "/api/v1/tasks/t/labels", accept="application/vnd.apache.arrow.stream")
        ... except ApiError as exc:
        ...     print(str(exc)[:53])
        cannot reach the dltasks server at http://127.0.0.1:9
        """
        method = method.upper()
        attempts = 1 + (self.retries if (method in IDEMPOTENT if retry is None else retry) else 0)
        data = None if body is None else _dumps(body)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if accept is not None:
            headers["Accept"] = accept
        url = self.url + path
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                response = self.session.request(method, url, data=data, params=params, headers=headers or None,
                                                timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise ApiError(f"cannot reach the dltasks server at {self.url} ({type(exc).__name__}: {exc})"
                                   ) from None
                time.sleep(self.backoff * 2**attempt)
                continue
            if response.status_code in _RETRY_STATUS and not last:
                time.sleep(self.backoff * 2**attempt)
                continue
            if not response.ok:
                raise_for_response(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()
