"""Users: anyone who works on or reviews tasks, known by an id (any non-empty string)."""
from __future__ import annotations

import builtins

from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd
import sqlalchemy as sa

from dltasks.entities import User
from dltasks.errors import ConflictError, NotFoundError, ValidationError
from dltasks.store import schema as S
from dltasks.timeutil import from_epoch, now

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.store import Store

__all__ = ["Users", "check_user_id"]


def check_user_id(value: Any, field: str = "user_id") -> str:
    """A user id is a non-empty string of at most 255 characters (e-mails in practice)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise ValidationError("must be a non-empty string (a user id or e-mail)", field, value)
    return value.strip()


class Users:
    """Repository of users (``store.users``)."""

    def __init__(self, store: Store) -> None:
        self._db = store.db

    def create(self, user_id: str, name: str | None = None) -> User:
        """Register a user; ``ConflictError`` if the id is taken."""
        uid = check_user_id(user_id)
        with self._db.atomic() as conn:
            if conn.execute(sa.select(S.users.c.id).where(S.users.c.id == uid)).first():
                raise ConflictError(f"user {uid!r} already exists")
            conn.execute(sa.insert(S.users).values(id=uid, name=name, created_at=now()))
        return self.get(uid)

    def ensure(self, user_ids: Iterable[str], conn: sa.Connection | None = None, field: str = "assignee_ids") -> builtins.list[str]:
        """Register every id not yet known; return the ids, checked and stripped."""
        ids = [check_user_id(u, field) for u in user_ids]
        with self._db.atomic() as c:
            c = conn or c
            known = set(c.execute(sa.select(S.users.c.id).where(S.users.c.id.in_(ids))).scalars())
            fresh = [{"id": u, "name": None, "created_at": now()} for u in dict.fromkeys(ids) if u not in known]
            if fresh:
                c.execute(sa.insert(S.users), fresh)
        return ids

    def get(self, user_id: str) -> User:
        """One user by id."""
        with self._db.read() as conn:
            r = conn.execute(sa.select(S.users).where(S.users.c.id == user_id)).mappings().first()
        if r is None:
            raise NotFoundError(f"user {user_id!r} does not exist")
        return User(id=r["id"], name=r["name"], created_at=from_epoch(r["created_at"]))

    def list(self) -> builtins.list[User]:
        """Every user, by id."""
        with self._db.read() as conn:
            rows = conn.execute(sa.select(S.users).order_by(S.users.c.id)).mappings().all()
        return [User(id=r["id"], name=r["name"], created_at=from_epoch(r["created_at"])) for r in rows]

    def to_df(self) -> pd.DataFrame:
        """Every user as a DataFrame (id, name, created_at)."""
        users = self.list()
        return pd.DataFrame({"id": [u.id for u in users], "name": [u.name for u in users],
                             "created_at": pd.to_datetime([u.created_at for u in users], utc=True)})
