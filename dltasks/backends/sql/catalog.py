"""The catalog version: a number that changes whenever a dataset, a task or a task's members change.

Every write to the ``datasets``, ``tasks`` or ``task_members`` tables calls :func:`touch_catalog`
first, in its own transaction, so the number changes exactly when (and as soon as) such a
write commits, whichever process made it.  What a reader read after seeing a number holds at
least that number's changes, and the numbers only grow, so an answer tagged with the number
read before it is still current while the store shows that number: the server keeps the
answers of task reads that way (:mod:`dltasks.server.answer_cache`).

Work on items (submits, reviews, imports) does not change it.

>>> from dltasks.backends.sql import SqlBackend
>>> backend = SqlBackend("sqlite://")
>>> before = backend.catalog_version()
>>> _ = backend.create_dataset("photos", ["cat"])
>>> backend.catalog_version() == before + 1
True
"""
from __future__ import annotations

import sqlalchemy as sa

from dltasks.backends.sql import schema as S
from dltasks.backends.sql.common import SqlPart

__all__ = ["CatalogSql", "touch_catalog", "read_catalog_version"]

_ROW = S.meta_table.c.key == S.CATALOG_KEY
_READ = sa.select(S.meta_table.c.value).where(_ROW)
_BUMP = (sa.update(S.meta_table).where(_ROW)
         .values(value=sa.cast(sa.cast(S.meta_table.c.value, sa.Integer) + 1, sa.Text)))


def touch_catalog(conn: sa.Connection) -> None:
    """Count one more change of the catalog (call it first in the write's transaction: on
    PostgreSQL the row lock then orders catalog writers the same way everywhere)."""
    conn.execute(_BUMP)


def read_catalog_version(conn: sa.Connection) -> int:
    """The catalog version as ``conn`` sees it."""
    return int(conn.execute(_READ).scalar_one())


class CatalogSql(SqlPart):
    """The catalog version of :class:`~dltasks.backends.sql.SqlBackend`."""

    def catalog_version(self) -> int:
        """The number of catalog changes so far (a cheap read; see the module)."""
        with self.db.read() as conn:
            return read_catalog_version(conn)
