"""Boxes and polygons as arrays: IoU, a content key, and the shape rows of an answers frame in order.

The shape rows are sorted by item, label and worker (radix passes over one integer key), so each
(item, label, worker) is a run, a *block*, and each (item, label) a *group*.

Examples
--------
>>> import numpy as np
>>> box_iou((np.array([0.0]), np.array([0.0]), np.array([2.0]), np.array([2.0])),
...         (np.array([0.0]), np.array([0.0]), np.array([2.0]), np.array([1.0]))).tolist()
[0.5]
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dltasks.agreement._arrays import stable_order
from dltasks.agreement._frame import Answers, Uniques, as_index, floats, given_labels
from dltasks.errors import ValidationError

__all__ = ["EPS", "Geometry", "Shapes", "encode_shapes", "box_iou", "content_key"]

#: IoU is compared with the threshold up to this rounding.
EPS = 1e-9
_WEIGHTS = np.array([1.0, 1.6180339887498949, 2.718281828459045, 3.141592653589793])


@dataclass(frozen=True)
class Geometry:
    """Boxes (``left``..``bottom``) or polygons (``geoms``, with their bounds in ``left``..``bottom``)."""

    left: np.ndarray
    top: np.ndarray
    right: np.ndarray
    bottom: np.ndarray
    area: np.ndarray
    geoms: np.ndarray | None = None

    def take(self, index: np.ndarray) -> Geometry:
        left, top, right, bottom = self.left[index], self.top[index], self.right[index], self.bottom[index]
        if self.geoms is None:  # a box's area again, rather than one more gather
            return Geometry(left, top, right, bottom, (right - left) * (bottom - top))
        return Geometry(left, top, right, bottom, self.area[index], self.geoms[index])

    def matches(self, a: np.ndarray, b: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pairs ``a[i]``, ``b[i]`` with IoU >= threshold, and their IoU.

        Pairs whose bounding boxes do not overlap left to right are dropped before anything else.
        """
        width = np.minimum(self.right[a], self.right[b])
        width -= np.maximum(self.left[a], self.left[b])
        hit = np.flatnonzero(width > 0)
        a, b = a[hit], b[hit]
        iou = self.iou(a, b, threshold)
        keep = np.flatnonzero((iou >= threshold - EPS) & (iou > 0))  # shapes that only touch never match
        return a[keep], b[keep], iou[keep]

    def iou(self, a: np.ndarray, b: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """IoU of shapes ``a[i]`` and ``b[i]``.  With ``threshold``, polygon pairs whose bounding boxes
        rule out that IoU are not intersected exactly and get IoU 0."""
        area_a, area_b = self.area[a], self.area[b]
        inter = _overlap(self.left[a], self.top[a], self.right[a], self.bottom[a],
                         self.left[b], self.top[b], self.right[b], self.bottom[b])
        if self.geoms is not None:
            import shapely

            bound = np.minimum(inter, np.minimum(area_a, area_b))  # the largest the intersection can be
            exact = bound > 0
            if threshold is not None:
                exact &= bound >= (threshold - EPS) * (area_a + area_b - bound)
            inter = np.zeros(len(a))
            pick = np.flatnonzero(exact)
            inter[pick] = shapely.area(shapely.intersection(self.geoms[a[pick]], self.geoms[b[pick]]))
        return _ratio(inter, area_a, area_b)


def _overlap(la: np.ndarray, ta: np.ndarray, ra: np.ndarray, ba: np.ndarray,
             lb: np.ndarray, tb: np.ndarray, rb: np.ndarray, bb: np.ndarray) -> np.ndarray:
    width = np.minimum(ra, rb)
    width -= np.maximum(la, lb)
    np.maximum(width, 0, out=width)
    height = np.minimum(ba, bb)
    height -= np.maximum(ta, tb)
    np.maximum(height, 0, out=height)
    width *= height
    return width


def _ratio(inter: np.ndarray, area_a: np.ndarray, area_b: np.ndarray) -> np.ndarray:
    """IoU from the intersection and the areas (0 when both areas are 0); symmetric in a and b."""
    union = area_a + area_b
    union -= inter
    out = np.zeros(len(inter))
    np.divide(inter, union, out=out, where=union > 0)
    return out


def box_iou(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> np.ndarray:
    """IoU of boxes given as ``(left, top, right, bottom)`` arrays.

    >>> box_iou((np.array([0.0]), np.array([0.0]), np.array([2.0]), np.array([1.0])),
    ...         (np.array([1.0]), np.array([0.0]), np.array([3.0]), np.array([1.0]))).round(4).tolist()
    [0.3333]
    """
    inter = _overlap(*a, *b)
    return _ratio(inter, (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))


def content_key(geometry: Geometry) -> np.ndarray:
    """One float per shape that orders shapes by content (boxes: coordinates; polygons: bounds, area,
    centroid): equal shapes get equal keys, different ones almost surely different keys."""
    key = geometry.left * _WEIGHTS[0]
    for side, weight in zip((geometry.top, geometry.right, geometry.bottom), _WEIGHTS[1:]):
        key += side * weight
    if geometry.geoms is not None:
        import shapely

        centroid = shapely.get_coordinates(shapely.centroid(geometry.geoms))
        key += geometry.area * 0.5772156649015329 + centroid @ np.array([1.4142135623730951, 1.7320508075688772])
    return key


# --------------------------------------------------------------------------- the shape rows


@dataclass(frozen=True)
class Shapes:
    """The shape rows of an answers frame in canonical order (see the module docstring).

    ``row`` is each shape's position in the frame; ``block`` numbers the (item, label, worker)
    runs and ``group`` the (item, label) runs; per block, ``block_start`` / ``block_end`` are its
    first position and the one after its last; per group, ``group_start_block`` is its first block.
    ``key`` is each shape's :func:`content_key`.
    """

    kind: str
    label_values: Uniques
    row: np.ndarray
    item: np.ndarray
    label: np.ndarray
    worker: np.ndarray
    geometry: Geometry
    key: np.ndarray
    block: np.ndarray
    block_start: np.ndarray
    block_end: np.ndarray
    group: np.ndarray
    group_start_block: np.ndarray

    def __len__(self) -> int:
        return len(self.row)

    @functools.cached_property
    def labels(self) -> pd.Index:
        """The labels, by code."""
        return as_index(self.label_values, "label")


def encode_shapes(enc: Answers) -> Shapes:
    """Check the shape rows of an encoded box / polygon frame and put them in canonical order."""
    kind = enc.annotation_type
    rows, label, labels = given_labels(enc)
    geometry = _boxes(enc, rows) if kind == "box" else _polygons(enc, rows)
    item, worker = enc.item[rows], enc.worker[rows]
    n_labels, n_workers = np.int64(max(len(labels), 1)), np.int64(max(len(enc.worker_values), 1))
    if enc.n_items * int(n_labels) * int(n_workers) < 2**48:
        block_key = (item * n_labels + label) * n_workers + worker
        order = stable_order(block_key)  # a few linear radix passes
        rest, worker_key = np.divmod(block_key[order], n_workers)
        del block_key
        item_key, label_key = np.divmod(rest, n_labels)
        item, label, worker = item_key.astype(np.int32), label_key.astype(np.int32), worker_key.astype(np.int32)
    else:  # too many ids to pack in one integer
        order = np.lexsort((worker, label, item))
        item, label, worker = item[order], label[order], worker[order]
    rows = rows[order].astype(np.int32)
    geometry = geometry.take(order)
    n = len(rows)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (item[1:] != item[:-1]) | (label[1:] != label[:-1])
    new_block = new_group.copy()
    new_block[1:] |= worker[1:] != worker[:-1]
    block = (np.cumsum(new_block) - 1).astype(np.int32)
    group = (np.cumsum(new_group) - 1).astype(np.int32)
    block_start = np.flatnonzero(new_block)
    block_end = np.append(block_start[1:], n)
    group_start_block = block[np.flatnonzero(new_group)]
    return Shapes(kind, labels, rows, item, label, worker, geometry, content_key(geometry), block, block_start,
                  block_end, group, group_start_block)


def _boxes(enc: Answers, rows: np.ndarray) -> Geometry:
    values = [floats(enc.columns[field], field, rows, enc) for field in ("left", "top", "right", "bottom")]
    left, top, right, bottom = values
    for low, high, field_low, field_high in ((left, right, "left", "right"), (top, bottom, "top", "bottom")):
        bad = np.flatnonzero(high <= low)
        if len(bad):
            at = int(bad[0])
            raise ValidationError(f"must be greater than {field_low}={low[at]!r} ({enc.where(int(rows[at]))})",
                                  field=field_high, value=float(high[at]))
    return Geometry(left, top, right, bottom, (right - left) * (bottom - top))


def _polygons(enc: Answers, rows: np.ndarray) -> Geometry:
    import shapely

    points, lengths = [], np.zeros(len(rows), dtype=np.int64)
    for i, (row, geo) in enumerate(zip(rows, enc.values("geo")[rows])):
        try:
            array = np.asarray(geo, dtype=float)
        except (TypeError, ValueError):
            array = np.zeros((0, 0))
        if array.ndim != 2 or array.shape[1] != 2 or len(array) < 3:
            raise ValidationError(f"must be a list of at least 3 [x, y] points ({enc.where(int(row))})",
                                  field="geo", value=geo)
        if not np.isfinite(array).all():
            raise ValidationError(f"points must be finite numbers ({enc.where(int(row))})", field="geo", value=geo)
        points.append(array)
        lengths[i] = len(array)
    if not len(rows):
        geoms = np.zeros(0, dtype=object)
    else:
        rings = shapely.linearrings(np.concatenate(points), indices=np.repeat(np.arange(len(rows)), lengths))
        geoms = shapely.polygons(rings)
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():  # a self-crossing outline: the area it encloses
            geoms[invalid] = shapely.make_valid(geoms[invalid])
    bounds = shapely.bounds(geoms).reshape(-1, 4)
    return Geometry(bounds[:, 0], bounds[:, 1], bounds[:, 2], bounds[:, 3], shapely.area(geoms), geoms)
