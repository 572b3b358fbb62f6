"""Item rows as users give them (a DataFrame, a metadata patch, an edited item), checked and made ready to store.

:func:`item_rows` checks an import frame and turns it into :class:`ItemRows`, vectorised
where it counts (a million rows is the common case): names, folders, paths, mime types,
sizes and one JSON metadata text per row.  The SDK runs it before sending anything; the
server runs it again on the decoded frame.

Examples
--------
>>> import pandas as pd
>>> rows = item_rows(pd.DataFrame({"name": ["a.jpg"], "dir": ["train/"], "user.colour": ["red"]}))
>>> rows.filenames, rows.metadata, rows.keys
(['/train/a.jpg'], ['{"user":{"colour":"red"},"system":{}}'], ['user.colour'])
"""
from __future__ import annotations

import itertools
import json
import mimetypes
import posixpath
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np
import pandas as pd

from dltasks import jsonutil
from dltasks.domain.checks import MAX_TEXT
from dltasks.domain.values import MAX_INT, MAX_METADATA_BYTES, check_key, check_text, text_problem
from dltasks.errors import ValidationError

__all__ = ["ItemRows", "ItemEdit", "item_rows", "normalise_dir", "item_filename", "check_update_values", "check_item_edit",
           "ITEM_COLUMNS"]

#: The columns an import frame may have, besides ``user.<key>`` / ``metadata.user.<key>``.
ITEM_COLUMNS = ("name", "dir", "filename", "path", "url", "mime", "size", "metadata")
_USER_PREFIXES = ("metadata.user.", "user.")


@dataclass
class ItemRows:
    """An import frame after :func:`item_rows`: one stored item per row, in row order.

    ``source`` is the frame as given (what travels to a server, which checks it again);
    ``keys`` the user metadata paths the rows write (``'user.colour'``).
    """

    source: pd.DataFrame
    names: list[str]
    dirs: list[str]
    filenames: list[str]
    paths: list[Any]
    mimes: list[Any]
    sizes: list[Any]
    metadata: list[str]
    keys: list[str]

    def __len__(self) -> int:
        return len(self.names)

    def tuples(self, dataset_id: str, created_at: float) -> Iterator[tuple[Any, ...]]:
        """Insert tuples: dataset_id, name, dir, filename, path, mime, size, metadata, created_at."""
        n = len(self.names)
        return zip(itertools.repeat(dataset_id, n), self.names, self.dirs, self.filenames, self.paths, self.mimes,
                   self.sizes, self.metadata, itertools.repeat(created_at, n))


@dataclass
class ItemEdit:
    """An item's editable fields after :func:`check_item_edit`: name, folder, metadata (as JSON text too)."""

    name: str
    dir: str
    filename: str
    metadata: dict[str, Any]
    metadata_json: str
    keys: list[str]


def normalise_dir(remote_path: Any, field: str = "remote_path") -> str:
    """``'train/'`` → ``'/train'``; ``'/'`` stays ``'/'``.

    >>> normalise_dir("train/cats/")
    '/train/cats'
    """
    if not isinstance(remote_path, str) or not remote_path.strip():
        raise ValidationError("must be a folder path like '/' or '/train'", field, remote_path)
    check_text(remote_path, field)
    d = posixpath.normpath("/" + remote_path.strip().strip("/"))
    return "/" if d in ("/", "//") else d


def item_filename(d: str, name: str) -> str:
    """The filename of ``name`` in folder ``d``: ``('/train', 'a.jpg')`` → ``'/train/a.jpg'``."""
    return ("" if d == "/" else d) + "/" + name


def check_update_values(update_values: Any, field: str = "update_values") -> dict[str, Any]:
    """A bulk metadata patch: ``{'user': {...}}`` (merge-patch rules: ``None`` removes a key)."""
    if not isinstance(update_values, dict) or not update_values:
        raise ValidationError("must be a dict like {'user': {...}}", "update_values", update_values)
    extra = set(update_values) - {"user"}
    if extra:
        raise ValidationError("only metadata['user'] can be updated in bulk ('system' is dltasks-owned)",
                              "update_values", sorted(extra))
    if not isinstance(update_values["user"], dict):
        raise ValidationError("update_values['user'] must be a dict", "update_values", update_values["user"])
    jsonutil.dumps(update_values, "update_values", max_bytes=MAX_METADATA_BYTES)
    return update_values


def check_item_edit(name: Any, dir: Any, metadata: Any) -> ItemEdit:
    """Check an item's new name, folder and metadata (``item.update()``)."""
    if not isinstance(metadata, dict) or not isinstance(metadata.get("user", {}), dict):
        raise ValidationError("metadata must be a dict with a dict under 'user'", "metadata", metadata)
    text = jsonutil.dumps(metadata, "metadata", max_bytes=MAX_METADATA_BYTES)
    d = normalise_dir(dir, "dir")
    if not isinstance(name, str) or not name or "/" in name or len(name) > MAX_TEXT:
        raise ValidationError("must be a non-empty file name without '/'", "name", name)
    check_text(name, "name")
    keys = [f"user.{p}" for p in jsonutil.leaf_paths(metadata.get("user") or {})]
    return ItemEdit(name=name, dir=d, filename=item_filename(d, name), metadata=metadata, metadata_json=text, keys=keys)


def item_rows(df: Any, field: str = "df") -> ItemRows:
    """Check an import frame (``dataset.items.import_df``) and make its rows ready to store.

    Columns: ``name`` (required), ``dir`` (default ``'/'``), ``path`` or ``url``, ``mime``,
    ``size``, ``metadata`` (dicts, merged as the item's metadata), and any number of
    ``user.<key>`` / ``metadata.user.<key>`` columns that become ``metadata['user'][key]``.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValidationError("must be a pandas DataFrame", field, type(df).__name__)
    duplicated = df.columns[df.columns.duplicated()]
    if len(duplicated):
        raise ValidationError("two columns have the same name", field, duplicated[0])
    user_cols = {c: c.split(".", 2)[-1] if c.startswith("metadata.user.") else c[5:]
                 for c in df.columns if isinstance(c, str) and c.startswith(_USER_PREFIXES)}
    unknown = [c for c in df.columns if c not in ITEM_COLUMNS and c not in user_cols]
    if unknown:
        raise ValidationError("unknown column; use name, dir, path, url, mime, size, metadata "
                              "or user.<key>", field, unknown[0])
    if "name" not in df.columns:
        raise ValidationError("the frame needs a 'name' column", field, list(df.columns))
    same = [c for c in user_cols if list(user_cols.values()).count(user_cols[c]) > 1]
    if same:
        raise ValidationError("two columns write the same metadata key", field, same[0])
    for column, key in user_cols.items():
        for part in key.split("."):
            check_key(part, "metadata", column)
    n = len(df)
    names = df["name"]
    if names.isna().any() or pd.api.types.infer_dtype(names, skipna=False) != "string":  # every row, in C
        not_str = (names.isna() | ~names.map(lambda v: isinstance(v, str))).to_numpy()
        pos = int(np.argmax(not_str))
        raise ValidationError(f"row {pos}: every row needs a name (a string)", "name", names.iloc[pos])
    _check_strings(names, "name")
    names = names.astype(str)
    bad = names.str.contains("/", regex=False) | (names.str.len() == 0)
    if bad.any():
        raise ValidationError("names must be non-empty and contain no '/'", "name", names[bad].iloc[0])
    if "dir" in df.columns:
        dirs = df["dir"].fillna("/")
        uniq = {d: normalise_dir(d, "dir") for d in dirs.unique()}
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
    _check_sizes(meta)
    none = [None] * n
    codes, folders = pd.factorize(dirs)  # few distinct folders: one str object each
    keys = [f"user.{k}" for k in user_cols.values()]
    if "metadata" in df.columns:
        keys += sorted({f"user.{p}" for m in df["metadata"] if isinstance(m, dict)
                        for p in jsonutil.leaf_paths(m.get("user") or {})})
    return ItemRows(source=df, names=name_list, dirs=np.asarray(folders, dtype=object)[codes].tolist(),
                    filenames=filenames.tolist(), paths=_text_or_none(path, none, "path"),
                    mimes=mimes if mimes is not None else _text_or_none(mime, none, "mime"),
                    sizes=_sizes(size, none), metadata=meta, keys=keys)


def _check_strings(values: pd.Series, field: str) -> None:
    """Every string can be stored (UTF-8, no NUL), checked in bulk; rows looked at only on failure.

    Arrow-backed strings are valid UTF-8 by construction: only NUL needs looking for.
    """
    if isinstance(values.dtype, pd.StringDtype):
        if not values.str.contains("\x00", regex=False).any():
            return
    else:
        joined = "".join(values.tolist())
        if "\x00" not in joined and text_problem(joined) is None:
            return
    for i, v in enumerate(values.tolist()):
        problem = text_problem(v) if isinstance(v, str) else None
        if problem is not None:
            raise ValidationError(f"row {i}: {problem}", field, v)


def _text_or_none(col: pd.Series | None, none: list[None], field: str) -> list[Any]:
    """A text column (``path``, ``mime``): each value a string or missing."""
    if col is None:
        return none
    present = col.notna().to_numpy()
    if not isinstance(col.dtype, pd.StringDtype) and \
            pd.api.types.infer_dtype(col[present], skipna=True) not in ("string", "empty"):
        pos = int(np.argmax(present & ~col.map(lambda v: isinstance(v, str)).to_numpy()))
        raise ValidationError(f"row {pos}: must be a string or missing", field, col.iloc[pos])
    _check_strings(col[present], field)
    return col.astype(object).where(present, None).tolist()


def _sizes(col: pd.Series | None, none: list[None]) -> list[Any]:
    """File sizes: whole numbers of bytes from 0 to 2**63 - 1, or missing."""
    if col is None:
        return none
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iu":  # no missing values, whole already
        bad = (col.to_numpy() < 0) | (col.to_numpy() > MAX_INT if col.dtype.kind == "u" else False)
        if not bad.any():
            return col.tolist()
    else:
        numbers = pd.to_numeric(col, errors="coerce")
        given = col.notna().to_numpy()
        filled = numbers.fillna(0).to_numpy(dtype=float)
        bad = given & (numbers.isna().to_numpy() | (filled < 0) | (filled != np.round(filled)) | (filled > MAX_INT))
        if not bad.any():
            return [None if v != v else int(v) for v in numbers.tolist()]
    pos = int(np.argmax(bad))
    raise ValidationError(f"row {pos}: a size is a whole number of bytes from 0 to {MAX_INT}", "size",
                          col.iloc[pos])


def _check_sizes(texts: list[str]) -> None:
    """Each row's metadata is at most MAX_METADATA_BYTES of JSON."""
    limit = MAX_METADATA_BYTES // 4  # a character is at most 4 bytes: shorter texts need no encoding
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    for i in np.flatnonzero(lengths > limit).tolist():
        jsonutil.check_size(texts[i], "metadata", MAX_METADATA_BYTES, f"row {i}: ")


def _metadata_json(df: pd.DataFrame, user_cols: dict[str, str]) -> list[str]:
    """One JSON text per row: ``{"user": {...}, "system": {}}`` (pandas' C JSON writer)."""
    n = len(df)
    base: list[dict[str, Any]] | None = None
    if "metadata" in df.columns:
        base = []
        for i, m in enumerate(df["metadata"].tolist()):
            if m is None or (isinstance(m, float) and m != m):
                m = {}
            if not isinstance(m, dict) or not isinstance(m.get("user", {}), dict):
                raise ValidationError(f"row {i}: metadata must be a dict (with a dict under 'user')", "metadata", m)
            jsonutil.check_jsonable(m, "metadata", f"row {i}")
            base.append(m)
    if not user_cols:
        if base is None:
            return ['{"user":{},"system":{}}'] * n
        return [jsonutil.dumps({"user": {}, "system": {}} | m) for m in base]
    sub = df[list(user_cols)].rename(columns=user_cols)
    for c in sub.columns:
        _check_user_column(sub[c], c)
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


def _check_user_column(col: pd.Series, key: str) -> None:
    """A ``user.<key>`` column's values can be stored as JSON (strings checked all at once)."""
    if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
        present = col[col.notna()]
        if pd.api.types.infer_dtype(present, skipna=True) == "string":
            _check_strings(present, f"user.{key}")
            return
        for i, v in enumerate(col.tolist()):
            if v is not None and not (isinstance(v, float) and v != v):
                jsonutil.check_jsonable(v, "metadata", f"row {i}: user.{key}")
    elif col.dtype.kind == "f" and np.isinf(col.to_numpy()).any():
        pos = int(np.argmax(np.isinf(col.to_numpy())))
        raise ValidationError(f"row {pos}: user.{key} is not a finite number", "metadata", col.iloc[pos])
    elif col.dtype.kind == "u" and len(col) and int(col.max()) > MAX_INT:
        pos = int(np.argmax(col.to_numpy() > MAX_INT))
        raise ValidationError(f"row {pos}: user.{key} is a whole number beyond 64 bits", "metadata", col.iloc[pos])


def _check_key_paths(keys: list[str]) -> bool:
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


def _guess_mimes(names: list[str]) -> list[str | None]:
    """Mime type from each name's extension (``'.jpg'`` → ``'image/jpeg'``), one guess per extension."""
    exts = [name[name.rfind("."):] for name in names]  # no '.' gives the last character: no guess
    table = {e: mimetypes.guess_type("x" + e)[0] if len(e) > 1 and e[0] == "." else None for e in set(exts)}
    return [table[e] for e in exts]


def _json_fragments(sub: pd.DataFrame) -> list[list[str]] | None:
    """Per column, each row's value as JSON text; ``None`` unless every column is plain.

    Plain means numpy bool/int/float (encoded by pandas' JSON writer, as the whole-frame
    path writes them) or pandas strings (the stdlib encoder, once per distinct value).
    Anything else takes the whole-frame path.
    """
    out = []
    for _, col in sub.items():
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf":
            values = col.to_json(orient="values", double_precision=15)
            out.append(values[1:-1].split(","))
        elif isinstance(col.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(col)  # missing → -1 → the trailing "null"
            text = np.array([json.dumps(u, ensure_ascii=False) for u in uniques] + ["null"], dtype=object)
            out.append(text[codes].tolist())
        else:
            return None
    return out

