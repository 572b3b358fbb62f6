"""Who is calling: API tokens, looked up in the SQL backend and remembered for a few seconds.

Tokens are created, stored (hashed) and looked up by :mod:`dltasks.backends.sql.tokens`;
:class:`TokenCache` spares each request a database read.

Examples
--------
>>> from dltasks.backends.sql import SqlBackend
>>> backend = SqlBackend("sqlite://")
>>> cache = TokenCache(backend, ttl=10)
>>> cache.get(backend.create_token("ann@example.com"))
Principal(user_id='ann@example.com', admin=False)
"""
from __future__ import annotations

import threading
import time
from typing import Any

from dltasks.backends.sql.tokens import Principal, hash_token

__all__ = ["Principal", "TokenCache"]


class TokenCache:
    """Remembers looked-up tokens for ``ttl`` seconds so each request costs no database read."""

    def __init__(self, backend: Any, ttl: float = 10.0) -> None:
        self._backend, self._ttl = backend, ttl
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
        principal = self._backend.lookup_token(token)
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[key] = (t, principal)
        return principal
