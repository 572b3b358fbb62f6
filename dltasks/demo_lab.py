"""``dltasks demo --lab``: JupyterLab on working copies of the tutorials, one clean link printed.

``make demo`` runs this.  It keeps the repository clean and the terminal quiet:

* **working copies** -- the tutorials (``notebooks/*.ipynb``) are copied to ``demo/notebooks/``
  (``demo/`` is git-ignored) and JupyterLab is rooted there, so running and saving them never
  touches the committed notebooks.  A copy you have edited is kept on the next start; an
  unedited copy follows the repository's notebook when that changes (:func:`working_copies`).
  Copies were chosen over stripping outputs on save: a strip-on-save hook would throw away the
  outputs you see when you reopen a tutorial, and any edit to a cell would still change a
  tracked file.
* **one link** -- JupyterLab's own output goes to ``demo/jupyterlab.log``; the token is chosen
  here (passed in ``JUPYTER_TOKEN``, not on the command line) and the link is printed once,
  when ``/api/status`` answers.
* **no news pop-up** -- an ``overrides.json`` in a settings directory of the demo's own
  (``demo/lab-settings``) sets the notification plugin's ``fetchNews`` to ``"false"`` and
  ``checkForUpdates`` to false (:data:`LAB_OVERRIDES`); the demo's workspaces live in
  ``demo/lab-workspaces``, apart from your own.

Examples
--------
>>> import pathlib, tempfile
>>> src, dest = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp()) / "nb"
>>> _ = (src / "a.ipynb").write_text('{"cells": []}')
>>> working_copies(src, dest)
{'a.ipynb': 'copied'}
>>> working_copies(src, dest)
{'a.ipynb': 'kept'}
>>> lab_command(8890, "/d/notebooks", "/d/lab-settings", "/d/lab-workspaces", "01_quickstart.ipynb")[3:6]
['--no-browser', '--ServerApp.ip=127.0.0.1', '--ServerApp.port=8890']
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, Callable, Mapping, Sequence

from dltasks.errors import DltasksError, ValidationError

__all__ = ["LAB_OVERRIDES", "FIRST_NOTEBOOK", "working_copies", "write_lab_settings", "lab_command",
           "lab_url", "port_is_free", "check_port", "run_lab"]

#: JupyterLab settings the demo imposes: no "official Jupyter news?" toast, no update check.
LAB_OVERRIDES: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
#: The notebook the demo opens.
FIRST_NOTEBOOK = "01_quickstart.ipynb"
_MANIFEST = ".copied-from.json"  # the hash of each copy when it was made: tells edited copies apart
_STARTUP_TIMEOUT = 120.0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def working_copies(source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> dict[str, str]:
    """Copy the notebooks of ``source`` into ``dest``; return ``{name: what happened}``.

    A notebook missing from ``dest`` is ``'copied'``.  A copy nobody changed since it was
    made is ``'updated'`` when the source changed, else ``'kept'``; a copy that was edited
    (or run and saved) is always ``'kept'``, so your work survives a restart.

    >>> import pathlib, tempfile
    >>> src, dest = pathlib.Path(tempfile.mkdtemp()), pathlib.Path(tempfile.mkdtemp())
    >>> _ = (src / "a.ipynb").write_text("v1")
    >>> working_copies(src, dest), (dest / "a.ipynb").read_text()
    ({'a.ipynb': 'copied'}, 'v1')
    >>> _ = (src / "a.ipynb").write_text("v2")
    >>> working_copies(src, dest), (dest / "a.ipynb").read_text()
    ({'a.ipynb': 'updated'}, 'v2')
    >>> _ = (dest / "a.ipynb").write_text("my edits"); _ = (src / "a.ipynb").write_text("v3")
    >>> working_copies(src, dest), (dest / "a.ipynb").read_text()
    ({'a.ipynb': 'kept'}, 'my edits')
    """
    src, out = Path(source), Path(dest)
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise ValidationError("has no notebooks (*.ipynb) to copy", "source", os.fspath(src))
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / _MANIFEST
    manifest: dict[str, str] = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    outcome: dict[str, str] = {}
    for notebook in notebooks:
        copy = out / notebook.name
        if not copy.exists():
            outcome[notebook.name] = "copied"
        elif _digest(copy) == manifest.get(notebook.name) and _digest(notebook) != manifest[notebook.name]:
            outcome[notebook.name] = "updated"
        else:
            outcome[notebook.name] = "kept"
            continue
        shutil.copyfile(notebook, copy)
        manifest[notebook.name] = _digest(copy)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return outcome


def write_lab_settings(folder: str | os.PathLike[str], overrides: Mapping[str, Any] = LAB_OVERRIDES) -> Path:
    """Write ``overrides.json`` (JupyterLab's settings overrides) into ``folder``; return its path.

    >>> import json, tempfile
    >>> path = write_lab_settings(tempfile.mkdtemp())
    >>> json.loads(path.read_text())["@jupyterlab/apputils-extension:notification"]["fetchNews"]
    'false'
    """
    path = Path(folder) / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(overrides), indent=2) + "\n")
    return path


def lab_command(port: int, root_dir: str, settings_dir: str, workspaces_dir: str, first: str) -> list[str]:
    """The ``jupyter lab`` command line of the demo (run with this Python).

    >>> cmd = lab_command(8888, "/d/nb", "/d/s", "/d/w", "01_quickstart.ipynb")
    >>> cmd[:3] == [sys.executable, "-m", "jupyterlab"], "--LabApp.news_url=None" in cmd
    (True, True)
    """
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root_dir}",
           f"--LabApp.default_url=/lab/tree/{first}", "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.app_settings_dir={settings_dir}", f"--LabApp.workspaces_dir={workspaces_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


def lab_url(port: int, token: str, first: str = FIRST_NOTEBOOK) -> str:
    """The link to open.

    >>> lab_url(8888, "abc")
    'http://127.0.0.1:8888/lab/tree/01_quickstart.ipynb?token=abc'
    """
    return f"http://127.0.0.1:{port}/lab/tree/{first}?token={token}"


def port_is_free(port: int) -> bool:
    """True if nothing listens on ``127.0.0.1:port``.

    >>> s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); busy = s.getsockname()[1]
    >>> port_is_free(busy)
    False
    >>> s.close()
    """
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is free
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_port(port: Any) -> int:
    """``port`` if it is a port number nothing listens on at 127.0.0.1, else ValidationError.

    >>> check_port(0)
    Traceback (most recent call last):
    ...
    dltasks.errors.ValidationError: port: must be a port number from 1 to 65535 (got 0)
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValidationError("must be a port number from 1 to 65535", "port", port)
    if not port_is_free(port):
        raise ValidationError("is in use on 127.0.0.1 (another JupyterLab?); pick another, "
                              f"e.g. make demo PORT={port + 1}", "port", port)
    return port


def _answers(port: int, token: str) -> bool:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/status",
                                     headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace").splitlines() if path.exists() else []
    return "\n".join(text[-lines:])


def run_lab(demo_dir: str | os.PathLike[str], notebooks: str | os.PathLike[str], store: str, port: int = 8888,
            out: IO[str] | None = None, timeout: float = _STARTUP_TIMEOUT,
            while_starting: Callable[[], Any] | None = None) -> int:
    """Start JupyterLab on working copies of ``notebooks`` in ``demo_dir/notebooks``; print one link.

    Blocks until JupyterLab stops (Ctrl-C stops it) and returns its exit code (0 after Ctrl-C).
    The store path is given to the notebooks in ``DLTASKS_STORE``.  ``while_starting`` (building
    the demo store, say) runs while JupyterLab starts, and the link is printed once both are done;
    if it raises, JupyterLab is stopped.  Raises a DltasksError if the port is taken or
    JupyterLab is not installed; if JupyterLab stops before it answers, prints the end of its
    log and returns 1.
    """
    stream = out if out is not None else sys.stdout
    port = check_port(port)
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        raise DltasksError("JupyterLab is not installed here: pip install 'dltasks[jupyter]' "
                           "(make demo does this)") from None
    root = Path(demo_dir).resolve()
    work = root / "notebooks"
    working_copies(notebooks, work)
    settings = write_lab_settings(root / "lab-settings").parent
    log_path = root / "jupyterlab.log"
    token = secrets.token_hex(24)
    env = dict(os.environ, DLTASKS_STORE=os.path.abspath(store), JUPYTER_TOKEN=token)
    cmd = lab_command(port, str(work), str(settings), str(root / "lab-workspaces"), FIRST_NOTEBOOK)
    with open(log_path, "w") as log:
        process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   env=env, cwd=work)
    try:
        if while_starting is not None:
            try:
                while_starting()
            except BaseException:
                _stop(process, stream, quiet=True)
                raise
        return _serve(process, port, token, log_path, stream, timeout)
    except KeyboardInterrupt:
        return _stop(process, stream)


def _serve(process: subprocess.Popen[bytes], port: int, token: str, log_path: Path, stream: IO[str],
           timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while not _answers(port, token):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process, stream, quiet=True)
            print(f"JupyterLab did not start; the end of {log_path}:\n{_log_tail(log_path)}", file=stream)
            return 1
        time.sleep(0.2)
    print(f"\n    {lab_url(port, token)}\n", file=stream)
    print(f"The tutorials open as working copies in {log_path.parent / 'notebooks'} (the repository's "
          f"notebooks/ stay untouched). Ctrl-C stops JupyterLab; its log is {log_path}.", file=stream, flush=True)
    return process.wait()


def _stop(process: subprocess.Popen[bytes], stream: IO[str], quiet: bool = False) -> int:
    """Stop JupyterLab (it shuts its kernels down); return 0."""
    for signal_it, grace in ((process.terminate, 20.0), (process.kill, 5.0)):
        if process.poll() is not None:
            break
        signal_it()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: stop at once
            process.kill()
            process.wait()
    if not quiet:
        print("JupyterLab stopped.", file=stream)
    return 0
