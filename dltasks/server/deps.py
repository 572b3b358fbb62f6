"""Who is calling (``Authorization: Key <token>``) and what they may do; the store the app serves.

:func:`authorize` reads the permission of an operation's row (:mod:`dltasks.backends.ops`):
admins may do everything; a user token reads, and acts only as its own user.
"""
from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from dltasks.backends.ops import ActsAs, AdminOnly, AuthorOf, Permission, Viewer
from dltasks.server.errors import CONN_INSUFFICIENT_SCOPES, CONN_KEY_INVALID, CONN_KEY_NOT_FOUND, ApiProblem
from dltasks.server.tokens import MISS, Principal, TokenCache

__all__ = ["store_of", "principal", "caller", "admin", "authorize"]

_scheme = APIKeyHeader(name="Authorization", auto_error=False,
                       description="`Key <token>`; create a token with `dltasks token create USER_ID`.")


async def store_of(request: Request) -> Any:
    """The SDK store over the app's backend (for the hand-written Clarifai routes)."""
    return request.app.state.store


async def principal(request: Request, authorization: str | None = Depends(_scheme)) -> Principal:
    """The caller, from ``Authorization: Key <token>``; 401 without a valid token (:func:`caller`)."""
    return await caller(request.app.state.tokens, authorization)


async def caller(tokens: TokenCache, authorization: str | None) -> Principal:
    """Who the ``Authorization`` header's token belongs to; 401 without a valid token.

    A coroutine: a token seen in the last seconds is answered on the event loop (no worker
    thread for it); only a store read goes to a thread.

    >>> import asyncio
    >>> from dltasks.backends.sql import SqlBackend
    >>> backend = SqlBackend("sqlite://")
    >>> tokens = TokenCache(backend)
    >>> asyncio.run(caller(tokens, "Key " + backend.create_token("ann@example.com")))
    Principal(user_id='ann@example.com', admin=False)
    >>> asyncio.run(caller(tokens, "Key not-a-token"))
    Traceback (most recent call last):
    ...
    dltasks.server.errors.ApiProblem: Invalid API key
    """
    if not authorization:
        raise ApiProblem(401, CONN_KEY_NOT_FOUND, "no API key: send the header 'Authorization: Key <token>'",
                         "Authorization")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in ("key", "bearer") or not token:
        raise ApiProblem(401, CONN_KEY_INVALID, "the Authorization header must be 'Key <token>'", "Authorization")
    who = tokens.remembered(token)
    if who is MISS:
        who = await run_in_threadpool(tokens.look_up, token)
    if not isinstance(who, Principal):
        raise ApiProblem(401, CONN_KEY_INVALID, "Invalid API key", "Authorization")
    return who


def authorize(permission: Permission, who: Principal, backend: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments the caller may call with: 403 for a caller the permission does not allow; a
    user token reads as itself (``viewer``); admins may do everything."""
    if who.admin:
        return args
    if isinstance(permission, Viewer):
        return {**args, "viewer": who.user_id}
    if isinstance(permission, AdminOnly):
        raise ApiProblem(403, CONN_INSUFFICIENT_SCOPES,
                         f"this needs an admin token; {who.user_id!r} holds a user token")
    if isinstance(permission, ActsAs):
        acting = args.get(permission.param)
        if acting != who.user_id:
            raise ApiProblem(403, CONN_INSUFFICIENT_SCOPES,
                             f"the token of {who.user_id!r} cannot {permission.action} for {acting!r}",
                             permission.param)
    if isinstance(permission, AuthorOf):
        author = backend.get_annotation(args["dataset_id"], args["annotation_id"]).author
        if author != who.user_id:
            raise ApiProblem(403, CONN_INSUFFICIENT_SCOPES,
                             f"the token of {who.user_id!r} cannot {permission.action} for {author!r}", "author")
    return args


async def admin(who: Principal = Depends(principal)) -> Principal:
    """The caller, who must hold an admin token (403 otherwise)."""
    authorize(AdminOnly(), who, None, {})
    return who
