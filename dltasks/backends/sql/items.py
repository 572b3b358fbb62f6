"""Items in SQL: bulk insert, metadata merges (``json_patch`` on SQLite), filtered reads and frames.

Every multi-row write is one transaction; bulk reads come straight from the driver's cursor
(:mod:`dltasks.backends.sql.frames`).

>>> import pandas as pd
>>> from dltasks.backends.sql import SqlBackend
>>> from dltasks.domain.items import item_rows
>>> backend = SqlBackend("sqlite://")
>>> ds = backend.create_dataset("d", [])
>>> backend.import_items(ds.id, item_rows(pd.DataFrame({"name": ["a.jpg", "b.jpg"], "user.n": [1, 2]})))
2
>>> backend.items_frame(ds.id)["metadata.user.n"].tolist()
[1, 2]
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from dltasks import jsonutil
from dltasks.backends.base import PAGE_BYTES
from dltasks.backends.sql import schema as S
from dltasks.backends.sql.common import CHUNK, SqlPart
from dltasks.backends.sql.filters import order_terms
from dltasks.backends.sql.frames import paged, result_frame
from dltasks.domain.filters import Filters
from dltasks.domain.items import ItemEdit, ItemRows
from dltasks.domain.records import Item, ItemPage
from dltasks.domain.values import MAX_METADATA_BYTES
from dltasks.errors import NotFoundError, ValidationError
from dltasks.timeutil import from_epoch, now

__all__ = ["ItemsSql"]

_INSERT_COLUMNS = ("dataset_id", "name", "dir", "filename", "path", "mime", "size", "metadata", "created_at")


def _json_value(dialect: str, column: Any, keys: list[str]) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return sa.func.jsonb_extract_path(sa.cast(column, JSONB), *keys)
    return sa.func.json_extract(column, "$" + "".join(f'."{k}"' for k in keys))


def _too_big(item_id: int, size: int, patch: str) -> None:
    raise ValidationError(f"would make item {item_id}'s metadata {size:,} bytes of JSON; the most is "
                          f"{MAX_METADATA_BYTES:,}", "update_values", f"{patch[:40]}…")


class ItemsSql(SqlPart):
    """The item operations of :class:`~dltasks.backends.sql.SqlBackend`."""

    # -- writing -------------------------------------------------------------------------------
    def import_items(self, dataset_id: str, rows: ItemRows) -> int:
        """Insert one item per row, all or nothing; return how many."""
        with self.db.atomic() as conn:
            self._dataset(conn, dataset_id)
            self.db.insert_rows(conn, S.items, _INSERT_COLUMNS, rows.tuples(dataset_id, now()))
            self._register_keys(conn, dataset_id, rows.keys)
        self.db.refresh_statistics()
        return len(rows)

    def register_items(self, dataset_id: str, rows: ItemRows, overwrite: bool = False) -> list[Item]:
        """Add one item per row, keeping (or with ``overwrite``, updating) rows already stored."""
        t = S.items
        names = rows.filenames
        with self.db.atomic() as conn:
            self._dataset(conn, dataset_id)
            existing = self._ids_by_filename(conn, dataset_id, names)
            fresh = [r for r in rows.tuples(dataset_id, now()) if r[3] not in existing]
            if overwrite:
                for r in rows.tuples(dataset_id, 0.0):
                    if r[3] in existing:
                        conn.execute(sa.update(t).where(t.c.id == existing[r[3]]).values(
                            path=r[4], mime=r[5], size=r[6], metadata=r[7]))
            self.db.insert_rows(conn, t, _INSERT_COLUMNS, fresh)
            self._register_keys(conn, dataset_id, rows.keys)
            ids = self._ids_by_filename(conn, dataset_id, names)
            by_id = {i.id: i for start in range(0, len(names), CHUNK)
                     for i in self._select(conn, t.c.id.in_([ids[n] for n in names[start:start + CHUNK]]))}
        return [by_id[ids[n]] for n in names]

    def _ids_by_filename(self, conn: sa.Connection, dataset_id: str, names: list[str]) -> dict[str, int]:
        t = S.items
        out: dict[str, int] = {}
        for start in range(0, len(names), CHUNK):
            out.update(conn.execute(sa.select(t.c.filename, t.c.id).where(
                t.c.dataset_id == dataset_id, t.c.filename.in_(names[start:start + CHUNK]))).all())
        return out

    def update_items(self, dataset_id: str, filters: Filters | None, update_values: dict[str, Any]) -> int:
        """Deep-merge ``update_values`` into the metadata of every matching item; return how many matched."""
        patch = update_values
        with self.db.atomic() as conn:
            self._dataset(conn, dataset_id)
            where = self._items_where(dataset_id, filters)
            count = conn.execute(sa.select(sa.func.count()).select_from(S.items).where(where)).scalar_one()
            text = jsonutil.dumps(patch, "update_values")
            if self.db.dialect == "sqlite":
                self._check_patched_sizes(conn, where, text)
                conn.execute(sa.update(S.items).where(where).values(
                    metadata=sa.func.json_patch(S.items.c.metadata, text)))
            else:
                found = conn.execute(sa.select(S.items.c.id, S.items.c.metadata).where(where).with_for_update()).all()
                new = [{"i": r[0], "m": jsonutil.dumps(jsonutil.merge_patch(jsonutil.loads(r[1]), patch))}
                       for r in found]
                for row in new:
                    size = len(row["m"].encode("utf-8"))
                    if size > MAX_METADATA_BYTES:
                        _too_big(row["i"], size, text)
                if new:
                    conn.execute(sa.update(S.items).where(S.items.c.id == sa.bindparam("i"))
                                 .values(metadata=sa.bindparam("m")), new)
            self._register_keys(conn, dataset_id, [f"user.{p}" for p in jsonutil.leaf_paths(patch["user"])])
        return int(count)

    def _check_patched_sizes(self, conn: sa.Connection, where: Any, patch: str) -> None:
        """No item's metadata may outgrow the limit by a merge (only items already near it can)."""
        t = S.items
        near = sa.func.length(t.c.metadata) > (MAX_METADATA_BYTES - len(patch.encode("utf-8"))) // 4
        merged = sa.func.length(sa.cast(sa.func.json_patch(t.c.metadata, patch), sa.LargeBinary))
        row = conn.execute(sa.select(t.c.id, merged).where(where, near, merged > MAX_METADATA_BYTES).limit(1)).first()
        if row is not None:
            _too_big(row[0], row[1], patch)

    def update_item(self, dataset_id: str, item_id: int, change: ItemEdit) -> Item:
        """Store an item's name, folder and metadata; return the item."""
        t = S.items
        with self.db.atomic() as conn:
            name = self._dataset(conn, dataset_id).name
            n = conn.execute(sa.update(t).where(t.c.id == item_id, t.c.dataset_id == dataset_id).values(
                metadata=change.metadata_json, name=change.name, dir=change.dir, filename=change.filename)).rowcount
            if n == 0:
                raise NotFoundError(f"item {item_id!r} is not in dataset {name!r}")
            self._register_keys(conn, dataset_id, change.keys)
            return self._select(conn, t.c.id == item_id)[0]

    def delete_item(self, dataset_id: str, item_id: int) -> int:
        """Delete one item; ``NotFoundError`` if it is not in the dataset."""
        with self.db.atomic() as conn:
            name = self._dataset(conn, dataset_id).name
            n = conn.execute(sa.delete(S.items).where(S.items.c.id == item_id,
                                                      S.items.c.dataset_id == dataset_id)).rowcount
            if n == 0:
                raise NotFoundError(f"item {item_id!r} is not in dataset {name!r}")
            return int(n)

    def delete_items(self, dataset_id: str, filters: Filters | None) -> int:
        """Delete every matching item; return how many."""
        with self.db.atomic() as conn:
            self._dataset(conn, dataset_id)
            return int(conn.execute(sa.delete(S.items).where(self._items_where(dataset_id, filters))).rowcount)

    def _register_keys(self, conn: sa.Connection, dataset_id: str, paths: Sequence[str]) -> None:
        if not paths:
            return
        known = set(conn.execute(sa.select(S.metadata_keys.c.path).where(
            S.metadata_keys.c.dataset_id == dataset_id)).scalars())
        fresh = [{"dataset_id": dataset_id, "path": p} for p in dict.fromkeys(paths) if p not in known]
        if fresh:
            conn.execute(sa.insert(S.metadata_keys), fresh)

    # -- reading -------------------------------------------------------------------------------
    def get_item(self, dataset_id: str, item_id: int) -> Item:
        """One item by id."""
        return self._one(dataset_id, S.items.c.id == item_id, item_id)

    def get_item_by_path(self, dataset_id: str, filepath: str) -> Item:
        """One item by its filename (``'/train/a.jpg'``)."""
        return self._one(dataset_id, S.items.c.filename == filepath, filepath)

    def _one(self, dataset_id: str, cond: Any, what: Any) -> Item:
        with self.db.read() as conn:
            name = self._dataset(conn, dataset_id).name
            found = self._select(conn, sa.and_(cond, S.items.c.dataset_id == dataset_id))
        if not found:
            raise NotFoundError(f"item {what!r} is not in dataset {name!r}")
        return found[0]

    def count_items(self, dataset_id: str, filters: Filters | None = None) -> int:
        """How many items match."""
        with self.db.read() as conn:
            self._dataset(conn, dataset_id)
            return int(conn.execute(sa.select(sa.func.count()).select_from(S.items)
                                    .where(self._items_where(dataset_id, filters))).scalar_one())

    def query_items(self, dataset_id: str, filters: Filters | None = None, offset: int = 0,
                    limit: int = 1000) -> ItemPage:
        """At most ``limit`` matching items from ``offset`` on (in the filters' order, cut at
        PAGE_BYTES of metadata: at least one) and how many match in all."""
        where = self._items_where(dataset_id, filters)
        with self.db.read() as conn:
            self._dataset(conn, dataset_id)
            total = conn.execute(sa.select(sa.func.count()).select_from(S.items).where(where)).scalar_one()
            rows = self._page_rows(conn, dataset_id, filters, offset, limit)
            items = self._select(conn, where, order_terms(filters, S.items, self.db.dialect), limit=rows,
                                 offset=offset)
        return ItemPage(items=items, total=int(total))

    def items_frame(self, dataset_id: str, filters: Filters | None = None, metadata: str = "flat", offset: int = 0,
                    limit: int | None = None) -> pd.DataFrame:
        """Matching items as a DataFrame; metadata flat (``metadata.user.<key>`` columns), as dicts or left out.

        With a ``limit``, the page of at most ``limit`` rows from ``offset`` on, cut where the
        items' metadata passes :data:`~dltasks.backends.base.PAGE_BYTES` (at least one row).
        """
        t = S.items
        cols: list[Any] = [t.c.id, t.c.dataset_id, t.c.name, t.c.dir, t.c.filename, t.c.path, t.c.mime, t.c.size,
                           t.c.created_at]
        with self.db.read() as conn:
            self._dataset(conn, dataset_id)
            if metadata == "dict":
                cols.append(t.c.metadata)
            elif metadata == "flat":
                for p in self._keys(conn, dataset_id):
                    cols.append(_json_value(self.db.dialect, t.c.metadata, p.split(".")).label("metadata." + p))
            query = (sa.select(*cols).where(self._items_where(dataset_id, filters))
                     .order_by(*order_terms(filters, t, self.db.dialect)))
            rows = None if limit is None else self._page_rows(conn, dataset_id, filters, offset, limit)
            df = paged(conn, query, offset, rows, lambda c, q: result_frame(c.execute(q)))
            df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
            if metadata == "dict":
                df["metadata"] = [jsonutil.loads(m) for m in df["metadata"]]
            elif metadata == "flat" and self.db.dialect == "sqlite":
                self._restore_booleans(conn, dataset_id, df)
        return df

    def _page_rows(self, conn: sa.Connection, dataset_id: str, filters: Filters | None, offset: int,
                   limit: int) -> int:
        """How many of the next ``limit`` items fit in PAGE_BYTES of metadata (at least one)."""
        t = S.items
        sizes = (sa.select(sa.func.length(t.c.metadata)).where(self._items_where(dataset_id, filters))
                 .order_by(*order_terms(filters, t, self.db.dialect)).offset(offset).limit(limit))
        lengths = np.fromiter((n or 0 for (n,) in conn.execute(sizes)), dtype=np.int64)
        within = int(np.searchsorted(np.cumsum(lengths), PAGE_BYTES, side="right"))
        return max(1, within)

    def _restore_booleans(self, conn: sa.Connection, dataset_id: str, df: pd.DataFrame) -> None:
        """SQLite's json_extract gives true/false as 1/0: turn such columns back into booleans.

        Only columns holding nothing but 0/1 are checked, with one indexed look-up each.
        """
        for col in [c for c in df.columns if c.startswith("metadata.user.")]:
            values = df[col]
            if values.dtype.kind not in "iuf" and values.dtype != object:
                continue
            present = values.dropna()
            if present.empty or not present.isin([0, 1]).all() or not all(
                    isinstance(v, (int, float, np.integer, np.floating)) for v in present.iloc[:100]):
                continue
            path = "$" + "".join(f'."{k}"' for k in col.split(".")[1:])
            is_bool = conn.execute(sa.select(sa.literal(1)).where(
                S.items.c.dataset_id == dataset_id,
                sa.func.json_type(S.items.c.metadata, path).in_(["true", "false"])).limit(1)).first()
            if is_bool:
                df[col] = values.map({1: True, 0: False, 1.0: True, 0.0: False}).astype("boolean")

    def metadata_keys(self, dataset_id: str) -> list[str]:
        """Dot paths of every user metadata key written to the dataset, e.g. ``'user.colour'``."""
        with self.db.read() as conn:
            self._dataset(conn, dataset_id)
            return self._keys(conn, dataset_id)

    def _keys(self, conn: sa.Connection, dataset_id: str) -> list[str]:
        return sorted(conn.execute(sa.select(S.metadata_keys.c.path).where(
            S.metadata_keys.c.dataset_id == dataset_id)).scalars())

    def _select(self, conn: sa.Connection, where: Any, order: Any = None, limit: int | None = None,
                offset: int = 0) -> list[Item]:
        t, a = S.items, S.annotations
        count = sa.select(sa.func.count()).where(a.c.item_id == t.c.id).scalar_subquery()
        q = sa.select(t, count.label("annotations_count")).where(where).order_by(*(order or [t.c.id]))
        if limit is not None:
            q = q.limit(limit).offset(offset)
        rows = conn.execute(q).mappings().all()
        return [Item(id=r["id"], dataset_id=r["dataset_id"], name=r["name"], dir=r["dir"], filename=r["filename"],
                     path=r["path"], mime=r["mime"], size=r["size"], metadata=jsonutil.loads(r["metadata"], {}),
                     created_at=from_epoch(r["created_at"]), annotations_count=r["annotations_count"])
                for r in rows]
