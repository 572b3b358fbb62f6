"""Gold items, qualification and who works next: the pure rules behind a task's quality control.

Gold (honeypot) items are items whose answer is known.  They are mixed into each worker's
queue at about the task's ``gold_rate`` (:func:`gold_plan`, :func:`serving_order`), never
counted as the task's work, and a worker's answers on them measure the worker
(:func:`should_flag`, :func:`qualification_passed`).  :func:`pick_workers` chooses who takes an
item next (a flagged worker's items, or one more worker under dynamic overlap): the eligible
worker with the fewest items for their weight.

Examples
--------
>>> check_gold({3: "cat", 1: "dog"}, "class", ["cat", "dog"])
[(1, 'dog'), (3, 'cat')]
>>> gold_count(90, 0.1)
10
>>> serving_order([10, 11, 12, 13], [1, 2], seed=0)
[10, 2, 11, 12, 1, 13]
"""
from __future__ import annotations

import json
import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from dltasks.domain.checks import check_label, to_item_id
from dltasks.domain.shapes import Definition
from dltasks.errors import ValidationError

__all__ = ["GOLD_TYPES", "gold_pairs", "check_gold", "gold_answer_text", "gold_count", "gold_plan", "serving_order",
           "should_flag", "qualification_passed", "pick_workers", "MAX_GOLD"]

#: The annotation types whose answers can be checked against a known one.
GOLD_TYPES = ("class", "multi_class")
#: The most gold items one task takes.
MAX_GOLD = 100_000


def _gold_label(value: Any, annotation_type: str, labels: Sequence[str], item_id: int) -> str:
    """One known answer as stored: a class label, or a multi_class answer as a sorted JSON list."""
    if annotation_type == "class":
        label = check_label(value, "gold")
        if labels and label not in labels:
            raise ValidationError(f"the answer of item {item_id} is not one of the task's labels {list(labels)}",
                                  "gold", label)
        return label
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise ValidationError(f"the answer of item {item_id} must be a label or a list of labels", "gold", value)
    chosen = sorted({check_label(v, "gold") for v in values})
    unknown = [v for v in chosen if labels and v not in labels]
    if unknown:
        raise ValidationError(f"the answer of item {item_id} names a label the task does not have", "gold",
                              unknown[0])
    return json.dumps(chosen)


def gold_pairs(gold: Any, field: str = "gold") -> list[list[Any]]:
    """Known answers in their wire form, ``[item_id, label or list of labels]`` pairs, from a dict
    ``{item_id: label}``, a DataFrame (item_id, label) or pairs; each item once.

    >>> gold_pairs({3: "cat", 1: ["a", "b"]})
    [[1, ['a', 'b']], [3, 'cat']]
    """
    if isinstance(gold, pd.DataFrame):
        missing = [c for c in ("item_id", "label") if c not in gold.columns]
        if missing:
            raise ValidationError(f"a gold frame needs the column {missing[0]!r}", field, list(gold.columns))
        pairs: Iterable[Any] = zip(gold["item_id"].tolist(), gold["label"].tolist())
    elif isinstance(gold, Mapping):
        pairs = gold.items()
    elif isinstance(gold, (list, tuple)):
        pairs = gold
    else:
        raise ValidationError("must be a dict {item_id: label} or a DataFrame with item_id and label", field,
                              type(gold).__name__)
    out: dict[int, Any] = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValidationError("each gold entry is (item_id, label)", field, pair)
        item_id = to_item_id(getattr(pair[0], "id", pair[0]), field)
        if item_id in out:
            raise ValidationError("names an item twice", field, item_id)
        answer = pair[1]
        if isinstance(answer, (set, frozenset, tuple, np.ndarray)):
            answer = sorted(answer)
        if not isinstance(answer, (str, list)) or (isinstance(answer, list)
                                                   and not all(isinstance(v, str) for v in answer)):
            raise ValidationError(f"the answer of item {item_id} must be a label or a list of labels", field,
                                  answer)
        out[item_id] = answer
        if len(out) > MAX_GOLD:
            raise ValidationError(f"at most {MAX_GOLD} gold items", field, len(out))
    return [[k, out[k]] for k in sorted(out)]


def check_gold(gold: Any, annotation_type: str, labels: Sequence[str]) -> list[tuple[int, str]]:
    """Known answers (see :func:`gold_pairs`) checked against a task: ``(item_id, stored answer)``, by item.

    >>> check_gold(pd.DataFrame({"item_id": [2], "label": [["b", "a"]]}), "multi_class", ["a", "b"])
    [(2, '["a", "b"]')]
    >>> check_gold({1: "owl"}, "class", ["cat"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: gold: the answer of item 1 is not one of the task's labels ['cat'] (got 'owl')
    """
    if gold is None:
        return []
    pairs = gold_pairs(gold)
    if pairs and annotation_type not in GOLD_TYPES:
        raise ValidationError(f"gold items apply to {list(GOLD_TYPES)} tasks, not {annotation_type!r}", "gold",
                              len(pairs))
    return [(item_id, _gold_label(answer, annotation_type, labels, item_id)) for item_id, answer in pairs]


def gold_answer_text(answer: Sequence[Definition], annotation_type: str) -> str:
    """A worker's answer in the form gold is stored in, to compare with it.

    >>> from dltasks.domain.shapes import Classification
    >>> gold_answer_text([Classification("dog"), Classification("cat")], "multi_class")
    '["cat", "dog"]'
    """
    if annotation_type == "class":
        return str(answer[0].label)
    return json.dumps(sorted({str(d.label) for d in answer}))


def gold_count(n_real: int, rate: float) -> int:
    """How many gold items a worker with ``n_real`` items gets, so that gold is about ``rate`` of the queue.

    >>> gold_count(9, 0.1), gold_count(0, 0.1), gold_count(100, 0.0)
    (1, 0, 0)
    """
    if rate <= 0 or n_real <= 0:
        return 0
    return int(math.floor(rate * n_real / (1.0 - rate) + 0.5))


def gold_plan(real_counts: Mapping[str, int], gold_ids: Sequence[int], rate: float, seed: int
              ) -> list[tuple[int, str]]:
    """Which gold items each worker gets: ``(item_id, user_id)`` pairs, each item at most once per worker.

    Each worker gets :func:`gold_count` items (at most all of them), taken in turn from one
    seeded permutation with a different start per worker, so the items are used about equally.

    >>> gold_plan({"ann": 18, "bob": 9}, [101, 102, 103], 0.1, seed=1)
    [(101, 'ann'), (102, 'ann'), (103, 'bob')]
    """
    if not gold_ids:
        return []
    order = np.random.default_rng(seed).permutation(np.asarray(sorted(gold_ids), dtype=np.int64)).tolist()
    out: list[tuple[int, str]] = []
    start = 0
    for user, n_real in real_counts.items():
        n = min(len(order), gold_count(n_real, rate))
        out += [(order[(start + i) % len(order)], user) for i in range(n)]
        start += n
    return sorted(out, key=lambda p: (p[1], p[0]))


def serving_order(real_ids: Sequence[int], gold_ids: Sequence[int], seed: int) -> list[int]:
    """A worker's queue with their gold items spread through it (each in a seeded place of its stretch).

    The real items keep their order; gold item ``j`` of ``G`` lands at a random point of the
    ``j``-th ``1/G`` of the queue, so gold is neither bunched nor at a fixed period.

    >>> serving_order([1, 2, 3], [], seed=0)
    [1, 2, 3]
    """
    if not gold_ids:
        return list(real_ids)
    rng = np.random.default_rng(seed)
    n_real, n_gold = len(real_ids), len(gold_ids)
    real_keys = (np.arange(n_real) + 0.5) / max(n_real, 1)
    gold_keys = (np.arange(n_gold) + rng.random(n_gold)) / n_gold
    keys = np.concatenate([real_keys, gold_keys])
    ids = list(real_ids) + list(rng.permutation(np.asarray(gold_ids, dtype=np.int64)).tolist())
    return [int(ids[i]) for i in np.argsort(keys, kind="stable")]


def should_flag(gold_n: int, gold_correct: int, min_accuracy: float | None, min_n: int) -> bool:
    """Whether a worker's gold answers put them below the task's bar (after at least ``min_n`` of them).

    >>> should_flag(3, 1, 0.7, 3), should_flag(2, 0, 0.7, 3), should_flag(5, 4, 0.7, 3)
    (True, False, False)
    """
    return min_accuracy is not None and gold_n >= min_n and gold_correct < min_accuracy * gold_n


def qualification_passed(n_gold: int, answered: int, correct: int, pass_accuracy: float) -> bool:
    """A worker passed a qualification task: every gold item answered, at least ``pass_accuracy`` right.

    >>> qualification_passed(5, 5, 4, 0.8), qualification_passed(5, 4, 4, 0.8)
    (True, False)
    """
    return n_gold > 0 and answered >= n_gold and correct >= pass_accuracy * n_gold - 1e-9


def pick_workers(items: Sequence[tuple[int, set[str]]], workers: Sequence[str], weights: Mapping[str, float],
                 load: Mapping[str, int]) -> list[tuple[int, str]]:
    """One more worker for each item: ``(item_id, user_id)``; items nobody eligible can take are left out.

    ``items`` pairs an item with the workers who may not take it (they have it already, or are
    flagged).  Each pick goes to the eligible worker whose load after it, relative to their
    weight, is lowest (ties: the order of ``workers``), so a batch splits as exactly as
    weights allow.

    >>> pick_workers([(1, {"a"}), (2, {"a"}), (3, {"a"})], ["a", "b", "c"], {"a": 1, "b": 1, "c": 2}, {})
    [(1, 'c'), (2, 'b'), (3, 'c')]
    """
    current = {w: int(load.get(w, 0)) for w in workers}
    out: list[tuple[int, str]] = []
    for item_id, taken in items:
        best: tuple[float, int] | None = None
        choice = None
        for position, w in enumerate(workers):
            weight = float(weights.get(w, 1.0))
            if w in taken or weight <= 0:
                continue
            key = ((current[w] + 1) / weight, position)
            if best is None or key < best:
                best, choice = key, w
        if choice is not None:
            current[choice] += 1
            out.append((item_id, choice))
    return out
