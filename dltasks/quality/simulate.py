"""A crowd of simulated workers of known accuracy labelling through a real store: fixed vs dynamic overlap.

:func:`simulate` builds an in-memory store (``dl.connect("sqlite://")``), a dataset of items
with known true labels and one task, then lets every worker answer the items of its
``task.queue(user_id)`` until no worker has pending items.  A worker answers right with its
accuracy, otherwise one of the other labels uniformly; the randomness behind the k-th answer on
each item is drawn once up front from a seeded generator (:class:`Crowd`), so both strategies
meet the same crowd and the same luck.  Two strategies:

* ``"fixed"``: ``workers_per_input=3`` without review: every item gets three labels, and
  :meth:`~dltasks.tasks.Task.consensus` takes a strict majority (2 of 3).  Not consensus review
  with ``approval_threshold=2``: that approves an item as soon as two workers agree and refuses
  the third worker's label (the item is decided), so it would not be a fixed-3 baseline;
* ``"dynamic"``: ``worker_strategy="dynamic"``, ``min_workers=2``, ``max_workers`` (5),
  ``approval_threshold=2``: a third (fourth, ...) worker only where the first ones disagree.

The accuracy is that of each item's decided label against the truth: the consensus label
where the store reached consensus, otherwise (an item sent to review) the label most of its
workers gave, and a tie counts as wrong (a reviewer would have to break it).
:func:`compare_strategies` runs both on the same crowd.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dltasks.errors import DltasksError, ValidationError

if TYPE_CHECKING:
    from dltasks.tasks import Task

__all__ = [
    "DEFAULT_ACCURACIES",
    "STRATEGIES",
    "SimulationResult",
    "Crowd",
    "decided_labels",
    "simulate",
    "compare_strategies",
]

#: Ten workers with accuracies spread evenly over 0.60-0.95.
DEFAULT_ACCURACIES: tuple[float, ...] = tuple(float(a) for a in np.round(np.linspace(0.6, 0.95, 10), 4))
STRATEGIES = ("fixed", "dynamic")
FIXED_WORKERS = 3
MIN_WORKERS = 2
THRESHOLD = 2
REVIEWER = "lead"


@dataclass(frozen=True)
class SimulationResult:
    """What one strategy cost and gave: labels stored, labels per item, accuracy of the decided labels.

    ``reviewed`` counts the items the store did not reach consensus on (sent to review; their
    label for ``accuracy`` is the majority of their labels, ties wrong).

    >>> r = SimulationResult("fixed", items=10, labels=30, labels_per_item=3.0, accuracy=0.9, reviewed=1)
    >>> r.labels_per_item, r.as_row()["accuracy"]
    (3.0, 0.9)
    """

    strategy: str
    items: int
    labels: int
    labels_per_item: float
    accuracy: float
    reviewed: int

    def as_row(self) -> dict[str, Any]:
        """The result as a dict (one row of :func:`compare_strategies`)."""
        return asdict(self)


def _check(n_items: Any, accuracies: Any, n_classes: Any, max_workers: Any, strategy: Any) -> np.ndarray:
    """The accuracies as an array; every argument checked against the others."""
    if strategy not in STRATEGIES:
        raise ValidationError(f"must be one of {list(STRATEGIES)}", "strategy", strategy)
    for value, name, low in ((n_items, "n_items", 1), (n_classes, "n_classes", 2), (max_workers, "max_workers", 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValidationError(f"must be a whole number of at least {low}", name, value)
    try:
        acc = np.asarray(accuracies, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError("must be numbers from 0 to 1, one per worker", "accuracies", accuracies) from None
    if acc.ndim != 1 or not np.all((acc >= 0) & (acc <= 1)):
        raise ValidationError("must be numbers from 0 to 1, one per worker", "accuracies", accuracies)
    need, why = (FIXED_WORKERS, "workers_per_input") if strategy == "fixed" else (max_workers, "max_workers")
    if len(acc) < need:
        raise ValidationError(f"needs at least {need} workers ({why}={need})", "accuracies", accuracies)
    return acc


@dataclass(frozen=True)
class Crowd:
    """Known true classes and the draws behind every answer, per item and answer slot.

    The ``slot``-th answer on an item (0 for the first) is right when ``draws[item, slot]`` is
    below the answering worker's accuracy, otherwise it is ``wrong[item, slot]`` (one of the
    other classes, uniformly).  Two strategies run on one Crowd share these draws (common random
    numbers), so what differs between them is the strategy and whom it asks, not the luck of the
    draw.  Classes are codes ``0..n_classes-1``.

    >>> crowd = Crowd.make(10_000, [1.0, 0.8, 0.0], n_classes=3, slots=3, seed=0)
    >>> rows = np.arange(10_000)
    >>> [round(float((crowd.answer(rows, w, 0) == crowd.truth).mean()), 1) for w in range(3)]
    [1.0, 0.8, 0.0]
    """

    accuracies: np.ndarray
    truth: np.ndarray
    draws: np.ndarray
    wrong: np.ndarray

    @classmethod
    def make(cls, n_items: int, accuracies: Sequence[float] | np.ndarray, n_classes: int, slots: int, seed: int
             ) -> Crowd:
        """Draw the truth of ``n_items`` items and ``slots`` answers' randomness per item, seeded."""
        rng = np.random.default_rng(seed)
        truth = rng.integers(0, n_classes, n_items)
        draws = rng.random((n_items, slots))
        wrong = (truth[:, None] + rng.integers(1, n_classes, (n_items, slots))) % n_classes
        return cls(np.asarray(accuracies, dtype=float), truth, draws, wrong)

    def answer(self, row: Any, worker: int, slot: Any) -> Any:
        """The class worker ``worker`` gives as answer ``slot`` on item ``row`` (arrays work too)."""
        return np.where(self.draws[row, slot] < self.accuracies[worker], self.truth[row], self.wrong[row, slot])


def decided_labels(labels: pd.DataFrame) -> pd.Series:
    """Per item, the label most of its workers gave, or None on a tie (``labels``: item_id, label).

    >>> labels = pd.DataFrame({"item_id": [1, 1, 1, 2, 2], "label": ["a", "a", "b", "a", "b"]})
    >>> decided_labels(labels).to_dict()
    {1: 'a', 2: None}
    """
    counts = labels.groupby(["item_id", "label"], sort=True).size().rename("n").reset_index()
    best = counts[counts["n"] == counts.groupby("item_id")["n"].transform("max")]
    single = best[best.groupby("item_id")["label"].transform("size") == 1].set_index("item_id")["label"]
    items = pd.Index(counts["item_id"].unique(), name="item_id")
    out = pd.Series([None] * len(items), index=items, dtype=object, name="label")
    out.loc[single.index] = single.astype(object)
    return out


def _accuracy(labels: pd.DataFrame, consensus: pd.DataFrame, truth: Mapping[int, str]) -> tuple[float, int]:
    """Share of items whose decided label is the truth, and how many items lacked consensus."""
    majority = decided_labels(labels)
    approved = consensus.index[consensus["status"] == "approved"]
    decided = majority.copy()
    decided.loc[approved] = consensus.loc[approved, "label"].astype(object)
    expected = pd.Series(truth, dtype=object)
    right = decided.reindex(expected.index).eq(expected) & decided.reindex(expected.index).notna()
    return float(right.mean()), int(len(expected) - len(approved))


def simulate(strategy: str, *, n_items: int = 1000, accuracies: Sequence[float] | np.ndarray = DEFAULT_ACCURACIES,
             n_classes: int = 3, max_workers: int = 5, seed: int = 0, url: str = "sqlite://") -> SimulationResult:
    """Label ``n_items`` items with a simulated crowd through a store, by ``strategy``; see the module doc.

    ``accuracies`` gives one worker each (``w01``, ``w02``, ...); ``seed`` fixes the truth, the
    answers' draws (:class:`Crowd`) and the task's partition.  ``url`` is the store (a fresh in-memory one by default).

    >>> r = simulate("fixed", n_items=20, accuracies=[1.0] * 4, n_classes=2)
    >>> r.labels, r.labels_per_item, r.accuracy, r.reviewed
    (60, 3.0, 1.0, 0)
    >>> simulate("both", n_items=20)
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: strategy: must be one of ['fixed', 'dynamic'] (got 'both')
    """
    acc = _check(n_items, accuracies, n_classes, max_workers, strategy)
    from dltasks.client import connect  # the SDK is imported on use: it may import this package

    crowd = Crowd.make(n_items, acc, n_classes, max(FIXED_WORKERS, max_workers), seed)
    classes = [f"class{c}" for c in range(n_classes)]
    workers = [f"w{w + 1:02d}" for w in range(len(acc))]
    store = connect(url)
    try:
        ds = store.datasets.create(f"crowd-{strategy}-{seed}", labels=classes)
        items = ds.items.register(pd.DataFrame({"name": [f"item{i:05d}.jpg" for i in range(n_items)]}))
        row_of = {item.id: i for i, item in enumerate(items)}
        options: dict[str, Any] = (
            {"workers_per_input": FIXED_WORKERS} if strategy == "fixed"
            else {"worker_strategy": "dynamic", "min_workers": MIN_WORKERS, "max_workers": max_workers,
                  "review_strategy": "consensus", "reviewer_ids": [REVIEWER], "approval_threshold": THRESHOLD})
        task = ds.tasks.create(task_name=strategy, assignee_ids=workers, seed=seed, **options)
        given: dict[int, int] = {}  # answers so far per item: the slot of the next one

        def answer(item_id: int, worker: int) -> str:
            slot = given[item_id] = given.get(item_id, -1) + 1
            return classes[int(crowd.answer(row_of[item_id], worker, slot))]

        _work_until_done(task, workers, answer, limit=n_items * len(workers))
        labels = task.labels_df()
        truth = {i: classes[crowd.truth[r]] for i, r in row_of.items()}
        accuracy, reviewed = _accuracy(labels, task.consensus(), truth)
    finally:
        store.close()
    return SimulationResult(strategy, n_items, len(labels), round(len(labels) / n_items, 4), accuracy, reviewed)


def _work_until_done(task: Task, workers: list[str], answer: Callable[[int, int], str], limit: int) -> None:
    """Every worker answers its whole queue, round after round, until no worker has pending items."""
    done = 0
    while True:
        answered = 0
        for w, user in enumerate(workers):
            for item_id in task.queue(user):
                task.submit(item_id, user, answer(item_id, w))
                answered += 1
        done += answered
        if answered == 0:
            return
        if done > limit:  # a worker answers an item once: more would mean the queue never empties
            raise DltasksError(f"more than {limit} answers and the queues are not empty")


def compare_strategies(*, n_items: int = 1000, accuracies: Sequence[float] | np.ndarray = DEFAULT_ACCURACIES,
                       n_classes: int = 3, max_workers: int = 5, seed: int = 0) -> pd.DataFrame:
    """Both strategies on the same crowd: one row per strategy (see :class:`SimulationResult`).

    >>> df = compare_strategies(n_items=20, accuracies=[1.0] * 5, n_classes=2)
    >>> df[["labels", "labels_per_item", "accuracy"]]  # doctest: +NORMALIZE_WHITESPACE
              labels  labels_per_item  accuracy
    strategy
    fixed         60              3.0       1.0
    dynamic       40              2.0       1.0
    """
    rows = [simulate(s, n_items=n_items, accuracies=accuracies, n_classes=n_classes, max_workers=max_workers,
                     seed=seed).as_row() for s in STRATEGIES]
    return pd.DataFrame(rows).set_index("strategy")
