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
>>> from dltasks.agreement._geometry import encode_shapes
>>> frame = pd.DataFrame({"item_id": 1, "worker": ["a", "b", "c"], "kind": "box", "label": "car",
...                       "left": [0.0, 1.0, 50.0], "top": 0.0, "right": [10.0, 11.0, 60.0], "bottom": 10.0})
>>> shapes = encode_shapes(encode_answers(frame, "box"))
>>> cluster, n_clusters, _ = match_clusters(shapes, 0.5)
>>> cluster.tolist()  # rows in canonical order: a's box, b's box, c's box
[0, 0, 1]
"""
from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from dltasks.agreement._arrays import SMALL, concat_ranges, stable_order
from dltasks.agreement._geometry import EPS, Shapes

__all__ = ["CHUNK", "match_clusters"]

#: Candidate pairs whose IoU is computed in one numpy pass (bounds the memory of matching).
CHUNK = 1 << 18


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
    ambiguous: np.ndarray = np.zeros(len(a), dtype=bool)
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
