"""API tokens in SQL: one per user (or several), stored as SHA-256 hashes in ``api_tokens``.

A token is shown once, when it is created; the store keeps only its hash, so a copied
database gives nobody access.

Examples
--------
>>> from dltasks.backends.sql import SqlBackend
>>> backend = SqlBackend("sqlite://")
>>> token = backend.create_token("ann@example.com", admin=True)
>>> token.startswith("dlt_"), backend.lookup_token(token)
(True, Principal(user_id='ann@example.com', admin=True))
>>> backend.lookup_token("dlt_wrong") is None
True
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from dltasks.backends.sql import schema as S
from dltasks.backends.sql.common import SqlPart, insert_missing_users
from dltasks.timeutil import from_epoch, now

__all__ = ["Principal", "TokensSql", "hash_token", "PREFIX"]

PREFIX = "dlt_"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user id, and whether the token is an admin token."""

    user_id: str
    admin: bool = False


def hash_token(token: str) -> str:
    """The stored form of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokensSql(SqlPart):
    """The token operations of :class:`~dltasks.backends.sql.SqlBackend` (the server's login table)."""

    def create_token(self, user_id: str, admin: bool = False) -> str:
        """Register ``user_id`` if needed, store a new token's hash and return the token."""
        token = PREFIX + secrets.token_urlsafe(32)
        with self.db.atomic() as conn:
            insert_missing_users(conn, [user_id])
            conn.execute(sa.insert(S.api_tokens).values(token_hash=hash_token(token), user_id=user_id,
                                                        admin=bool(admin), created_at=now()))
        return token

    def lookup_token(self, token: str) -> Principal | None:
        """The principal a token stands for, or ``None`` for an unknown token."""
        if not token or len(token) > 512:
            return None
        t = S.api_tokens
        with self.db.read() as conn:
            row = conn.execute(sa.select(t.c.user_id, t.c.admin).where(t.c.token_hash == hash_token(token))).first()
        return None if row is None else Principal(user_id=row[0], admin=bool(row[1]))

    def list_tokens(self) -> list[tuple[str, bool, str]]:
        """One ``(user_id, admin, created 'YYYY-MM-DD HH:MM:SS' UTC)`` per token."""
        t = S.api_tokens
        with self.db.read() as conn:
            rows = conn.execute(sa.select(t.c.user_id, t.c.admin, t.c.created_at)
                                .order_by(t.c.user_id, t.c.created_at)).all()
        return [(u, bool(a), f"{from_epoch(c):%Y-%m-%d %H:%M:%S}") for u, a, c in rows]

    def count_tokens(self) -> int:
        """How many tokens there are."""
        with self.db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(S.api_tokens)).scalar_one())

    def revoke_tokens(self, user_id: str) -> int:
        """Delete every token of a user; return how many."""
        with self.db.atomic() as conn:
            return int(conn.execute(sa.delete(S.api_tokens).where(S.api_tokens.c.user_id == user_id)).rowcount)
