"""dltasks: local-first, Jupyter-native data-labelling tasks."""
from __future__ import annotations

from dltasks.errors import ConflictError, DltasksError, NotFoundError, ValidationError

__all__ = ["DltasksError", "ValidationError", "NotFoundError", "ConflictError"]
__version__ = "0.1.0"
