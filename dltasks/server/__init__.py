"""``dltasks serve``: a REST server (Clarifai-shaped ``/v2/tasks`` plus dltasks' own routes)
over one local store, for a team sharing datasets and tasks.

Needs the ``server`` extra (FastAPI, uvicorn, psycopg).  :func:`create_app` builds the
app; ``dltasks serve --store URL`` runs it; ``dltasks token create USER_ID`` makes tokens.
"""
from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(store: Any, **kwargs: Any) -> Any:
    """The FastAPI app serving ``store`` (see :func:`dltasks.server.app.create_app`)."""
    from dltasks.server.app import create_app as _create

    return _create(store, **kwargs)
