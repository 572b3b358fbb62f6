"""Who is calling: API tokens, looked up in the SQL backend and remembered for a few seconds.

Tokens are created, stored (hashed) and looked up by :mod:`dltasks.backends.sql.tokens`;
:class:`TokenCache` spares each request a database read.

Examples
--------
>>> from dltasks.backends.sql import SqlBackend
>>> backend = SqlBackend("sqlite://")
>>> cache = TokenCache(backend, ttl=10)
>>> token = backend.create_token("ann@example.com")
>>> cache.remembered(token) is MISS
True
>>> cache.get(token)
Principal(user_id='ann@example.com', admin=False)
>>> cache.remembered(token)
Principal(user_id='ann@example.com', admin=False)
"""
from __future__ import annotations

import threading
import time
from typing import Any

from dltasks.backends.sql.tokens import Principal, hash_token

__all__ = ["Principal", "TokenCache", "MISS"]

#: :meth:`TokenCache.remembered`'s answer for a token it must read from the store.
MISS = object()


class TokenCache:
    """Remembers looked-up tokens for ``ttl`` seconds so each request costs no database read."""

    def __init__(self, backend: Any, ttl: float = 10.0) -> None:
        self._backend, self._ttl = backend, ttl
        self._seen: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The principal of ``token`` (``None`` if unknown)."""
        hit = self.remembered(token)
        return hit if hit is None or isinstance(hit, Principal) else self.look_up(token)

    def remembered(self, token: str) -> Principal | None | object:
        """The principal of ``token`` if it was looked up less than ``ttl`` seconds ago (``None``
        if it was unknown then), else :data:`MISS`: no database read, so an event loop may call it."""
        with self._lock:
            hit = self._seen.get(hash_token(token))
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        return MISS

    def look_up(self, token: str) -> Principal | None:
        """The principal of ``token`` read from the store (and remembered)."""
        t = time.monotonic()
        principal = self._backend.lookup_token(token)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[hash_token(token)] = (t, principal)
        return principal
