"""Label Studio JSON: its tasks, one per item, with one annotation per worker.

A task is ``{"id", "data": {"image": <item path or path in the dataset>}, "annotations": [...]}``;
each annotation has ``completed_by`` (the worker's name: Label Studio's own exports put a user id
there, and reading takes an id, a name or a ``{"email": ...}`` object) and ``result``: one
``choices`` result with the worker's classes, ``rectanglelabels`` per box and ``polygonlabels``
per polygon (in percent of ``original_width`` / ``original_height``, the image size), one
``textarea`` result with the worker's texts.  An empty ``result`` is a worker who answered
with nothing.  :func:`label_studio_config` writes the labelling config these results fit.

Examples
--------
>>> import pandas as pd
>>> from dltasks.formats.frames import answers_from_rows
>>> answers = answers_from_rows([{"item_id": 1, "worker": "ann", "kind": "box", "label": "dog",
...                           "left": 10, "top": 20, "right": 40, "bottom": 60}])
>>> items = pd.DataFrame({"item_id": [1], "name": ["a.jpg"], "width": [100], "height": [80]})
>>> tasks = to_label_studio(answers, items)
>>> tasks[0]["annotations"][0]["result"][0]["value"]
{'x': 10.0, 'y': 25.0, 'width': 30.0, 'height': 50.0, 'rotation': 0, 'rectanglelabels': ['dog']}
>>> from_label_studio(tasks, items).equals(answers)
True
"""
from __future__ import annotations

from typing import Any, Sequence
from xml.sax.saxutils import quoteattr

import pandas as pd

from dltasks.errors import ValidationError
from dltasks.formats.coco import coco_image_ids
from dltasks.formats.frames import (answers_from_rows, answers_table, check_items, check_labels, item_size,
                                    items_table, match_files)

__all__ = ["to_label_studio", "from_label_studio", "label_studio_config", "CONTROL_NAMES", "IMAGE_NAME"]

#: The ``from_name`` of each kind's results (the control tags of :func:`label_studio_config`).
CONTROL_NAMES = {"class": "class", "box": "box", "polygon": "polygon", "text": "text"}
#: The ``to_name`` of every result and the task's ``data`` key: the image.
IMAGE_NAME = "image"


def label_studio_config(labels: Sequence[str], kinds: Sequence[str] = ("box", "polygon", "class")) -> str:
    """A Label Studio labelling config (XML) for ``labels`` with one control tag per kind.

    Kinds: "box" (RectangleLabels), "polygon" (PolygonLabels), "class" (single Choices),
    "multi_class" (multiple Choices), "text" (TextArea).  The first shape tag's labels have
    ``category`` n (1..n in label order, given once: Label Studio's converter would list a
    category once per tag that gives it), so its COCO export numbers categories as dltasks does.

    >>> print(label_studio_config(["cat"], ["box", "text"]))
    <View>
      <Image name="image" value="$image"/>
      <RectangleLabels name="box" toName="image">
        <Label value="cat" category="1"/>
      </RectangleLabels>
      <TextArea name="text" toName="image"/>
    </View>
    """
    labels = check_labels(answers_from_rows([]), labels)
    tags = {"box": "RectangleLabels", "polygon": "PolygonLabels"}
    lines = ["<View>", f'  <Image name="{IMAGE_NAME}" value="${IMAGE_NAME}"/>']
    numbered = False
    for kind in kinds:
        if kind in tags:
            lines.append(f'  <{tags[kind]} name="{CONTROL_NAMES[kind]}" toName="{IMAGE_NAME}">')
            lines += [f"    <Label value={quoteattr(label)}" + ("" if numbered else f' category="{i}"') + "/>"
                      for i, label in enumerate(labels, 1)]
            lines.append(f"  </{tags[kind]}>")
            numbered = True
        elif kind in ("class", "multi_class"):
            choice = "multiple" if kind == "multi_class" else "single"
            lines.append(f'  <Choices name="{CONTROL_NAMES["class"]}" toName="{IMAGE_NAME}" choice="{choice}">')
            lines += [f"    <Choice value={quoteattr(label)}/>" for label in labels]
            lines.append("  </Choices>")
        elif kind == "text":
            lines.append(f'  <TextArea name="{CONTROL_NAMES["text"]}" toName="{IMAGE_NAME}"/>')
        else:
            raise ValidationError("kinds are box, polygon, class, multi_class and text", "kinds", kind)
    return "\n".join(lines + ["</View>"])


def _region(row: Any, width: float, height: float, n: str) -> dict[str, Any]:
    result: dict[str, Any] = {"id": n, "type": {"box": "rectanglelabels", "polygon": "polygonlabels"}[row.kind],
                              "from_name": CONTROL_NAMES[row.kind], "to_name": IMAGE_NAME,
                              "original_width": width, "original_height": height, "image_rotation": 0}
    if row.kind == "box":
        result["value"] = {"x": row.left / width * 100, "y": row.top / height * 100,
                           "width": (row.right - row.left) / width * 100,
                           "height": (row.bottom - row.top) / height * 100, "rotation": 0,
                           "rectanglelabels": [row.label]}
    else:
        result["value"] = {"points": [[x / width * 100, y / height * 100] for x, y in row.geo],
                           "polygonlabels": [row.label], "closed": True}
    return result


def _results(rows: list[Any], item: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """One worker's rows on one item as Label Studio results: choices, then regions, then texts."""
    results: list[dict[str, Any]] = []
    classes = [row.label for row in rows if row.kind == "class"]
    if classes:
        results.append({"id": f"{prefix}c", "type": "choices", "from_name": CONTROL_NAMES["class"],
                        "to_name": IMAGE_NAME, "value": {"choices": classes}})
    shapes = [row for row in rows if row.kind in ("box", "polygon")]
    if shapes:
        width, height = item_size(item, "Label Studio")
        results += [_region(row, width, height, f"{prefix}r{k}") for k, row in enumerate(shapes)]
    texts = [row.text for row in rows if row.kind == "text"]
    if texts:
        results.append({"id": f"{prefix}t", "type": "textarea", "from_name": CONTROL_NAMES["text"],
                        "to_name": IMAGE_NAME, "value": {"text": texts}})
    return results


def to_label_studio(answers: pd.DataFrame, items: pd.DataFrame,
                    labels: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Label Studio tasks (a JSON list) of every item, with each worker's answer as an annotation.

    ``data.image`` is the item's ``path`` when it has one, else its path in the dataset.
    Boxes and polygons need the image size (``width``/``height`` of ``items``); without it
    ``ValidationError`` names the item.  ``labels``, when given, must hold every label.

    >>> import pandas as pd
    >>> from dltasks.formats.frames import answers_from_rows
    >>> answers = answers_from_rows([{"item_id": 1, "worker": "ann", "kind": "class", "label": "cat"},
    ...                          {"item_id": 1, "worker": "bo", "kind": "none"}])
    >>> task = to_label_studio(answers, pd.DataFrame({"id": [1], "name": ["a.jpg"], "path": ["/p/a.jpg"]}))[0]
    >>> task["data"], [(a["completed_by"], a["result"]) for a in task["annotations"]]
    ({'image': '/p/a.jpg'}, [('ann', [{'id': '1c', 'type': 'choices', 'from_name': 'class', 'to_name': 'image', 'value': {'choices': ['cat']}}]), ('bo', [])])
    """
    table = answers_table(answers)
    if labels is not None:
        check_labels(table, labels)
    item_table = items_table(items)
    check_items(table, item_table)
    by_item: dict[Any, dict[str, list[Any]]] = {}  # item -> worker -> rows, in the frame's order
    for row in table.itertuples(index=False):
        by_item.setdefault(row.item_id, {}).setdefault(row.worker, []).append(row)
    tasks, n = [], 0
    for task_id, item in zip(coco_image_ids(item_table["item_id"].tolist()), item_table.to_dict("records")):
        annotations = []
        for worker, mine in by_item.get(item["item_id"], {}).items():
            n += 1
            annotations.append({"id": n, "completed_by": worker, "result": _results(mine, item, f"{n}"),
                                "was_cancelled": False, "ground_truth": False})
        tasks.append({"id": task_id, "data": {IMAGE_NAME: item["path"] or item["file_name"]},
                      "annotations": annotations, "predictions": []})
    return tasks


def _worker(completed_by: Any, default: str) -> str:
    if isinstance(completed_by, dict):
        completed_by = completed_by.get("email") or completed_by.get("id")
    if completed_by is None or completed_by == "":
        return default
    return str(completed_by)


def _image_ref(task: dict[str, Any], n: int) -> str:
    data = task.get("data")
    if not isinstance(data, dict):
        raise ValidationError(f"task {n}: needs a data object", "data", data)
    ref = data.get(IMAGE_NAME)
    if ref is None:
        texts = [v for v in data.values() if isinstance(v, str)]
        ref = texts[0] if len(texts) == 1 else None
    if not isinstance(ref, str):
        raise ValidationError(f"task {n}: data needs the image ('image': its path or URL)", "data", data)
    return ref


def _size(result: dict[str, Any], item: dict[str, Any]) -> tuple[float, float]:
    if result.get("original_width") and result.get("original_height"):
        return float(result["original_width"]), float(result["original_height"])
    return item_size(item, "a Label Studio region without original_width/original_height")


def _result_rows(result: dict[str, Any], item: dict[str, Any], where: str) -> list[dict[str, Any]]:
    value = result.get("value")
    if not isinstance(value, dict):
        raise ValidationError(f"{where}: a result needs a value object", "value", value)
    kind = result.get("type")
    if kind == "choices":
        return [{"kind": "class", "label": label} for label in value.get("choices", [])]
    if kind == "textarea":
        return [{"kind": "text", "text": text} for text in value.get("text", [])]
    if kind in ("rectanglelabels", "polygonlabels", "labels"):
        labels = value.get(kind) or value.get("labels") or []
        width, height = _size(result, item)
        if "points" in value:
            geo = [[x * width / 100, y * height / 100] for x, y in value["points"]]
            return [{"kind": "polygon", "label": label, "geo": geo} for label in labels]
        if value.get("rotation"):
            raise ValidationError(f"{where}: rotated boxes cannot be read", "rotation", value["rotation"])
        try:
            left, top = value["x"] * width / 100, value["y"] * height / 100
            box = {"left": left, "top": top, "right": left + value["width"] * width / 100,
                   "bottom": top + value["height"] * height / 100}
        except (KeyError, TypeError):
            raise ValidationError(f"{where}: a rectangle needs x, y, width, height", "value", value) from None
        return [{"kind": "box", "label": label, **box} for label in labels]
    raise ValidationError(f"{where}: results of this type cannot be read (choices, rectanglelabels, polygonlabels "
                          "and textarea can)", "type", kind)


def from_label_studio(tasks: list[dict[str, Any]] | dict[str, Any], items: pd.DataFrame, author: str = "import",
                      predictions: bool = False) -> pd.DataFrame:
    """The long answers frame of Label Studio tasks, matched to ``items`` by the task's image.

    The image is ``data['image']`` (or the data's one text) and is matched by
    :func:`~dltasks.formats.frames.match_files` (a URL's path, or a local-files URL's ``?d=``
    path, counts).  Each annotation not cancelled gives its worker's rows (``completed_by``:
    a name, an id, or an object's ``email``; else ``author``); one with an empty result gives
    a "none" row.  ``predictions=True`` reads the tasks' predictions too, as the work of their
    ``model_version`` (else ``author``).  Rotated boxes and other result types are refused.

    >>> import pandas as pd
    >>> task = {"data": {"image": "http://host/data/local-files/?d=imgs/a.jpg"}, "annotations": [
    ...     {"completed_by": {"id": 3, "email": "ann@x.org"},
    ...      "result": [{"type": "textarea", "value": {"text": ["a cat"]}}]}]}
    >>> frame = from_label_studio([task], pd.DataFrame({"id": [5], "name": ["a.jpg"]}))
    >>> frame[["item_id", "worker", "kind", "text"]].values.tolist()
    [[5, 'ann@x.org', 'text', 'a cat']]
    """
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list) or not all(isinstance(t, dict) for t in tasks):
        raise ValidationError("must be a list of Label Studio tasks", "tasks", type(tasks).__name__)
    item_table = items_table(items)
    refs = [_image_ref(task, n) for n, task in enumerate(tasks)]
    item_of = match_files(refs, item_table)
    item_rows = {row["item_id"]: row for row in item_table.to_dict("records")}
    rows: list[dict[str, Any]] = []
    for n, (task, ref) in enumerate(zip(tasks, refs)):
        item = item_rows[item_of[ref]]
        works = [(a, _worker(a.get("completed_by"), author)) for a in task.get("annotations") or []]
        if predictions:
            works += [(p, _worker(p.get("model_version"), author)) for p in task.get("predictions") or []]
        for k, (work, worker) in enumerate(works):
            if work.get("was_cancelled") or work.get("skipped"):
                continue
            found = [r for result in work.get("result") or []
                     for r in _result_rows(result, item, f"task {n} annotation {k}")]
            base = {"item_id": item["item_id"], "worker": worker}
            rows += [{**base, **r} for r in found] or [{**base, "kind": "none"}]
    frame = answers_from_rows(rows)
    # a worker with rows on an item did not answer "nothing" there, whatever another annotation says
    # (and several empty annotations of one worker are one "none")
    none = frame["kind"] == "none"
    keys = pd.MultiIndex.from_frame(frame[["item_id", "worker"]])
    drop = none & (keys.isin(keys[~none]) | frame.duplicated(["item_id", "worker", "kind"]))
    return answers_table(frame[~drop].reset_index(drop=True), "tasks")
