"""Boxes and polygons: shapes matched across workers, consensus shapes and per-worker quality.

Every function takes the long answers frame of issue 14 (rows of kind ``"box"`` or ``"polygon"``,
and ``"none"`` for a worker who answered with nothing) or a :class:`ShapeClusters` made from one by
:func:`cluster_shapes`, so several analyses of one frame match its shapes once.

Matching (per item and label): two workers' shapes are paired by the optimal assignment of their IoU
(``scipy.optimize.linear_sum_assignment``), a pair needing IoU >= ``iou_threshold``; the pairs join
shapes into clusters of at most one shape per worker.  A cluster given by ``approval_threshold``
workers or more is a *consensus shape*: for boxes the per-coordinate median of its boxes, for
polygons the member with the highest mean IoU to the others.  Matched pairs are every two shapes of
one cluster; an item's agreement is their mean IoU.  See :mod:`dltasks.agreement._matching` for how
this runs over 100 000 items without a Python loop over them.

Examples
--------
>>> import pandas as pd
>>> answers = pd.DataFrame({
...     "item_id": [7, 7, 7, 7],
...     "worker": ["ann", "bob", "cid", "cid"],
...     "kind": "box", "label": "car",
...     "left": [10.0, 12.0, 11.0, 200.0], "top": [10.0, 10.0, 12.0, 200.0],
...     "right": [50.0, 52.0, 51.0, 220.0], "bottom": [40.0, 40.0, 42.0, 220.0],
... })
>>> consensus_shapes(answers, approval_threshold=2)[["label", "left", "top", "right", "bottom", "n_workers"]]
  label  left   top  right  bottom  n_workers
0   car  11.0  10.0   51.0    40.0          3
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dltasks.agreement._arrays import mean_by, on_grid, pairs_within_runs, stable_order
from dltasks.agreement._frame import Answers, agreed_whole_answers, check_iou_threshold, check_threshold, encode_answers
from dltasks.agreement._geometry import Geometry, Shapes, box_iou, content_key, encode_shapes
from dltasks.agreement._matching import match_clusters
from dltasks.errors import ValidationError

__all__ = ["ShapeClusters", "cluster_shapes", "consensus_shapes", "shape_worker_quality", "shape_matches"]

_BOX = ("left", "top", "right", "bottom")


@dataclass(frozen=True)
class ShapeClusters:
    """The shapes of an answers frame, matched across workers (see :func:`cluster_shapes`).

    Per shape (canonical order, see ``shapes.row`` for the frame rows): ``cluster``; ``members``
    lists the shapes grouped by cluster (in cluster order, shapes in order within).  Per cluster:
    ``cluster_size`` (workers), ``cluster_item``, ``cluster_label`` (codes into ``answers.items`` and
    ``shapes.labels``).  Matched pairs (every two shapes of one cluster): ``pair_a``, ``pair_b``
    (shape positions) and ``pair_iou``.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": [1, 1, 2], "worker": ["a", "b", "a"], "kind": "box", "label": "cat",
    ...                         "left": [0.0, 0.0, 5.0], "top": 0.0, "right": [10.0, 8.0, 9.0], "bottom": 10.0})
    >>> clusters = cluster_shapes(answers)
    >>> clusters.kind, clusters.n_clusters, clusters.cluster_size.tolist(), clusters.cluster_mean_iou().tolist()
    ('box', 2, [2, 1], [0.8, nan])
    >>> clusters.item_agreement().tolist(), clusters.agreed(2, "outvoted").tolist()
    ([0.8, nan], [True, False])
    """

    answers: Answers
    shapes: Shapes
    iou_threshold: float
    cluster: np.ndarray
    members: np.ndarray
    cluster_size: np.ndarray
    cluster_item: np.ndarray
    cluster_label: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_iou: np.ndarray

    @property
    def kind(self) -> str:
        """``"box"`` or ``"polygon"``."""
        return self.shapes.kind

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_size)

    def cluster_mean_iou(self) -> np.ndarray:
        """Mean IoU of each cluster's matched pairs (NaN for a cluster of one shape)."""
        return mean_by(self.cluster[self.pair_a], self.pair_iou, self.n_clusters)

    def item_agreement(self) -> np.ndarray:
        """Mean IoU of each item's matched pairs (NaN when nothing matched)."""
        return mean_by(self.shapes.item[self.pair_a], self.pair_iou, self.answers.n_items)

    def agreed(self, approval_threshold: int, unmatched: str) -> np.ndarray:
        """Per item: every cluster in, or (``"outvoted"``) enough workers' whole answers are the consensus;
        see ``agreed_whole_answers``."""
        return agreed_whole_answers(self.cluster_item, self.cluster_size, self.answers.n_workers,
                                    approval_threshold, unmatched, self.cluster, self.shapes.worker)

    def to_frame(self) -> pd.DataFrame:
        """One row per shape, indexed like the answers frame: item_id, worker, label, cluster, cluster_size.

        >>> answers = pd.DataFrame({"item_id": 1, "worker": ["a", "b"], "kind": "box", "label": "cat",
        ...                         "left": [0.0, 0.0], "top": 0.0, "right": [10.0, 9.0], "bottom": 10.0})
        >>> cluster_shapes(answers).to_frame()[["worker", "cluster", "cluster_size"]]
          worker  cluster  cluster_size
        0      a        0             2
        1      b        0             2
        """
        enc, shapes = self.answers, self.shapes
        order = np.argsort(shapes.row)
        pick = shapes.row[order]
        return pd.DataFrame(
            {
                "item_id": enc.items.take(shapes.item[order]),
                "worker": enc.workers.take(shapes.worker[order]),
                "label": shapes.labels.take(shapes.label[order]),
                "cluster": self.cluster[order],
                "cluster_size": self.cluster_size[self.cluster[order]],
            },
            index=enc.frame.index[pick],
        )


def shape_type(answers: pd.DataFrame) -> str:
    """``"box"`` or ``"polygon"``: the kind of the frame's shape rows.

    >>> shape_type(pd.DataFrame({"kind": ["none", "polygon"], "geo": [None, [[0, 0], [1, 0], [0, 1]]]}))
    'polygon'
    """
    if not isinstance(answers, pd.DataFrame) or "kind" not in answers.columns:
        return "box"  # encode_answers names what is missing
    kinds = set(pd.unique(answers["kind"])) - {"none"}
    if not kinds:  # nothing but "none" rows: the columns say which
        return "polygon" if "geo" in answers.columns and "left" not in answers.columns else "box"
    if kinds in ({"box"}, {"polygon"}):
        return str(kinds.pop())
    raise ValidationError("must be 'box' or 'polygon' (and 'none'), one of them per frame", field="kind",
                          value=sorted(map(str, kinds)))


def cluster_shapes(answers: pd.DataFrame | ShapeClusters, iou_threshold: float = 0.5,
                   annotation_type: str | None = None) -> ShapeClusters:
    """Match the shapes of an answers frame across workers, once for several analyses.

    ``annotation_type`` (``"box"`` / ``"polygon"``) defaults to the kind of the frame's shape rows.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": "img-1", "worker": ["a", "b", "c"], "kind": "box", "label": "dog",
    ...                         "left": [0.0, 1.0, 30.0], "top": 0.0, "right": [10.0, 10.0, 40.0], "bottom": 10.0})
    >>> clusters = cluster_shapes(answers, iou_threshold=0.5)
    >>> clusters.n_clusters, clusters.cluster_size.tolist(), clusters.pair_iou.round(2).tolist()
    (2, [2, 1], [0.9])
    >>> consensus_shapes(clusters, approval_threshold=2)[["item_id", "left", "right"]]
      item_id  left  right
    0   img-1   0.5   10.0
    """
    threshold = check_iou_threshold(iou_threshold)
    if isinstance(answers, ShapeClusters):
        if answers.iou_threshold != threshold:
            raise ValidationError(f"the shapes were matched with iou_threshold={answers.iou_threshold}",
                                  field="iou_threshold", value=iou_threshold)
        return answers
    kind = annotation_type or shape_type(answers)
    if kind not in ("box", "polygon"):
        raise ValidationError("must be 'box' or 'polygon' here", field="annotation_type", value=annotation_type)
    enc = encode_answers(answers, kind)
    shapes = encode_shapes(enc)
    cluster, n_clusters, members = match_clusters(shapes, threshold)
    size = np.bincount(cluster, minlength=n_clusters)
    first = members[np.r_[0, np.cumsum(size)[:-1]]] if n_clusters else members
    cluster_item, cluster_label = shapes.item[first], shapes.label[first]
    a, b = pairs_within_runs(cluster[members])
    a, b = members[a], members[b]  # within a cluster members keep the shapes' order: a < b
    return ShapeClusters(enc, shapes, threshold, cluster, members, size, cluster_item, cluster_label, a, b,
                         shapes.geometry.iou(a, b))


def _consensus(clusters: ShapeClusters, approval_threshold: int) -> tuple[np.ndarray, np.ndarray, Any]:
    """Consensus clusters, their members (grouped by cluster) and their shapes.

    Boxes: a (4, n) array of medians; polygons: the representative shape position per cluster.
    """
    cluster, size = clusters.cluster, clusters.cluster_size
    chosen = np.flatnonzero(size >= approval_threshold)
    members = clusters.members[size[cluster[clusters.members]] >= approval_threshold]
    geometry = clusters.shapes.geometry
    if clusters.kind == "box":
        coords = [getattr(geometry, side)[members] for side in _BOX]
        return chosen, members, _run_medians(coords, size[chosen])
    # polygons: the member with the highest mean IoU to the others (ties: by content, then position)
    iou = on_grid(clusters.pair_iou)  # exact sums: a tie stays a tie whatever the order of the pairs
    total = np.bincount(clusters.pair_a, iou, minlength=len(cluster)) + np.bincount(clusters.pair_b, iou,
                                                                                     minlength=len(cluster))
    mean = total / np.maximum(size[cluster] - 1, 1)
    ranked = np.lexsort((members, clusters.shapes.key[members], -mean[members], cluster[members]))
    first = np.cumsum(size[chosen]) - size[chosen]  # each cluster's first member, best first
    return chosen, members, members[ranked][first]


def _run_medians(values: list[np.ndarray], sizes: np.ndarray) -> np.ndarray:
    """Median of each run of each array of ``values`` (runs of the given sizes, in order), shape
    ``(len(values), len(sizes))``.

    Runs of one size (a cluster's workers: a few distinct sizes) are gathered into a ``(size,
    runs)`` array and sorted along the size by an odd-even transposition network of vectorised
    min / max.
    """
    out = np.zeros((len(values), len(sizes)))
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    for size in np.unique(sizes).tolist():
        runs = np.flatnonzero(sizes == size)
        step = max(1, (1 << 22) // size)
        for lo in range(0, len(runs), step):
            chosen = runs[lo:lo + step]
            index = starts[chosen] + np.arange(size)[:, None]  # (size, runs)
            for row, value in enumerate(values):
                block = value[index]
                if size <= 16:
                    for round_ in range(size):
                        for i in range(round_ % 2, size - 1, 2):
                            low = np.minimum(block[i], block[i + 1])
                            np.maximum(block[i], block[i + 1], out=block[i + 1])
                            block[i] = low
                else:
                    block.sort(axis=0)
                out[row, chosen] = (block[(size - 1) // 2] + block[size // 2]) / 2
    return out


def consensus_shapes(answers: pd.DataFrame | ShapeClusters, approval_threshold: int,
                     iou_threshold: float = 0.5) -> pd.DataFrame:
    """The consensus shapes: clusters of matched shapes given by ``approval_threshold`` workers or more.

    Returns
    -------
    DataFrame
        One row per consensus shape, ordered by item, label and shape: ``item_id``, ``label``,
        ``kind``, ``left``, ``top``, ``right``, ``bottom`` (boxes: the per-coordinate median of the
        cluster's boxes; NaN for polygons), ``geo`` (polygons: the points of the member with the
        highest mean IoU to the others; None for boxes), ``n_workers`` and ``mean_iou`` (mean IoU
        of the cluster's matched pairs).

    Examples
    --------
    >>> import pandas as pd
    >>> square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    >>> answers = pd.DataFrame({"item_id": 1, "worker": ["a", "b", "c"], "kind": ["polygon", "polygon", "none"],
    ...                         "label": ["roof", "roof", None],
    ...                         "geo": [square, [[0, 0], [10, 0], [10, 9], [0, 9]], None]})
    >>> out = consensus_shapes(answers, approval_threshold=2)
    >>> out[["item_id", "label", "kind", "n_workers"]].to_dict("records"), round(float(out["mean_iou"][0]), 2)
    ([{'item_id': 1, 'label': 'roof', 'kind': 'polygon', 'n_workers': 2}], 0.9)
    """
    threshold = check_threshold(approval_threshold)
    clusters = cluster_shapes(answers, iou_threshold)
    chosen, members, shapes = _consensus(clusters, threshold)
    enc, kind = clusters.answers, clusters.kind
    if kind == "box":
        left, top, right, bottom = shapes
        content = content_key(Geometry(left, top, right, bottom, (right - left) * (bottom - top)))
    else:
        content = clusters.shapes.key[shapes]
    group = clusters.cluster_item[chosen].astype(np.int64) * max(len(clusters.shapes.label_values), 1)
    group += clusters.cluster_label[chosen]
    order = np.argsort(content, kind="stable")
    order = order[stable_order(group[order])]  # by item, label, then content
    chosen = chosen[order]
    n = len(chosen)
    frame = pd.DataFrame({
        "item_id": enc.items.take(clusters.cluster_item[chosen]),
        "label": clusters.shapes.labels.take(clusters.cluster_label[chosen]),
        "kind": pd.Series(np.full(n, kind, dtype=object), dtype=object),
    })
    if kind == "box":
        for side, values in zip(_BOX, shapes):
            frame[side] = values[order]
        frame["geo"] = pd.Series(np.full(n, None, dtype=object), dtype=object)
    else:
        for side in _BOX:
            frame[side] = math.nan
        geo = enc.values("geo")[clusters.shapes.row[shapes[order]]]
        frame["geo"] = pd.Series(list(geo), dtype=object)
    frame["n_workers"] = clusters.cluster_size[chosen]
    frame["mean_iou"] = clusters.cluster_mean_iou()[chosen]
    return frame


def shape_worker_quality(answers: pd.DataFrame | ShapeClusters, approval_threshold: int,
                         iou_threshold: float = 0.5) -> pd.DataFrame:
    """Each worker's shapes against the consensus shapes.

    Returns
    -------
    DataFrame
        Indexed by sorted ``worker``: ``items`` (items answered), ``shapes`` (shapes drawn),
        ``matched`` (shapes in a consensus cluster), ``consensus`` (consensus shapes on the items the
        worker answered), ``precision`` (matched / shapes), ``recall`` (matched / consensus) and
        ``mean_iou`` (mean IoU of the matched shapes with their consensus shape); NaN where a
        denominator is 0.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": 1, "worker": ["a", "b", "b", "c"], "kind": ["box"] * 3 + ["none"],
    ...                         "label": ["car", "car", "car", None], "left": [0.0, 0.0, 50.0, None],
    ...                         "top": [0.0, 0.0, 50.0, None], "right": [10.0, 10.0, 60.0, None],
    ...                         "bottom": [10.0, 10.0, 60.0, None]})
    >>> quality = shape_worker_quality(answers, approval_threshold=2)
    >>> quality[["shapes", "matched", "precision", "recall", "mean_iou"]]  # doctest: +NORMALIZE_WHITESPACE
            shapes  matched  precision  recall  mean_iou
    worker
    a            1        1        1.0     1.0       1.0
    b            2        1        0.5     1.0       1.0
    c            0        0        NaN     0.0       NaN
    """
    threshold = check_threshold(approval_threshold)
    clusters = cluster_shapes(answers, iou_threshold)
    enc, shapes = clusters.answers, clusters.shapes
    chosen, members, consensus = _consensus(clusters, threshold)
    run = np.repeat(np.arange(len(chosen)), clusters.cluster_size[chosen])
    if clusters.kind == "box":
        geometry = shapes.geometry
        member_box = tuple(getattr(geometry, side)[members] for side in _BOX)
        iou = box_iou(member_box, tuple(consensus[:, run]))
    else:
        iou = shapes.geometry.iou(members, consensus[run])
    n_workers = len(enc.worker_values)
    pairs = pd.unique(enc.item.astype(np.int64) * max(n_workers, 1) + enc.worker)
    answered_item, answered_worker = np.divmod(pairs, max(n_workers, 1))
    per_item = np.bincount(clusters.cluster_item[chosen], minlength=enc.n_items)
    drawn = np.bincount(shapes.worker, minlength=n_workers)
    matched = np.bincount(shapes.worker[members], minlength=n_workers)
    due = np.bincount(answered_worker, per_item[answered_item], minlength=n_workers).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(drawn > 0, matched / np.maximum(drawn, 1), math.nan)
        recall = np.where(due > 0, matched / np.maximum(due, 1), math.nan)
    return pd.DataFrame(
        {
            "items": np.bincount(answered_worker, minlength=n_workers),
            "shapes": drawn,
            "matched": matched,
            "consensus": due,
            "precision": precision,
            "recall": recall,
            "mean_iou": mean_by(shapes.worker[members], iou, n_workers),
        },
        index=enc.workers,
    )


def shape_matches(answers: pd.DataFrame | ShapeClusters, iou_threshold: float = 0.5) -> pd.DataFrame:
    """Every matched pair of shapes (two shapes of one cluster) with its IoU: an IoU histogram's data.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": 1, "worker": ["b", "a"], "kind": "box", "label": "cat",
    ...                         "left": [0.0, 0.0], "top": 0.0, "right": [10.0, 8.0], "bottom": 10.0})
    >>> shape_matches(answers)
       item_id label worker_a worker_b  iou
    0        1   cat        a        b  0.8
    """
    clusters = cluster_shapes(answers, iou_threshold)
    enc, shapes = clusters.answers, clusters.shapes
    a, b = clusters.pair_a, clusters.pair_b
    first, second = enc.workers.take(shapes.worker[a]), enc.workers.take(shapes.worker[b])
    swap = np.asarray(shapes.worker[a] > shapes.worker[b])
    return pd.DataFrame({
        "item_id": enc.items.take(shapes.item[a]),
        "label": shapes.labels.take(shapes.label[a]),
        "worker_a": np.where(swap, second, first),
        "worker_b": np.where(swap, first, second),
        "iou": clusters.pair_iou,
    })
