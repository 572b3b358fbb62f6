"""Annotation and QA tasks: create, read, list, update (full overwrite), delete.

The work done inside a task (submitting labels, statuses, reviews) and its analyses are the
methods of :class:`dltasks.task_work.TaskWork`; the split of items between workers is
:mod:`dltasks.partition`'s.

>>> import dltasks as dl, pandas as pd
>>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
>>> _ = ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(6)]}))
>>> task = ds.tasks.create(task_name="t", assignee_ids=["ann", "bob"], seed=1)
>>> task.progress()["assigned"].to_dict()
{'ann': 3, 'bob': 3, 'total': 6}
>>> ds.tasks.get(task_name="t") == task
True
"""
from __future__ import annotations

import builtins
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import pandas as pd

from dltasks.domain.checks import to_item_id
from dltasks.domain.filters import Filters
from dltasks.domain.records import Item, TaskRecord, copy_fields
from dltasks.domain.gold import gold_pairs
from dltasks.domain.task_options import build_spec, is_overdue, options_of
from dltasks.domain.visibility import visible_metadata
from dltasks.errors import ValidationError
from dltasks.task_quality import TaskQuality
from dltasks.task_work import TaskWork

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import Store
    from dltasks.datasets import Dataset

__all__ = ["Task", "Tasks", "DatasetTasks", "TaskPage", "tasks_frame"]


@dataclass(eq=False, kw_only=True)
class Task(TaskRecord, TaskWork, TaskQuality):
    """An annotation or QA task over items of a dataset.

    Change attributes and call :meth:`update` to overwrite the task (validated like create).
    """

    _store: Any = field(default=None, repr=False)

    @property
    def overdue(self) -> bool:
        """True when the due date has passed and the task is still in progress."""
        return is_overdue(self.due_date, self.status)

    @property
    def dataset(self) -> Dataset:
        """The dataset the task's items belong to."""
        return self._bound().datasets.get(dataset_id=self.dataset_id)

    def export(self, path: str | Path, format: str = "coco", what: str = "consensus") -> Path:
        """Write the task's work to ``path`` in ``format`` (``"coco"``, ``"yolo"``, ``"label_studio"``,
        ``"csv"``): the consensus of its decided items (``what="consensus"``) or every worker's answers
        (``"all"``); return what was written (see :func:`dltasks.exports.export_task`)."""
        from dltasks.exports import export_task

        return export_task(self, path, format, what)

    def visible_metadata(self, item: Item) -> dict[str, Any]:
        """What workers and reviewers see of ``item.metadata['user']`` (the task's ``show_metadata``).

        >>> import dltasks as dl, pandas as pd
        >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat"])
        >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "user.truth": ["cat"], "user.site": ["x"]}))
        >>> item = ds.items.get(item_id=1)
        >>> ds.tasks.create("t").visible_metadata(item)
        {'site': 'x'}
        >>> ds.tasks.create("u", show_metadata=["truth"]).visible_metadata(item)
        {'truth': 'cat'}
        """
        return visible_metadata((item.metadata or {}).get("user", {}), self.show_metadata)

    def update(self) -> Task:
        """Overwrite the stored task with this object's attributes; return the fresh task.

        Validated like create.  Changing assignees, weights or the strategy re-plans only the
        items nobody has worked on; work already done stays with whoever did it.
        """
        store = self._bound()
        spec = build_spec(**options_of(self))
        return store.tasks._task(store.ops.update_task(self.id, spec, self.filters))

    def delete(self) -> bool:
        """Delete this task with its assignments and task labels."""
        return self._bound().tasks.delete(task_ids=[self.id]) == 1

    def add_assignees(self, assignee_ids: Sequence[str], weights: dict[str, float] | None = None) -> Task:
        """Add workers and share the not-yet-worked items among everyone (equal weights unless given)."""
        new = [assignee_ids] if isinstance(assignee_ids, str) else list(assignee_ids)
        self.assignee_ids = list(self.assignee_ids) + [a for a in new if a not in self.assignee_ids]
        self.weights = dict(weights) if weights is not None else {u: 1.0 for u in self.assignee_ids}
        return self.update()

    def redistribute(self, weights: dict[str, float]) -> Task:
        """Share the not-yet-worked items by new ``weights``."""
        self.weights = dict(weights)
        return self.update()

    def _bound(self) -> Store:
        if self._store is None:
            raise ValidationError("the task is not bound to a store", "task", self.id)
        return self._store

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (f"Task(id={self.id!r}, name={self.name!r}, type={self.type!r}, status={self.status!r}, "
                f"due_date={self.due_date.isoformat()!r}, assignee_ids={self.assignee_ids!r}, "
                f"worker_strategy={self.worker_strategy!r}, review_strategy={self.review_strategy!r})")


class TaskPage:
    """One page of tasks: iterable, with ``total``, ``has_next`` and :meth:`to_df`."""

    def __init__(self, tasks: builtins.list[Task], total: int, page: int, per_page: int) -> None:
        self.tasks, self.total, self.page, self.per_page = tasks, total, page, per_page

    @property
    def has_next(self) -> bool:
        """Whether a later page has tasks."""
        return self.page * self.per_page < self.total

    @property
    def total_pages(self) -> int:
        """How many pages there are."""
        return max(1, math.ceil(self.total / self.per_page))

    def to_df(self) -> pd.DataFrame:
        """The page as a DataFrame, one row per task."""
        return tasks_frame(self.tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    def __getitem__(self, i: int) -> Task:
        return self.tasks[i]

    def __repr__(self) -> str:
        return f"TaskPage(page={self.page}, per_page={self.per_page}, total={self.total}, tasks={len(self.tasks)})"


_FRAME_COLUMNS = ("id", "name", "type", "dataset_id", "status", "priority", "due_date", "overdue", "worker_strategy",
                  "workers_per_input", "review_strategy", "approval_threshold", "assignee_ids", "reviewer_ids",
                  "created_at")


def tasks_frame(tasks: Iterable[Task]) -> pd.DataFrame:
    """Tasks as a DataFrame: id, name, type, dataset_id, status, priority, due_date, overdue, …"""
    rows = [{c: list(getattr(t, c)) if c.endswith("_ids") else getattr(t, c) for c in _FRAME_COLUMNS} for t in tasks]
    return pd.DataFrame(rows, columns=list(_FRAME_COLUMNS))


def _user_list(value: str | Sequence[str] | None) -> builtins.list[str] | None:
    return None if value is None else ([value] if isinstance(value, str) else list(value))


class Tasks:
    """Every task of a store (``store.tasks``): get by id, list, delete."""

    def __init__(self, store: Store) -> None:
        self._store, self._ops = store, store.ops

    def _task(self, record: TaskRecord) -> Task:
        return copy_fields(record, Task, _store=self._store)

    def get(self, task_id: str) -> Task:
        """One task by id; ``NotFoundError`` if absent."""
        return self._task(self._ops.get_task(task_id))

    def list(self, page: int = 1, per_page: int = 128, worker_id: str | Sequence[str] | None = None,
             reviewer_id: str | Sequence[str] | None = None, status: str | None = None,
             dataset: Dataset | str | None = None, ids: Sequence[str] | None = None) -> TaskPage:
        """A page of tasks, newest first; optionally only those a user (or any of several) works on or reviews."""
        dataset_id = dataset if dataset is None or isinstance(dataset, str) else dataset.id
        found = self._ops.list_tasks(page, per_page, _user_list(worker_id), _user_list(reviewer_id), status,
                                     dataset_id, _user_list(ids))
        return TaskPage([self._task(t) for t in found.tasks], found.total, page, per_page)

    def to_df(self, **kwargs: Any) -> pd.DataFrame:
        """Every task (all pages) as one DataFrame; takes :meth:`list`'s filters."""
        frames, page = [], 1
        while True:
            p = self.list(page=page, per_page=1000, **kwargs)
            frames.append(p.to_df())
            if not p.has_next:
                return pd.concat(frames, ignore_index=True)
            page += 1

    def delete(self, task_ids: str | Sequence[str]) -> int:
        """Delete several tasks at once, all or nothing; an unknown id deletes nothing."""
        return self._ops.delete_tasks(_user_list(task_ids) or [])


class DatasetTasks:
    """The tasks of one dataset (``dataset.tasks``): create, create_qa_task, get by name, list."""

    def __init__(self, store: Store, dataset: Dataset) -> None:
        self._store, self._dataset, self._ops = store, dataset, store.ops

    def create(self, task_name: str, due_date: Any = None, assignee_ids: Sequence[str] | None = None,
               filters: Filters | None = None, items: Sequence[Item | int] | None = None, workload: Any = None,
               worker_strategy: str | None = None, workers_per_input: int = 1, weights: dict[str, float] | None = None,
               review_strategy: str = "none", reviewer_ids: Sequence[str] | None = None,
               approval_threshold: int | None = None, labels: Sequence[str] | None = None,
               available_actions: Any = None, priority: str = "medium", metadata: dict[str, Any] | None = None,
               task_type: str = "annotation", seed: int | None = None,
               show_metadata: Sequence[str] | None = None, annotation_type: str = "class",
               iou_threshold: float = 0.5, unmatched: str = "outvoted", gold: Any = None, gold_rate: float = 0.0,
               min_gold_accuracy: float | None = None, min_gold_n: int = 3, min_workers: int | None = None,
               max_workers: int | None = None, qualification: Any = None, order: str = "item") -> Task:
        """Create a task over the dataset's items (or the ``filters``/``items`` subset).

        Quality control (class and multi_class tasks):

        - ``gold`` (``{item_id: label}`` or a DataFrame item_id, label; a list of labels for
          multi_class) are items whose answer is known.  About ``gold_rate`` of each worker's queue
          is gold, each gold item at most once per worker, served like any other item
          (:meth:`Task.queue`).  They are not the task's items: answers on them go to
          :meth:`Task.gold_df`.
        - ``min_gold_accuracy`` / ``min_gold_n``: a worker whose gold accuracy is below it after
          ``min_gold_n`` gold answers is flagged (:meth:`Task.flagged_workers`): their unworked items
          go to the others, and their labels leave consensus (they stay in the store).
        - ``worker_strategy="dynamic"`` with ``min_workers`` and ``max_workers`` (and
          ``review_strategy="consensus"``): each item starts with ``min_workers``; when all its
          labels are in without consensus one more worker who has not seen it is assigned, up
          to ``max_workers``, then it goes to review.
        - ``qualification``: a qualification task (:meth:`create_qualification_task`) a worker
          must pass before getting real items.
        - ``order="uncertainty"``: queues serve the items whose model prediction
          (:meth:`Task.import_predictions`) has the lowest margin first.

        ``annotation_type`` is what each worker gives an item: ``"class"`` (one label, the
        default), ``"multi_class"`` (any number of labels), ``"text"``, ``"box"`` or
        ``"polygon"`` (any number of shapes, each with a label).  Box and polygon shapes of
        different workers match when their IoU is at least ``iou_threshold``; ``unmatched``
        says what a shape (or multi_class label) fewer than ``approval_threshold`` workers gave
        does: ``"outvoted"`` drops it once that many workers answered without it, ``"review"``
        sends the item to review.

        With assignees and no other option the items are divided equally between them
        (partitioned, one worker per item).  The split is exact: each assignee gets its
        share of the ``len(items) * workers_per_input`` slots to within one item.
        ``show_metadata`` names the ``metadata['user']`` keys (dot paths) workers and reviewers see;
        ``None`` shows every key but :data:`~dltasks.domain.visibility.HIDDEN_METADATA` (``truth``,
        ``gold``, ``prediction``, …), see :meth:`Task.visible_metadata`.
        """
        spec = build_spec(task_name=task_name, due_date=due_date, assignee_ids=assignee_ids, workload=workload,
                          worker_strategy=worker_strategy, workers_per_input=workers_per_input, weights=weights,
                          review_strategy=review_strategy, reviewer_ids=reviewer_ids,
                          approval_threshold=approval_threshold, labels=labels, available_actions=available_actions,
                          priority=priority, metadata=metadata, task_type=task_type, seed=seed,
                          show_metadata=show_metadata, annotation_type=annotation_type, iou_threshold=iou_threshold,
                          unmatched=unmatched, gold_rate=gold_rate, min_gold_accuracy=min_gold_accuracy,
                          min_gold_n=min_gold_n, min_workers=min_workers, max_workers=max_workers,
                          qualification_task_id=qualification, order=order,
                          default_labels=self._dataset.labels if labels is None else ())
        if spec.type == "qa":
            raise ValidationError("use create_qa_task for QA tasks", "task_type", task_type)
        if spec.type == "qualification":
            raise ValidationError("use create_qualification_task for qualification tasks", "task_type", task_type)
        return self._store.tasks._task(self._ops.create_task(self._dataset.id, spec, filters, _item_ids(items),
                                                             None if gold is None else gold_pairs(gold)))

    def create_qualification_task(self, task_name: str, gold: Any, assignee_ids: Sequence[str] | None = None,
                                  pass_accuracy: float = 0.8, due_date: Any = None, labels: Sequence[str] | None = None,
                                  annotation_type: str = "class", **options: Any) -> Task:
        """A qualification task: every assignee answers every ``gold`` item (``{item_id: label}``); those
        with at least ``pass_accuracy`` right pass (:meth:`Task.qualification_df`).  A task created with
        ``qualification=`` this task gives its real items only to workers who passed.

        >>> import dltasks as dl, pandas as pd
        >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
        >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg", "b.jpg", "c.jpg"]}))
        >>> quiz = ds.tasks.create_qualification_task("quiz", gold={1: "cat", 2: "dog"}, assignee_ids=["ann"],
        ...                                            pass_accuracy=1.0)
        >>> work = ds.tasks.create("work", assignee_ids=["ann"], items=[3], qualification=quiz)
        >>> work.queue("ann"), quiz.submit(1, "ann", "cat"), quiz.submit(2, "ann", "dog"), work.queue("ann")
        ([], 'completed', 'completed', [3])
        """
        spec = build_spec(task_name=task_name, due_date=due_date, assignee_ids=assignee_ids,
                          task_type="qualification", pass_accuracy=pass_accuracy, labels=labels,
                          annotation_type=annotation_type, default_labels=self._dataset.labels if labels is None else (),
                          **options)
        return self._store.tasks._task(self._ops.create_task(self._dataset.id, spec, None, None, gold_pairs(gold)))

    def create_qa_task(self, task: Task, due_date: Any = None, assignee_ids: Sequence[str] | None = None,
                       filters: Filters | None = None, task_name: str | None = None, gold: Any = None,
                       **options: Any) -> Task:
        """Create a QA task over the items ``task`` has completed (narrowed by ``filters``).

        ``gold`` and ``gold_rate`` (and ``min_gold_accuracy``) work as in :meth:`create`: the QA
        workers' answers on items with known answers measure them (:meth:`Task.gold_df`).
        """
        if not isinstance(task, TaskRecord):
            raise ValidationError("must be the annotation Task to review", "task", task)
        if task.dataset_id != self._dataset.id:
            raise ValidationError("belongs to another dataset", "task", task.id)
        options.setdefault("labels", task.labels)
        options.setdefault("annotation_type", task.annotation_type)
        spec = build_spec(task_name=task_name or f"{task.name}_qa", due_date=due_date, assignee_ids=assignee_ids,
                          task_type="qa", default_labels=task.labels, **options)
        return self._store.tasks._task(self._ops.create_qa_task(self._dataset.id, task.id, spec, filters,
                                                                None if gold is None else gold_pairs(gold)))

    def get(self, task_name: str | None = None, task_id: str | None = None) -> Task:
        """One task of this dataset by name (``ConflictError`` if two share it) or id."""
        if task_id is not None:
            return self._store.tasks.get(task_id)
        if task_name is None:
            raise ValidationError("give task_name or task_id", "task_name", None)
        return self._store.tasks._task(self._ops.find_task(self._dataset.id, task_name))

    def list(self, page: int = 1, per_page: int = 128, **kwargs: Any) -> TaskPage:
        """A page of this dataset's tasks (takes ``store.tasks.list`` filters)."""
        return self._store.tasks.list(page=page, per_page=per_page, dataset=self._dataset, **kwargs)


def _item_ids(items: Any) -> builtins.list[int] | None:
    """The ids of ``items`` (Items or ids), as ``create(items=...)`` takes them."""
    if items is None:
        return None
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise ValidationError("must be a list of Items or item ids", "items", items)
    return [to_item_id(i.id if isinstance(i, Item) else i, "items") for i in items]

