"""Users: anyone who works on or reviews tasks, known by an id (any non-empty string).

>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> store.users.create("ann@example.com", name="Ann").name
'Ann'
>>> store.users.ensure(["ann@example.com", "bob@example.com"])
['ann@example.com', 'bob@example.com']
>>> [u.id for u in store.users.list()]
['ann@example.com', 'bob@example.com']
"""
from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from dltasks.domain.checks import check_user_ids
from dltasks.domain.records import User

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import Store

__all__ = ["Users"]


class Users:
    """Repository of users (``store.users``)."""

    def __init__(self, store: Store) -> None:
        self._ops = store.ops

    def create(self, user_id: str, name: str | None = None) -> User:
        """Register a user; ``ConflictError`` if the id is taken."""
        return self._ops.create_user(user_id, name)

    def ensure(self, user_ids: Iterable[str]) -> builtins.list[str]:
        """Register every id not yet known; return the ids, checked and stripped."""
        return self._ops.ensure_users(check_user_ids(user_ids))

    def get(self, user_id: str) -> User:
        """One user by id."""
        return self._ops.get_user(user_id)

    def list(self) -> builtins.list[User]:
        """Every user, by id."""
        return self._ops.list_users()

    def to_df(self) -> pd.DataFrame:
        """Every user as a DataFrame (id, name, created_at)."""
        users = self.list()
        return pd.DataFrame({"id": [u.id for u in users], "name": [u.name for u in users],
                             "created_at": pd.to_datetime([u.created_at for u in users], utc=True)})
