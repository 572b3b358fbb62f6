"""Shapes matched across workers: IoU over every (item, label, worker pair) block at once.

The shapes of an answers frame are sorted by item, label and worker (radix passes over one integer
key), so each (item, label, worker) is a run, a *block*.  The candidate pairs are every two shapes
of one (item, label) by two different workers; their IoU is computed with numpy over all blocks in
chunks of :data:`CHUNK` pairs (pairs whose boxes do not overlap left to right dropped first), and
only pairs with IoU >= the threshold (up to :data:`EPS`) are kept.

Within a (item, label, worker pair) block the matching is the optimal assignment (maximum total IoU
over candidate pairs).  When each shape of the block has at most one candidate, the candidates are
that assignment; only the other (*ambiguous*) blocks go through
``scipy.optimize.linear_sum_assignment``, one call per block.  Matched pairs are edges; clusters are
the connected components.  A component holding two shapes of one worker (matches that chain A1-B1,
B1-C1, C1-A2) is split greedily: its edges by decreasing IoU, each kept unless it would join two
shapes of one worker.

Nothing depends on row order or on worker names: wherever a tie could go either way (the
orientation and row order of an ambiguous block, a star's best candidate, the order a chain is
split in, a polygon cluster's representative) it is broken by shape content (:func:`content_key`),
and means of IoUs are summed exactly (``mean_by``).  What is left is which of two equal shapes of
one worker is matched.

Examples
--------
>>> import pandas as pd
>>> from dltasks.agreement._frame import encode_answers
>>> frame = pd.DataFrame({"item_id": 1, "worker": ["a", "b", "c"], "kind": "box", "label": "car",
...                       "left": [0.0, 1.0, 50.0], "top": 0.0, "right": [10.0, 11.0, 60.0], "bottom": 10.0})
>>> shapes = encode_shapes(encode_answers(frame, "box"))
>>> cluster, n_clusters, _ = match_clusters(shapes, 0.5)
>>> cluster.tolist()  # rows in canonical order: a's box, b's box, c's box
[0, 0, 1]
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from dltasks.agreement._frame import (SMALL, Answers, Uniques, as_index, concat_ranges, floats, given_labels,
                                      stable_order)
from dltasks.errors import ValidationError

__all__ = ["CHUNK", "EPS", "Geometry", "Shapes", "encode_shapes", "box_iou", "match_clusters", "content_key"]

#: Candidate pairs whose IoU is computed in one numpy pass (bounds the memory of matching).
CHUNK = 1 << 18
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


# --------------------------------------------------------------------------- encoding


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


# --------------------------------------------------------------------------- matching


def match_clusters(shapes: Shapes, iou_threshold: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Cluster id per shape, the number of clusters, and the shapes ordered by cluster.

    Cluster ids follow the shapes' order (a cluster's id is smaller than any later cluster's), but
    for the pieces of a split chain, which come last; within a cluster, shapes keep their order.
    """
    a, b, iou = _candidates(shapes, iou_threshold)
    a, b, iou = _assign(shapes, a, b, iou)
    n, cluster, members = _components(len(shapes), a, b)
    twice = _shared_worker(shapes, cluster, members)
    if len(twice):
        keep = np.ones(len(a), dtype=bool)
        for edges in _edges_by_cluster(cluster[a], twice):
            keep[edges] = _greedy(shapes, a[edges], b[edges], iou[edges])
        n, cluster, members = _split(cluster, n, members, twice, a[keep], b[keep])
    return cluster, n, members


def _split(cluster: np.ndarray, n: int, members: np.ndarray, clusters: np.ndarray, a: np.ndarray, b: np.ndarray
           ) -> tuple[int, np.ndarray, np.ndarray]:
    """Split ``clusters`` into the components of the edges ``a``-``b`` kept in them.

    The piece holding a cluster's first shape keeps its id; the other pieces get new ids after
    ``n``, in the order of their first shape, and go last in ``members``.
    """
    inside = np.isin(cluster, clusters)
    nodes = np.flatnonzero(inside)
    edge = inside[a]
    piece = _small_components(len(nodes), np.searchsorted(nodes, a[edge]).tolist(),
                              np.searchsorted(nodes, b[edge]).tolist())
    cluster = cluster.copy()
    seen: set[int] = set()
    new_id: dict[int, int] = {}
    for node, p in zip(nodes.tolist(), piece.tolist()):
        if p in new_id:
            cluster[node] = new_id[p]
            continue
        old = int(cluster[node])
        new_id[p] = old if old not in seen else n + len(new_id) - len(seen)
        seen.add(old)
        cluster[node] = new_id[p]
    fresh = cluster >= n
    moved = np.flatnonzero(fresh)
    moved = moved[np.argsort(cluster[moved], kind="stable")]
    return int(cluster.max()) + 1, cluster, np.concatenate([members[~fresh[members]], moved]).astype(members.dtype)


def _candidates(shapes: Shapes, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every two shapes of one (item, label) by different workers with IoU >= threshold.

    A shape is paired with the shapes of the later workers of its group, :data:`CHUNK` pairs at a time.
    """
    group_end = np.append(shapes.block_start[shapes.group_start_block[1:]], len(shapes))[shapes.group]
    count = group_end - shapes.block_end[shapes.block]
    cumulative = np.cumsum(count)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    start, n = 0, len(count)
    while start < n:
        base = int(cumulative[start - 1]) if start else 0
        stop = min(max(int(np.searchsorted(cumulative, base + CHUNK, side="right")), start + 1), n)
        lengths = count[start:stop]
        a = np.repeat(np.arange(start, stop), lengths)
        b = concat_ranges(shapes.block_end[shapes.block[start:stop]], lengths)
        a, b, iou = shapes.geometry.matches(a, b, threshold)
        found.append((a.astype(np.int32), b.astype(np.int32), iou))
        start = stop
    if len(found) == 1:
        return found[0]
    if not found:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, np.zeros(0)
    return (np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found]),
            np.concatenate([f[2] for f in found]))


def _assign(shapes: Shapes, a: np.ndarray, b: np.ndarray, iou: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The optimal assignment of every worker-pair block: its candidates where they form one already.

    Candidates come ordered by ``a`` then ``b``.  A block is ambiguous when a shape has two
    candidates in it; one where a single shape of either side has several (a star) takes its best
    candidate; the others go through ``linear_sum_assignment``.
    """
    if not len(a):
        return a, b, iou
    block_a, block_b = shapes.block[a], shapes.block[b]
    ambiguous = np.zeros(len(a), dtype=bool)
    twice = (a[1:] == a[:-1]) & (block_b[1:] == block_b[:-1])  # one `a`, two `b`s of one worker
    ambiguous[1:] |= twice
    ambiguous[:-1] |= twice
    rank = block_a - shapes.group_start_block[shapes.group[a]]  # one `b`, two `a`s of one worker
    width = int(rank.max()) + 1
    if len(shapes) * width <= 1 << 25:
        slot = b.astype(np.int64) * width + rank
        ambiguous |= np.bincount(slot, minlength=len(shapes) * width)[slot] > 1
    else:
        slot = b.astype(np.int64) * len(shapes.block_start) + block_a
        order = np.argsort(slot, kind="stable")
        same = slot[order][1:] == slot[order][:-1]
        ambiguous[order[1:][same]] = True
        ambiguous[order[:-1][same]] = True
    if not ambiguous.any():
        return a, b, iou
    pair_key = block_a.astype(np.int64) * len(shapes.block_start) + block_b
    # every candidate of a block pair with an ambiguous one: through a table of (block_a, rank of block_b)
    rank_b = block_b - shapes.group_start_block[shapes.group[b]]
    width_b = int(rank_b.max()) + 1
    slot = block_a.astype(np.int64) * width_b + rank_b
    if len(shapes.block_start) * width_b <= 1 << 26:
        table = np.zeros(len(shapes.block_start) * width_b, dtype=bool)
        table[slot[ambiguous]] = True
        ambiguous = table[slot]
    else:
        ambiguous = np.isin(pair_key, pair_key[ambiguous])
    index = np.flatnonzero(ambiguous)
    index = index[np.argsort(pair_key[index], kind="stable")]  # runs of one block pair, by a then b
    starts = np.flatnonzero(np.r_[True, pair_key[index][1:] != pair_key[index][:-1]])
    one_a = a[index][starts] == a[index][np.r_[starts[1:], len(index)] - 1]
    b_of = b[index]
    one_b = np.minimum.reduceat(b_of, starts) == np.maximum.reduceat(b_of, starts)
    star = np.repeat(one_a | one_b, np.diff(np.r_[starts, len(index)]))
    chosen = [_best_of_stars(shapes, index[star], pair_key, a, b, iou),
              _solve_blocks(shapes, index[~star], pair_key, a, b, iou)]
    keep = np.concatenate([np.flatnonzero(~ambiguous)] + chosen)
    keep.sort()
    return a[keep], b[keep], iou[keep]


def _tie_keys(shapes: Shapes, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pair's content keys, smaller first: ties broken by content, whichever worker is named first."""
    return np.minimum(shapes.key[a], shapes.key[b]), np.maximum(shapes.key[a], shapes.key[b])


def _best_of_stars(shapes: Shapes, index: np.ndarray, pair_key: np.ndarray, a: np.ndarray, b: np.ndarray,
                   iou: np.ndarray) -> np.ndarray:
    """In a block where one shape has all the candidates, the candidate of highest IoU."""
    if not len(index):
        return index
    low, high = _tie_keys(shapes, a[index], b[index])
    order = index[np.lexsort((high, low, -iou[index], pair_key[index]))]
    return order[np.r_[True, pair_key[order][1:] != pair_key[order][:-1]]]


def _solve_blocks(shapes: Shapes, index: np.ndarray, pair_key: np.ndarray, a: np.ndarray, b: np.ndarray,
                  iou: np.ndarray) -> np.ndarray:
    """linear_sum_assignment per remaining ambiguous block; the positions of the chosen candidates."""
    if not len(index):
        return index
    from scipy.optimize import linear_sum_assignment

    chosen: list[int] = []
    key = shapes.key
    for block in np.split(index, np.flatnonzero(np.diff(pair_key[index])) + 1):
        pairs = list(zip(a[block].tolist(), b[block].tolist(), block.tolist()))
        rows = sorted({p[0] for p in pairs}, key=lambda s: (key[s], s))  # by content
        cols = sorted({p[1] for p in pairs}, key=lambda s: (key[s], s))
        row_of = {s: i for i, s in enumerate(rows)}
        col_of = {s: i for i, s in enumerate(cols)}
        weight = np.zeros((len(rows), len(cols)))
        position = np.full(weight.shape, -1, dtype=np.int64)
        for (x, y, at), value in zip(pairs, iou[block].tolist()):
            weight[row_of[x], col_of[y]] = value
            position[row_of[x], col_of[y]] = at
        # the side with the smaller content goes first, so naming the workers the other way changes nothing
        if _block_content(shapes, cols[0]) < _block_content(shapes, rows[0]):
            c, r = linear_sum_assignment(weight.T, maximize=True)
        else:
            r, c = linear_sum_assignment(weight, maximize=True)
        chosen += [int(p) for p in position[r, c] if p >= 0]
    return np.array(sorted(chosen), dtype=np.int64)


def _block_content(shapes: Shapes, shape: int) -> list[float]:
    block = shapes.block[shape]
    return sorted(shapes.key[shapes.block_start[block]:shapes.block_end[block]].tolist())


def _components(n: int, a: np.ndarray, b: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Connected components: cluster per shape (numbered in the order of their first shape), the
    number of clusters, and the shapes ordered by cluster."""
    if n <= SMALL:  # scipy's fixed cost would dominate the store's one-item calls
        labels = _small_components(n, a.tolist(), b.tolist())
        count = int(labels.max()) + 1 if n else 0
    else:
        graph = sparse.coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
        count, labels = csgraph.connected_components(graph, directed=False)
        labels = labels.astype(np.int32)
    return int(count), labels, stable_order(labels).astype(np.int32)


def _small_components(n: int, a: list[int], b: list[int]) -> np.ndarray:
    """Union-find over a few shapes; components numbered in the order of their first shape, as scipy does."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a, b):
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    number: dict[int, int] = {}
    return np.array([number.setdefault(root(x), len(number)) for x in range(n)], dtype=np.int32)


def _shared_worker(shapes: Shapes, cluster: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Clusters holding two shapes of one worker (a chain of matches A1-B1, B1-C1, C1-A2).

    Within a cluster, members keep the shapes' order, so two of one block are next to each other.
    """
    same = (cluster[members[1:]] == cluster[members[:-1]]) & (shapes.block[members[1:]] == shapes.block[members[:-1]])
    return np.unique(cluster[members[1:][same]])


def _edges_by_cluster(edge_cluster: np.ndarray, clusters: np.ndarray) -> list[np.ndarray]:
    index = np.flatnonzero(np.isin(edge_cluster, clusters))
    index = index[np.argsort(edge_cluster[index], kind="stable")]
    return np.split(index, np.flatnonzero(np.diff(edge_cluster[index])) + 1)


def _greedy(shapes: Shapes, a: np.ndarray, b: np.ndarray, iou: np.ndarray) -> np.ndarray:
    """Edges by decreasing IoU (ties by shape content), each kept unless it joins one worker twice."""
    low, high = _tie_keys(shapes, a, b)
    parent: dict[int, int] = {}
    blocks: dict[int, set[int]] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    keep = np.zeros(len(a), dtype=bool)
    for edge in np.lexsort((high, low, -iou)).tolist():
        ra, rb = root(int(a[edge])), root(int(b[edge]))
        if ra == rb:
            keep[edge] = True
            continue
        seen_a = blocks.setdefault(ra, {int(shapes.block[ra])})
        seen_b = blocks.setdefault(rb, {int(shapes.block[rb])})
        if seen_a & seen_b:
            continue
        parent[rb] = ra
        seen_a |= seen_b
        keep[edge] = True
    return keep
