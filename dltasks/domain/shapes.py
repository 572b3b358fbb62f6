"""What a worker can give an item: a class label, a box, a polygon or a free text (dtlpy's definitions).

Every definition is one frozen :class:`Definition` (``kind``, ``label``, ``geo``, ``text``);
:class:`Classification`, :class:`Box`, :class:`Polygon` and :class:`FreeText` build it the
way dtlpy's classes do.  :func:`check_definition` checks one on its own (finite numbers, a box
with positive area, a polygon with three distinct points); :func:`check_answer` checks a
worker's whole answer against a task (its type, its labels, the image's size when known).

Examples
--------
>>> box = Box(10, 20, 50, 60, label="car")
>>> box
Box(left=10.0, top=20.0, right=50.0, bottom=60.0, label='car')
>>> box.geo, box.kind
([[10.0, 20.0], [50.0, 60.0]], 'box')
>>> check_answer("box", [box], ["car", "bus"], image_size=(40, 100))
Traceback (most recent call last):
dltasks.errors.ValidationError: annotations: the box reaches x = 50 outside the image (0 to 40 pixels wide) (got Box(left=10.0, top=20.0, right=50.0, bottom=60.0, label='car'))
>>> check_answer("multi_class", [Classification("car"), Classification("bus")], ["car", "bus"])
[Classification(label='car'), Classification(label='bus')]
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Sequence

from dltasks.domain.checks import check_label
from dltasks.domain.values import text_problem
from dltasks.domain.workflow import check_label_in_task
from dltasks.errors import ValidationError

__all__ = ["ANNOTATION_TYPES", "KINDS", "MAX_SHAPES", "MAX_POINTS", "MAX_FREE_TEXT", "Definition", "Classification",
           "Box", "Polygon", "FreeText", "definition", "check_definition", "check_definitions", "check_answer",
           "answer_text", "answer_given", "check_label_change", "kind_of_type", "geo_json"]

#: A task's annotation types: what each worker gives an item.
ANNOTATION_TYPES = ("class", "multi_class", "text", "box", "polygon")
#: Kinds of definition (a multi_class answer is several ``class`` definitions).
KINDS = ("class", "box", "polygon", "text")
#: The most definitions in one answer, and points in one polygon.
MAX_SHAPES = 1000
MAX_POINTS = 10_000
#: The longest free text.
MAX_FREE_TEXT = 10_000
#: The largest coordinate (pixels).
MAX_COORDINATE = 1e9


@dataclass(frozen=True)
class Definition:
    """One label, box, polygon or text as stored: ``kind`` and what that kind has.

    ``geo`` is ``[[left, top], [right, bottom]]`` for a box and the points ``[[x, y], ...]``
    of a polygon (pixels); ``label`` is the class (``None`` for a text); ``text`` a free text.

    >>> definition("box", "car", [[1, 2], [3, 4]], None)
    Box(left=1.0, top=2.0, right=3.0, bottom=4.0, label='car')
    """

    kind: str
    label: str | None = None
    geo: list[list[float]] | None = None
    text: str | None = None

    @property
    def type(self) -> str:
        """dtlpy's name for the kind (``'class'``, ``'box'``, ``'polygon'``, ``'text'``)."""
        return self.kind

    def to_json(self) -> dict[str, Any]:
        """The definition as JSON data (what the history and the wire keep).

        >>> Polygon([[0, 0], [4, 0], [0, 3]], "roof").to_json()
        {'kind': 'polygon', 'label': 'roof', 'geo': [[0.0, 0.0], [4.0, 0.0], [0.0, 3.0]]}
        """
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("label", "geo", "text"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    def __repr__(self) -> str:
        return f"Definition(kind={self.kind!r}, label={self.label!r}, geo={self.geo!r}, text={self.text!r})"


def _init(obj: Definition, kind: str, label: str | None, geo: list[list[float]] | None, text: str | None) -> None:
    for name, value in (("kind", kind), ("label", label), ("geo", geo), ("text", text)):
        object.__setattr__(obj, name, value)


def _number(value: Any, field: str = "annotations") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "__float__"):
        raise ValidationError("coordinates must be numbers", field, value)
    number = float(value)
    if not math.isfinite(number) or abs(number) > MAX_COORDINATE:
        raise ValidationError(f"coordinates must be finite numbers (at most {MAX_COORDINATE:g})", field, value)
    return number


class Classification(Definition):
    """A class label on the whole item (dtlpy's ``dl.Classification``).

    >>> Classification("cat")
    Classification(label='cat')
    """

    def __init__(self, label: str) -> None:
        _init(self, "class", label, None, None)

    def __repr__(self) -> str:
        return f"Classification(label={self.label!r})"


class Box(Definition):
    """A bounding box in pixels, ``left < right`` and ``top < bottom`` (dtlpy's ``dl.Box``).

    >>> b = Box(left=1, top=2, right=5, bottom=8, label="car")
    >>> b.left, b.bottom, b.width, b.height
    (1.0, 8.0, 4.0, 6.0)
    """

    def __init__(self, left: float, top: float, right: float, bottom: float, label: str) -> None:
        _init(self, "box", label, [[_number(left), _number(top)], [_number(right), _number(bottom)]], None)

    left = property(lambda self: self.geo[0][0], doc="Left edge (pixels).")
    top = property(lambda self: self.geo[0][1], doc="Top edge (pixels).")
    right = property(lambda self: self.geo[1][0], doc="Right edge (pixels).")
    bottom = property(lambda self: self.geo[1][1], doc="Bottom edge (pixels).")
    width = property(lambda self: self.geo[1][0] - self.geo[0][0], doc="Width (pixels).")
    height = property(lambda self: self.geo[1][1] - self.geo[0][1], doc="Height (pixels).")

    def __repr__(self) -> str:
        return (f"Box(left={self.left!r}, top={self.top!r}, right={self.right!r}, bottom={self.bottom!r}, "
                f"label={self.label!r})")


class Polygon(Definition):
    """A polygon, its points ``[[x, y], ...]`` in pixels (dtlpy's ``dl.Polygon``).

    >>> Polygon(geo=[[0, 0], [4, 0], [4, 3]], label="roof").geo
    [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]]
    """

    def __init__(self, geo: Sequence[Sequence[float]], label: str) -> None:
        if isinstance(geo, (str, bytes)) or not isinstance(geo, Sequence) and not hasattr(geo, "tolist"):
            raise ValidationError("a polygon's geo is a list of [x, y] points", "annotations", geo)
        points = geo.tolist() if hasattr(geo, "tolist") else list(geo)
        if len(points) > MAX_POINTS:
            raise ValidationError(f"a polygon has at most {MAX_POINTS:,} points", "annotations", len(points))
        pairs = []
        for point in points:
            if isinstance(point, (str, bytes)) or not hasattr(point, "__len__") or len(point) != 2:
                raise ValidationError("a polygon's points are [x, y] pairs", "annotations", point)
            pairs.append([_number(point[0]), _number(point[1])])
        _init(self, "polygon", label, pairs, None)

    def __repr__(self) -> str:
        return f"Polygon(geo={self.geo!r}, label={self.label!r})"


class FreeText(Definition):
    """A free-text answer (dtlpy's ``dl.FreeText``).

    >>> FreeText("a red car").text
    'a red car'
    """

    def __init__(self, text: str) -> None:
        _init(self, "text", None, None, text)

    def __repr__(self) -> str:
        return f"FreeText(text={self.text!r})"


def definition(kind: str, label: str | None = None, geo: Any = None, text: str | None = None) -> Definition:
    """The definition of ``kind`` (as :class:`Box` etc.) from stored or sent fields; checked by
    :func:`check_definition`.

    >>> definition("text", text="hello")
    FreeText(text='hello')
    """
    if kind == "class":
        return Classification(label)  # type: ignore[arg-type]
    if kind == "box":
        if not isinstance(geo, (list, tuple)) or len(geo) != 2 or any(
                not isinstance(p, (list, tuple)) or len(p) != 2 for p in geo):
            raise ValidationError("a box's geo is [[left, top], [right, bottom]]", "annotations", geo)
        return Box(geo[0][0], geo[0][1], geo[1][0], geo[1][1], label)  # type: ignore[arg-type]
    if kind == "polygon":
        return Polygon(geo, label)  # type: ignore[arg-type]
    if kind == "text":
        return FreeText(text)  # type: ignore[arg-type]
    raise ValidationError(f"an annotation's kind is one of {list(KINDS)}", "annotations", kind)


def check_definition(value: Any, field: str = "annotations") -> Definition:
    """One definition on its own: a known kind, a label, finite coordinates, a box with positive
    area, a polygon with at least three distinct points, a non-empty text.

    >>> check_definition(Box(5, 5, 5, 9, "car"))
    Traceback (most recent call last):
    dltasks.errors.ValidationError: annotations: a box needs left < right and top < bottom (positive area) (got Box(left=5.0, top=5.0, right=5.0, bottom=9.0, label='car'))
    """
    if isinstance(value, dict):  # as JSON data: {"kind": "box", "label": ..., "geo": ...}
        value = definition(value.get("kind", ""), value.get("label"), value.get("geo"), value.get("text"))
    if not isinstance(value, Definition):
        raise ValidationError("must be a dl.Classification, dl.Box, dl.Polygon or dl.FreeText", field, value)
    checked = definition(value.kind, value.label, value.geo, value.text)  # the numbers, once more
    if checked.kind == "text":
        text = checked.text
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_FREE_TEXT:
            raise ValidationError(f"a free text is a non-empty string of at most {MAX_FREE_TEXT:,} characters",
                                  field, text)
        problem = text_problem(text)
        if problem is not None:
            raise ValidationError(problem, field, text)
        return checked
    label = check_label(checked.label, field)
    if checked.kind == "box":
        b = checked
        assert isinstance(b, Box)
        if not (b.left < b.right and b.top < b.bottom):
            raise ValidationError("a box needs left < right and top < bottom (positive area)", field, b)
        return Box(b.left, b.top, b.right, b.bottom, label)
    if checked.kind == "polygon":
        assert checked.geo is not None
        if len({tuple(p) for p in checked.geo}) < 3:
            raise ValidationError("a polygon needs at least 3 distinct points", field, checked)
        return Polygon(checked.geo, label)
    return Classification(label)


def check_definitions(values: Any, field: str = "annotations") -> list[Definition]:
    """A list of definitions (one is a list of one), each checked, at most :data:`MAX_SHAPES`.

    >>> check_definitions(Classification(" cat "))
    [Classification(label='cat')]
    """
    if isinstance(values, (Definition, dict)):
        values = [values]
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise ValidationError("must be a list of annotation definitions (dl.Box, ...)", field, values)
    if len(values) > MAX_SHAPES:
        raise ValidationError(f"takes at most {MAX_SHAPES:,} annotations per answer", field, len(values))
    return [check_definition(v, field) for v in values]


def answer_given(label: str | None, annotations: Sequence[Definition] | None, field: str = "annotations"
                 ) -> list[Definition]:
    """A submission's answer: ``label`` (a class task's one label) or ``annotations``, exactly one of them.

    >>> answer_given("cat", None), answer_given(None, [])
    ([Classification(label='cat')], [])
    """
    if (label is None) == (annotations is None):
        raise ValidationError(f"give label= or {field}=, exactly one of them", field, annotations)
    return [Classification(label)] if label is not None else list(annotations or [])


def check_label_change(kind: str, label: str) -> None:
    """A text has no label to change.

    >>> check_label_change("text", "cat")
    Traceback (most recent call last):
    dltasks.errors.ValidationError: label: a text annotation has no label (got 'cat')
    """
    if kind in ("text", "none"):
        raise ValidationError(f"a {kind} annotation has no label", "label", label)


def kind_of_type(annotation_type: str) -> str:
    """The kind of definition a task of ``annotation_type`` collects.

    >>> kind_of_type("multi_class"), kind_of_type("box")
    ('class', 'box')
    """
    return "class" if annotation_type == "multi_class" else annotation_type


def _inside(d: Definition, image_size: tuple[float, float], field: str) -> None:
    width, height = image_size
    assert d.geo is not None
    for x, y in d.geo:
        if not 0 <= x <= width:
            raise ValidationError(f"the {d.kind} reaches x = {x:g} outside the image (0 to {width:g} pixels wide)",
                                  field, d)
        if not 0 <= y <= height:
            raise ValidationError(f"the {d.kind} reaches y = {y:g} outside the image (0 to {height:g} pixels "
                                  "high)", field, d)


def check_answer(annotation_type: str, definitions: Sequence[Definition], labels: Sequence[str],
                 image_size: tuple[float, float] | None = None, field: str = "annotations") -> list[Definition]:
    """A worker's whole answer for an item of a task of ``annotation_type`` with ``labels``.

    A class task takes one label; a text task one text; multi_class, box and polygon tasks any
    number (none: "no label applies", "nothing to draw"), each label once in multi_class.
    Shapes must lie inside the image when its size ``(width, height)`` is known.

    >>> check_answer("class", [], ["cat"])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: annotations: a class task takes exactly one label (got [])
    """
    answer = check_definitions(list(definitions), field)
    kind = kind_of_type(annotation_type)
    wrong = next((d for d in answer if d.kind != kind), None)
    if wrong is not None:
        raise ValidationError(f"a {annotation_type} task takes {kind} annotations, not {wrong.kind}", field, wrong)
    if annotation_type in ("class", "text") and len(answer) != 1:
        what = "label" if annotation_type == "class" else "text"
        raise ValidationError(f"a {annotation_type} task takes exactly one {what}", field, answer)
    if kind != "text":
        for d in answer:
            check_label_in_task(str(d.label), list(labels))
    if annotation_type == "multi_class":
        chosen = [d.label for d in answer]
        twice = next((lbl for i, lbl in enumerate(chosen) if lbl in chosen[:i]), None)
        if twice is not None:
            raise ValidationError("gives a label twice", "label", twice)
    if image_size is not None and kind in ("box", "polygon"):
        for d in answer:
            _inside(d, image_size, field)
    return answer


def geo_json(d: Definition) -> str | None:
    """A definition's ``geo`` as stored (JSON text), ``None`` without one."""
    return None if d.geo is None else json.dumps(d.geo, separators=(",", ":"))


def answer_text(answer: Sequence[Definition]) -> str:
    """A whole answer as the history keeps it (JSON text).

    >>> answer_text([Box(0, 0, 2, 2, "car")])
    '[{"kind":"box","label":"car","geo":[[0.0,0.0],[2.0,2.0]]}]'
    """
    return json.dumps([d.to_json() for d in answer], separators=(",", ":"))
