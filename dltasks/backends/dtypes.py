"""The dtypes of a frame read's columns: one rule for a whole read and for a read joined from pages.

A frame read (items, labels, assignments, …) types each column as pandas infers it from the
values the database driver gave (:func:`column_of`: whole numbers → int64, numbers with a
missing value → float64 with NaN, text → ``str``, anything mixed → object with ``None``).
A read that travels in pages (``dltasks serve`` sends at most a page) is typed page by page,
so one metadata key can come as float64 on one page and as object or ``str`` on the next.
:func:`join_pages` joins the pages into the frame one read of all the rows gives: a column
typed alike on every page is joined as it is (no extra work), the others are typed again by
the same rule from the values their pages stand for.

One limit: a float64 page cannot say which of its numbers were whole numbers (``1`` and
``1.0`` are both 1.0 there), so in a column that ends up object they come back as floats
(equal to the ints, but of type float).

Examples
--------
>>> import pandas as pd
>>> numbers = pd.DataFrame({"v": column_of([2.5, None])})    # float64 with NaN
>>> text = pd.DataFrame({"v": column_of(["b", None])})       # str
>>> joined = join_pages([numbers, text])
>>> joined["v"].tolist(), joined["v"].dtype
([2.5, None, 'b', None], dtype('O'))
>>> joined["v"].equals(column_of([2.5, None, "b", None], name="v"))
True
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["column_of", "join_pages", "join_column", "driver_values"]


def column_of(values: list[Any], name: Any = None) -> pd.Series:
    """A column of a read's values (Python objects from the driver) with the dtype pandas infers.

    This is how every frame read types its columns (``sql.frames.result_frame`` column by
    column; ``records_frame``'s ``DataFrame.from_records`` infers each column alike).

    >>> [str(column_of(v).dtype) for v in ([1, 2], [1, None], ["a", None], [True, None], [1, "a"], [None])]
    ['int64', 'float64', 'str', 'object', 'object', 'object']
    """
    return pd.Series(values, name=name)


def _dtypes_agree(a: Any, b: Any) -> bool:
    return bool(a == b) and str(a) == str(b)  # str: categoricals of other categories are not alike


def join_pages(pages: list[pd.DataFrame]) -> pd.DataFrame:
    """The pages of one read (each typed by its own rows) as the frame one read of all the rows gives.

    Columns whose dtype is the same on every page are concatenated as they are; each other
    column is joined by :func:`join_column`.

    >>> a = pd.DataFrame({"id": [1, 2], "v": [None, None]})
    >>> b = pd.DataFrame({"id": [3, 4], "v": [1.5, None]})
    >>> joined = join_pages([a, b])
    >>> joined.dtypes.astype(str).tolist(), joined["v"].tolist()[1:3]
    (['int64', 'float64'], [nan, 1.5])
    """
    if len(pages) == 1:
        return pages[0]
    joined = pd.concat(pages, ignore_index=True)
    if any(page.shape[1] != joined.shape[1] or not page.columns.equals(joined.columns) for page in pages):
        return joined  # not pages of one read: nothing to type again
    firsts = list(pages[0].dtypes)
    others = [list(page.dtypes) for page in pages[1:]]
    for i, dtype in enumerate(firsts):
        if not all(_dtypes_agree(dtypes[i], dtype) for dtypes in others):
            joined.isetitem(i, join_column([page.iloc[:, i] for page in pages]))
    return joined


def join_column(parts: list[pd.Series]) -> pd.Series:
    """One column of a read from its pages' parts, typed as one read of all its values would be.

    The parts that hold values decide: when they share a pandas extension dtype (``str``,
    ``boolean``: a type a store gave the column after inference, as SQLite items turn their
    1/0 back into JSON's true/false), the parts without values take it; otherwise the values
    the parts stand for (:func:`driver_values`) are typed again by :func:`column_of`.

    >>> join_column([pd.Series([1, 2]), pd.Series([2.5, None])]).tolist()
    [1.0, 2.0, 2.5, nan]
    >>> join_column([pd.Series([True, None], dtype="boolean"), pd.Series([None], dtype=object)]).tolist()
    [True, <NA>, <NA>]
    >>> join_column([pd.Series([1, None]), pd.Series(["a"])]).tolist()
    [1.0, None, 'a']
    """
    name = parts[0].name
    holding: list[Any] = []
    for part in parts:
        if part.notna().any() and not any(_dtypes_agree(part.dtype, d) for d in holding):
            holding.append(part.dtype)
    if len(holding) == 1 and not isinstance(holding[0], np.dtype):
        dtype = holding[0]
        same = [part if _dtypes_agree(part.dtype, dtype) else part.astype(dtype) for part in parts]
        return pd.concat(same, ignore_index=True).rename(name)
    values = np.concatenate([driver_values(part) for part in parts])
    return column_of(values.tolist(), name=name)


def driver_values(part: pd.Series) -> np.ndarray:
    """The values a typed column stands for, as the database driver gave them (an object array).

    A missing value is ``None`` (the driver's NULL; a float64 or ``str`` column shows it as
    NaN), and a ``boolean`` column's values are 1 and 0: only SQLite items have such columns,
    their JSON true/false that SQLite's ``json_extract`` gives as 1/0.

    >>> driver_values(pd.Series([1.5, None])).tolist(), driver_values(pd.Series(["a", None])).tolist()
    ([1.5, None], ['a', None])
    >>> driver_values(pd.Series([True, False, None], dtype="boolean")).tolist()
    [1, 0, None]
    """
    values = part.to_numpy(dtype=object)  # a copy: Python ints, floats, str, bool
    if part.dtype == object:
        return values
    missing = part.isna().to_numpy()
    if str(part.dtype) == "boolean":
        values[~missing] = [int(v) for v in values[~missing]]
    values[missing] = None
    return values
