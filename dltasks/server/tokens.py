"""API tokens: one per user (or several), stored as SHA-256 hashes in ``api_tokens``.

A token is shown once, when it is created; the store keeps only its hash, so a copied
database gives nobody access.

Examples
--------
>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> token = create_token(store, "ann@example.com", admin=True)
>>> token.startswith("dlt_"), lookup(store, token)
(True, Principal(user_id='ann@example.com', admin=True))
>>> lookup(store, "dlt_wrong") is None
True
"""
from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dltasks.store import schema as S
from dltasks.timeutil import now
from dltasks.users import check_user_id

__all__ = ["Principal", "create_token", "lookup", "hash_token", "TokenCache"]

PREFIX = "dlt_"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user id, and whether the token is an admin token."""

    user_id: str
    admin: bool = False


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Any, user_id: str, admin: bool = False) -> str:
    """Register ``user_id`` if needed, store a new token's hash and return the token."""
    uid = check_user_id(user_id)
    token = PREFIX + secrets.token_urlsafe(32)
    with store.db.atomic() as conn:
        store.users.ensure([uid], conn, "user_id")
        conn.execute(sa.insert(S.api_tokens).values(token_hash=hash_token(token), user_id=uid,
                                                    admin=bool(admin), created_at=now()))
    return token


def lookup(store: Any, token: str) -> Principal | None:
    """The principal a token stands for, or ``None`` for an unknown token."""
    if not token or len(token) > 512:
        return None
    t = S.api_tokens
    with store.db.read() as conn:
        row = conn.execute(sa.select(t.c.user_id, t.c.admin).where(t.c.token_hash == hash_token(token))).first()
    return None if row is None else Principal(user_id=row[0], admin=bool(row[1]))


class TokenCache:
    """Remembers looked-up tokens for ``ttl`` seconds so each request costs no database read."""

    def __init__(self, store: Any, ttl: float = 10.0) -> None:
        self._store, self._ttl = store, ttl
        self._seen: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The principal of ``token`` (``None`` if unknown)."""
        key = hash_token(token)
        t = time.monotonic()
        with self._lock:
            hit = self._seen.get(key)
        if hit is not None and t - hit[0] < self._ttl:
            return hit[1]
        principal = lookup(self._store, token)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (t, principal)
        return principal
