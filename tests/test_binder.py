"""What Binder opens: the notebooks its links name exist and are committed clean.

Binder serves the repository as committed, so a notebook saved with outputs or widget state
would open showing stale results (or "Error displaying widget" for state without a kernel).
The install side (requirements, postBuild, start) is checked in ``test_demo.py``.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: The ``urlpath`` of the README's Binder links: JupyterLab on the quickstart, Voila on the dashboard.
BINDER_URLPATHS = ["lab/tree/notebooks/01_quickstart.ipynb", "voila/render/notebooks/dashboard.ipynb"]


@pytest.mark.parametrize("urlpath", BINDER_URLPATHS)
def test_binder_links_name_notebooks_that_exist(urlpath: str) -> None:
    path = ROOT / urlpath.split("/", 2)[2]
    assert path in NOTEBOOKS, f"{urlpath} names {path.relative_to(ROOT)}, which is not in notebooks/"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_notebook_is_committed_clean(notebook: Path) -> None:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook with no code cell"
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"cells {dirty} keep outputs or execution counts: clear them before committing"
    assert "widgets" not in nb.get("metadata", {}), "widget state is saved in the notebook: strip it"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
