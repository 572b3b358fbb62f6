"""What the browser tests share: servers on free ports, and what they do in JupyterLab (open a
copy of a notebook, run it, read what it showed).

Import it from a module of this folder: ``from browser_helpers import open_notebook, run_all_cells``.
The fixtures (the JupyterLab server, the Chromium page) are in ``conftest.py``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parents[2]
#: The status bar text of a connected, idle kernel ("Python 3 (ipykernel) | Idle").
KERNEL_IDLE = re.compile(r"^Python 3.*\| Idle$")
#: A stderr output that is a Python error (an error output is rendered as stderr too).
_ERROR_TEXT = re.compile(r"Traceback|^\s*[A-Za-z_][\w.]*(Error|Exception)\b", re.MULTILINE)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(probe: str, proc: subprocess.Popen[bytes], log: Path, what: str, timeout: float) -> None:
    """Wait until ``probe`` answers HTTP (any status: the server is listening and routing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(probe, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{what} did not answer in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve(cmd: list[str], probe: str, log: Path, env: dict[str, str], what: str,
          timeout: float = 120.0) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process (output to ``log``), wait until ``probe`` answers, stop it on exit."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    try:
        _wait_up(probe, proc, log, what, timeout)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclasses.dataclass(frozen=True)
class LabServer:
    """The test JupyterLab: its base URL (ending in ``/``) and its process."""

    url: str
    proc: subprocess.Popen[bytes]


def kernel_idle(page: Any) -> Any:
    """The status bar item that reads ``Python 3 … | Idle`` (visible only while the kernel is idle)."""
    return page.locator(".jp-StatusBar-TextItem", has_text=KERNEL_IDLE)


def open_notebook(page: Any, lab: str, notebook: Path, folder: Path) -> Path:
    """Open a copy of ``notebook`` in ``folder`` (inside the repository) and wait for its kernel.

    The copy keeps JupyterLab's autosave away from the committed notebook.  It is the only
    notebook open, so cell locators find its cells only.  Returns the copy.
    """
    from playwright.sync_api import expect

    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    # ?reset: a fresh workspace, so the notebooks earlier tests opened do not open again beside it
    page.goto(f"{lab}lab/tree/{copy.relative_to(REPO).as_posix()}?reset")
    page.locator(".jp-Notebook").wait_for(timeout=120_000)
    expect(kernel_idle(page)).to_be_visible(timeout=120_000)     # connected, not just "no kernel"
    return copy


def run_all_cells(page: Any) -> None:
    """Run > Run All Cells, through the menu as a person would."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def open_and_run(page: Any, lab: str, notebook: Path, folder: Path) -> Any:
    """Open a copy of ``notebook``, run all its cells; return the kernel-idle status locator."""
    open_notebook(page, lab, notebook, folder)
    kernel = kernel_idle(page)
    run_all_cells(page)
    return kernel


def prompts(page: Any) -> list[str]:
    """The input prompt of every code cell: ``[3]:`` ran, ``[*]:`` running or queued, ``[ ]:`` not run."""
    return [str(t).strip() for t in page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()]


def wait_for_run(page: Any, timeout_ms: float = 300_000) -> list[str]:
    """Wait until no cell is running or queued and the kernel is idle; return the prompts.

    A run that stops at an error leaves the cells after it without an execution count.
    """
    from playwright.sync_api import expect

    page.wait_for_function(
        """() => {
            const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);
            return ps.length > 0 && /\\d/.test(ps[0]) && !ps.some(p => p.includes('*'));
        }""", timeout=timeout_ms)
    expect(kernel_idle(page)).to_be_visible(timeout=timeout_ms)
    return prompts(page)


def error_outputs(page: Any) -> list[str]:
    """The text of every output that shows a Python error, or a widget that failed to display."""
    stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    errors = [t for t in stderr.all_inner_texts() if _ERROR_TEXT.search(t)]
    broken = page.locator(".jp-OutputArea-output", has_text="Error displaying widget")
    return errors + broken.all_inner_texts()


def option_index(select: Any, prefix: str) -> int:
    """Index of the first ``<option>`` of ``select`` whose text starts with ``prefix``.

    ipywidgets writes option labels with non-breaking spaces, so ``select_option(label=…)``
    with ordinary spaces finds nothing.
    """
    texts = [t.replace("\xa0", " ") for t in select.locator("option").all_inner_texts()]
    for i, text in enumerate(texts):
        if text.startswith(prefix):
            return i
    raise AssertionError(f"no option starting with {prefix!r} in {texts}")


def shut_down_kernel(lab: str, lab_pid: int, notebook: Path) -> list[int]:
    """Shut down the kernel of ``notebook`` (a path under the repository) through the server's API,
    then end whatever that kernel started and left running (a server the notebook started, say).

    Only processes descended from the kernel are ended, one by one, by their process id.
    Returns the ids of the processes that had to be ended.
    """
    import psutil

    path = notebook.relative_to(REPO).as_posix()
    sessions = [s for s in _api(lab, "GET", "api/sessions") if s.get("path") == path]
    leftovers: list[int] = []
    for session in sessions:
        kernel_id = session["kernel"]["id"]
        kernels = [p for p in psutil.Process(lab_pid).children() if _has_arg(p, kernel_id)]
        started = [c for k in kernels for c in k.children(recursive=True)]
        _api(lab, "DELETE", f"api/sessions/{session['id']}")
        psutil.wait_procs(kernels, timeout=30)
        for proc in kernels + started:
            if proc.is_running():                      # same pid *and* start time as before
                leftovers.append(proc.pid)
                proc.terminate()
        psutil.wait_procs([p for p in kernels + started if p.is_running()], timeout=10)
    return leftovers


def _has_arg(proc: Any, text: str) -> bool:
    try:
        return any(text in arg for arg in proc.cmdline())
    except Exception:                                  # gone, or not ours to read
        return False


def _api(lab: str, method: str, route: str) -> Any:
    """Call the test server's REST API (no token; the XSRF cookie and header simply match)."""
    request = urllib.request.Request(lab + route, method=method,
                                     headers={"Cookie": "_xsrf=dltasks", "X-XSRFToken": "dltasks"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


# -- generated notebooks and the keyboard work widgets (LabelingWidget, ReviewWidget) ----------
def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells (no outputs) to ``path``; return it (for :func:`open_notebook`)."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def cell_kinds(page: Any) -> list[str]:
    """The kind of every cell of the open notebook, in order: ``code``, ``markdown`` or ``raw``."""
    return list(page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map(c =>
               c.classList.contains('jp-CodeCell') ? 'code' :
               c.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw')"""))


def distinct_pngs(folder: Path, n: int, size: int = 200) -> list[Path]:
    """``n`` small PNG files, each different: a circle, square or triangle (in turn), its own
    colour, its number in the corner (``img-000.png``…)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        image = Image.new("RGB", (size, size), (246, 247, 250))
        draw = ImageDraw.Draw(image)
        colour = ((37 * i + 40) % 200, (91 * i + 60) % 200, (53 * i + 120) % 200)
        box = (size // 5, size // 5, size * 4 // 5, size * 4 // 5)
        if i % 3 == 0:
            draw.ellipse(box, fill=colour)
        elif i % 3 == 1:
            draw.rectangle(box, fill=colour)
        else:
            draw.polygon([(size // 2, size // 5), (size // 5, size * 4 // 5), (size * 4 // 5, size * 4 // 5)],
                         fill=colour)
        draw.text((6, 6), str(i), fill=(40, 40, 40))
        out.append(folder / f"img-{i:03d}.png")
        image.save(out[-1])
    return out


#: In-page: log every keydown that reaches a work widget, with the item the widget showed then.
#: Installed on ``window`` in the capture phase, so it runs before the widget's own listener.
_KEY_LOG_JS = """() => {
    if (window.__dltKeys) return;
    window.__dltKeys = [];
    window.addEventListener('keydown', (e) => {
        const root = e.target && e.target.closest ? e.target.closest('.dlt-work') : null;
        const title = root ? root.querySelector('.dlt-card-title') : null;
        window.__dltKeys.push({key: e.key, t: performance.now(), in_widget: !!root,
                               item_id: root ? root.getAttribute('data-item-id') : null,
                               title: title ? title.textContent : ''});
    }, true);
}"""


def start_key_log(page: Any) -> None:
    """Start logging the keys that reach a work widget (see :func:`key_log`)."""
    page.evaluate(_KEY_LOG_JS)


def key_log(page: Any) -> list[dict[str, Any]]:
    """The keys logged since :func:`start_key_log` (and empty the log): ``key``, ``t`` (ms),
    ``in_widget``, ``item_id`` (the widget's ``data-item-id`` at keydown) and the card ``title``."""
    return list(page.evaluate("() => window.__dltKeys.splice(0)"))


def press_keys(page: Any, keys: str, interval_ms: float) -> None:
    """Press each key of ``keys`` (real key events), one every ``interval_ms`` (a fixed schedule)."""
    start = time.perf_counter()
    for i, key in enumerate(keys):
        delay = start + i * interval_ms / 1000 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        page.keyboard.press(key)


def wait_answered(widget: Any, timeout_ms: float = 30_000) -> None:
    """Wait until the work widget ``widget`` (a locator of its ``.dlt-work`` root) has every action
    it sent answered by the kernel."""
    from playwright.sync_api import expect

    expect(widget).to_have_attribute("data-unanswered", "0", timeout=timeout_ms)


def widget_notebook(folder: Path, store_path: Path, task_ids: list[str], widget: str = "LabelingWidget",
                    user: str = "ann", more: tuple[str, ...] = ()) -> Path:
    """A notebook: open the store, then one cell per task showing ``widget(task, user)`` (as
    ``task`` and ``w``), then the cells ``more``."""
    cells = [f"import dltasks as dl\nstore = dl.connect({str(store_path)!r})"]
    cells += [f"task = store.tasks.get({tid!r})\nw = dl.widgets.{widget}(task, {user!r})\nw" for tid in task_ids]
    return write_notebook(folder / "work.ipynb", cells + list(more))


def open_widgets(page: Any, lab: str, notebook: Path, folder: Path, css: str, n: int) -> Any:
    """Open and run ``notebook``; wait for its ``n`` widgets (``css``) to show an item; return them."""
    from playwright.sync_api import expect

    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(str(e)))
    open_notebook(page, lab, notebook, folder)
    run_all_cells(page)
    wait_for_run(page, 180_000)
    assert error_outputs(page) == []
    broken = page.locator(".jp-OutputArea-output", has_text="Click to show javascript error")
    if broken.count():
        raise AssertionError(f"a widget failed in the browser: {console}")
    widgets = page.locator(css)
    expect(widgets).to_have_count(n, timeout=60_000)
    for i in range(n):
        expect(widgets.nth(i)).not_to_have_attribute("data-item-id", "", timeout=30_000)
    start_key_log(page)
    return widgets


def type_round(page: Any, widget: Any, keys: str, pace_ms: float) -> list[dict[str, Any]]:
    """Hover ``widget``, press ``keys`` ``pace_ms`` apart, wait for every answer; return the key log."""
    from playwright.sync_api import expect

    widget.locator(".dlt-work-head").hover()
    expect(widget).to_be_focused()
    key_log(page)
    press_keys(page, keys, pace_ms)
    wait_answered(widget)
    log = key_log(page)
    assert [e["key"] for e in log] == list(keys), "every key reached the widget, once"
    for e in log:
        assert e["in_widget"] and e["item_id"], f"key {e['key']!r} pressed with no item on screen: {log}"
        assert e["title"].endswith(f"#{e['item_id']}"), f"data-item-id is not the card drawn: {e}"
    return log


# -- the same widgets in Jupyter Notebook 7 and in Voilà ------------------------------------------
def watch_console(page: Any) -> list[str]:
    """Collect the page's console errors and uncaught exceptions from now on (the list fills as
    they come): what to read when a widget does not show."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def wait_kernel_idle(server: str, notebook: Path, timeout: float = 120.0) -> None:
    """Wait until the server has a session for ``notebook`` (a path under the repository) whose
    kernel is idle (asked of the server's REST API: Notebook 7 has no status bar)."""
    path = notebook.relative_to(REPO).as_posix()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = [s["kernel"].get("execution_state") for s in _api(server, "GET", "api/sessions")
                  if s.get("path") == path and s.get("kernel")]
        if "idle" in states:
            return
        time.sleep(0.5)
    raise AssertionError(f"no idle kernel for {path} in {timeout:.0f} s")


def wait_cells_ran(page: Any, timeout_ms: float = 180_000) -> list[str]:
    """Wait until every code cell has an execution count (none running or queued); return the
    prompts.  For Notebook 7, where :func:`wait_for_run`'s status bar is missing."""
    page.wait_for_function(
        """() => {
            const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent);
            return ps.length > 0 && ps.every(p => /\\d/.test(p));
        }""", timeout=timeout_ms)
    return prompts(page)


def widgets_shown(page: Any, css: str, n: int, console: list[str], timeout_ms: float = 120_000) -> Any:
    """Wait for ``n`` work widgets (``css``) each showing an item; start the key log; return them.

    A widget that failed to render raises with the page's ``console`` errors."""
    from playwright.sync_api import expect

    widgets = page.locator(css)
    try:
        expect(widgets).to_have_count(n, timeout=timeout_ms)
        for i in range(n):
            expect(widgets.nth(i)).not_to_have_attribute("data-item-id", "", timeout=30_000)
    except AssertionError as e:
        raise AssertionError(f"{e}\nconsole errors: {console}") from None
    start_key_log(page)
    return widgets


def open_widgets_notebook7(page: Any, server: str, notebook: Path, folder: Path, css: str, n: int) -> Any:
    """Open a copy of ``notebook`` in Notebook 7 (``server``), run all its cells through the menu,
    wait for its ``n`` widgets (``css``) to show an item; return them."""
    console = watch_console(page)
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    page.goto(f"{server}notebooks/{copy.relative_to(REPO).as_posix()}")
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=120_000)
    wait_kernel_idle(server, copy)
    run_all_cells(page)
    ran = wait_cells_ran(page)
    assert error_outputs(page) == [], f"prompts {ran}"
    return widgets_shown(page, css, n, console)


@contextlib.contextmanager
def lab_folder(name: str) -> Iterator[Path]:
    """A fresh folder for notebook copies, inside the repository (JupyterLab's root) but outside
    ``test-artifacts/browser/``, which another test session empties when it starts; removed on exit."""
    folder = REPO / "test-artifacts" / f"{name}-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def work() -> Iterator[Path]:
    """A test's folder for its notebook (:func:`lab_folder`), removed after; import it into a test module."""
    with lab_folder("keys-work") as folder:
        yield folder
