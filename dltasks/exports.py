"""Tasks and datasets to annotation files, and annotation files into datasets (issue 14, "Formats").

The SDK calls ``task.export``, ``dataset.export`` and ``dataset.annotations.import_file`` are these
functions; the formats themselves are the pure functions of :mod:`dltasks.formats`.

======================  =========================================  =====================================
format                  ``path`` is                                 holds
======================  =========================================  =====================================
``"coco"``              a ``.json`` file                            boxes and polygons
``"yolo"``              a folder (``classes.txt``, one ``.txt``     boxes
                        per image)
``"label_studio"``      a ``.json`` file (a list of tasks)          every kind, one annotation per worker
``"csv"``               a ``.csv`` file                             every kind, one row per annotation
======================  =========================================  =====================================

Images are the items, with their size from ``metadata['system']`` (``width``, ``height``); files
are matched to items by file name (:func:`dltasks.formats.match_files`).

Examples
--------
>>> import dltasks as dl, pandas as pd, tempfile, json
>>> ds = dl.connect("sqlite://").datasets.create("d", labels=["car", "bus"])
>>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.jpg"], "metadata": [{"system": {"width": 64, "height": 48}}]}))
>>> task = ds.tasks.create("boxes", assignee_ids=["ann"], annotation_type="box")
>>> _ = task.submit(1, "ann", annotations=[dl.Box(10, 10, 50, 40, label="car")])
>>> path = export_task(task, f"{tempfile.mkdtemp()}/boxes.json", "coco")
>>> json.load(open(path))["annotations"][0]["bbox"]
[10.0, 10.0, 40.0, 30.0]
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from dltasks.domain.answers import image_size
from dltasks.domain.workflow import COMPLETED
from dltasks.errors import ValidationError
from dltasks.formats import (answers_from_rows, answers_table, from_coco, from_csv, from_label_studio, read_yolo,
                             to_coco, to_csv, to_label_studio, write_yolo)
from dltasks.formats.frames import ANSWER_COLUMNS

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.datasets import Dataset
    from dltasks.tasks import Task

__all__ = ["FORMATS", "CONSENSUS_WORKER", "export_task", "export_dataset", "import_annotations_file",
           "items_frame", "consensus_answers", "write_answers", "read_answers"]

#: The formats, and the kinds of answer each can hold.
FORMATS = {"coco": ("box", "polygon"), "yolo": ("box",), "label_studio": ("class", "box", "polygon", "text"),
           "csv": ("class", "box", "polygon", "text")}
#: The worker named on the consensus rows of ``export_task(..., what="consensus")``.
CONSENSUS_WORKER = "consensus"


def _format(fmt: Any) -> str:
    if fmt not in FORMATS:
        raise ValidationError(f"format must be one of {', '.join(FORMATS)}", "format", fmt)
    return str(fmt)


def items_frame(dataset: Dataset, item_ids: Sequence[Any] | None = None) -> pd.DataFrame:
    """The dataset's items as the formats read them: id, name, dir, filename, path, width, height.

    ``width`` / ``height`` come from ``metadata['system']`` (NaN when unknown); ``item_ids``
    keeps those items only, in their order.
    """
    items = dataset.items.to_df(metadata="dict")
    sizes = [image_size(m) or (float("nan"), float("nan")) for m in items["metadata"]]
    out = items[[c for c in ("id", "name", "dir", "filename", "path") if c in items.columns]].copy()
    out["width"] = [w for w, _ in sizes]
    out["height"] = [h for _, h in sizes]
    if item_ids is not None:
        out = out.set_index("id").loc[list(item_ids)].reset_index()
    return out.reset_index(drop=True)


def _none_rows(item_ids: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"item_id": i, "worker": CONSENSUS_WORKER, "kind": "none"} for i in item_ids]


def consensus_answers(task: Task) -> pd.DataFrame:
    """The consensus of a task's decided items as the long answers frame (worker ``"consensus"``).

    Decided items are those whose stored status is *completed* or *approved* (a reviewer's
    approval included).  Per type: class, the item's label (a reviewer's correction, else the
    label most workers gave: ``task.items_df()``); multi_class, the labels that are *in*
    (:func:`dltasks.agreement.label_consensus`); box and polygon, the consensus shapes
    (:func:`dltasks.agreement.consensus_shapes`, the task's ``iou_threshold``); text, the first
    worker's text equal to the agreed one after normalising.  A decided item with nothing agreed
    on has one "none" row.
    """
    from dltasks import agreement

    kind = task.annotation_type
    statuses = task.statuses_df()
    decided = statuses.loc[statuses["status"].isin(COMPLETED), "item_id"].tolist()
    threshold = task.approval_threshold or (max(1, task.workers_per_input) // 2 + 1)
    rows: list[dict[str, Any]] = []
    if kind == "class":
        items = task.items_df().set_index("item_id")
        rows = [{"item_id": i, "worker": CONSENSUS_WORKER, "kind": "class", "label": items.at[i, "label"]}
                for i in decided if isinstance(items.at[i, "label"], str)]
    else:
        answers = task.labels_df()
        answers = answers[answers["item_id"].isin(decided)]
        if kind == "multi_class":
            found = agreement.label_consensus(answers, threshold)
            found = found[found["decision"] == "in"]
            rows = [{"item_id": r.item_id, "worker": CONSENSUS_WORKER, "kind": "class", "label": r.label}
                    for r in found.itertuples(index=False)]
        elif kind in ("box", "polygon"):
            shapes = agreement.consensus_shapes(answers, threshold, task.iou_threshold)
            rows = [{**{c: getattr(r, c) for c in ("item_id", "kind", "label", "left", "top", "right", "bottom",
                                                   "geo")}, "worker": CONSENSUS_WORKER}
                    for r in shapes.itertuples(index=False)]
        elif kind == "text":
            rows = _text_rows(answers, agreement.text_consensus(answers, threshold))
    given = {r["item_id"] for r in rows}
    frame = answers_from_rows(rows + _none_rows([i for i in decided if i not in given]))
    return frame.sort_values("item_id", kind="stable").reset_index(drop=True)


def _text_rows(answers: pd.DataFrame, consensus: pd.DataFrame) -> list[dict[str, Any]]:
    from dltasks.agreement import normalise_text

    texts = answers[answers["kind"] == "text"]
    rows = []
    for item_id, agreed in consensus.loc[consensus["agreed"], "text"].items():
        mine = texts[texts["item_id"] == item_id]
        original = next((t for t in mine["text"] if normalise_text(t) == agreed), agreed)
        rows.append({"item_id": item_id, "worker": CONSENSUS_WORKER, "kind": "text", "text": original})
    return rows


def write_answers(path: str | Path, fmt: str, answers: pd.DataFrame, items: pd.DataFrame,
                  labels: Sequence[str]) -> Path:
    """Write the long answers frame in ``fmt``; return the file (or the YOLO folder) written.

    >>> import tempfile
    >>> frame = answers_from_rows([{"item_id": 1, "worker": "ann", "kind": "class", "label": "cat"}])
    >>> items = pd.DataFrame({"id": [1], "name": ["a.jpg"]})
    >>> path = write_answers(f"{tempfile.mkdtemp()}/out.csv", "csv", frame, items, ["cat"])
    >>> print(path.read_text(), end="")
    item_id,file_name,worker,kind,label,left,top,right,bottom,geo,text
    1,a.jpg,ann,class,cat,,,,,,
    """
    fmt, target = _format(fmt), Path(path)
    if fmt == "yolo":
        write_yolo(target, answers, items, labels)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        target.write_text(to_csv(answers, items), encoding="utf-8")
    else:
        data: Any = to_coco(answers, items, labels) if fmt == "coco" else to_label_studio(answers, items, labels)
        target.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return target


def read_answers(path: str | Path, fmt: str, items: pd.DataFrame, labels: Sequence[str] | None = None,
                 author: str = "import") -> pd.DataFrame:
    """The long answers frame of a file (or YOLO folder) in ``fmt``, matched to ``items`` by file name.

    ``labels`` name YOLO's classes when the folder has no ``classes.txt``; ``author`` is the
    worker of whatever the file does not say who made.

    >>> import tempfile, pathlib
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "in.csv"
    >>> _ = csv.write_text("file_name,kind,label\\nimgs/a.jpg,class,cat\\n")
    >>> frame = read_answers(csv, "csv", pd.DataFrame({"id": [4], "name": ["a.jpg"]}))
    >>> frame[["item_id", "worker", "label"]].values.tolist()
    [[4, 'import', 'cat']]
    """
    fmt, source = _format(fmt), Path(path)
    if fmt == "yolo":
        has_classes = (source / "classes.txt").is_file()
        return read_yolo(source, items, None if has_classes else labels, author=author)
    if not source.is_file():
        raise ValidationError("no such file", "path", str(path))
    text = source.read_text(encoding="utf-8")
    if fmt == "csv":
        return from_csv(text, items, author=author)
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ValidationError(f"not JSON: {err}", "path", str(path)) from None
    return from_coco(data, items, author=author) if fmt == "coco" else from_label_studio(data, items, author=author)


def _task_labels(task: Task) -> list[str]:
    return list(task.labels) or list(task.dataset.labels)


def export_task(task: Task, path: str | Path, format: str = "coco", what: str = "consensus") -> Path:
    """Write a task's work to ``path`` in ``format``; return what was written.

    ``what="consensus"``: the consensus of the decided items (:func:`consensus_answers`; the
    images are the decided items only, so a YOLO folder has no empty label file for an item
    nobody agreed on yet).  ``what="all"``: every worker's answers (``task.labels_df()``) on
    every item of the task.  Categories are the task's labels (the dataset's when the task has
    none).  A format that cannot hold the task's kind (COCO for text, YOLO for polygons)
    raises ``ValidationError`` naming the kind.
    """
    fmt = _format(format)
    if what not in ("consensus", "all"):
        raise ValidationError("what must be 'consensus' or 'all'", "what", what)
    if what == "all":
        answers = answers_table(task.labels_df())
        item_ids = task.statuses_df()["item_id"].tolist()
    else:
        answers = consensus_answers(task)
        item_ids = list(dict.fromkeys(answers["item_id"]))
    return write_answers(path, fmt, answers, items_frame(task.dataset, item_ids), _task_labels(task))


def export_dataset(dataset: Dataset, path: str | Path, format: str = "coco") -> Path:
    """Write every annotation of a dataset (``dataset.annotations.to_df()``) to ``path``; return it.

    Every item is an image.  COCO writes the boxes and polygons, YOLO the boxes (the other
    annotations are left out: those formats have no place for them); Label Studio JSON and CSV
    write every kind, one annotation (or row) per author.
    """
    fmt = _format(format)
    frame = dataset.annotations.to_df()
    answers = answers_table(frame[[c for c in (*ANSWER_COLUMNS, "author") if c in frame.columns]])
    answers = answers[answers["kind"].isin(FORMATS[fmt])].reset_index(drop=True)
    return write_answers(path, fmt, answers, items_frame(dataset), dataset.labels)


def import_annotations_file(dataset: Dataset, path: str | Path, format: str, author: str = "import") -> int:
    """Add the annotations of a file (or YOLO folder) to a dataset's items, all or nothing; return how many.

    Files are matched to items by file name (the item's path, then its path in the dataset,
    then its base name); a file that names no item, or several, raises ``ValidationError``
    naming it and nothing is added.  Each annotation's author is the worker the file names
    (COCO's ``worker``, Label Studio's ``completed_by``, the CSV's ``worker`` column), else
    ``author``.  A label that is not one of the dataset's labels (when it has some) raises
    ``ValidationError`` naming it.  Empty answers (Label Studio annotations without results)
    add nothing.
    """
    # the labels are checked by the store (dataset.annotations.import_df), as for any import
    answers = read_answers(path, format, items_frame(dataset), dataset.labels, author=author)
    answers = answers[answers["kind"] != "none"].rename(columns={"worker": "author"})
    if answers.empty:
        return 0
    return dataset.annotations.import_df(answers.reset_index(drop=True))
