"""The items of a dataset: upload files, bulk import rows, read, filter, update metadata.

Bulk reads come out as DataFrames (:meth:`Items.to_df`), bulk writes take one
(:meth:`Items.import_df`); every multi-row write is one transaction.
"""
from __future__ import annotations

import builtins
import gc
import itertools
import json
import math
import mimetypes
import os
import posixpath
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from dltasks import jsonutil
from dltasks.entities import Item
from dltasks.errors import NotFoundError, ValidationError
from dltasks.filters import Filters
from dltasks.store import schema as S
from dltasks.timeutil import from_epoch, now

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.datasets import Dataset
    from dltasks.store import Store

__all__ = ["Items", "PagedItems", "normalise_dir", "upload_frame"]

_ITEM_COLUMNS = ("name", "dir", "filename", "path", "url", "mime", "size", "metadata")
_USER_PREFIXES = ("metadata.user.", "user.")


def normalise_dir(remote_path: Any) -> str:
    """``'train/'`` → ``'/train'``; ``'/'`` stays ``'/'``.

    >>> normalise_dir("train/cats/")
    '/train/cats'
    """
    if not isinstance(remote_path, str) or not remote_path.strip():
        raise ValidationError("must be a folder path like '/' or '/train'", "remote_path", remote_path)
    d = posixpath.normpath("/" + remote_path.strip().strip("/"))
    return "/" if d in ("/", "//") else d


def _filename(d: str, name: str) -> str:
    return ("" if d == "/" else d) + "/" + name


class PagedItems:
    """One page of items plus paging facts (dtlpy ``PagedEntities``).

    Iterating yields pages (lists of :class:`Item`) from this one on; :meth:`all` yields items.
    """

    def __init__(self, items: Items, filters: Filters | None, page_offset: int, page_size: int) -> None:
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 10_000:
            raise ValidationError("must be a whole number from 1 to 10000", "page_size", page_size)
        if not isinstance(page_offset, int) or isinstance(page_offset, bool) or page_offset < 0:
            raise ValidationError("must be a whole number >= 0", "page_offset", page_offset)
        self._items_repo, self._filters = items, filters
        self.page_offset, self.page_size = page_offset, page_size
        self.items_count = items.count(filters)
        self.total_pages_count = max(1, math.ceil(self.items_count / page_size))
        self.items: builtins.list[Item] = items._page(filters, page_offset, page_size)

    @property
    def has_next_page(self) -> bool:
        """Whether a page follows this one."""
        return self.page_offset + 1 < self.total_pages_count

    def go_to_page(self, page: int) -> None:
        """Load page ``page`` (0-based)."""
        self.page_offset = page
        self.items = self._items_repo._page(self._filters, page, self.page_size)

    def next_page(self) -> None:
        """Load the following page."""
        self.go_to_page(self.page_offset + 1)

    def __iter__(self) -> Iterator[builtins.list[Item]]:
        start = self.page_offset
        yield self.items
        for page in range(start + 1, self.total_pages_count):
            self.go_to_page(page)
            yield self.items

    def all(self) -> Iterator[Item]:
        """Every matching item, page by page."""
        for page in self:
            yield from page

    def __len__(self) -> int:
        return self.items_count

    def __repr__(self) -> str:
        return (f"PagedItems(items_count={self.items_count}, page_offset={self.page_offset}, "
                f"page_size={self.page_size}, total_pages_count={self.total_pages_count})")


class Items:
    """Repository of one dataset's items (``dataset.items``)."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._store, self._dataset = store, dataset
        self._db = store.db

    # -- writing -------------------------------------------------------------------------
    def upload(self, local_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
               remote_path: str = "/", item_metadata: dict[str, Any] | None = None,
               overwrite: bool = False) -> Item | builtins.list[Item]:
        """Register a file, every file of a folder, or a list of paths as items.

        ``item_metadata`` becomes each item's ``metadata['user']``.  An item whose filename
        is already in the dataset is returned as it is unless ``overwrite``.  Returns one
        Item for one file, a list otherwise.
        """
        out = self.register(upload_frame(local_path, remote_path, item_metadata), overwrite=overwrite)
        single = isinstance(local_path, (str, os.PathLike)) and os.path.isfile(local_path)
        return out[0] if single and len(out) == 1 else out

    def register(self, frame: pd.DataFrame, overwrite: bool = False) -> builtins.list[Item]:
        """Add one item per row (columns as :meth:`import_df`), keeping rows already stored.

        A row whose dir + name is already in the dataset is returned as it is, or, with
        ``overwrite``, gets the row's path, mime, size and metadata.  All or nothing; returns
        the items in row order.
        """
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError("must be a pandas DataFrame", "frame", type(frame).__name__)
        rows, keys = _prepare_rows(frame, self._dataset.id)
        rows = builtins.list(rows)
        names = [r[3] for r in rows]
        t = S.items
        with self._db.atomic() as conn:
            existing = dict(conn.execute(sa.select(t.c.filename, t.c.id).where(
                t.c.dataset_id == self._dataset.id, t.c.filename.in_(names))).all())
            if overwrite:
                for r in rows:
                    if r[3] in existing:
                        conn.execute(sa.update(t).where(t.c.id == existing[r[3]]).values(
                            path=r[4], mime=r[5], size=r[6], metadata=r[7]))
            self._db.insert_rows(conn, t, ("dataset_id", "name", "dir", "filename", "path", "mime",
                                           "size", "metadata", "created_at"),
                                 [r for r in rows if r[3] not in existing])
            self._register_keys(conn, keys)
            ids = dict(conn.execute(sa.select(t.c.filename, t.c.id).where(
                t.c.dataset_id == self._dataset.id, t.c.filename.in_(names))).all())
        return [self.get(item_id=ids[n]) for n in names]

    def import_df(self, df: pd.DataFrame) -> int:
        """Insert one item per row, all or nothing; return how many were inserted.

        Columns: ``name`` (required), ``dir`` (default ``'/'``), ``path`` or ``url``, ``mime``,
        ``size``, ``metadata`` (dicts, merged as the item's metadata), and any number of
        ``user.<key>`` / ``metadata.user.<key>`` columns that become ``metadata['user'][key]``.
        Any other column is refused with a ``ValidationError`` naming it.
        """
        if not isinstance(df, pd.DataFrame):
            raise ValidationError("must be a pandas DataFrame", "df", type(df).__name__)
        rows, keys = _prepare_rows(df, self._dataset.id)
        with self._db.atomic() as conn:
            self._db.insert_rows(conn, S.items, ("dataset_id", "name", "dir", "filename", "path", "mime",
                                                 "size", "metadata", "created_at"), rows)
            self._register_keys(conn, keys)
        return len(df)

    def update(self, filters: Filters | None = None, update_values: dict[str, Any] | None = None,
               item: Item | None = None) -> int:
        """Deep-merge ``update_values`` (``{'user': {...}}``) into every matching item's metadata.

        Merge-patch rules: nested dicts merge, ``None`` removes a key, other values replace.
        One transaction; returns the number of items matched.
        """
        if item is not None:
            return 1 if self._update_item(item) else 0
        patch = _check_update_values(update_values)
        where = self._where(filters)
        with self._db.atomic() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(S.items).where(where)).scalar_one()
            if self._db.dialect == "sqlite":
                conn.execute(sa.update(S.items).where(where).values(
                    metadata=sa.func.json_patch(S.items.c.metadata, jsonutil.dumps(patch, "update_values"))))
            else:
                rows = conn.execute(sa.select(S.items.c.id, S.items.c.metadata).where(where).with_for_update()).all()
                new = [{"i": r[0], "m": jsonutil.dumps(jsonutil.merge_patch(jsonutil.loads(r[1]), patch))} for r in rows]
                if new:
                    conn.execute(sa.update(S.items).where(S.items.c.id == sa.bindparam("i"))
                                 .values(metadata=sa.bindparam("m")), new)
            self._register_keys(conn, [f"user.{p}" for p in jsonutil.leaf_paths(patch["user"])])
        return int(count)

    def delete(self, item_id: int | str | None = None, filters: Filters | None = None) -> int:
        """Delete one item or every matching item; return how many were deleted."""
        if item_id is None and filters is None:
            raise ValidationError("give item_id or filters (Filters() deletes every item)", "filters", None)
        with self._db.atomic() as conn:
            if item_id is not None:
                iid = _item_id(item_id)
                n = conn.execute(sa.delete(S.items).where(S.items.c.id == iid,
                                                          S.items.c.dataset_id == self._dataset.id)).rowcount
                if n == 0:
                    raise NotFoundError(f"item {item_id!r} is not in dataset {self._dataset.name!r}")
                return n
            return conn.execute(sa.delete(S.items).where(self._where(filters))).rowcount

    def _update_item(self, item: Item) -> Item:
        meta = item.metadata
        if not isinstance(meta, dict) or not isinstance(meta.get("user", {}), dict):
            raise ValidationError("metadata must be a dict with a dict under 'user'", "metadata", meta)
        text = jsonutil.dumps(meta, "metadata")
        d = normalise_dir(item.dir)
        if not isinstance(item.name, str) or not item.name or "/" in item.name:
            raise ValidationError("must be a non-empty file name without '/'", "name", item.name)
        with self._db.atomic() as conn:
            n = conn.execute(sa.update(S.items).where(S.items.c.id == item.id, S.items.c.dataset_id == self._dataset.id)
                             .values(metadata=text, name=item.name, dir=d, filename=_filename(d, item.name))).rowcount
            if n == 0:
                raise NotFoundError(f"item {item.id!r} is not in dataset {self._dataset.name!r}")
            self._register_keys(conn, [f"user.{p}" for p in jsonutil.leaf_paths(meta.get("user") or {})])
        return self.get(item_id=item.id)

    def _register_keys(self, conn: sa.Connection, paths: Sequence[str]) -> None:
        if not paths:
            return
        known = set(conn.execute(sa.select(S.metadata_keys.c.path).where(
            S.metadata_keys.c.dataset_id == self._dataset.id)).scalars())
        fresh = [{"dataset_id": self._dataset.id, "path": p} for p in dict.fromkeys(paths) if p not in known]
        if fresh:
            conn.execute(sa.insert(S.metadata_keys), fresh)

    # -- reading -------------------------------------------------------------------------
    def get(self, item_id: int | str | None = None, filepath: str | None = None) -> Item:
        """One item by id (or by ``filepath`` like ``'/train/a.jpg'``); ``NotFoundError`` if absent."""
        t = S.items
        if item_id is not None:
            cond = t.c.id == _item_id(item_id)
        elif filepath is not None:
            cond = t.c.filename == filepath
        else:
            raise ValidationError("give item_id or filepath", "item_id", None)
        rows = self._select(sa.and_(cond, t.c.dataset_id == self._dataset.id))
        if not rows:
            raise NotFoundError(f"item {item_id if item_id is not None else filepath!r} is not in dataset "
                                f"{self._dataset.name!r}")
        return rows[0]

    def count(self, filters: Filters | None = None) -> int:
        """How many items match."""
        with self._db.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(S.items).where(self._where(filters))).scalar_one())

    def list(self, filters: Filters | None = None, page_offset: int = 0, page_size: int = 1000) -> PagedItems:
        """A page of matching items with ``items_count``, ``total_pages_count``, ``has_next_page``."""
        return PagedItems(self, filters, page_offset, page_size)

    def get_all_items(self, filters: Filters | None = None) -> builtins.list[Item]:
        """Every matching item as a list (a progress bar when it takes several pages)."""
        pages = self.list(filters=filters, page_size=1000)
        out: builtins.list[Item] = []
        with tqdm(total=pages.items_count, desc="Iterate Entity", disable=pages.total_pages_count <= 1) as bar:
            for page in pages:
                out.extend(page)
                bar.update(len(page))
        return out

    def to_df(self, filters: Filters | None = None, metadata: str = "flat") -> pd.DataFrame:
        """Matching items as one DataFrame, one row per item.

        ``metadata='flat'`` (default) gives a ``metadata.user.<path>`` column per user key
        ever written to the dataset (missing → NaN); ``'dict'`` gives one ``metadata`` column
        of dicts; ``'none'`` leaves metadata out.
        """
        if metadata not in ("flat", "dict", "none"):
            raise ValidationError("use 'flat', 'dict' or 'none'", "metadata", metadata)
        t = S.items
        cols: builtins.list[Any] = [t.c.id, t.c.dataset_id, t.c.name, t.c.dir, t.c.filename, t.c.path, t.c.mime,
                           t.c.size, t.c.created_at]
        if metadata == "dict":
            cols.append(t.c.metadata)
        elif metadata == "flat":
            for p in self.metadata_keys():
                cols.append(_json_value(self._db.dialect, t.c.metadata, p.split(".")).label("metadata." + p))
        order = (filters.order_by(t, self._db.dialect) if filters else [t.c.id])
        query = sa.select(*cols).where(self._where(filters)).order_by(*order)
        with self._db.read() as conn:
            df = _result_frame(conn.execute(query))
        df["created_at"] = pd.to_datetime(df["created_at"], unit="s", utc=True)
        if metadata == "dict":
            df["metadata"] = [jsonutil.loads(m) for m in df["metadata"]]
        elif metadata == "flat" and self._db.dialect == "sqlite":
            self._restore_booleans(df)
        return df

    def _restore_booleans(self, df: pd.DataFrame) -> None:
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
            with self._db.read() as conn:
                is_bool = conn.execute(sa.select(sa.literal(1)).where(
                    S.items.c.dataset_id == self._dataset.id,
                    sa.func.json_type(S.items.c.metadata, path).in_(["true", "false"])).limit(1)).first()
            if is_bool:
                df[col] = values.map({1: True, 0: False, 1.0: True, 0.0: False}).astype("boolean")

    def metadata_keys(self) -> builtins.list[str]:
        """Dot paths of every user metadata key written to this dataset, e.g. ``'user.colour'``."""
        with self._db.read() as conn:
            return sorted(conn.execute(sa.select(S.metadata_keys.c.path).where(
                S.metadata_keys.c.dataset_id == self._dataset.id)).scalars())

    def _where(self, filters: Filters | None) -> sa.ColumnElement[bool]:
        base = S.items.c.dataset_id == self._dataset.id
        if filters is None:
            return base
        if not isinstance(filters, Filters):
            raise ValidationError("must be a dl.Filters", "filters", filters)
        return sa.and_(base, filters.where(S.items, S.annotations, self._db.dialect))

    def _page(self, filters: Filters | None, page: int, size: int) -> builtins.list[Item]:
        order = filters.order_by(S.items, self._db.dialect) if filters else [S.items.c.id]
        return self._select(self._where(filters), order, limit=size, offset=page * size)

    def _select(self, where: Any, order: Any = None, limit: int | None = None, offset: int = 0) -> builtins.list[Item]:
        t, a = S.items, S.annotations
        count = sa.select(sa.func.count()).where(a.c.item_id == t.c.id).scalar_subquery()
        q = sa.select(t, count.label("annotations_count")).where(where).order_by(*(order or [t.c.id]))
        if limit is not None:
            q = q.limit(limit).offset(offset)
        with self._db.read() as conn:
            rows = conn.execute(q).mappings().all()
        return [Item(id=r["id"], dataset_id=r["dataset_id"], name=r["name"], dir=r["dir"], filename=r["filename"],
                     path=r["path"], mime=r["mime"], size=r["size"], metadata=jsonutil.loads(r["metadata"], {}),
                     created_at=from_epoch(r["created_at"]), annotations_count=r["annotations_count"],
                     _repo=self) for r in rows]


def _item_id(value: Any) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValidationError("is not an item id (a whole number)", "item_id", value)


def _json_value(dialect: str, column: Any, keys: builtins.list[str]) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return sa.func.jsonb_extract_path(sa.cast(column, JSONB), *keys)
    return sa.func.json_extract(column, "$" + "".join(f'."{k}"' for k in keys))


def upload_frame(local_path: Any, remote_path: str = "/", item_metadata: dict[str, Any] | None = None) -> pd.DataFrame:
    """The rows :meth:`Items.register` takes for files on this machine (a file, a folder, a list)."""
    base = normalise_dir(remote_path)
    user = dict(item_metadata or {})
    jsonutil.check_jsonable(user, "item_metadata")
    rows = [{"name": os.path.basename(p), "dir": d, "path": os.path.abspath(p),
             "mime": mimetypes.guess_type(p)[0], "size": os.path.getsize(p),
             "metadata": {"user": user, "system": {"originalname": os.path.basename(p)}}}
            for p, d in _collect_files(local_path, base)]
    return pd.DataFrame(rows, columns=["name", "dir", "path", "mime", "size", "metadata"])


def _collect_files(local_path: Any, base: str) -> builtins.list[tuple[str, str]]:
    paths = list(local_path) if isinstance(local_path, (list, tuple)) else [local_path]
    out: builtins.list[tuple[str, str]] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isfile(p):
            out.append((p, base))
        elif os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs.sort()
                rel = os.path.relpath(root, p)
                d = base if rel == "." else normalise_dir(posixpath.join(base, rel.replace(os.sep, "/")))
                out.extend((os.path.join(root, f), d) for f in sorted(files))
        else:
            raise ValidationError("no such file or folder", "local_path", p)
    if not out:
        raise ValidationError("no files to upload", "local_path", local_path)
    return out


def _check_update_values(update_values: Any) -> dict[str, Any]:
    if not isinstance(update_values, dict) or not update_values:
        raise ValidationError("must be a dict like {'user': {...}}", "update_values", update_values)
    extra = set(update_values) - {"user"}
    if extra:
        raise ValidationError("only metadata['user'] can be updated in bulk ('system' is dltasks-owned)",
                              "update_values", sorted(extra))
    if not isinstance(update_values["user"], dict):
        raise ValidationError("update_values['user'] must be a dict", "update_values", update_values["user"])
    jsonutil.check_jsonable(update_values, "update_values")
    return update_values


def _prepare_rows(df: pd.DataFrame, dataset_id: str) -> tuple[Any, builtins.list[str]]:
    """Validate an import frame and turn it into insert tuples (vectorised where it counts)."""
    user_cols = {c: c.split(".", 2)[-1] if c.startswith("metadata.user.") else c[5:]
                 for c in df.columns if isinstance(c, str) and c.startswith(_USER_PREFIXES)}
    unknown = [c for c in df.columns if c not in _ITEM_COLUMNS and c not in user_cols]
    if unknown:
        raise ValidationError("unknown column; use name, dir, path, url, mime, size, metadata "
                              "or user.<key>", "df", unknown[0])
    if "name" not in df.columns:
        raise ValidationError("the frame needs a 'name' column", "df", list(df.columns))
    n = len(df)
    names = df["name"]
    if names.isna().any() or pd.api.types.infer_dtype(names, skipna=False) != "string":  # every row, in C
        not_str = (names.isna() | ~names.map(lambda v: isinstance(v, str))).to_numpy()
        pos = int(np.argmax(not_str))
        raise ValidationError(f"row {pos}: every row needs a name (a string)", "name", names.iloc[pos])
    names = names.astype(str)
    bad = names.str.contains("/", regex=False) | (names.str.len() == 0)
    if bad.any():
        raise ValidationError("names must be non-empty and contain no '/'", "name", names[bad].iloc[0])
    if "dir" in df.columns:
        dirs = df["dir"].fillna("/").astype(str)
        uniq = {d: normalise_dir(d) for d in dirs.unique()}
        if any(d != norm for d, norm in uniq.items()):  # most frames hold normalised folders already
            dirs = dirs.map(uniq)
    else:
        dirs = pd.Series("/", index=df.index)
    filenames = dirs.where(dirs != "/", "") + "/" + names
    dup = filenames.duplicated()
    if dup.any():
        raise ValidationError("two rows have the same dir + name", "name", filenames[dup].iloc[0])
    path = df["path"] if "path" in df.columns else (df["url"] if "url" in df.columns else None)
    mime = df["mime"] if "mime" in df.columns else None
    name_list = names.tolist()
    mimes = _guess_mimes(name_list) if mime is None else None
    size = df["size"] if "size" in df.columns else None
    meta = _metadata_json(df, user_cols)
    created = now()
    none = [None] * n
    codes, folders = pd.factorize(dirs)  # few distinct folders: one str object each
    rows = zip(itertools.repeat(dataset_id, n), name_list, np.asarray(folders, dtype=object)[codes].tolist(),
               filenames.tolist(), _nullable(path, none), mimes if mimes is not None else _nullable(mime, none),
               _nullable(size, none, integer=True), meta, itertools.repeat(created, n))
    keys = [f"user.{k}" for k in user_cols.values()]
    if "metadata" in df.columns:
        keys += sorted({f"user.{p}" for m in df["metadata"] if isinstance(m, dict)
                        for p in jsonutil.leaf_paths(m.get("user") or {})})
    return rows, keys


def _nullable(col: pd.Series | None, none: builtins.list[None], integer: bool = False) -> builtins.list[Any]:
    if col is None:
        return none
    if integer:
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu":
            return col.tolist()  # no NaN possible: Python ints already
        vals = pd.to_numeric(col, errors="coerce")
        return [None if v != v else int(v) for v in vals.tolist()]
    obj = col.astype(object)
    return obj.where(col.notna(), None).tolist()


def _metadata_json(df: pd.DataFrame, user_cols: dict[str, str]) -> builtins.list[str]:
    """One JSON text per row: ``{"user": {...}, "system": {}}`` (pandas' C JSON writer)."""
    n = len(df)
    base: builtins.list[dict[str, Any]] | None = None
    if "metadata" in df.columns:
        base = []
        for i, m in enumerate(df["metadata"].tolist()):
            if m is None or (isinstance(m, float) and m != m):
                m = {}
            if not isinstance(m, dict):
                raise ValidationError(f"row {i}: metadata must be a dict", "metadata", m)
            jsonutil.check_jsonable(m, "metadata", f"row {i}")
            base.append(m)
    if not user_cols:
        if base is None:
            return ['{"user":{},"system":{}}'] * n
        return [jsonutil.dumps({"user": {}, "system": {}} | m) for m in base]
    sub = df[list(user_cols)].rename(columns=user_cols)
    for c in sub.columns:
        col = sub[c]
        if col.dtype == object:
            ok = col.map(lambda v: v is None or isinstance(v, (str, int, float, bool, list, dict)))
            if not ok.all():
                pos = int(np.argmax(~ok.to_numpy()))
                raise ValidationError(f"row {pos}: user.{c} cannot be stored as JSON", "metadata", col.iloc[pos])
        elif col.dtype.kind == "f":
            if np.isinf(col.to_numpy()).any():
                pos = int(np.argmax(np.isinf(col.to_numpy())))
                raise ValidationError(f"row {pos}: user.{c} is not a finite number", "metadata", col.iloc[pos])
    if n == 0:
        return []
    if base is None and sub.columns.is_unique and not _check_key_paths(list(user_cols.values())):
        fragments = _json_fragments(sub)
        if fragments is not None:
            keys = [json.dumps(k, ensure_ascii=False).replace("%", "%%") + ":%s" for k in sub.columns]
            template = '{"user":{' + ",".join(keys) + '},"system":{}}'
            return [template % row for row in zip(*fragments)]
    text = sub.to_json(orient="records", lines=True, date_format="iso", double_precision=15)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    nested = _check_key_paths(list(user_cols.values()))
    if base is None and not nested:
        return ['{"user":' + line + ',"system":{}}' for line in lines]
    out = []
    for i, line in enumerate(lines):
        user = json.loads(line)
        if nested:
            user = _nest(user)
        merged = jsonutil.merge_patch({"user": {}, "system": {}}, base[i] if base is not None else {})
        merged["user"] = jsonutil.merge_patch(merged.get("user", {}), user)
        out.append(jsonutil.dumps(merged))
    return out


def _check_key_paths(keys: builtins.list[str]) -> bool:
    """Whether dotted keys (``camera.model``) need nesting; refuse a key that is also a branch."""
    dotted = [k for k in keys if "." in k]
    branches = {k.rsplit(".", i)[0] for k in dotted for i in range(1, k.count(".") + 1)}
    clash = sorted(set(keys) & branches)
    if clash:
        raise ValidationError(f"user.{clash[0]} is both a value and a group of keys", "df", f"user.{clash[0]}")
    return bool(dotted)


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"camera.model": "X"}`` → ``{"camera": {"model": "X"}}``.

    >>> _nest({"camera.model": "X", "camera.iso": 100, "colour": "red"})
    {'camera': {'model': 'X', 'iso': 100}, 'colour': 'red'}
    """
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
    return out


def _guess_mimes(names: builtins.list[str]) -> builtins.list[str | None]:
    """Mime type from each name's extension (``'.jpg'`` → ``'image/jpeg'``), one guess per extension."""
    exts = [name[name.rfind("."):] for name in names]  # no '.' gives the last character: no guess
    table = {e: mimetypes.guess_type("x" + e)[0] if len(e) > 1 and e[0] == "." else None for e in set(exts)}
    return [table[e] for e in exts]


def _json_fragments(sub: pd.DataFrame) -> builtins.list[builtins.list[str]] | None:
    """Per column, each row's value as JSON text; ``None`` unless every column is plain.

    Plain means numpy bool/int/float (encoded by pandas' JSON writer, as the whole-frame
    path writes them) or pandas strings (the stdlib encoder, once per distinct value).
    Anything else takes the whole-frame path.
    """
    out = []
    for _, col in sub.items():
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf":
            values = col.to_json(orient="values", double_precision=15)  # type: ignore[call-overload]
            out.append(values[1:-1].split(","))
        elif isinstance(col.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(col)  # missing → -1 → the trailing "null"
            text = np.array([json.dumps(u, ensure_ascii=False) for u in uniques] + ["null"], dtype=object)
            out.append(text[codes].tolist())
        else:
            return None
    return out


def _result_frame(result: Any) -> pd.DataFrame:
    """A query result as a DataFrame, built column by column (lower peak memory than rows).

    The values come straight from the driver's cursor in chunks (SQLAlchemy ``Row``
    objects make ``pd.DataFrame(rows)`` several times slower); each column is inferred as
    ``pd.DataFrame(rows)`` would infer it.
    """
    names = builtins.list(result.keys())
    cursor = getattr(result, "cursor", None)
    fetch = cursor.fetchmany if cursor is not None else result.fetchmany
    columns: builtins.list[builtins.list[Any]] = [[] for _ in names]
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived row tuples would trigger full collections again and again
    try:
        while True:
            chunk = fetch(50_000)
            if not chunk:
                break
            for acc, values in zip(columns, zip(*chunk)):
                acc.extend(values)
    finally:
        if collecting:
            gc.enable()
    result.close()
    if not columns or not columns[0]:
        return pd.DataFrame([], columns=names)
    data = {}
    for name in names:
        data[name] = pd.Series(columns.pop(0), name=name)
    return pd.DataFrame(data)
