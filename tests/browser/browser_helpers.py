"""What the browser tests share: servers on free ports, and what they do in JupyterLab (open a
copy of a notebook, run it, read what it showed).

Import it from a module of this folder: ``from browser_helpers import open_notebook, run_all_cells``.
The fixtures (the JupyterLab server, the Chromium page) are in ``conftest.py``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

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
