"""The LabelingWidget's drawing tools in a real JupyterLab: boxes and polygons drawn with the mouse
on a picture shown smaller than its natural size, labels picked with keys, a multi_class set
toggled, a free text typed; and the ReviewWidget drawing the workers' shapes.

A notebook made here opens a SQLite store (in the test's temporary folder) with one widget per
task.  Pictures are 800 x 600 PNGs shown at 640 x 480.  The test moves Playwright's mouse to
screen points computed from the picture's box on screen and its natural size (known here, from
the file), then reads the store from this process: each shape in image pixels, within 1 px of
the point the mouse was on.  Human speed: mouse moves in steps with pauses, keys 150 ms apart;
fast: no pauses.  Screenshot: test-artifacts/browser/boxes-tool.png (docs/img/boxes.png).
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import key_log, open_widgets, press_keys, wait_answered, widget_notebook, work

import dltasks as dl

LABELS = ["car", "bus", "bike"]                    # keys 1, 2, 3
WIDTH, HEIGHT = 800, 600                           # the pictures' natural size
N_ITEMS = 12
HUMAN = {"steps": 12, "pause": 0.12, "keys_ms": 150}
FAST = {"steps": 1, "pause": 0.0, "keys_ms": 0}


def street_pngs(folder: Path, n: int) -> list[Path]:
    """``n`` 800 x 600 PNG pictures, each different: a road, two vehicles, its number."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        image = Image.new("RGB", (WIDTH, HEIGHT), (200, 222, 236))
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 380, WIDTH, HEIGHT), fill=(120, 124, 130))
        draw.rectangle((100 + 7 * i, 260, 300 + 7 * i, 400), fill=(200, 60, 60))            # a car
        draw.rectangle((460, 150 + 5 * i, 720, 420 + 5 * i), fill=(240, 200, 60))           # a bus
        draw.text((12, 12), f"street {i}", fill=(30, 30, 30))
        out.append(folder / f"street-{i:02d}.png")
        image.save(out[-1])
    return out


def make_store(folder: Path) -> tuple[Path, dict[str, str]]:
    """The tasks, each worked by ann, and a review task of boxes ann and bob drew (rita reviews)."""
    path = folder / "boxes.db"
    ds = dl.connect(path).datasets.create("streets", labels=LABELS)
    ds.items.upload(street_pngs(folder / "img", N_ITEMS))
    for item in ds.items.get_all_items():
        item.metadata["system"].update(width=WIDTH, height=HEIGHT)
        item.update()
    tasks = {name: ds.tasks.create(name, assignee_ids=["ann"], annotation_type=kind).id
             for name, kind in [("boxes", "box"), ("boxes fast", "box"), ("polygons", "polygon"),
                                ("tags", "multi_class"), ("captions", "text")]}
    wrong = ds.items.get(item_id=N_ITEMS)          # its metadata says 400 x 300: the store refuses x > 400
    wrong.metadata["system"].update(width=WIDTH // 2, height=HEIGHT // 2)
    wrong.update()
    tasks["refused"] = ds.tasks.create("refused", assignee_ids=["ann"], annotation_type="box", items=[N_ITEMS]).id
    review = ds.tasks.create("check boxes", assignee_ids=["ann", "bob"], workers_per_input=2, annotation_type="box",
                             review_strategy="manual", reviewer_ids=["rita"], items=[1])
    review.submit(1, "ann", annotations=[dl.Box(100, 260, 300, 400, "car"), dl.Box(460, 150, 720, 420, "bus")])
    review.submit(1, "bob", annotations=[dl.Box(96, 255, 305, 402, "car")])
    tasks["check boxes"] = review.id
    return path, tasks


def answers(store_path: Path, task_id: str) -> dict[int, list[tuple[Any, ...]]]:
    """ann's answer per item, read from the store by this process: item -> [(kind, label, geo or text)]."""
    df = dl.connect(store_path).tasks.get(task_id).labels_df()
    out: dict[int, list[tuple[Any, ...]]] = {}
    for r in df[df["worker"] == "ann"].itertuples(index=False):
        what: Any = ((r.left, r.top, r.right, r.bottom) if r.kind == "box" else r.geo if r.kind == "polygon"
                     else r.text)
        out.setdefault(int(r.item_id), []).append((r.kind, r.label, what))
    return out


class Picture:
    """The picture of the card on screen: natural pixels <-> integer screen points."""

    def __init__(self, widget: Any) -> None:
        from playwright.sync_api import expect

        overlay = widget.locator(".dlt-card .dlt-overlay")
        expect(overlay).to_have_attribute("data-natural", f"{WIDTH}x{HEIGHT}")
        overlay.scroll_into_view_if_needed()
        self.box = widget.locator(".dlt-card .dlt-picture img").bounding_box()
        assert self.box is not None

    @property
    def scale(self) -> float:
        return float(self.box["width"]) / WIDTH

    def screen(self, x: float, y: float) -> tuple[int, int]:
        """The whole screen pixel nearest to image pixel (x, y)."""
        return round(self.box["x"] + x * self.scale), round(self.box["y"] + y * self.scale)

    def image(self, point: tuple[int, int]) -> tuple[float, float]:
        """The image pixel under screen point ``point`` (what the widget should store)."""
        return ((point[0] - self.box["x"]) / self.scale, (point[1] - self.box["y"]) / self.scale)


def drag(page: Any, a: tuple[int, int], b: tuple[int, int], speed: dict[str, Any]) -> None:
    page.mouse.move(*a, steps=speed["steps"])
    page.mouse.down()
    time.sleep(speed["pause"] / 2)
    page.mouse.move(*b, steps=speed["steps"])
    time.sleep(speed["pause"] / 2)
    page.mouse.up()
    time.sleep(speed["pause"])


def click(page: Any, p: tuple[int, int], speed: dict[str, Any]) -> None:
    page.mouse.move(*p, steps=speed["steps"])
    page.mouse.click(*p)
    time.sleep(speed["pause"])


def near(got: Any, want: Any, tol: float = 1.0) -> bool:
    got, want = list(got), list(want)
    return len(got) == len(want) and all(abs(float(g) - float(w)) <= tol for g, w in zip(got, want))


def box_of(pic: Picture, a: tuple[int, int], b: tuple[int, int]) -> tuple[float, ...]:
    (x1, y1), (x2, y2) = pic.image(a), pic.image(b)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def on_screen(widget: Any) -> int:
    return int(widget.get_attribute("data-item-id"))


@pytest.mark.browser
@pytest.mark.timeout(420)
def test_boxes_polygons_toggles_and_text_in_jupyterlab(lab: str, work: Path, page: Any, artifacts: Path,
                                                       tmp_path: Path) -> None:
    from playwright.sync_api import expect

    page_errors: list[str] = []
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    store_path, tasks = make_store(tmp_path)
    labelled = ["boxes", "boxes fast", "polygons", "tags", "captions", "refused"]
    notebook = widget_notebook(tmp_path, store_path, [tasks[n] for n in labelled], more=(
        f"rtask = store.tasks.get({tasks['check boxes']!r})\nr = dl.widgets.ReviewWidget(rtask, 'rita')\nr",))
    widgets = open_widgets(page, lab, notebook, work, ".dlt-work", len(labelled) + 1)
    boxes, fast, polygons, tags, captions, refused, review = (widgets.nth(i) for i in range(len(labelled) + 1))
    buttons = [re.sub(r"\s+", " ", b).strip() for b in boxes.locator("button").all_inner_texts()]
    assert buttons == ["1 car", "2 bus", "3 bike", "Delete Delete box", "Enter Submit", "s Skip", "u Undo"]

    # -- boxes at human speed: two boxes, labels by key, Enter; nothing here; undo twice; mend -----
    speed = HUMAN
    pic = Picture(boxes)
    assert pic.box["width"] == pytest.approx(640, abs=1), "the 800 px picture is shown at 640 px"
    first = on_screen(boxes)
    a = pic.screen(100, 260), pic.screen(300, 400)         # around the car
    b = pic.screen(460, 150), pic.screen(720, 420)         # around the bus
    drag(page, *a, speed)
    press_keys(page, "1", 0)                               # the box just drawn is a car
    drag(page, *b, speed)
    press_keys(page, "2", 0)                               # this one a bus (and the next one drawn)
    expect(boxes.locator(".dlt-overlay")).to_have_attribute("data-shapes", "2")
    expect(boxes.locator(".dlt-hint")).to_contain_text("2 boxes: car, bus · next label: bus")
    boxes.screenshot(path=artifacts / "boxes-tool.png")
    page.keyboard.press("Enter")
    wait_answered(boxes)
    expect(boxes).not_to_have_attribute("data-item-id", str(first))
    car, bus = box_of(pic, *a), box_of(pic, *b)
    got = answers(store_path, tasks["boxes"])
    assert [(k, lbl) for k, lbl, _ in got[first]] == [("box", "car"), ("box", "bus")]
    assert near(got[first][0][2], car) and near(got[first][1][2], bus), \
        f"stored {got[first]}; the mouse was on {car}, {bus} (image pixels)"
    second = on_screen(boxes)
    page.keyboard.press("Enter")                           # nothing to draw here
    wait_answered(boxes)
    assert answers(store_path, tasks["boxes"])[second] == [("none", None, None)]
    press_keys(page, "uu", speed["keys_ms"])               # both answers withdrawn; the first item is back
    wait_answered(boxes)
    expect(boxes).to_have_attribute("data-item-id", str(first))
    assert answers(store_path, tasks["boxes"]) == {}
    expect(boxes.locator(".dlt-overlay")).to_have_attribute("data-shapes", "2")   # the boxes, to mend
    pic = Picture(boxes)
    car_inside = pic.screen(200, 330)
    drag(page, car_inside, (car_inside[0] + 24, car_inside[1] + 16), speed)        # move the car
    click(page, pic.screen(600, 300), speed)                                     # select the bus
    bus_corner = pic.screen(bus[2], bus[3])
    resized_to = (bus_corner[0] - 40, bus_corner[1] + 20)
    drag(page, bus_corner, resized_to, speed)                                    # resize it by its corner
    c = pic.screen(20, 20), pic.screen(80, 90)
    drag(page, *c, speed)                                  # a third box, selected: deleted
    expect(boxes.locator(".dlt-overlay")).to_have_attribute("data-shapes", "3")
    page.keyboard.press("Delete")
    expect(boxes.locator(".dlt-overlay")).to_have_attribute("data-shapes", "2")
    page.keyboard.press("Enter")
    wait_answered(boxes)
    got = answers(store_path, tasks["boxes"])[first]
    moved = [v + d for v, d in zip(car, (24 / pic.scale, 16 / pic.scale) * 2)]
    resized = [bus[0], bus[1], *pic.image(resized_to)]
    assert [(k, lbl) for k, lbl, _ in got] == [("box", "car"), ("box", "bus")]
    assert near(got[0][2], moved) and near(got[1][2], resized), f"stored {got}; wanted {moved}, {resized}"
    expect(boxes.locator(".dlt-notes .dlt-error")).to_have_count(0)

    # -- boxes fast: draw, label, Enter on item after item ------------------------------------------
    pic = Picture(fast)
    key_log(page)
    shown, timings = [], []
    d = pic.screen(50, 60), pic.screen(250, 300)
    for n in range(6):
        shown.append(on_screen(fast))
        drag(page, *d, FAST)
        page.keyboard.press("3" if n % 2 else "2")
        t0 = time.perf_counter()
        page.keyboard.press("Enter")
        fast.locator(f".dlt-card .dlt-overlay[data-natural='{WIDTH}x{HEIGHT}']").wait_for()
        expect(fast).not_to_have_attribute("data-item-id", str(shown[-1]))
        timings.append(1000 * (time.perf_counter() - t0))
    wait_answered(fast)
    enters = [int(e["item_id"]) for e in key_log(page) if e["key"] == "Enter"]
    assert enters == shown, "each Enter was on the item whose box was drawn"
    got = answers(store_path, tasks["boxes fast"])
    assert sorted(got) == sorted(shown)
    for n, item_id in enumerate(shown):
        (kind, label, where), = got[item_id]
        assert kind == "box" and label == ("bike" if n % 2 else "bus") and near(where, box_of(pic, *d)), got[item_id]
    print(f"fast boxes: Enter -> next picture ready {min(timings):.0f}-{max(timings):.0f} ms")

    # -- polygons: clicked out, closed by the first point and by Enter; Escape cancels one -------------
    pic = Picture(polygons)
    item = on_screen(polygons)
    roof = [pic.screen(x, y) for x, y in [(100, 100), (300, 90), (320, 240), (120, 260)]]
    for p in roof:
        click(page, p, speed)
    click(page, roof[0], speed)                            # a click on the first point closes it
    press_keys(page, "2", 0)
    tri = [pic.screen(x, y) for x, y in [(500, 400), (700, 420), (600, 560)]]
    for p in tri:
        click(page, p, speed)
    page.keyboard.press("Enter")                           # closes the triangle (does not submit yet)
    corner, moved_to = tri[2], (tri[2][0] + 20, tri[2][1] - 10)
    drag(page, corner, moved_to, speed)                    # the triangle is selected: move a point
    tri[2] = moved_to
    for p in [pic.screen(50, 500), pic.screen(90, 520), pic.screen(140, 560)]:
        click(page, p, speed)
    page.keyboard.press("Backspace")                       # takes the last point back
    expect(polygons.locator(".dlt-hint")).to_contain_text("drawing a polygon: 2 points")
    page.keyboard.press("Escape")                          # cancels the two-point one
    expect(polygons.locator(".dlt-overlay")).to_have_attribute("data-shapes", "2")
    expect(polygons).to_have_attribute("data-item-id", str(item))
    page.keyboard.press("Enter")
    wait_answered(polygons)
    got = answers(store_path, tasks["polygons"])[item]
    assert [(k, lbl) for k, lbl, _ in got] == [("polygon", "bus"), ("polygon", "bus")]
    for (_, _, geo), clicked in zip(got, [roof, tri]):
        assert len(geo) == len(clicked) and all(near(g, pic.image(p)) for g, p in zip(geo, clicked)), geo

    # -- multi_class: toggles shown pressed, Enter sends the set; an empty set ------------------------
    item = on_screen(tags)
    tags.locator(".dlt-work-head").hover()
    press_keys(page, "131", speed["keys_ms"])              # car on, bike on, car off
    expect(tags.locator("button", has_text="bike")).to_have_attribute("aria-pressed", "true")
    expect(tags.locator("button", has_text="car")).to_have_attribute("aria-pressed", "false")
    press_keys(page, "2", 0)
    page.keyboard.press("Enter")
    nxt = tags.locator(".dlt-hint")
    expect(nxt).to_contain_text("no label chosen")
    page.keyboard.press("Enter")
    wait_answered(tags)
    got = answers(store_path, tasks["tags"])
    assert got[item] == [("class", "bus", None), ("class", "bike", None)]
    assert [v for k, v in got.items() if k != item] == [[("none", None, None)]]

    # -- text: typing does not fire the widget's keys (s, u, 1-3 are letters here) --------------------
    item = on_screen(captions)
    captions.locator(".dlt-work-head").hover()
    box = captions.locator(".dlt-answer-text")
    expect(box).to_be_focused()
    page.keyboard.type("a bus, 3 cars; sunny", delay=40)
    page.keyboard.press("Enter")
    wait_answered(captions)
    assert answers(store_path, tasks["captions"]) == {item: [("text", None, "a bus, 3 cars; sunny")]}
    expect(captions.locator(".dlt-answer-text")).to_be_focused()       # the next item's box, ready

    # -- a box the store refuses (outside the image its metadata describes): shown on the card --------
    pic = Picture(refused)
    e = pic.screen(500, 100), pic.screen(700, 250)
    drag(page, *e, speed)
    page.keyboard.press("Enter")
    wait_answered(refused)
    expect(refused).to_have_attribute("data-item-id", str(N_ITEMS))          # back on screen, box and all
    expect(refused.locator(".dlt-refusal")).to_contain_text("the box reaches x = 500 outside the image (0 to 400")
    expect(refused.locator(".dlt-overlay")).to_have_attribute("data-shapes", "1")
    assert answers(store_path, tasks["refused"]) == {}
    drawn = box_of(pic, *e)
    pic = Picture(refused)
    grab, drop = pic.screen(600, 175), pic.screen(250, 175)
    drag(page, grab, drop, speed)                          # moved into the left half, and sent again
    page.keyboard.press("Enter")
    wait_answered(refused)
    expect(refused.locator(".dlt-refusal")).to_have_count(0)
    dx = pic.image(drop)[0] - pic.image(grab)[0]
    (kind, label, where), = answers(store_path, tasks["refused"])[N_ITEMS]
    assert near(where, (drawn[0] + dx, drawn[1], drawn[2] + dx, drawn[3])) and where[2] <= WIDTH // 2, where

    # -- the review draws both workers' shapes and the legend ------------------------------------------
    review.scroll_into_view_if_needed()
    expect(review.locator(".dlt-overlay")).to_have_attribute("data-natural", f"{WIDTH}x{HEIGHT}")
    drawn = int(review.locator(".dlt-overlay").get_attribute("data-shapes"))
    assert drawn >= 3, "ann's two boxes and bob's one (and the consensus once it is there)"
    expect(review.locator(".dlt-legend")).to_contain_text("ann: 2 shapes")
    expect(review.locator(".dlt-legend")).to_contain_text("bob: 1 shape")
    review.screenshot(path=artifacts / "review-boxes.png")
    assert page_errors == [], "no script error in the page (a failed drag handler says nothing on screen)"
