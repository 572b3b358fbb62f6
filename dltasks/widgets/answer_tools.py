"""What the work widgets need to know about each annotation type: the browser's tool, its keys,
how the browser's answer becomes definitions, and how an answer reads in a note.

The LabelingWidget is one class for every task type: the task's ``annotation_type`` picks the
browser's tool (:data:`TOOLS`) and the keys (:func:`labelling_bindings`).  The browser keeps the
shapes, toggles or text being made for the item on screen and sends the whole answer with
Enter, as JSON definitions (``{"kind": "box", "label": "car", "geo": [[l, t], [r, b]]}``,
image pixels); :func:`answer_from_browser` turns them into :class:`~dltasks.domain.shapes.Definition`
objects for ``task.submit(..., annotations=...)``, which checks them.

>>> tool_of("box"), [b.key for b in labelling_bindings("box", ["car", "bus"])]
('box', ['1', '2', 'Delete', 'Enter', 's', 'u'])
>>> answer = answer_from_browser([{"kind": "box", "label": "car", "geo": [[1, 2], [30, 40]]}])
>>> answer, describe_answer("box", answer)
([Box(left=1.0, top=2.0, right=30.0, bottom=40.0, label='car')], '1 box (car)')
"""
from __future__ import annotations

import json
from typing import Any, Sequence

import pandas as pd

from dltasks.domain.answers import NONE_KIND, answers_frame
from dltasks.domain.shapes import Definition, definition
from dltasks.errors import ValidationError
from dltasks.widgets.work_queue import Binding

__all__ = ["TOOLS", "PALETTE", "CONSENSUS_COLOUR", "tool_of", "labelling_bindings", "answer_from_browser",
           "describe_answer", "item_answers", "answers_by_worker", "overlay", "consensus_of"]

#: The browser's tool for each annotation type (``keys``: today's one-key class labels).
TOOLS = {"class": "keys", "multi_class": "toggle", "text": "text", "box": "box", "polygon": "polygon"}
#: Colours of labels (labelling) and of workers (review), in turn (matplotlib's tab10).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")
#: The colour of the consensus shapes in the review (drawn dashed, over the workers').
CONSENSUS_COLOUR = "#111111"
_NOUNS = {"box": ("box", "boxes"), "polygon": ("polygon", "polygons")}


def tool_of(annotation_type: str) -> str:
    """The browser's tool for a task of ``annotation_type``.

    >>> tool_of("class"), tool_of("multi_class"), tool_of("polygon")
    ('keys', 'toggle', 'polygon')
    """
    if annotation_type not in TOOLS:
        raise ValidationError(f"the work widgets know the annotation types {list(TOOLS)}", "annotation_type",
                              annotation_type)
    return TOOLS[annotation_type]


def _label_keys(labels: Sequence[str], action: str, local: bool) -> list[Binding]:
    """Keys 1-9 for the first nine labels (a tenth label gets a button without a key)."""
    return [Binding(str(i + 1) if i < 9 else "", action, label, label, local=local)
            for i, label in enumerate(labels)]


def labelling_bindings(annotation_type: str, labels: Sequence[str], suggest: bool = False) -> list[Binding]:
    """The keys of the LabelingWidget for a task of ``annotation_type`` with ``labels``.

    * class: 1-9 label the item (one key, one answer); with ``suggest`` (the model's suggestion
      on the cards) Enter accepts the suggested label;
    * multi_class: 1-9 toggle labels, Enter submits the set (none: "no label applies");
    * text: type in the box, Enter submits;
    * box / polygon: 1-9 pick the label of the selected shape and of the next one drawn,
      Delete (or Backspace) deletes the selected shape, Escape cancels the polygon being
      drawn, Enter submits the item's shapes (none: "nothing here").

    Keys marked ``local`` act in the browser only (on the answer being made); Enter sends it.
    Every type has s (skip) and u (undo).

    >>> [(b.key, b.action, b.local) for b in labelling_bindings("multi_class", ["cat"])][:2]
    [('1', 'toggle', True), ('Enter', 'submit', False)]
    >>> [b.text for b in labelling_bindings("polygon", ["roof"])]
    ['roof', 'Delete shape', 'Cancel polygon', 'Submit', 'Skip', 'Undo']
    >>> [(b.key, b.text) for b in labelling_bindings("class", ["cat"], suggest=True)][:2]
    [('1', 'cat'), ('Enter', 'Accept suggestion')]
    """
    tool = tool_of(annotation_type)
    end = [Binding("s", "skip", None, "Skip"), Binding("u", "undo", None, "Undo", on_item=False)]
    submit = Binding("Enter", "submit", None, "Submit", style="approve")
    if tool == "keys":
        accept = [Binding("Enter", "submit", None, "Accept suggestion", style="approve")] if suggest else []
        return [*_label_keys(labels, "label", local=False), *accept, *end]
    if tool == "toggle":
        return [*_label_keys(labels, "toggle", local=True), submit, *end]
    if tool == "text":
        return [submit, *end]
    shapes = [*_label_keys(labels, "pick", local=True),
              Binding("Delete", "delete", None, "Delete shape" if tool == "polygon" else "Delete box", local=True)]
    if tool == "polygon":
        shapes.append(Binding("Escape", "cancel", None, "Cancel polygon", local=True))
    return [*shapes, submit, *end]


def answer_from_browser(annotations: Any) -> list[Definition]:
    """The definitions of an answer the browser sent: a list of ``{kind, label, geo, text}``.

    Each is built as its kind's definition (numbers checked); whether it suits the task (its
    type, labels, the image's bounds) is the store's check, in ``task.submit``.

    >>> answer_from_browser([{"kind": "class", "label": "cat"}, {"kind": "class", "label": "dog"}])
    [Classification(label='cat'), Classification(label='dog')]
    >>> answer_from_browser("cat")
    Traceback (most recent call last):
    dltasks.errors.ValidationError: annotations: the answer is a list of annotations (got 'cat')
    """
    if not isinstance(annotations, (list, tuple)):
        raise ValidationError("the answer is a list of annotations", "annotations", annotations)
    out = []
    for a in annotations:
        if isinstance(a, Definition):
            out.append(a)
            continue
        if not isinstance(a, dict):
            raise ValidationError("each annotation is {kind, label, geo, text}", "annotations", a)
        out.append(definition(str(a.get("kind")), a.get("label"), a.get("geo"), a.get("text")))
    return out


def describe_answer(annotation_type: str, answer: Sequence[Definition]) -> str:
    """An answer in a few words, as a note or a review table shows it.

    >>> describe_answer("box", []), describe_answer("multi_class", [])
    ('nothing here (no boxes)', 'no label applies')
    >>> from dltasks.domain.shapes import Polygon, FreeText, Classification
    >>> describe_answer("polygon", [Polygon([[0, 0], [4, 0], [0, 3]], "roof")] * 2)
    '2 polygons (roof, roof)'
    >>> describe_answer("multi_class", [Classification("cat"), Classification("dog")])
    'cat, dog'
    >>> describe_answer("text", [FreeText("a red car")])
    "'a red car'"
    """
    if annotation_type in _NOUNS:
        one, many = _NOUNS[annotation_type]
        if not answer:
            return f"nothing here (no {many})"
        labels = ", ".join(str(d.label) for d in answer)
        return f"{len(answer)} {one if len(answer) == 1 else many} ({labels})"
    if annotation_type == "text":
        text = " ".join(str(answer[0].text).split()) if answer else ""
        return repr(text if len(text) <= 60 else text[:59] + "…")
    if not answer:
        return "no label applies" if annotation_type == "multi_class" else "no label"
    return ", ".join(str(d.label) for d in answer)


def item_answers(annotations: Sequence[Any], task_id: str) -> pd.DataFrame:
    """The long answers frame (the contract's columns) of one item's annotations in task ``task_id``.

    ``annotations``: the item's :class:`~dltasks.domain.records.Annotation` objects (any task).

    >>> import datetime as dt
    >>> from dltasks.domain.records import Annotation
    >>> a = Annotation(id=1, item_id=3, label="car", author="ann", task_id="t", kind="box", geo=[[0, 0], [2, 2]],
    ...                created_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
    >>> item_answers([a], "t")[["item_id", "worker", "kind", "label", "right"]].values.tolist()
    [[3, 'ann', 'box', 'car', 2.0]]
    """
    mine = [a for a in annotations if a.task_id == task_id]
    return answers_frame([int(a.item_id) for a in mine], [str(a.author) for a in mine], [a.kind for a in mine],
                         [a.label or "" for a in mine],
                         [None if a.geo is None else json.dumps(a.geo) for a in mine], [a.text for a in mine])


def answers_by_worker(answers: pd.DataFrame) -> dict[str, list[Definition]]:
    """Each worker's answer in a long answers frame of one item (an empty answer is ``[]``).

    >>> frame = answers_frame([1, 1], ["bob", "ann"], ["none", "class"], ["", "cat"], [None, None], [None, None])
    >>> answers_by_worker(frame)
    {'ann': [Classification(label='cat')], 'bob': []}
    """
    out: dict[str, list[Definition]] = {}
    for worker, rows in answers.groupby("worker", sort=True):
        out[str(worker)] = [definition(r.kind, r.label, [[r.left, r.top], [r.right, r.bottom]]
                                       if r.kind == "box" else r.geo, r.text)
                            for r in rows.itertuples(index=False) if r.kind != NONE_KIND]
    return out


def consensus_of(answers: pd.DataFrame, approval_threshold: int, iou_threshold: float) -> list[Definition] | None:
    """The consensus shapes of one item's answers (``dltasks.agreement.consensus_shapes``), or
    None when that module is not installed."""
    try:
        from dltasks import agreement
    except ImportError:
        return None
    consensus_shapes = getattr(agreement, "consensus_shapes", None)
    if consensus_shapes is None:
        return None
    shapes = consensus_shapes(answers, approval_threshold, iou_threshold)
    out: list[Definition] = []
    for r in shapes.itertuples(index=False):
        geo = [[r.left, r.top], [r.right, r.bottom]] if r.kind == "box" else r.geo
        out.append(definition(r.kind, r.label, geo, None))
    return out


def _drawn(d: Definition, colour: str, who: str, consensus: bool = False) -> dict[str, Any]:
    return {"kind": d.kind, "label": d.label, "geo": d.geo, "colour": colour, "worker": who, "consensus": consensus}


def overlay(by_worker: dict[str, list[Definition]], consensus: list[Definition] | None,
            threshold: int | None = None) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """What the review card draws over the picture: the shapes (one colour per worker, the
    consensus last, dashed) and the legend ``[name, colour, what]``.

    >>> from dltasks.domain.shapes import Box
    >>> shapes, legend = overlay({"ann": [Box(0, 0, 5, 5, "car")], "bob": []}, [Box(0, 0, 5, 5, "car")], 2)
    >>> [(s["worker"], s["colour"], s["consensus"]) for s in shapes]
    [('ann', '#1f77b4', False), ('consensus', '#111111', True)]
    >>> legend
    [['ann', '#1f77b4', '1 shape'], ['bob', '#ff7f0e', 'nothing here'], ['consensus', '#111111', '1 shape (≥ 2 workers)']]
    >>> overlay({"ann": [Box(0, 0, 5, 5, "car")]}, [], 2)[1][-1]
    ['consensus', '#111111', 'no shape matched by ≥ 2 workers']
    """
    shapes: list[dict[str, Any]] = []
    legend: list[list[Any]] = []

    def count(n: int) -> str:
        return "nothing here" if n == 0 else f"{n} shape{'s' if n != 1 else ''}"

    for i, (worker, answer) in enumerate(by_worker.items()):
        colour = PALETTE[i % len(PALETTE)]
        shapes += [_drawn(d, colour, worker) for d in answer]
        legend.append([worker, colour, count(len(answer))])
    if consensus is not None:
        shapes += [_drawn(d, CONSENSUS_COLOUR, "consensus", True) for d in consensus]
        rule = f" (≥ {threshold} workers)" if threshold else ""
        said = count(len(consensus)) + rule if consensus else f"no shape matched by ≥ {threshold or 1} workers"
        legend.append(["consensus", CONSENSUS_COLOUR, said])
    return shapes, legend

