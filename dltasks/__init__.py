"""dltasks: local-first, Jupyter-native data-labelling tasks.

>>> import dltasks as dl
>>> store = dl.connect("sqlite://")
>>> dataset = store.datasets.create("faces", labels=["Adult", "Child"])
>>> dataset.labels
['Adult', 'Child']
"""
from __future__ import annotations

from dltasks.client import Store, connect
from dltasks.domain.filters import Filters, FiltersMethod, FiltersOperations, FiltersOrderByDirection, FiltersResource
from dltasks.domain.records import Annotation, Item, User
from dltasks.domain.shapes import Box, Classification, FreeText, Polygon
from dltasks.errors import ConflictError, DltasksError, NotFoundError, PermissionDeniedError, ValidationError
from dltasks.tasks import Task
from dltasks.version import __version__
from dltasks.workload import Workload, WorkloadUnit

__all__ = [
    "connect",
    "Store",
    "Filters",
    "FiltersOperations",
    "FiltersMethod",
    "FiltersResource",
    "FiltersOrderByDirection",
    "Workload",
    "WorkloadUnit",
    "Item",
    "Annotation",
    "Classification",
    "Box",
    "Polygon",
    "FreeText",
    "User",
    "Task",
    "DltasksError",
    "ValidationError",
    "NotFoundError",
    "ConflictError",
    "PermissionDeniedError",
    "__version__",
]


def __getattr__(name: str) -> object:
    """``dl.widgets`` is imported on first use, so ``import dltasks`` does not load ipywidgets."""
    if name == "widgets":
        import importlib

        return importlib.import_module("dltasks.widgets")
    raise AttributeError(f"module 'dltasks' has no attribute {name!r}")
