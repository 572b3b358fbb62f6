"""The demo store: synthetic shape images with ground truth, users and simulated annotators.

``dltasks demo`` (or :func:`build_demo`) fills a store with everything the notebooks and
the dashboard need to have something real to show:

* a dataset ``shapes`` of small PNG images rendered here (coloured circles, squares and
  triangles), split into ``/train``, ``/val`` and ``/test`` folders, each item carrying
  ``metadata['user']`` = ``truth`` (its shape), ``colour``, ``size``, ``size_px``, ``split``;
* six users: four annotators of known accuracy (:data:`ANNOTATORS`), a reviewer and a QA
  checker;
* a consensus task (3 of the 4 annotators per item, approval threshold 2, a reviewer) that
  is mostly labelled, a partitioned task over the test split that is half done, and a QA
  task over that task's completed items;
* gold in the consensus task: :data:`GOLD_SHARE` of the images are its gold items (their
  true shape known, not the task's work), about :data:`GOLD_RATE` of each annotator's queue;
  the annotators answered 80% of their gold (:func:`simulate_gold`), and one under
  :data:`MIN_GOLD_ACCURACY` after :data:`MIN_GOLD_N` gold answers is flagged;
* a box task (:data:`BOX_TASK`: one image in ten, three annotators draw a box around the
  shape, consensus 2 of 3 by IoU, a reviewer), mostly drawn.  Every item's
  ``metadata['system']`` has its size (``width``, ``height``: 64 pixels).

Labels are simulated by :func:`simulate_labels`: each worker gives the true label with its
accuracy and a uniformly random wrong label otherwise, through ``task.submit`` like a
person would; boxes by :func:`simulate_boxes` around the true ones (:func:`true_boxes`).
Everything is seeded: the same ``n_items`` and ``seed`` give the same store.

Examples
--------
>>> import tempfile
>>> from dltasks.demo import build_demo, load_truth
>>> folder = tempfile.mkdtemp()
>>> store = build_demo(folder + "/demo.db", n_items=30)
>>> dataset = store.datasets.get(name="shapes")
>>> dataset.items.count(), dataset.labels
(30, ['circle', 'square', 'triangle'])
>>> len(load_truth(dataset))
30
>>> boxes = dataset.tasks.get(task_name=BOX_TASK)
>>> boxes.annotation_type, len(boxes.items_df()), len(true_boxes(dataset))
('box', 10, 30)
>>> again = build_demo(folder + "/demo.db", n_items=30)  # the same settings: reused as it is
>>> again.datasets.get(name="shapes").items.count()
30
>>> store.close(); again.close()
>>> import shutil; shutil.rmtree(folder)
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import os
import shutil
import tempfile
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from dltasks.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError

__all__ = [
    "DATASET_NAME",
    "SHAPES",
    "COLOURS",
    "SIZES",
    "ANNOTATORS",
    "REVIEWER",
    "QA_CHECKER",
    "CONSENSUS_TASK",
    "TEST_TASK",
    "BOX_TASK",
    "BOX_WORKERS",
    "GOLD_SHARE",
    "GOLD_RATE",
    "MIN_GOLD_ACCURACY",
    "MIN_GOLD_N",
    "DEFAULT_STORE",
    "build_demo",
    "ensure_demo",
    "describe_demo",
    "make_catalogue",
    "render_shape",
    "shape_box",
    "load_truth",
    "true_boxes",
    "simulate_labels",
    "simulate_gold",
    "simulate_boxes",
    "add_parsers",
]

DATASET_NAME = "shapes"
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (214, 39, 40), "green": (44, 160, 44), "blue": (31, 119, 180), "orange": (255, 127, 14),
}
#: Half-width of the shape in pixels, per size class, on a 64-pixel image.
SIZES: dict[str, int] = {"small": 10, "medium": 16, "large": 22}
SPLITS: tuple[tuple[str, float], ...] = (("train", 0.7), ("val", 0.15), ("test", 0.15))
IMAGE_SIZE = 64

#: Simulated annotators and the probability that each gives the true label.
ANNOTATORS: dict[str, float] = {
    "alice@example.com": 0.95, "bob@example.com": 0.85, "carol@example.com": 0.75, "dave@example.com": 0.6,
}
REVIEWER = "rita@example.com"
QA_CHECKER = "quinn@example.com"
_USER_NAMES = {"alice@example.com": "Alice", "bob@example.com": "Bob", "carol@example.com": "Carol",
               "dave@example.com": "Dave", REVIEWER: "Rita (reviewer)", QA_CHECKER: "Quinn (QA)"}

CONSENSUS_TASK = "shapes consensus"
TEST_TASK = "shapes test split"
BOX_TASK = "shapes boxes"
#: The annotators who draw the box task's boxes (the first three: each draws every item).
BOX_WORKERS: tuple[str, ...] = tuple(ANNOTATORS)[:3]
#: The share of the images in the box task (at least :data:`_MIN_BOX_ITEMS`).
BOX_SHARE = 0.1
_MIN_BOX_ITEMS = 10
#: The consensus task's gold: a share of the images whose answer it knows (at least :data:`_MIN_GOLD_ITEMS`),
#: mixed into each worker's queue at :data:`GOLD_RATE`; under :data:`MIN_GOLD_ACCURACY` after
#: :data:`MIN_GOLD_N` gold answers a worker is flagged.
GOLD_SHARE, GOLD_RATE, MIN_GOLD_ACCURACY, MIN_GOLD_N = 0.1, 0.1, 0.6, 8
_MIN_GOLD_ITEMS = 3
DEFAULT_STORE = os.path.join("demo", "dltasks.db")
_MARKER = ".dltasks-demo"
_MIN_ITEMS, _MAX_ITEMS = 20, 100_000


# -- images ----------------------------------------------------------------------------
def make_catalogue(n_items: int = 300, seed: int = 0) -> pd.DataFrame:
    """What the demo items are: one row per image, drawn with a seeded generator.

    Returns a DataFrame with columns ``name``, ``dir``, ``truth``, ``colour``, ``size``,
    ``size_px``, ``split``, ``x``, ``y`` (the shape's centre) and ``angle`` (degrees).

    >>> make_catalogue(40, seed=1)["split"].value_counts().to_dict()
    {'train': 28, 'val': 6, 'test': 6}
    """
    n = _check_n_items(n_items)
    rng = np.random.default_rng(seed)
    size = rng.choice(list(SIZES), n)
    size_px = np.array([SIZES[s] for s in size])
    margin = np.ceil(1.3 * size_px).astype(int) + 1  # a square turned by 20 degrees still fits
    counts = [int(n * share) for _, share in SPLITS[:-1]]
    split = np.repeat([name for name, _ in SPLITS], counts + [n - sum(counts)])
    return pd.DataFrame({
        "name": [f"shape_{i:04d}.png" for i in range(1, n + 1)],
        "dir": ["/" + s for s in split],
        "truth": rng.choice(SHAPES, n),
        "colour": rng.choice(list(COLOURS), n),
        "size": size,
        "size_px": size_px,
        "split": split,
        "x": rng.integers(margin, IMAGE_SIZE - margin + 1),
        "y": rng.integers(margin, IMAGE_SIZE - margin + 1),
        "angle": rng.uniform(-20, 20, n).round(1),
    })


def render_shape(shape: str, colour: str, size_px: int, x: int = IMAGE_SIZE // 2, y: int = IMAGE_SIZE // 2,
                 angle: float = 0.0) -> Any:
    """A ``IMAGE_SIZE`` square RGB :class:`PIL.Image.Image` with one filled shape on a light ground.

    >>> render_shape("triangle", "red", 16).size
    (64, 64)
    """
    from PIL import Image, ImageDraw

    if shape not in SHAPES:
        raise ValidationError(f"use one of {list(SHAPES)}", "shape", shape)
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), (245, 245, 240))
    draw = ImageDraw.Draw(image)
    fill = COLOURS[colour]
    if shape == "circle":
        draw.ellipse((x - size_px, y - size_px, x + size_px, y + size_px), fill=fill)
    else:
        draw.polygon(_corners(shape, size_px, x, y, angle), fill=fill)
    return image


def _corners(shape: str, size_px: float, x: float, y: float, angle: float) -> list[tuple[float, float]]:
    """The corners of a square or triangle as :func:`render_shape` draws it (PIL's coordinates)."""
    corners = 4 if shape == "square" else 3
    start = np.deg2rad(angle) + (np.pi / 4 if corners == 4 else -np.pi / 2)
    turns = start + 2 * np.pi * np.arange(corners) / corners
    radius = size_px * (np.sqrt(2) if corners == 4 else 1.2)
    return [(float(x + radius * np.cos(t)), float(y + radius * np.sin(t))) for t in turns]


def shape_box(shape: str, size_px: float, x: float = IMAGE_SIZE // 2, y: float = IMAGE_SIZE // 2,
              angle: float = 0.0) -> tuple[float, float, float, float]:
    """The box around the shape :func:`render_shape` draws: ``(left, top, right, bottom)`` in image pixels.

    Image pixels as the widgets and ``dl.Box`` count them: pixel ``(i, j)`` covers
    ``[i, i + 1) x [j, j + 1)``, so a shape PIL draws from ``x - r`` to ``x + r`` covers
    ``x - r`` to ``x + r + 1``.  Clipped to the image.

    >>> shape_box("circle", 10, 32, 32)
    (22.0, 22.0, 43.0, 43.0)
    >>> [round(v, 1) for v in shape_box("square", 10, 32, 32, angle=45.0)]
    [17.9, 17.9, 47.1, 47.1]
    """
    if shape not in SHAPES:
        raise ValidationError(f"use one of {list(SHAPES)}", "shape", shape)
    if shape == "circle":
        xs, ys = [x - size_px, x + size_px], [y - size_px, y + size_px]
    else:
        xs, ys = (list(c) for c in zip(*_corners(shape, size_px, x, y, angle)))
    box = np.clip(np.array([min(xs), min(ys), max(xs) + 1, max(ys) + 1], dtype=float), 0, IMAGE_SIZE).tolist()
    return box[0], box[1], box[2], box[3]


def _write_images(catalogue: pd.DataFrame, folder: str) -> list[str]:
    """Render every catalogue row to ``folder/<split>/<name>``; return the absolute paths."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, _MARKER), "w") as f:
        f.write("images written by `dltasks demo`; safe to delete\n")
    paths = []
    columns = ("split", "name", "truth", "colour", "size_px", "x", "y", "angle")
    for split, name, shape, colour, size_px, x, y, angle in zip(*(catalogue[c].tolist() for c in columns)):
        path = os.path.abspath(os.path.join(folder, split, name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        render_shape(shape, colour, int(size_px), int(x), int(y), float(angle)).save(path)
        paths.append(path)
    return paths


def _images_folder(store: Any, images_dir: str | os.PathLike[str] | None) -> str:
    """Beside the store file (``demo/dltasks.db`` → ``demo/dltasks-shapes``), else a temp folder."""
    if images_dir is not None:
        return os.fspath(images_dir)
    url = str(store.url)
    path = url[len("sqlite:///"):].split("?")[0] if url.startswith("sqlite:///") else None
    if path and path != ":memory:":
        stem = os.path.splitext(os.path.abspath(path))[0]
        return f"{stem}-{DATASET_NAME}"
    return tempfile.mkdtemp(prefix="dltasks-demo-")


# -- ground truth and simulated annotators ----------------------------------------------
def load_truth(dataset: Any) -> pd.Series:
    """The ground-truth label of every item (``metadata['user']['truth']``), indexed by item id."""
    df = dataset.items.to_df()
    if "metadata.user.truth" not in df.columns:
        raise ValidationError("the dataset's items have no metadata['user']['truth']", "dataset", dataset.name)
    return pd.Series(df["metadata.user.truth"].to_numpy(), index=pd.Index(df["id"], name="item_id"), name="truth")


def simulate_labels(task: Any, accuracies: Mapping[str, float], truth: pd.Series, seed: int = 0,
                    items: Iterable[int] | None = None, fraction: float = 1.0) -> pd.DataFrame:
    """Submit simulated labels through ``task.submit`` for workers of known accuracy.

    Every pending worker assignment of ``task`` whose worker is in ``accuracies`` gets a label:
    the item's ``truth`` with probability ``accuracies[worker]``, otherwise one of the task's
    other labels, uniformly.  ``items`` (ids) or ``fraction`` (a seeded share of the task's
    items) limits which items are labelled; every chosen item gets all its workers' labels.
    All submits are one transaction on a local store.

    Parameters
    ----------
    task : Task
        An annotation task with assignees.
    accuracies : mapping
        ``{worker id: probability of the true label}``, each in ``[0, 1]``.
    truth : Series
        True label per item id (:func:`load_truth`).
    seed : int
        Seed of the generator: the same call on the same task gives the same labels.

    Returns
    -------
    DataFrame
        One row per submitted label: ``item_id``, ``worker``, ``label``, ``truth``, ``correct``
        and ``status`` (the item's status after the submit).
    """
    acc = _check_simulation(accuracies, truth, "fraction", fraction)
    rng = np.random.default_rng(seed)
    todo = _pending_work(task, acc, truth, items, fraction, rng)
    labels = list(task.labels) or sorted(truth.dropna().unique())
    correct = rng.random(len(todo)) < todo["worker"].map(acc).to_numpy(dtype=float)
    todo["truth"] = truth.reindex(todo["item_id"]).to_numpy()
    todo["label"] = [t if ok else _wrong(t, labels, rng) for t, ok in zip(todo["truth"], correct)]
    todo["correct"] = todo["label"] == todo["truth"]
    statuses: list[str | None] = []
    with _atomic(task):
        for item_id, worker, label in zip(todo["item_id"].tolist(), todo["worker"].tolist(), todo["label"].tolist()):
            try:
                statuses.append(task.submit(int(item_id), worker, label))
            except ConflictError:  # decided while this batch ran (a consensus reached): no more labels
                statuses.append(None)
    todo["status"] = statuses
    done = todo[todo["status"].notna()]
    return done[["item_id", "worker", "label", "truth", "correct", "status"]].reset_index(drop=True)


def _check_simulation(accuracies: Any, truth: Any, share_name: str, share: Any) -> dict[str, float]:
    """The checked accuracies of a simulation whose ``truth`` is a Series and whose ``share`` is in [0, 1]."""
    acc = _check_accuracies(accuracies)
    if not isinstance(truth, pd.Series):
        raise ValidationError("must be a Series of labels indexed by item id", "truth", type(truth).__name__)
    if not 0 <= share <= 1:
        raise ValidationError("must be between 0 and 1", share_name, share)
    return acc


def _check_accuracies(accuracies: Any) -> dict[str, float]:
    if not isinstance(accuracies, Mapping) or not accuracies:
        raise ValidationError("must be a dict {worker id: accuracy}", "accuracies", accuracies)
    for worker, value in accuracies.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValidationError(f"the accuracy of {worker!r} must be a number from 0 to 1", "accuracies", value)
    return {str(w): float(v) for w, v in accuracies.items()}


def _pending_work(task: Any, acc: dict[str, float], truth: pd.Series, items: Iterable[int] | None,
                  fraction: float, rng: np.random.Generator) -> pd.DataFrame:
    """The (item_id, worker) pairs to label: pending, by a simulated worker, with a known truth."""
    asg = task.assignments_df()
    decided = task.items_df().query("status == 'approved'")["item_id"]
    asg = asg[(asg["role"] == "worker") & (asg["status"] == "pending") & asg["user_id"].isin(list(acc))
              & asg["item_id"].isin(truth.dropna().index) & ~asg["item_id"].isin(decided)]
    if items is not None:
        chosen = np.asarray(sorted({int(i) for i in items}))
    else:
        ids = np.sort(asg["item_id"].unique())
        chosen = np.sort(rng.choice(ids, int(round(fraction * len(ids))), replace=False)) if len(ids) else ids
    asg = asg[asg["item_id"].isin(chosen)]
    return pd.DataFrame({"item_id": asg["item_id"].to_numpy(), "worker": asg["user_id"].to_numpy()})


def simulate_gold(task: Any, accuracies: Mapping[str, float], truth: pd.Series, seed: int = 0,
                  share: float = 1.0) -> pd.DataFrame:
    """Simulated workers answer the gold items in their queues, each right with their accuracy.

    Each worker in ``accuracies`` answers the first ``share`` of the gold items pending in
    their queue (:meth:`~dltasks.tasks.Task.queue` order; rounded up), through
    ``task.submit`` like any other item: the item's ``truth`` with probability
    ``accuracies[worker]``, otherwise another of the task's labels.  A worker flagged on the
    way (the task's ``min_gold_accuracy``) answers no more gold; their open items went to the
    others.  One transaction on a local store.

    Returns one row per answer: ``item_id``, ``worker``, ``label``, ``truth``, ``correct`` and
    ``flagged`` (whether the worker was flagged after that answer).

    >>> import dltasks as dl
    >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["cat", "dog"])
    >>> _ = ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(12)]}))
    >>> truth = pd.Series(["cat", "dog"] * 6, index=range(1, 13))
    >>> task = ds.tasks.create("t", assignee_ids=["ann", "bob"], gold=truth.loc[10:].to_dict(), gold_rate=0.25,
    ...                        min_gold_accuracy=0.5, min_gold_n=1, seed=0)
    >>> simulate_gold(task, {"ann": 1.0, "bob": 0.0}, truth)[["worker", "label", "truth", "flagged"]]
      worker label truth  flagged
    0    ann   dog   dog    False
    1    ann   dog   dog    False
    2    bob   dog   cat     True
    >>> task.flagged_workers()["user_id"].tolist(), task.queue("bob")
    (['bob'], [])
    """
    acc = _check_simulation(accuracies, truth, "share", share)
    rng = np.random.default_rng(seed)
    labels = list(task.labels) or sorted(truth.dropna().unique())
    gold = task.assignments_df(status="pending")
    gold = gold[gold["role"] == "gold"]
    rows: list[tuple[int, str, str, str]] = []
    with _atomic(task):
        for worker, accuracy in acc.items():
            mine = set(gold.loc[gold["user_id"] == worker, "item_id"].tolist())
            todo = [i for i in task.queue(worker) if i in mine and i in truth.index]
            for item_id in todo[: int(np.ceil(share * len(todo)))]:
                true = str(truth[item_id])
                label = true if rng.random() < accuracy else _wrong(true, labels, rng)
                try:
                    task.submit(int(item_id), worker, label)
                except PermissionDeniedError:  # flagged by their previous answer: their gold is gone
                    break
                rows.append((int(item_id), worker, label, true))
    out = pd.DataFrame(rows, columns=["item_id", "worker", "label", "truth"])
    out["correct"] = out["label"] == out["truth"]
    history = task.history()
    flags = set(zip(history.loc[history["action"] == "flag", "item_id"], history.loc[history["action"] == "flag",
                                                                                      "user_id"]))
    out["flagged"] = [(i, w) in flags for i, w in zip(out["item_id"], out["worker"])]
    return out.astype({"item_id": "int64", "correct": bool, "flagged": bool})


def true_boxes(dataset: Any) -> pd.DataFrame:
    """The box around every item's shape (the demo's ground truth for boxes), indexed by item id.

    Columns ``label`` (the shape), ``left``, ``top``, ``right``, ``bottom`` (image pixels,
    :func:`shape_box`), ``width`` and ``height`` (the image's).  Computed from the images'
    catalogue (:func:`make_catalogue` with the settings the demo was built with), so it works
    on the demo's ``shapes`` dataset only.

    >>> import tempfile, shutil
    >>> folder = tempfile.mkdtemp()
    >>> store = build_demo(folder + "/demo.db", n_items=20)
    >>> boxes = true_boxes(store.datasets.get(name="shapes"))
    >>> list(boxes.columns)
    ['label', 'left', 'top', 'right', 'bottom', 'width', 'height']
    >>> boxes.round(1).head(2).values.tolist()
    [['circle', 12.0, 11.0, 57.0, 56.0, 64, 64], ['triangle', 21.4, 15.1, 55.1, 47.4, 64, 64]]
    >>> store.close(); shutil.rmtree(folder)
    """
    try:
        settings = dataset.tasks.get(task_name=CONSENSUS_TASK).metadata.get("demo") or {}
    except NotFoundError:
        settings = {}
    if "n_items" not in settings or "seed" not in settings:
        raise ValidationError("is not the demo's dataset (no demo settings on its consensus task)", "dataset",
                              dataset.name)
    items = dataset.items.to_df()[["id", "name"]]
    return _boxes_frame(make_catalogue(int(settings["n_items"]), int(settings["seed"])), items)


def _boxes_frame(catalogue: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """:func:`true_boxes` of the items (``id``, ``name``) of a catalogue."""
    rows = catalogue.set_index("name").loc[items["name"]]
    columns = ("truth", "size_px", "x", "y", "angle")
    boxes = [shape_box(shape, float(size), float(x), float(y), float(angle))
             for shape, size, x, y, angle in zip(*(rows[c].tolist() for c in columns))]
    out = pd.DataFrame(boxes, columns=["left", "top", "right", "bottom"], index=pd.Index(items["id"], name="item_id"))
    out.insert(0, "label", rows["truth"].to_numpy())
    out["width"], out["height"] = IMAGE_SIZE, IMAGE_SIZE
    return out


def simulate_boxes(task: Any, accuracies: Mapping[str, float], boxes: pd.DataFrame, seed: int = 0,
                   items: Iterable[int] | None = None, fraction: float = 1.0) -> pd.DataFrame:
    """Submit simulated boxes through ``task.submit(..., annotations=[...])`` for workers of known skill.

    For every pending worker assignment of the box ``task`` whose worker is in ``accuracies``,
    the worker draws the item's true box (a row of ``boxes``) with each corner off by a
    normal error of ``10 * (1 - accuracy)`` pixels; misses it, labels it with another of
    the task's labels, or adds a stray box elsewhere, each with probability
    ``(1 - accuracy) / 2``.  Boxes are kept inside the image (``boxes``' ``width`` and
    ``height`` when given) and rounded to 0.1 pixel; a worker with no box answers "nothing here"
    (an empty list).  Each item's workers answer in a random order; an item decided before
    its last worker answered (consensus reached) gets no more answers.  ``items`` or
    ``fraction`` choose the items as in :func:`simulate_labels`; one transaction on a local store.

    Returns one row per box submitted, or per empty answer (``kind`` ``"none"``): ``item_id``,
    ``worker``, ``kind``, ``label``, ``left``, ``top``, ``right``, ``bottom`` and ``status`` (the
    item's status after that worker's answer).

    >>> import dltasks as dl
    >>> ds = dl.connect("sqlite://").datasets.create("d", labels=["circle", "square"])
    >>> _ = ds.items.import_df(pd.DataFrame({"name": ["a.png", "b.png"]}))
    >>> task = ds.tasks.create("boxes", assignee_ids=["ann", "bob"], workers_per_input=2, annotation_type="box")
    >>> truth = pd.DataFrame({"label": ["circle", "square"], "left": [10.0, 5.0], "top": [10.0, 5.0],
    ...                       "right": [30.0, 25.0], "bottom": [30.0, 40.0]}, index=[1, 2])
    >>> drawn = simulate_boxes(task, {"ann": 1.0, "bob": 1.0}, truth, seed=1)
    >>> drawn[["item_id", "worker", "label", "left", "bottom", "status"]]
       item_id worker   label  left  bottom     status
    0        1    bob  circle  10.0    30.0    pending
    1        1    ann  circle  10.0    30.0  completed
    2        2    bob  square   5.0    40.0    pending
    3        2    ann  square   5.0    40.0  completed
    """
    acc = _check_accuracies(accuracies)
    truth = _check_boxes(boxes)
    if not 0 <= fraction <= 1:
        raise ValidationError("must be between 0 and 1", "fraction", fraction)
    rng = np.random.default_rng(seed)
    todo = _pending_work(task, acc, truth["label"], items, fraction, rng)
    todo = todo.iloc[np.lexsort((rng.random(len(todo)), todo["item_id"].to_numpy()))]   # workers in any order
    labels = list(task.labels) or sorted(truth["label"].dropna().unique())
    rows: list[dict[str, Any]] = []
    with _atomic(task):
        for item_id, worker in zip(todo["item_id"].tolist(), todo["worker"].tolist()):
            answer = _drawn_boxes(truth.loc[item_id], acc[worker], labels, rng)
            try:
                status = task.submit(int(item_id), worker, annotations=answer)
            except ConflictError:  # decided while this batch ran (a consensus reached): no more answers
                continue
            given = [{"kind": "box", "label": b.label, "left": b.left, "top": b.top, "right": b.right,
                      "bottom": b.bottom} for b in answer] or [{"kind": "none", "label": None}]
            rows += [{"item_id": int(item_id), "worker": worker, **box, "status": status} for box in given]
    columns = ["item_id", "worker", "kind", "label", "left", "top", "right", "bottom", "status"]
    return pd.DataFrame(rows, columns=columns).astype({c: float for c in ("left", "top", "right", "bottom")})


def _check_boxes(boxes: Any) -> pd.DataFrame:
    needed = ("label", "left", "top", "right", "bottom")
    if not isinstance(boxes, pd.DataFrame) or any(c not in boxes.columns for c in needed):
        raise ValidationError(f"must be a DataFrame indexed by item id with columns {', '.join(needed)}", "boxes",
                              type(boxes).__name__)
    out = boxes.copy()
    for side in ("width", "height"):
        if side not in out.columns:
            out[side] = np.inf
    return out


def _drawn_boxes(truth: pd.Series, accuracy: float, labels: Sequence[str], rng: np.random.Generator) -> list[Any]:
    """What a simulated worker of ``accuracy`` draws on an item whose true box is ``truth``."""
    import dltasks as dl

    slip = (1 - accuracy) / 2
    missed, mislabelled, stray = rng.random(3) < slip
    corners = np.array([truth["left"], truth["top"], truth["right"], truth["bottom"]], dtype=float)
    corners = corners + rng.normal(0.0, 10 * (1 - accuracy), 4)
    drawn = [] if missed else [(corners, _wrong(str(truth["label"]), labels, rng) if mislabelled
                                else str(truth["label"]))]
    if stray:
        width, height = (min(float(truth[s]), float(IMAGE_SIZE)) for s in ("width", "height"))
        w, h = rng.uniform(4, 12, 2)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        drawn.append((np.array([x, y, x + w, y + h]), str(labels[int(rng.integers(len(labels)))])))
    out = []
    for (left, top, right, bottom), label in drawn:
        left, right = np.clip([left, right], 0, truth["width"]).round(1)
        top, bottom = np.clip([top, bottom], 0, truth["height"]).round(1)
        if right - left >= 1 and bottom - top >= 1:
            out.append(dl.Box(float(left), float(top), float(right), float(bottom), label=label))
    return out


def _wrong(true_label: str, labels: Sequence[str], rng: np.random.Generator) -> str:
    others = [lbl for lbl in labels if lbl != true_label]
    return str(others[rng.integers(len(others))]) if others else true_label


@contextlib.contextmanager
def _atomic(task: Any) -> Iterator[None]:
    """One transaction for many submits on a local store (a remote store has no ``atomic``)."""
    store = task._bound()
    if not store.local:
        yield
        return
    with store.atomic():
        yield


# -- the demo store ----------------------------------------------------------------------
def build_demo(store_url: str | os.PathLike[str] | None = None, n_items: int = 300, seed: int = 0,
               force: bool = False, images_dir: str | os.PathLike[str] | None = None) -> Any:
    """Open ``store_url`` (default :data:`DEFAULT_STORE`) and make sure it holds the demo; return the store.

    Idempotent: a store that already has the demo built with the same ``n_items`` and
    ``seed`` is returned as it is.  A demo built with other settings raises
    ``ConflictError`` unless ``force``, which deletes the ``shapes`` dataset (with its
    tasks) and its images and builds it again.  Other datasets in the store are untouched.
    """
    import dltasks as dl

    store = dl.connect(store_url if store_url is not None else DEFAULT_STORE)
    ensure_demo(store, n_items=n_items, seed=seed, force=force, images_dir=images_dir)
    return store


def ensure_demo(store: Any, n_items: int = 300, seed: int = 0, force: bool = False,
                images_dir: str | os.PathLike[str] | None = None) -> str:
    """Build the demo in an open store unless it is there; return ``'created'``, ``'reused'`` or ``'rebuilt'``."""
    n = _check_n_items(n_items)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValidationError("must be a whole number >= 0", "seed", seed)
    if not force:
        existing = _existing_demo(store)
        if existing is not None:
            if existing.get("n_items") == n and existing.get("seed") == seed:
                return "reused"
            raise ConflictError(_mismatch_message(existing, n, seed))
    rebuilt = _has_dataset(store)
    if rebuilt:
        _remove_demo(store)
    folder = _images_folder(store, images_dir)
    catalogue = make_catalogue(n, seed)
    if os.path.exists(os.path.join(folder, _MARKER)):
        shutil.rmtree(folder)
    paths = _write_images(catalogue, folder)
    with store.atomic():
        _create_users(store)
        dataset = _create_dataset(store, catalogue, paths)
        _create_tasks(store, dataset, catalogue, n, seed, folder)
    return "rebuilt" if rebuilt else "created"


def _check_n_items(n_items: Any) -> int:
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or not _MIN_ITEMS <= n_items <= _MAX_ITEMS:
        raise ValidationError(f"must be a whole number from {_MIN_ITEMS} to {_MAX_ITEMS}", "n_items", n_items)
    return int(n_items)


def _has_dataset(store: Any) -> bool:
    try:
        store.datasets.get(name=DATASET_NAME)
    except NotFoundError:
        return False
    return True


def _existing_demo(store: Any) -> dict[str, Any] | None:
    """The settings the demo in ``store`` was built with, or None if there is no demo."""
    try:
        dataset = store.datasets.get(name=DATASET_NAME)
        task = dataset.tasks.get(task_name=CONSENSUS_TASK)
    except NotFoundError:
        if _has_dataset(store):
            raise ConflictError(f"the store has a dataset {DATASET_NAME!r} that the demo did not make; "
                                "use another store, or force=True (--force) to replace it") from None
        return None
    return dict(task.metadata.get("demo") or {})


def _mismatch_message(existing: Mapping[str, Any], n: int, seed: int) -> str:
    return (f"the store already has the demo built with {existing.get('n_items')} items and seed "
            f"{existing.get('seed')}; use force=True (--force) to rebuild it with {n} items and seed {seed}")


def _remove_demo(store: Any) -> None:
    dataset = store.datasets.get(name=DATASET_NAME)
    with contextlib.suppress(NotFoundError):
        folder = dataset.tasks.get(task_name=CONSENSUS_TASK).metadata.get("demo", {}).get("images_dir")
        if folder and os.path.exists(os.path.join(folder, _MARKER)):
            shutil.rmtree(folder)
    dataset.delete()


def _create_users(store: Any) -> None:
    known = {u.id for u in store.users.list()}
    for user_id, name in _USER_NAMES.items():
        if user_id not in known:
            store.users.create(user_id, name=name)


def _create_dataset(store: Any, catalogue: pd.DataFrame, paths: list[str]) -> Any:
    dataset = store.datasets.create(DATASET_NAME, labels=list(SHAPES))
    rows = pd.DataFrame({
        "name": catalogue["name"], "dir": catalogue["dir"], "path": paths, "mime": "image/png",
        "size": [os.path.getsize(p) for p in paths],
        "user.truth": catalogue["truth"], "user.colour": catalogue["colour"], "user.size": catalogue["size"],
        "user.size_px": catalogue["size_px"], "user.split": catalogue["split"],
        "metadata": [{"system": {"width": IMAGE_SIZE, "height": IMAGE_SIZE}}] * len(catalogue),
    })
    dataset.items.import_df(rows)
    return dataset


def _create_tasks(store: Any, dataset: Any, catalogue: pd.DataFrame, n: int, seed: int, folder: str) -> None:
    """A mostly labelled consensus task; a half-done test-split task and its QA task; a box task."""
    import dltasks as dl

    truth = load_truth(dataset)
    due = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(days=14)
    consensus = dataset.tasks.create(
        task_name=CONSENSUS_TASK, due_date=due, assignee_ids=list(ANNOTATORS), workers_per_input=3,
        review_strategy="consensus", approval_threshold=2, reviewer_ids=[REVIEWER], seed=seed,
        gold=_gold_items(truth, seed), gold_rate=GOLD_RATE, min_gold_accuracy=MIN_GOLD_ACCURACY,
        min_gold_n=MIN_GOLD_N, metadata={"demo": {"n_items": n, "seed": seed, "images_dir": os.path.abspath(folder)}})
    rng = np.random.default_rng(seed + 1)
    ids = consensus.items_df()["item_id"].to_numpy()           # the gold items are not among them
    order = rng.permutation(ids)
    full, partial = order[: int(0.7 * len(ids))], order[int(0.7 * len(ids)): int(0.8 * len(ids))]
    simulate_labels(consensus, ANNOTATORS, truth, seed=seed, items=full)
    _one_worker_each(consensus, partial, rng, lambda worker, seed_, ids: simulate_labels(
        consensus, {worker: ANNOTATORS[worker]}, truth, seed=seed_, items=ids))
    # as far into their queues as into the items (80%); a worker under the gold bar is flagged and their open
    # items go to the others.  Chance decides who, from ~8-20 answers each: with the default demo (300 items,
    # seed 0) it is Dave (accuracy 0.6); 60 or 120 items give too few gold answers to flag anyone.
    simulate_gold(consensus, ANNOTATORS, truth, seed=seed + 7, share=0.8)
    _review_some(consensus, truth)

    test = dl.Filters(field="metadata.user.split", values="test")
    simple = dataset.tasks.create(task_name=TEST_TASK, due_date=due, assignee_ids=list(ANNOTATORS)[:2],
                                  weights={a: w for a, w in zip(list(ANNOTATORS)[:2], (70, 30))},
                                  filters=test, seed=seed)
    simulate_labels(simple, ANNOTATORS, truth, seed=seed + 2, fraction=0.5)
    qa = dataset.tasks.create_qa_task(task=simple, due_date=due, assignee_ids=[QA_CHECKER])
    first = qa.items_df()["item_id"].tolist()[: max(1, len(qa.items_df()) // 2)]
    qa.set_status(first, "approved", QA_CHECKER)
    _create_box_task(dataset, _boxes_frame(catalogue, dataset.items.to_df()[["id", "name"]]), n, seed, due)


def _gold_items(truth: pd.Series, seed: int) -> dict[int, str]:
    """The consensus task's gold: a seeded :data:`GOLD_SHARE` of the items, with their true labels."""
    m = max(_MIN_GOLD_ITEMS, int(round(GOLD_SHARE * len(truth))))
    chosen = np.sort(np.random.default_rng(seed + 5).choice(truth.index.to_numpy(), m, replace=False))
    return {int(i): str(truth[i]) for i in chosen}


def _create_box_task(dataset: Any, boxes: pd.DataFrame, n: int, seed: int, due: _dt.datetime) -> None:
    """One image in ten, boxes by three workers, consensus 2 of 3: 70% drawn, 10% by one worker."""
    rng = np.random.default_rng(seed + 3)
    m = max(_MIN_BOX_ITEMS, int(BOX_SHARE * n))
    chosen = np.sort(rng.choice(boxes.index.to_numpy(), m, replace=False))
    task = dataset.tasks.create(
        task_name=BOX_TASK, due_date=due, assignee_ids=list(BOX_WORKERS), workers_per_input=len(BOX_WORKERS),
        review_strategy="consensus", approval_threshold=2, reviewer_ids=[REVIEWER], annotation_type="box",
        iou_threshold=0.5, items=chosen.tolist(), seed=seed)
    order = rng.permutation(chosen)
    full, partial = order[: int(0.7 * m)], order[int(0.7 * m): int(0.8 * m)]
    skills = {w: ANNOTATORS[w] for w in BOX_WORKERS}
    simulate_boxes(task, skills, boxes, seed=seed + 4, items=full)
    _one_worker_each(task, partial, rng, lambda worker, seed_, ids: simulate_boxes(
        task, {worker: skills[worker]}, boxes, seed=seed_, items=ids))


def _one_worker_each(task: Any, items: np.ndarray, rng: np.random.Generator,
                     simulate: Callable[[str, int, list[int]], Any]) -> None:
    """One of each item's workers answers it (``simulate(worker, seed, item_ids)``): the item waits for consensus."""
    asg = task.assignments_df()
    asg = asg[(asg["role"] == "worker") & asg["item_id"].isin(items)]
    one = asg.groupby("item_id")["user_id"].agg(lambda s: s.iloc[rng.integers(len(s))])
    for worker, chosen in one.groupby(one):
        simulate(str(worker), int(rng.integers(2**31)), chosen.index.tolist())


def _review_some(task: Any, truth: pd.Series) -> None:
    """The reviewer settles half the items that missed consensus: approve if the top label is right."""
    items = task.items_df()
    waiting = items[items["status"] == "awaiting_review"]
    for row in waiting.iloc[: len(waiting) // 2].itertuples(index=False):
        task.review(int(row.item_id), REVIEWER, approve=bool(row.label == truth.get(row.item_id, None)))


# -- describing it -------------------------------------------------------------------------
def describe_demo(store: Any) -> str:
    """A few lines on what the demo in ``store`` holds (dataset, users, tasks)."""
    dataset = store.datasets.get(name=DATASET_NAME)
    truth = load_truth(dataset)
    shapes = ", ".join(f"{k} {v}" for k, v in truth.value_counts().sort_index().items())
    demo = dataset.tasks.get(task_name=CONSENSUS_TASK).metadata.get("demo", {})
    lines = [f"dataset  {DATASET_NAME!r}: {len(truth)} items ({shapes}), labels {dataset.labels}",
             f"images   {demo.get('images_dir', '?')}", "users"]
    for user in store.users.list():
        if user.id in _USER_NAMES:
            role = (f"annotator, accuracy {ANNOTATORS[user.id]:.2f}" if user.id in ANNOTATORS
                    else "reviewer" if user.id == REVIEWER else "QA")
            lines.append(f"  {user.id:<20} {role}")
    lines.append("tasks")
    for task in dataset.tasks.list(per_page=100):
        counts = ", ".join(f"{s} {n}" for s, n in task.status_counts().items())
        kind = "" if task.annotation_type == "class" else f"{task.annotation_type}, "
        lines.append(f"  {task.name!r} ({task.type}, {kind}{task.review_strategy} review, id {task.id}): {counts}"
                     + _gold_note(task))
    return "\n".join(lines)


def _gold_note(task: Any) -> str:
    """``; gold: 57 answers, flagged dave@example.com`` for a task whose workers answered gold, else ``""``."""
    answers = len(task.gold_df()) if task.gold_rate else 0
    if not answers:
        return ""
    history = task.history()
    flagged = history.loc[history["action"] == "flag", "user_id"].tolist()
    return f"; gold: {answers} answers, flagged {', '.join(flagged) if flagged else 'nobody'}"


# -- command line ---------------------------------------------------------------------------
def add_parsers(subparsers: Any) -> None:
    """Add ``dltasks demo [--store PATH] [--items N] [--seed S] [--force]``."""
    parser = subparsers.add_parser(
        "demo", help="create a demo store (synthetic shapes, users, simulated annotators)",
        description="Create (or reuse) a demo store: a dataset of synthetic shape images with ground "
                    "truth, six users and tasks already partly labelled by simulated annotators.")
    parser.add_argument("--store", default=os.environ.get("DLTASKS_STORE", DEFAULT_STORE),
                        help="store file or URL (default: $DLTASKS_STORE or %(default)s)")
    parser.add_argument("--items", type=int, default=300, help="number of images (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild the demo if the store already has one")
    parser.add_argument("--lab", action="store_true",
                        help="then start JupyterLab on working copies of the tutorials (in the store's folder) "
                             "and print its link")
    parser.add_argument("--notebooks", default="notebooks",
                        help="with --lab: the tutorials to copy (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8888, help="with --lab: JupyterLab's port (default: %(default)s)")
    parser.set_defaults(func=_run)


def _one_line(store: Any, path: str, outcome: str) -> str:
    """``Demo store demo/dltasks.db (created): 300 shape images, 6 users, 3 tasks.``"""
    dataset = store.datasets.get(name=DATASET_NAME)
    return (f"Demo store {path} ({outcome}): {dataset.items.count()} shape images, {len(store.users.list())} users, "
            f"{len(dataset.tasks.list(per_page=100))} tasks.")


def _store_folder(store: str) -> str:
    """The folder of a store file (``demo/dltasks.db`` → ``demo``): where the lab's working files go."""
    path = store[len("sqlite:///"):] if store.startswith("sqlite:///") else store
    if "://" in path or path in ("", ":memory:"):
        raise ValidationError("--lab needs a store file (its folder holds the tutorials' working copies)",
                              "store", store)
    return os.path.dirname(os.path.abspath(path))


def _run(args: argparse.Namespace) -> int:
    import dltasks as dl

    def build() -> None:
        with dl.connect(args.store) as store:
            outcome = ensure_demo(store, n_items=args.items, seed=args.seed, force=args.force)
            print(_one_line(store, args.store, outcome) if args.lab else _report(store, args, outcome), flush=True)

    if args.lab:  # checked before anything is built; the store is built while JupyterLab starts
        from dltasks.demo_lab import check_port, run_lab

        check_port(args.port)
        return run_lab(_store_folder(args.store), args.notebooks, args.store, port=args.port, while_starting=build)
    build()
    return 0


def _report(store: Any, args: argparse.Namespace, outcome: str) -> str:
    if outcome == "reused":
        head = (f"The demo store {args.store} already exists (built with {args.items} items, seed {args.seed}); "
                "reusing it. Use --force to rebuild it.")
    else:
        head = f"{'Rebuilt' if outcome == 'rebuilt' else 'Created'} the demo store {args.store}"
    return (f"{head}\n{describe_demo(store)}\n"
            f"\nOpen it with:  import dltasks as dl; store = dl.connect({os.fspath(args.store)!r})")
