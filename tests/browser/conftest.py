"""A real JupyterLab (127.0.0.1, free port, no token) and a headless Debian Chromium driven by Playwright.

The tests here skip, saying why, when ``/usr/bin/chromium``, Playwright or JupyterLab is missing;
``.ci/setup-browser.sh`` installs Chromium so that CI runs them.  Screenshots go to
``test-artifacts/browser/``.

The README's screenshots (``docs/img/``) are some of those: a run with
``DLTASKS_UPDATE_DOCS_IMG=1`` in which every test passed copies them there (:data:`DOCS_IMAGES`)::

    DLTASKS_UPDATE_DOCS_IMG=1 .venv/bin/python -m pytest tests/browser/test_quickstart_browser.py \
        tests/browser/test_dashboard_browser.py tests/browser/test_labeling_keys_browser.py \
        tests/browser/test_review_keys_browser.py tests/browser/test_boxes_browser.py
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from browser_helpers import LabServer, free_port, serve

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: README screenshot in docs/img/ -> the screenshot of test-artifacts/browser/ it is copied from.
DOCS_IMAGES = {"taskform.png": "02-form-filled-with-preview.png",     # test_quickstart_browser
               "consensus.png": "dashboard-consensus.png",            # test_dashboard_browser
               "labeling.png": "labeling-keys.png",                   # test_labeling_keys_browser
               "review.png": "review-keys.png",                       # test_review_keys_browser
               "board.png": "dashboard-board.png",                    # test_dashboard_browser
               "boxes.png": "boxes-tool.png"}                         # test_boxes_browser
DOCS_IMAGE_MAX_BYTES = 300_000
#: JupyterLab settings for the test server: render every cell (no windowing), no news pop-ups.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/setup-browser.sh does it)"
    for module, what in (("playwright.sync_api", "Playwright (the test extra)"),
                         ("jupyterlab", "JupyterLab (the jupyter extra)")):
        try:
            __import__(module)
        except ImportError:
            return f"{what} is not installed"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _missing()
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


_FAILED = pytest.StashKey[bool]()
_FRESH = {"artifacts": False}       # True once this session has emptied test-artifacts/browser/


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/browser/, emptied at the start of the session."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    _FRESH["artifacts"] = True
    return ARTIFACTS


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With DLTASKS_UPDATE_DOCS_IMG=1 and every test passed, copy this run's shots to docs/img/."""
    if os.environ.get("DLTASKS_UPDATE_DOCS_IMG") != "1" or exitstatus != 0 or not _FRESH["artifacts"]:
        return
    for name, shot in DOCS_IMAGES.items():
        if (ARTIFACTS / shot).exists():
            save_docs_image(ARTIFACTS / shot, REPO / "docs" / "img" / name)


def save_docs_image(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target``, in 256 colours if it is over :data:`DOCS_IMAGE_MAX_BYTES`."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if target.stat().st_size > DOCS_IMAGE_MAX_BYTES:
        with Image.open(source) as image:
            image.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(target, optimize=True)


def lab_command(home: Path) -> tuple[list[str], dict[str, str], str]:
    """The command, environment and URL of the test JupyterLab (settings and state under ``home``;
    no token, no DLTASKS_STORE, a free port).  ``bench/bench_keys_browser.py`` starts the same one."""
    settings = home / "settings"
    for name, values in LAB_SETTINGS.items():
        plugin, file = name.rsplit("/", 1)
        (settings / plugin).mkdir(parents=True, exist_ok=True)
        (settings / plugin / file).write_text(json.dumps(values))
    env = {k: v for k, v in os.environ.items() if k != "DLTASKS_STORE"}
    env.update(JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), DLTASKS_QUICKSTART_AUTOFILL="0", MPLBACKEND="agg")
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={REPO}",
           "--ServerApp.port_retries=0", "--LabApp.news_url=None"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd, env, f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def lab_server(artifacts: Path) -> Iterator[LabServer]:
    """A JupyterLab server rooted at the repository (no token, no DLTASKS_STORE)."""
    home = Path(tempfile.mkdtemp(prefix="dltasks-lab-"))
    cmd, env, url = lab_command(home)
    try:
        with serve(cmd, url + "api/status", artifacts / "jupyterlab.log", env, "JupyterLab") as proc:
            yield LabServer(url, proc)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def lab(lab_server: LabServer) -> str:
    """The test JupyterLab's base URL (``http://127.0.0.1:PORT/``)."""
    return lab_server.url


@pytest.fixture
def page(artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh headless Chromium profile (Debian's chromium, through Playwright).

    When the test fails, the page as it was is saved as ``<test name>-failed.png``.
    """
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="dltasks-chromium-")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1440, "height": 1400})
        context.set_default_timeout(60_000)
        pg = context.pages[0] if context.pages else context.new_page()
        try:
            yield pg
            if request.node.stash.get(_FAILED, False):
                pg.screenshot(path=artifacts / f"{request.node.name}-failed.png")
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def _server_env(home: Path) -> dict[str, str]:
    """The environment of a test Jupyter server: its own runtime and workspace folders under
    ``home``, no DLTASKS_STORE, no quickstart autofill, matplotlib without a display."""
    env = {k: v for k, v in os.environ.items() if k != "DLTASKS_STORE"}
    env.update(JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               DLTASKS_QUICKSTART_AUTOFILL="0", MPLBACKEND="agg")
    return env


@pytest.fixture(scope="module")
def notebook7(artifacts: Path) -> Iterator[LabServer]:
    """A Jupyter Notebook 7 server rooted at the repository (127.0.0.1, free port, no token).

    Open a notebook at ``{url}notebooks/<path under the repository>``.
    """
    pytest.importorskip("notebook", minversion="7", reason="Notebook 7 (the test extra) is not installed")
    home = Path(tempfile.mkdtemp(prefix="dltasks-nb7-"))
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           "--ServerApp.token=", "--ServerApp.password=", f"--ServerApp.root_dir={REPO}",
           "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    url = f"http://127.0.0.1:{port}/"
    try:
        with serve(cmd, url + "api/status", artifacts / "notebook7.log", _server_env(home), "Notebook 7") as proc:
            yield LabServer(url, proc)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def voila_app(artifacts: Path) -> Iterator[Callable[[Path], str]]:
    """Start Voilà on a notebook: ``voila_app(path)`` returns the app's URL (127.0.0.1, a free port).

    Every Voilà started is stopped at the end of the module.  The app runs the notebook on every
    visit of its URL, with the notebook's folder as the kernel's working directory.
    """
    pytest.importorskip("voila", reason="Voilà (the jupyter extra) is not installed")
    home = Path(tempfile.mkdtemp(prefix="dltasks-voila-"))
    with contextlib.ExitStack() as running:
        running.callback(shutil.rmtree, home, ignore_errors=True)

        def start(notebook: Path) -> str:
            port = free_port()
            cmd = [sys.executable, "-m", "voila", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
                   "--Voila.port_retries=0", "--show_tracebacks=True", str(notebook)]
            url = f"http://127.0.0.1:{port}/"
            log = artifacts / f"voila-{notebook.stem}.log"
            # the app runs the notebook on every visit: probe a static file instead
            running.enter_context(serve(cmd, url + "voila/static/extension.js", log, _server_env(home), "Voilà"))
            return url

        yield start
