"""The demo store (`dltasks demo`): contents, determinism, idempotency, the command line."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import dltasks as dl
from dltasks import demo, demo_lab
from dltasks.cli import main
from dltasks.errors import ConflictError, ValidationError

N = 30


@pytest.fixture
def demo_path(tmp_path):
    path = tmp_path / "demo" / "dltasks.db"
    demo.build_demo(path, n_items=N, seed=0).close()
    return path


def _snapshot(store):
    """Everything a rebuild could change, without ids and timestamps."""
    dataset = store.datasets.get(name="shapes")
    items = dataset.items.to_df().drop(columns=["dataset_id", "created_at"])
    labels = dataset.annotations.to_df().merge(items[["id", "filename"]], left_on="item_id", right_on="id")
    labels = labels[["filename", "author", "kind", "label", "left", "top", "right", "bottom"]]
    labels = labels.sort_values(["filename", "author", "kind", "label", "left"]).reset_index(drop=True)
    tasks = {t.name: t.status_counts().to_dict() for t in dataset.tasks.list()}
    return items, labels, tasks


def test_demo_contents(demo_path):
    with dl.connect(demo_path) as store:
        dataset = store.datasets.get(name="shapes")
        items = dataset.items.to_df()
        assert len(items) == N
        assert dataset.labels == ["circle", "square", "triangle"]
        assert set(items["metadata.user.truth"]) <= set(demo.SHAPES)
        assert set(items["metadata.user.colour"]) <= set(demo.COLOURS)
        assert items["metadata.user.split"].value_counts().to_dict() == {"train": 21, "val": 4, "test": 5}
        assert (items["dir"] == "/" + items["metadata.user.split"]).all()
        assert {u.id for u in store.users.list()} == set(demo.ANNOTATORS) | {demo.REVIEWER, demo.QA_CHECKER}
        assert sorted(t.name for t in dataset.tasks.list()) == sorted([demo.TEST_TASK, demo.TEST_TASK + "_qa",
                                                                       demo.CONSENSUS_TASK, demo.BOX_TASK])
        sizes = {(it.width, it.height) for it in dataset.items.get_all_items()}
        assert sizes == {(64, 64)}                      # metadata['system']: what a box must lie inside


def test_demo_images_beside_store(demo_path):
    folder = demo_path.parent / "dltasks-shapes"
    with dl.connect(demo_path) as store:
        items = store.datasets.get(name="shapes").items.to_df()
    assert all(p.startswith(str(folder)) and os.path.isfile(p) for p in items["path"])
    image = Image.open(items["path"].iloc[0])
    assert (image.size, image.mode, image.format) == ((64, 64), "RGB", "PNG")
    assert items["size"].tolist() == [os.path.getsize(p) for p in items["path"]]


def test_consensus_task_is_partly_labelled(demo_path):
    with dl.connect(demo_path) as store:
        task = store.datasets.get(name="shapes").tasks.get(task_name=demo.CONSENSUS_TASK)
        assert (task.workers_per_input, task.approval_threshold, task.review_strategy) == (3, 2, "consensus")
        assert task.reviewer_ids == [demo.REVIEWER]
        counts = task.status_counts()
        assert counts.sum() == N - 3                     # 3 of the 30 images are gold, not work
        assert counts.get("approved", 0) > 0 and counts.get("pending", 0) > 0
        assert counts.get("awaiting_consensus", 0) == 3  # 10% of the items have one label
        labels = task.labels_df()
        assert set(labels["worker"]) <= set(demo.ANNOTATORS)
        assert len(task.consensus()) == int(0.8 * (N - 3))


def test_consensus_task_has_gold_that_every_annotator_answered(demo_path):
    with dl.connect(demo_path) as store:
        dataset = store.datasets.get(name="shapes")
        task = dataset.tasks.get(task_name=demo.CONSENSUS_TASK)
        truth = demo.load_truth(dataset)
        assert (task.gold_rate, task.min_gold_accuracy, task.min_gold_n) == (0.1, 0.6, 8)
        answers = task.gold_df()
        gold, work = set(answers["item_id"]), set(task.items_df()["item_id"])
        assert len(work) == N - 3 and gold and gold <= set(truth.index) - work          # gold is not the task's work
        assert not gold & set(task.labels_df()["item_id"])
        assert (answers["gold"] == truth.loc[answers["item_id"]].to_numpy()).all()       # the known answer is the truth
        assert (answers["correct"] == (answers["answer"] == answers["gold"])).all()
        assert not answers.duplicated(["item_id", "user_id"]).any()                     # each gold item once a worker
        quality = task.worker_quality()
        assert set(quality.index) == set(demo.ANNOTATORS)
        assert (quality["gold_n"] > 0).all()
        assert quality["gold_n"].to_dict() == answers.groupby("user_id").size().to_dict()
        assert quality["gold_accuracy"].to_dict() == answers.groupby("user_id")["correct"].mean().to_dict()
        assert not quality["flagged"].any() and task.flagged_workers().empty   # 2 gold answers each: under min_gold_n
        assert (task.history()["action"] == "gold").sum() == len(answers)


def test_qa_task_covers_completed_items(demo_path):
    with dl.connect(demo_path) as store:
        dataset = store.datasets.get(name="shapes")
        parent = dataset.tasks.get(task_name=demo.TEST_TASK)
        qa = dataset.tasks.get(task_name=demo.TEST_TASK + "_qa")
        done = parent.items_df().query("status == 'completed'")["item_id"]
        assert sorted(qa.items_df()["item_id"]) == sorted(done)
        assert qa.assignee_ids == [demo.QA_CHECKER]
        assert qa.status_counts().get("approved", 0) >= 1


def test_build_twice_reuses(demo_path):
    with dl.connect(demo_path) as store:
        before = _snapshot(store)
        ids = sorted(t.id for t in store.tasks.list())
        assert demo.ensure_demo(store, n_items=N, seed=0) == "reused"
        after = _snapshot(store)
        assert sorted(t.id for t in store.tasks.list()) == ids
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])
    assert before[2] == after[2]


def test_same_seed_same_demo(tmp_path, demo_path):
    other = demo.build_demo(tmp_path / "other.db", n_items=N, seed=0)
    with dl.connect(demo_path) as store:
        a = _snapshot(store)
    b = _snapshot(other)
    cols = [c for c in a[0].columns if c not in ("path", "size")]
    pd.testing.assert_frame_equal(a[0][cols], b[0][cols])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert a[2] == b[2]


def test_other_settings_conflict_and_leave_store_unchanged(demo_path):
    with dl.connect(demo_path) as store:
        before = _snapshot(store)
        with pytest.raises(ConflictError, match="force"):
            demo.ensure_demo(store, n_items=N + 10, seed=0)
        with pytest.raises(ConflictError, match="seed 0"):
            demo.ensure_demo(store, n_items=N, seed=1)
        after = _snapshot(store)
    pd.testing.assert_frame_equal(before[0], after[0])


def test_force_rebuilds_and_keeps_other_datasets(demo_path):
    folder = demo_path.parent / "dltasks-shapes"
    with dl.connect(demo_path) as store:
        store.datasets.create("mine").items.import_df(pd.DataFrame({"name": ["a.jpg"]}))
        assert demo.ensure_demo(store, n_items=N + 10, seed=1, force=True) == "rebuilt"
        assert store.datasets.get(name="shapes").items.count() == N + 10
        assert store.datasets.get(name="mine").items.count() == 1
        assert len(store.tasks.list()) == 4
    assert sum(len(files) for _, _, files in os.walk(folder)) == N + 10 + 1  # images + marker


def test_foreign_shapes_dataset_is_not_replaced_without_force(tmp_path):
    with dl.connect(tmp_path / "x.db") as store:
        store.datasets.create("shapes")
        with pytest.raises(ConflictError, match="did not make"):
            demo.ensure_demo(store, n_items=N)
        assert store.datasets.get(name="shapes").items.count() == 0


@pytest.mark.parametrize("n_items", [0, 5, 19, 100_001, 3.5, True, "300"], ids=repr)
def test_bad_item_counts(tmp_path, n_items):
    with pytest.raises(ValidationError, match="n_items"):
        demo.build_demo(tmp_path / "x.db", n_items=n_items)


def test_memory_store_writes_images_to_a_temp_folder():
    import shutil

    store = demo.build_demo("sqlite://", n_items=N)
    paths = store.datasets.get(name="shapes").items.to_df()["path"]
    assert all(os.path.isfile(p) for p in paths)
    folder = os.path.dirname(os.path.dirname(paths.iloc[0]))  # <folder>/<split>/<name>
    assert os.path.basename(folder).startswith("dltasks-demo-")
    shutil.rmtree(folder)


def test_catalogue_is_deterministic_and_inside_the_image():
    a, b = demo.make_catalogue(200, seed=3), demo.make_catalogue(200, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(demo.make_catalogue(200, seed=4))
    reach = np.ceil(1.3 * a["size_px"])
    assert ((a["x"] - reach >= 0) & (a["x"] + reach <= demo.IMAGE_SIZE)).all()
    assert set(a["truth"]) == set(demo.SHAPES)


@pytest.mark.parametrize("shape", demo.SHAPES)
def test_render_draws_the_colour(shape):
    image = np.asarray(demo.render_shape(shape, "blue", 16))
    blue = (image == demo.COLOURS["blue"]).all(axis=2).sum()
    expected = {"circle": np.pi * 16**2, "square": (2 * 16) ** 2, "triangle": 0.5 * 1.2**2 * 16**2 * 3 * np.sin(np.pi / 3)}
    assert blue == pytest.approx(expected[shape], rel=0.15)


@pytest.mark.slow
def test_default_demo_flags_dave_and_hands_his_open_items_on(tmp_path):
    """300 items, seed 0 (``make demo``): Dave (accuracy 0.6) falls under 0.6 on gold and is flagged."""
    with demo.build_demo(tmp_path / "d.db") as store:
        task = store.datasets.get(name="shapes").tasks.get(task_name=demo.CONSENSUS_TASK)
        assert task.status_counts().sum() == 270                       # 30 of the 300 images are gold
        flagged = task.flagged_workers()
        assert flagged["user_id"].tolist() == ["dave@example.com"]
        assert flagged["gold_n"].iloc[0] >= demo.MIN_GOLD_N and flagged["gold_accuracy"].iloc[0] < 0.6
        quality = task.worker_quality()
        assert quality["flagged"].to_dict() == {w: w == "dave@example.com" for w in demo.ANNOTATORS}
        assert (quality.drop(index="dave@example.com")["gold_accuracy"] >= 0.6).all()
        assert task.queue("dave@example.com") == []
        history = task.history()
        moved = history[history["action"] == "redistribute"]
        assert len(moved) > 0 and set(moved["before"]) == {"dave@example.com"}
        assert set(moved["after"]) <= set(demo.ANNOTATORS) - {"dave@example.com"}
        assert task.labels_df().query("worker == 'dave@example.com'").shape[0] > 0      # his labels stay, excluded


def test_simulated_gold_flags_the_poor_worker(plain_task):
    task, truth = plain_task
    gold = {int(i): str(truth[i]) for i in truth.index[-40:]}
    task = task.dataset.tasks.create("g", assignee_ids=["good", "poor"], items=truth.index[:100].tolist(), gold=gold,
                                     gold_rate=0.2, min_gold_accuracy=0.6, min_gold_n=4, seed=0)
    poor_items = task.assignments_df(role="worker", user_id="poor")["item_id"].tolist()
    good_gold = [i for i in task.queue("good") if i in gold]
    assert len(good_gold) == 13                                                  # 13 of 63: a fifth of the queue
    out = demo.simulate_gold(task, {"good": 1.0, "poor": 0.0}, truth, seed=1, share=0.5)
    good, poor = out[out["worker"] == "good"], out[out["worker"] == "poor"]
    assert good["item_id"].tolist() == good_gold[:7]                             # half (rounded up), in queue order
    assert good["correct"].all() and not good["flagged"].any()
    assert len(poor) == 4 and not poor["correct"].any()                          # flagged at min_gold_n, then no more
    assert poor["flagged"].tolist() == [False, False, False, True]
    assert task.flagged_workers()["user_id"].tolist() == ["poor"]
    assert task.gold_df().groupby("user_id").size().to_dict() == {"good": len(good), "poor": 4}
    assert set(task.assignments_df(role="worker", status="pending")["user_id"]) == {"good"}
    assert set(poor_items) <= set(task.assignments_df(role="worker", user_id="good")["item_id"])
    assert task.labels_df().empty                                                # gold answers are not labels
    with pytest.raises(ValidationError, match="share"):
        demo.simulate_gold(task, {"good": 1.0}, truth, share=1.5)


# -- the box task ------------------------------------------------------------------------------
def _errors(found, truth):
    """|consensus - true| per coordinate (pixels), on the items of ``found``."""
    sides = ["left", "top", "right", "bottom"]
    want = truth.loc[found["item_id"], sides].to_numpy()
    return np.abs(found[sides].to_numpy() - want)


def test_box_task_is_partly_drawn_and_its_consensus_is_the_true_box(demo_path):
    with dl.connect(demo_path) as store:
        dataset = store.datasets.get(name="shapes")
        task = dataset.tasks.get(task_name=demo.BOX_TASK)
        assert (task.annotation_type, task.workers_per_input, task.approval_threshold, task.iou_threshold) == \
            ("box", 3, 2, 0.5)
        assert (task.review_strategy, task.assignee_ids, task.reviewer_ids) == \
            ("consensus", list(demo.BOX_WORKERS), [demo.REVIEWER])
        counts = task.status_counts().to_dict()
        assert sum(counts.values()) == 10                               # 10 of the 30 images (the minimum)
        assert counts.get("approved", 0) + counts.get("awaiting_review", 0) == 7    # 70% drawn by all
        assert counts.get("approved", 0) >= 5
        assert (counts.get("awaiting_consensus"), counts.get("pending")) == (1, 2)  # 10% by one, 20% not yet
        answers = task.labels_df()
        assert set(answers["worker"]) == set(demo.BOX_WORKERS) and set(answers["kind"]) <= {"box", "none"}
        truth = demo.true_boxes(dataset)
        shapes = task.consensus_shapes()
        approved = task.items_df().query("status == 'approved'")["item_id"]
        assert set(approved) <= set(shapes["item_id"])                 # every approved item has its box
        assert (shapes["label"].to_numpy() == truth.loc[shapes["item_id"], "label"].to_numpy()).all()
        errors = _errors(shapes, truth)
        assert errors.max() < 3.5 and errors.mean() < 1.0, errors      # 3.2 px at most, 0.6 px on average
        quality = task.worker_quality()
        assert quality.loc["alice@example.com", "mean_iou"] > 0.85


def test_true_boxes_frame_every_shape(demo_path):
    with dl.connect(demo_path) as store:
        dataset = store.datasets.get(name="shapes")
        truth = demo.true_boxes(dataset)
        items = dataset.items.to_df()
    assert list(truth.index) == list(items["id"]) and truth.index.name == "item_id"
    assert truth["label"].tolist() == items["metadata.user.truth"].tolist()
    for item_id, path in zip(items["id"].tolist()[:8], items["path"].tolist()[:8]):
        mask = ~(np.asarray(Image.open(path)) == (245, 245, 240)).all(axis=2)     # not the ground
        ys, xs = np.nonzero(mask)
        drawn = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert truth.loc[item_id, ["left", "top", "right", "bottom"]].tolist() == pytest.approx(drawn, abs=1.0)


@pytest.mark.parametrize("shape", demo.SHAPES)
@pytest.mark.parametrize("angle", [-20.0, 0.0, 7.5, 20.0])
def test_shape_box_is_the_rendered_extent(shape, angle):
    image = np.asarray(demo.render_shape(shape, "red", 16, 30, 33, angle))
    ys, xs = np.nonzero((image == demo.COLOURS["red"]).all(axis=2))
    assert demo.shape_box(shape, 16, 30, 33, angle) == pytest.approx((xs.min(), ys.min(), xs.max() + 1,
                                                                      ys.max() + 1), abs=1.0)


def test_true_boxes_needs_the_demo_dataset(tmp_path):
    with dl.connect(tmp_path / "x.db") as store:
        with pytest.raises(ValidationError, match="dataset.*not the demo"):
            demo.true_boxes(store.datasets.create("mine"))


@pytest.fixture
def box_task():
    store = dl.connect("sqlite://")
    dataset = store.datasets.create("d", labels=["a", "b", "c"])
    n = 80
    rng = np.random.default_rng(0)
    left, top = rng.uniform(0, 40, n).round(1), rng.uniform(0, 40, n).round(1)
    dataset.items.import_df(pd.DataFrame({"name": [f"{i}.png" for i in range(n)],
                                          "metadata": [{"system": {"width": 64, "height": 64}}] * n}))
    truth = pd.DataFrame({"label": rng.choice(["a", "b", "c"], n), "left": left, "top": top, "right": left + 20,
                          "bottom": top + 20, "width": 64, "height": 64}, index=pd.Index(range(1, n + 1)))
    task = dataset.tasks.create("t", assignee_ids=["good", "poor"], worker_strategy="full", annotation_type="box",
                                seed=0)
    return task, truth


def test_simulated_boxes_follow_the_skill(box_task):
    task, truth = box_task
    out = demo.simulate_boxes(task, {"good": 1.0, "poor": 0.6}, truth, seed=3)
    assert len(out[["item_id", "worker"]].drop_duplicates()) == 160          # every item, both workers
    good, poor = out[out["worker"] == "good"], out[out["worker"] == "poor"]
    sides = ["left", "top", "right", "bottom"]
    assert (good["kind"] == "box").all() and len(good) == 80                 # a perfect worker: the true boxes
    assert good[sides].to_numpy().tolist() == truth[sides].to_numpy().tolist()
    assert (good["label"].to_numpy() == truth["label"].to_numpy()).all()
    per_item = poor.groupby("item_id")
    near = poor[poor["kind"] == "box"].merge(truth, left_on="item_id", right_index=True, suffixes=("", "_t"))
    near = near[(near["left"] - near["left_t"]).abs() < 12]                   # the box around the shape, not a stray
    missed = 1 - near["item_id"].nunique() / 80
    assert 0.08 <= missed <= 0.35                                            # (1 - 0.6) / 2 = 0.2
    assert (per_item.size() > 1).mean() == pytest.approx(0.2, abs=0.12)      # stray boxes
    jitter = (near["left"] - near["left_t"]).std()
    assert jitter == pytest.approx(4.0, abs=1.5)                             # 10 * (1 - 0.6) pixels
    assert ((out[sides] >= 0) & (out[sides] <= 64)).where(out["kind"] == "box", True).all().all()
    stored = task.labels_df()
    assert len(stored) == len(out)
    assert stored.groupby("worker").size().to_dict() == out.groupby("worker").size().to_dict()


def test_simulated_boxes_bad_input(box_task):
    task, truth = box_task
    for boxes in (truth.drop(columns=["left"]), truth["label"]):
        with pytest.raises(ValidationError, match="boxes"):
            demo.simulate_boxes(task, {"good": 1.0}, boxes)
    with pytest.raises(ValidationError, match="fraction"):
        demo.simulate_boxes(task, {"good": 1.0}, truth, fraction=1.5)
    assert task.labels_df().empty


# -- simulate_labels -------------------------------------------------------------------------
@pytest.fixture
def plain_task():
    store = dl.connect("sqlite://")
    dataset = store.datasets.create("d", labels=["a", "b", "c"])
    rng = np.random.default_rng(0)
    dataset.items.import_df(pd.DataFrame({"name": [f"{i}.png" for i in range(400)],
                                          "user.truth": rng.choice(["a", "b", "c"], 400)}))
    task = dataset.tasks.create("t", assignee_ids=["good", "poor"], worker_strategy="full", seed=0)
    return task, demo.load_truth(dataset)


def test_simulated_accuracy_matches(plain_task):
    task, truth = plain_task
    out = demo.simulate_labels(task, {"good": 0.9, "poor": 0.5}, truth, seed=1)
    assert len(out) == 800
    assert set(out.groupby("item_id")["status"].last()) == {"completed"}
    accuracy = out.groupby("worker")["correct"].mean()
    assert accuracy["good"] == pytest.approx(0.9, abs=0.05)
    assert accuracy["poor"] == pytest.approx(0.5, abs=0.08)
    assert set(out["label"]) == {"a", "b", "c"}
    assert (out["correct"] == (out["label"] == out["truth"])).all()
    stored = task.labels_df()[["item_id", "worker", "label"]].sort_values(["item_id", "worker"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, out[["item_id", "worker", "label"]].sort_values(
        ["item_id", "worker"]).reset_index(drop=True))


def test_simulate_only_pending_chosen_items(plain_task):
    task, truth = plain_task
    first = demo.simulate_labels(task, {"good": 1.0}, truth, items=[1, 2, 3])
    assert first["item_id"].tolist() == [1, 2, 3] and first["correct"].all()
    again = demo.simulate_labels(task, {"good": 1.0, "poor": 0.0}, truth, fraction=0.25, seed=2)
    assert not again["correct"][again["worker"] == "poor"].any()
    assert again["item_id"].nunique() == 100  # a quarter of the 400 items with pending work
    assert not ((again["worker"] == "good") & again["item_id"].isin([1, 2, 3])).any()


@pytest.mark.parametrize("accuracies, fraction", [({}, 1.0), ({"good": 1.5}, 1.0), ({"good": "x"}, 1.0),
                                                  ({"good": 0.5}, 2.0)], ids=["empty", "above 1", "text", "fraction"])
def test_simulate_bad_input(plain_task, accuracies, fraction):
    task, truth = plain_task
    with pytest.raises(ValidationError):
        demo.simulate_labels(task, accuracies, truth, fraction=fraction)
    assert task.labels_df().empty


# -- command line ------------------------------------------------------------------------------
def test_cli_creates_then_reuses(tmp_path, capsys):
    path = str(tmp_path / "cli.db")
    assert main(["demo", "--store", path, "--items", str(N), "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert f"Created the demo store {path}" in out
    assert f"'shapes': {N} items" in out and demo.CONSENSUS_TASK in out and "alice@example.com" in out
    assert main(["demo", "--store", path, "--items", str(N), "--seed", "2"]) == 0
    assert "reusing it" in capsys.readouterr().out


def test_cli_conflict_exits_1(tmp_path, capsys):
    path = str(tmp_path / "cli.db")
    assert main(["demo", "--store", path, "--items", str(N)]) == 0
    capsys.readouterr()
    assert main(["demo", "--store", path, "--items", str(N + 1)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["demo", "--store", path, "--items", str(N + 1), "--force"]) == 0
    assert "Rebuilt" in capsys.readouterr().out


def test_console_script(tmp_path):
    path = tmp_path / "script.db"
    cmd = [sys.executable, "-c", "import sys; from dltasks.cli import main; sys.exit(main())",
           "demo", "--store", str(path), "--items", "20"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Created the demo store" in done.stdout and path.exists()
    bad = subprocess.run(cmd[:-1] + ["3"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "n_items" in bad.stderr


# -- binder ------------------------------------------------------------------------------------
def test_binder_installs_the_package_and_builds_the_demo():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    lines = [ln.strip() for ln in (root / "binder" / "requirements.txt").read_text().splitlines()]
    assert [ln for ln in lines if ln and not ln.startswith("#")] == [".[demo]"]   # tutorial 06 serves
    assert {"jupyterlab", "ipykernel", "voila"} <= {r.split(">")[0].split("=")[0] for r in extras["jupyter"]}
    assert (root / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    for script in ("postBuild", "start"):
        assert os.access(root / "binder" / script, os.X_OK), script
    assert "dltasks demo --store demo/dltasks.db" in (root / "binder" / "postBuild").read_text()
    assert "DLTASKS_STORE" in (root / "binder" / "start").read_text()


# -- make demo: JupyterLab on working copies, one link ----------------------------------------
REPO = Path(__file__).resolve().parents[1]


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(Path(folder).glob("*.ipynb"))}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_lab(tmp_path, port):
    """`dltasks demo --lab` as make demo runs it; returns (process, lines printed up to the link)."""
    cmd = [sys.executable, "-m", "dltasks.cli", "demo", "--store", str(tmp_path / "demo" / "dltasks.db"),
           "--items", "20", "--lab", "--port", str(port), "--notebooks", str(REPO / "notebooks")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                            start_new_session=True)
    lines = []
    while not any("token=" in ln for ln in lines):
        line = proc.stdout.readline()
        assert line, "exited before printing a link:\n" + "".join(lines)
        lines.append(line)
    lines.append(proc.stdout.readline())  # the blank line after the link
    lines.append(proc.stdout.readline())  # where the copies and the log are
    return proc, lines


def _stop_lab(proc):
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    rest, _ = proc.communicate(timeout=60)
    return proc.returncode, rest


def test_working_copies_of_the_tutorials(tmp_path):
    before = _hashes(REPO / "notebooks")
    assert set(demo_lab.working_copies(REPO / "notebooks", tmp_path / "nb").values()) == {"copied"}
    assert _hashes(tmp_path / "nb") == before
    (tmp_path / "nb" / "01_quickstart.ipynb").write_text('{"cells": [], "mine": 1}')
    again = demo_lab.working_copies(REPO / "notebooks", tmp_path / "nb")
    assert set(again.values()) == {"kept"} and len(again) == len(before)
    assert (tmp_path / "nb" / "01_quickstart.ipynb").read_text() == '{"cells": [], "mine": 1}'
    assert _hashes(REPO / "notebooks") == before


def test_working_copies_need_notebooks(tmp_path):
    with pytest.raises(ValidationError, match="source"):
        demo_lab.working_copies(tmp_path, tmp_path / "nb")


def test_lab_refuses_a_busy_port_before_building(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--store", str(tmp_path / "d.db"), "--items", str(N), "--lab", "--port", str(port)]) == 1
    assert f"port: is in use on 127.0.0.1 (another JupyterLab?); pick another, e.g. make demo PORT={port + 1}" \
        in capsys.readouterr().err
    assert not (tmp_path / "d.db").exists()


def _processes_with(text: str) -> list[str]:
    """Command lines of running processes that contain ``text`` (read from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in line:
            found.append(line)
    return found


def test_a_store_that_cannot_be_built_stops_the_starting_lab(tmp_path):
    """The store is built while JupyterLab starts; if building fails, no JupyterLab is left running."""
    port = _free_port()

    def fail() -> None:
        raise ConflictError("the store is not a demo store")

    with pytest.raises(ConflictError):
        demo_lab.run_lab(tmp_path / "demo", REPO / "notebooks", str(tmp_path / "demo" / "d.db"), port=port,
                         while_starting=fail)
    assert not _processes_with(f"--ServerApp.port={port}") and demo_lab.port_is_free(port)   # its JupyterLab is gone
    assert (tmp_path / "demo" / "notebooks" / "01_quickstart.ipynb").exists()


@pytest.mark.slow
def test_lab_prints_one_link_and_keeps_the_repository_clean(tmp_path):
    import urllib.request

    before = _hashes(REPO / "notebooks")
    port = _free_port()
    proc, lines = _start_lab(tmp_path, port)
    try:
        urls = [ln for ln in lines if "http" in ln]
        assert lines[0] == f"Demo store {tmp_path / 'demo' / 'dltasks.db'} (created): 20 shape images, 6 users, 4 tasks.\n"
        assert len(urls) == 1 and not any("warn" in ln.lower() for ln in lines)
        url = urls[0].strip()
        token = url.split("token=")[1]
        assert url == f"http://127.0.0.1:{port}/lab/tree/01_quickstart.ipynb?token={token}"
        with urllib.request.urlopen(url, timeout=30) as page:
            assert page.status == 200
        auth = {"Authorization": f"token {token}"}
        settings = urllib.request.Request(
            f"http://127.0.0.1:{port}/lab/api/settings/@jupyterlab/apputils-extension:notification", headers=auth)
        with urllib.request.urlopen(settings, timeout=30) as answer:
            defaults = json.load(answer)["schema"]["properties"]
        assert (defaults["fetchNews"]["default"], defaults["checkForUpdates"]["default"]) == ("false", False)
        # run and save the quickstart as JupyterLab does: the output lands in the working copy only
        notebook = json.loads((REPO / "notebooks" / "01_quickstart.ipynb").read_text())
        notebook["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
        body = json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()
        save = urllib.request.Request(f"http://127.0.0.1:{port}/api/contents/01_quickstart.ipynb", data=body,
                                      method="PUT", headers={**auth, "Content-Type": "application/json"})
        with urllib.request.urlopen(save, timeout=30) as answer:
            assert answer.status == 200
    finally:
        code, rest = _stop_lab(proc)
    assert (code, rest.strip()) == (0, "JupyterLab stopped.")
    copy = json.loads((tmp_path / "demo" / "notebooks" / "01_quickstart.ipynb").read_text())
    assert "".join(copy["cells"][1]["outputs"][0]["text"]) == "ran\n"
    assert _hashes(REPO / "notebooks") == before
    assert "Jupyter Server" in (tmp_path / "demo" / "jupyterlab.log").read_text()

    # make demo again: the store is reused, the saved working copy kept
    proc, lines = _start_lab(tmp_path, port)
    code, _ = _stop_lab(proc)
    assert code == 0 and "(reused)" in lines[0]
    copy = json.loads((tmp_path / "demo" / "notebooks" / "01_quickstart.ipynb").read_text())
    assert "".join(copy["cells"][1]["outputs"][0]["text"]) == "ran\n"


def test_demo_installs_no_test_tools():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    names = {r.split("[")[0].split(">")[0].split("=")[0] for r in extras["demo"]}
    # the server tutorial 06 starts, with the HTTP parser and event loop `dltasks serve` runs on
    assert names == {"dltasks", "fastapi", "uvicorn", "httptools", "uvloop"} and "dltasks[jupyter]" in extras["demo"]
    assert not names & {r.split(">")[0].split("=")[0] for r in extras["test"]}
    makefile = (REPO / "Makefile").read_text()
    assert '-e ".[demo]"' in makefile
    demo_recipe = makefile.split("\ndemo:")[1].split("\n\n")[0]
    assert all(line.startswith("\t@") for line in demo_recipe.splitlines()[1:])
