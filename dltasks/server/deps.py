"""Request dependencies: the store, who is calling (``Authorization: Key <token>``), permissions."""
from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from dltasks.server.errors import CONN_INSUFFICIENT_SCOPES, CONN_KEY_INVALID, CONN_KEY_NOT_FOUND, ApiProblem
from dltasks.server.tokens import Principal

__all__ = ["store_of", "principal", "admin", "require_self"]

_scheme = APIKeyHeader(name="Authorization", auto_error=False,
                       description="`Key <token>`; create a token with `dltasks token create USER_ID`.")


def store_of(request: Request) -> Any:
    """The store the app serves."""
    return request.app.state.store


def principal(request: Request, authorization: str | None = Depends(_scheme)) -> Principal:
    """The caller, from ``Authorization: Key <token>``; 401 without a valid token."""
    if not authorization:
        raise ApiProblem(401, CONN_KEY_NOT_FOUND, "no API key: send the header 'Authorization: Key <token>'",
                         "Authorization")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() not in ("key", "bearer") or not token.strip():
        raise ApiProblem(401, CONN_KEY_INVALID, "the Authorization header must be 'Key <token>'", "Authorization")
    who = request.app.state.tokens.get(token.strip())
    if who is None:
        raise ApiProblem(401, CONN_KEY_INVALID, "Invalid API key", "Authorization")
    return who


def admin(who: Principal = Depends(principal)) -> Principal:
    """The caller, who must hold an admin token (403 otherwise)."""
    if not who.admin:
        raise ApiProblem(403, CONN_INSUFFICIENT_SCOPES,
                         f"this needs an admin token; {who.user_id!r} holds a user token")
    return who


def require_self(who: Principal, user_id: Any, action: str) -> None:
    """A user token acts only for its own user (admins act for anyone)."""
    if not who.admin and user_id != who.user_id:
        raise ApiProblem(403, CONN_INSUFFICIENT_SCOPES,
                         f"the token of {who.user_id!r} cannot {action} for {user_id!r}", "user_id")
