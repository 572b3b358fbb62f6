"""Agreement for every annotation type: when an item's answers agree, and the consensus they reach.

Pure functions: pandas, numpy, scipy (and shapely for polygons) in, DataFrames out.  Every function
takes the long answers frame of issue 14 (``task.labels_df()``): columns ``item_id``, ``worker``,
``kind`` (``"class"``, ``"box"``, ``"polygon"``, ``"text"`` or ``"none"``), ``label``, ``left``,
``top``, ``right``, ``bottom``, ``geo``, ``text``; one row per label, shape or text a worker gave,
and one row of kind ``"none"`` for a worker who answered with nothing (that worker counts as having
answered).  Class frames may be today's ``labels_df`` (``item_id``, ``worker``, ``label``).  Item ids
may be integers or strings; results are indexed by ``item_id``, sorted.  Bad input raises
:class:`dltasks.errors.ValidationError` naming the field and the value.

:func:`agreed_items` is the rule the store applies at every submit; :func:`decide` adds the status
and agreement figure of each item.  Per type: :mod:`~dltasks.agreement.shapes` (boxes, polygons),
:mod:`~dltasks.agreement.multilabel`, :mod:`~dltasks.agreement.text`.

Examples
--------
>>> import pandas as pd
>>> from dltasks.agreement import agreed_items, decide
>>> answers = pd.DataFrame({
...     "item_id": [1, 1, 1, 2, 2],
...     "worker": ["ann", "bob", "bob", "ann", "bob"],
...     "kind": ["class", "class", "class", "class", "none"],
...     "label": ["cat", "cat", "dog", "dog", None],
... })
>>> agreed_items(answers, "multi_class", approval_threshold=2).to_dict()
{1: False, 2: False}
>>> decide(answers, "multi_class", approval_threshold=2, workers_per_input=2)  # doctest: +NORMALIZE_WHITESPACE
                   status  agreement  n_workers
item_id
1         awaiting_review        0.5          2
2         awaiting_review        0.0          2
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dltasks.agreement import multilabel, text
from dltasks.agreement._frame import (ANNOTATION_TYPES, UNMATCHED, check_annotation_type, check_iou_threshold,
                                      check_threshold, check_unmatched, check_workers_per_input, class_decision,
                                      encode_answers, status_frame)
from dltasks.agreement.multilabel import item_jaccard, label_alpha, label_consensus, set_alpha
from dltasks.agreement.shapes import (ShapeClusters, cluster_shapes, consensus_shapes, shape_matches,
                                      shape_worker_quality)
from dltasks.agreement.text import normalise_text, text_consensus
from dltasks.errors import ValidationError

__all__ = [
    "ANNOTATION_TYPES",
    "UNMATCHED",
    "agreed_items",
    "decide",
    "ShapeClusters",
    "cluster_shapes",
    "consensus_shapes",
    "shape_worker_quality",
    "shape_matches",
    "label_consensus",
    "item_jaccard",
    "label_alpha",
    "set_alpha",
    "normalise_text",
    "text_consensus",
]


def _decision(answers: pd.DataFrame | ShapeClusters, annotation_type: str, threshold: int, iou_threshold: float,
              unmatched: str, agreement: bool) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """Items, agreed, agreement (NaN when not asked for) and n_workers for any annotation type."""
    if annotation_type in ("box", "polygon") or isinstance(answers, ShapeClusters):
        clusters = cluster_shapes(answers, iou_threshold, annotation_type)
        if clusters.kind != annotation_type:
            raise ValidationError(f"the answers are {clusters.kind} answers", field="annotation_type",
                                  value=annotation_type)
        enc = clusters.answers
        agreed = clusters.agreed(threshold, unmatched)
        figure = clusters.item_agreement() if agreement else np.full(enc.n_items, np.nan)
    elif annotation_type == "multi_class":
        sets = multilabel.label_sets(answers)
        enc = sets.answers
        agreed = multilabel.agreed(sets, threshold, unmatched)
        figure = item_jaccard(sets).to_numpy() if agreement else np.full(enc.n_items, np.nan)
    else:
        if annotation_type == "text":
            enc, values = text.normalised_answers(answers)
            item = enc.item
        else:
            enc = encode_answers(answers, "class")
            rows = np.flatnonzero(enc.given)
            item, values = enc.item[rows], enc.values("label")[rows]
            missing = pd.isna(values)
            if missing.any():
                raise ValidationError(f"missing value ({enc.where(int(rows[missing][0]))})", field="label",
                                             value=None)
        agreed, figure = class_decision(item, values, enc.n_items, threshold)
    return enc.items, agreed, figure, enc.n_workers


def _checked(annotation_type: str, iou_threshold: float, unmatched: str) -> tuple[str, float, str]:
    return check_annotation_type(annotation_type), check_iou_threshold(iou_threshold), check_unmatched(unmatched)


def agreed_items(answers: pd.DataFrame | ShapeClusters, annotation_type: str, approval_threshold: int,
                 iou_threshold: float = 0.5, unmatched: str = "outvoted") -> pd.Series:
    """Whether each item's answers so far reach agreement: the rule the store applies at every submit.

    - ``class``: one label has ``approval_threshold`` votes and no other label also has
      (:func:`dltasks.domain.workflow.consensus_reached`).
    - ``multi_class``: each label any worker chose is *in* when ``approval_threshold`` workers chose
      it and *out* when that many answered without it.  ``unmatched="outvoted"``: agreed when every
      label is in or out and, if none is in, ``approval_threshold`` workers chose no label (workers
      who each chose a different label do not agree that none applies); ``"review"``: when every
      label is in.  Either way at least ``approval_threshold`` workers must have answered (so that
      many "none" answers agree on nothing).
    - ``box`` / ``polygon``: shapes are matched across workers into clusters (see
      :mod:`dltasks.agreement.shapes`; a match needs IoU >= ``iou_threshold``); a cluster of
      ``approval_threshold`` workers is in, and the clusters that are in are the consensus.
      ``"review"``: agreed when every cluster is in.  ``"outvoted"``: also agreed when
      ``approval_threshold`` workers' whole answers are the consensus (each of their shapes in it, a
      shape of theirs in each of its clusters; with an empty consensus, workers who drew nothing),
      so a stray shape is outvoted by workers who agree without it, while workers who each draw a
      box somewhere else do not agree that nothing is there.
    - ``text``: ``approval_threshold`` answers are equal after :func:`normalise_text` (and no other
      answer has as many).

    Returns
    -------
    Series
        Bool, named ``"agreed"``, indexed by ``item_id`` (sorted).

    Examples
    --------
    >>> import pandas as pd
    >>> box = {"kind": "box", "label": "car", "top": 0.0, "bottom": 10.0}
    >>> answers = pd.DataFrame({"item_id": 5, "worker": ["a", "b", "c", "c"], **box,
    ...                         "left": [0.0, 1.0, 0.0, 80.0], "right": [10.0, 11.0, 10.0, 90.0]})
    >>> agreed_items(answers, "box", approval_threshold=2).tolist()  # c's second box is outvoted
    [True]
    >>> agreed_items(answers, "box", approval_threshold=2, unmatched="review").tolist()
    [False]
    """
    kind, iou, rule = _checked(annotation_type, iou_threshold, unmatched)
    items, agreed, _, _ = _decision(answers, kind, check_threshold(approval_threshold), iou, rule, agreement=False)
    return pd.Series(agreed, index=items, name="agreed")


def decide(answers: pd.DataFrame | ShapeClusters, annotation_type: str, approval_threshold: int,
           workers_per_input: int, iou_threshold: float = 0.5, unmatched: str = "outvoted") -> pd.DataFrame:
    """Status and agreement of each item, as :func:`dltasks.consensus.threshold_consensus` gives for classes.

    Returns
    -------
    DataFrame
        Indexed by ``item_id`` (sorted): ``status`` (categorical over
        :data:`dltasks.consensus.STATUSES`: *approved* when :func:`agreed_items` says so, else
        *awaiting_review* once ``workers_per_input`` workers answered, *awaiting_consensus*
        before), ``agreement`` and ``n_workers`` (workers who answered).  ``agreement`` is, for
        boxes and polygons, the mean IoU of the matched shapes (NaN when nothing matched); for
        multi_class the mean Jaccard index of every two workers' label sets (NaN with one worker);
        for text and class the share of answers equal to the most common one.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = pd.DataFrame({"item_id": ["a", "a", "b"], "worker": ["w1", "w2", "w1"], "kind": "text",
    ...                         "text": ["Paris", " paris", "Rome"]})
    >>> decide(answers, "text", approval_threshold=2, workers_per_input=3)  # doctest: +NORMALIZE_WHITESPACE
                         status  agreement  n_workers
    item_id
    a                  approved        1.0          2
    b        awaiting_consensus        1.0          1
    """
    kind, iou, rule = _checked(annotation_type, iou_threshold, unmatched)
    k = check_workers_per_input(workers_per_input)
    threshold = check_threshold(approval_threshold, k)
    items, agreed, agreement, n_workers = _decision(answers, kind, threshold, iou, rule, agreement=True)
    return status_frame(items, agreed, agreement, n_workers, k)
