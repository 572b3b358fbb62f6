"""The operation table: each :class:`~dltasks.backends.base.Backend` operation's HTTP shape and permission.

One row per operation: the HTTP method and path (under ``/api/v1``), who may call it, the
response field that carries the result, and whether a failed call may be sent again.  The
arguments, their checks and bounds, and the result's type come from the operation's
signature in :class:`~dltasks.backends.base.Backend` (typed with :mod:`dltasks.domain.types`),
so nothing about an operation is written twice:

- :class:`dltasks.backends.http.HttpBackend` sends each call as its row says;
- the server (:mod:`dltasks.server.handlers`) generates one route per row over a SQL backend,
  checks the decoded arguments with the same rules and the caller with the row's permission;
- :class:`Checked` runs the same checks in front of any backend (the SDK uses it).

Examples
--------
>>> OPS["submit"].method, OPS["submit"].path, OPS["submit"].permission
('POST', '/tasks/{task_id}/submit', ActsAs(param='user_id', action='submit labels'))
>>> OPS["submit"].path_params, OPS["list_tasks"].retry, OPS["submit"].retry
(('task_id',), True, False)
"""
from __future__ import annotations

import functools
import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any, Callable, Union

import pandas as pd

from dltasks.backends.base import Backend
from dltasks.domain.types import check_args

__all__ = ["Op", "OPS", "Anyone", "AdminOnly", "ActsAs", "Viewer", "AuthorOf", "Permission", "Checked"]


@dataclass(frozen=True)
class Anyone:
    """Any valid token."""


@dataclass(frozen=True)
class AdminOnly:
    """An admin token."""


@dataclass(frozen=True)
class ActsAs:
    """A user token acts only as its own user: the ``param`` argument must be the token's user (admins: anyone)."""

    param: str
    action: str


@dataclass(frozen=True)
class Viewer:
    """Any token; a user token reads as itself (the ``viewer`` argument: workers see only their own votes)."""


@dataclass(frozen=True)
class AuthorOf:
    """A user token changes only annotations it wrote (admins: any)."""

    action: str


Permission = Union[Anyone, AdminOnly, ActsAs, Viewer, AuthorOf]

_SAFE_METHODS = ("GET", "PUT", "DELETE")


@dataclass(frozen=True)
class Op:
    """One operation's row: HTTP method, path under ``/api/v1``, permission, result field, retry.

    ``idempotent=None`` means "the method decides": GET, PUT and DELETE may be repeated; a
    POST only when it is a read (``idempotent=True``).  ``page_rows``: the operation reads a
    frame in pages (``offset``, ``limit``) of at most this many rows over HTTP.
    """

    name: str
    method: str
    path: str
    permission: Permission
    key: str
    tag: str
    idempotent: bool | None = None
    page_rows: int | None = None

    @property
    def function(self) -> Callable[..., Any]:
        """The operation's declaration in :class:`~dltasks.backends.base.Backend`."""
        return getattr(Backend, self.name)

    @property
    def retry(self) -> bool:
        """Whether a call that got no answer may be sent again (it changes nothing twice)."""
        return self.method in _SAFE_METHODS if self.idempotent is None else self.idempotent

    @property
    def path_params(self) -> tuple[str, ...]:
        """Arguments that travel in the path, in order."""
        return tuple(re.findall(r"{(\w+)}", self.path))

    @property
    def parameters(self) -> dict[str, inspect.Parameter]:
        """The operation's parameters (``self`` aside), by name, in order."""
        return _parameters(self.name)

    @property
    def hints(self) -> dict[str, Any]:
        """The type hint of each parameter, and of the result under ``'return'``."""
        return _hints(self.name)

    @property
    def summary(self) -> str:
        """The first line of the operation's docstring."""
        return (self.function.__doc__ or self.name).strip().splitlines()[0]


@functools.lru_cache(maxsize=None)
def _parameters(name: str) -> dict[str, inspect.Parameter]:
    params = inspect.signature(getattr(Backend, name)).parameters
    return {k: v for k, v in params.items() if k != "self"}


@functools.lru_cache(maxsize=None)
def _hints(name: str) -> dict[str, Any]:
    return typing.get_type_hints(getattr(Backend, name), include_extras=True)


_ANY, _ADMIN, _VIEWER = Anyone(), AdminOnly(), Viewer()


#: Rows per page of a frame read over HTTP (a page of items is also cut at PAGE_BYTES of metadata).
PAGE_ROWS = 200_000


def _ops(*rows: tuple[Any, ...]) -> dict[str, Op]:
    table = {}
    for row in rows:
        name, method, path, permission, key, tag, *rest = row
        idempotent = rest[0] if rest and isinstance(rest[0], bool) else None
        frame_pages = "offset" in _parameters(name) and _hints(name)["return"] is pd.DataFrame
        page_rows = PAGE_ROWS if frame_pages else None
        table[name] = Op(name, method, path, permission, key, tag, idempotent, page_rows)
    return table


#: Every operation, by name (the order of :class:`~dltasks.backends.base.Backend`).
OPS: dict[str, Op] = _ops(
    ("create_dataset", "POST", "/datasets", _ADMIN, "dataset", "datasets"),
    ("get_dataset", "GET", "/datasets/{dataset_id}", _ANY, "dataset", "datasets"),
    ("list_datasets", "GET", "/datasets", _ANY, "datasets", "datasets"),
    ("datasets_frame", "GET", "/datasets-frame", _ANY, "frame", "datasets"),
    ("delete_dataset", "DELETE", "/datasets/{dataset_id}", _ADMIN, "deleted", "datasets"),
    ("add_labels", "POST", "/datasets/{dataset_id}/labels", _ADMIN, "labels", "datasets"),
    ("create_user", "POST", "/users", _ADMIN, "user", "users"),
    ("ensure_users", "POST", "/users/ensure", _ADMIN, "ids", "users"),
    ("get_user", "GET", "/users/{user_id}", _ANY, "user", "users"),
    ("list_users", "GET", "/users", _ANY, "users", "users"),
    ("create_token", "POST", "/tokens", _ADMIN, "token", "users"),
    ("import_items", "POST", "/datasets/{dataset_id}/items/import", _ADMIN, "count", "items"),
    ("register_items", "POST", "/datasets/{dataset_id}/items/upload", _ADMIN, "items", "items"),
    ("update_items", "POST", "/datasets/{dataset_id}/items/update", _ADMIN, "count", "items"),
    ("update_item", "PUT", "/datasets/{dataset_id}/items/{item_id}", _ADMIN, "item", "items"),
    ("delete_item", "DELETE", "/datasets/{dataset_id}/items/{item_id}", _ADMIN, "count", "items"),
    ("delete_items", "POST", "/datasets/{dataset_id}/items/delete", _ADMIN, "count", "items"),
    ("get_item", "GET", "/datasets/{dataset_id}/items/{item_id}", _ANY, "item", "items"),
    ("get_item_by_path", "GET", "/datasets/{dataset_id}/items/by-path", _ANY, "item", "items"),
    ("count_items", "POST", "/datasets/{dataset_id}/items/count", _ANY, "count", "items", True),
    ("query_items", "POST", "/datasets/{dataset_id}/items/query", _ANY, "page", "items", True),
    ("items_frame", "POST", "/datasets/{dataset_id}/items/frame", _ANY, "frame", "items", True),
    ("metadata_keys", "GET", "/datasets/{dataset_id}/items/metadata-keys", _ANY, "keys", "items"),
    ("import_annotations", "POST", "/datasets/{dataset_id}/annotations/import", _ADMIN, "count", "annotations"),
    ("annotations_frame", "GET", "/datasets/{dataset_id}/annotations/frame", _VIEWER, "frame", "annotations"),
    ("create_annotation", "POST", "/datasets/{dataset_id}/items/{item_id}/annotations",
     ActsAs("author", "label items"), "annotation", "annotations"),
    ("get_annotation", "GET", "/datasets/{dataset_id}/annotations/{annotation_id}", _VIEWER, "annotation",
     "annotations"),
    ("item_annotations", "GET", "/datasets/{dataset_id}/items/{item_id}/annotations", _VIEWER, "annotations",
     "annotations"),
    ("update_annotation", "PATCH", "/datasets/{dataset_id}/annotations/{annotation_id}",
     AuthorOf("change annotations"), "annotation", "annotations"),
    ("delete_annotation", "DELETE", "/datasets/{dataset_id}/annotations/{annotation_id}",
     AuthorOf("delete annotations"), "deleted", "annotations"),
    ("create_task", "POST", "/datasets/{dataset_id}/tasks", _ADMIN, "task", "tasks"),
    ("create_qa_task", "POST", "/datasets/{dataset_id}/qa-tasks", _ADMIN, "task", "tasks"),
    ("get_task", "GET", "/tasks/{task_id}", _ANY, "task", "tasks"),
    ("find_task", "GET", "/datasets/{dataset_id}/tasks/by-name", _ANY, "task", "tasks"),
    ("list_tasks", "GET", "/tasks", _ANY, "page", "tasks"),
    ("update_task", "PUT", "/tasks/{task_id}", _ADMIN, "task", "tasks"),
    ("delete_tasks", "DELETE", "/tasks", _ADMIN, "count", "tasks"),
    ("submit", "POST", "/tasks/{task_id}/submit", ActsAs("user_id", "submit labels"), "item_status", "work"),
    ("set_status", "POST", "/tasks/{task_id}/status", ActsAs("user_id", "set item statuses"), "count", "work"),
    ("review", "POST", "/tasks/{task_id}/review", ActsAs("user_id", "review items"), "item_status", "work"),
    ("reopen", "POST", "/tasks/{task_id}/reopen", ActsAs("user_id", "reopen items"), "item_status", "work"),
    ("retract", "POST", "/tasks/{task_id}/retract", ActsAs("user_id", "retract labels"), "item_status", "work"),
    ("assignments_frame", "GET", "/tasks/{task_id}/assignments", _ANY, "frame", "work"),
    ("labels_frame", "GET", "/tasks/{task_id}/labels", _VIEWER, "frame", "work"),
    ("task_items_frame", "GET", "/tasks/{task_id}/items", _ANY, "frame", "work"),
    ("history_frame", "GET", "/tasks/{task_id}/history", _VIEWER, "frame", "work"),
    ("progress_frame", "GET", "/tasks/{task_id}/progress", _ANY, "frame", "work"),
    ("status_counts", "GET", "/tasks/{task_id}/status-counts", _ANY, "frame", "work"),
    ("queue", "GET", "/tasks/{task_id}/queue", ActsAs("user_id", "read work queues"), "ids", "quality"),
    ("gold_frame", "GET", "/tasks/{task_id}/gold", _ADMIN, "frame", "quality"),
    ("flagged_frame", "GET", "/tasks/{task_id}/flagged", _ANY, "frame", "quality"),
    ("qualification_frame", "GET", "/tasks/{task_id}/qualification", _ANY, "frame", "quality"),
    ("import_predictions", "POST", "/tasks/{task_id}/predictions", _ADMIN, "count", "quality"),
    ("predictions_frame", "GET", "/tasks/{task_id}/predictions", _ANY, "frame", "quality"),
)

class Checked:
    """A backend whose operations first check their arguments by their parameter types' rules.

    The SDK calls its backend through one (so bad input fails before any I/O, with the same
    ``ValidationError`` on every backend); the server applies the same checks to decoded
    requests.  Anything that is not an operation (``atomic``, ``close``, ``url``) passes through.

    >>> from dltasks.backends.sql import SqlBackend
    >>> Checked(SqlBackend("sqlite://")).create_dataset("", [])
    Traceback (most recent call last):
    dltasks.errors.ValidationError: name: must be a non-empty string (at most 255 characters) (got '')
    """

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.backend, name)
        op = OPS.get(name)
        if op is None:
            return target
        signature = inspect.Signature(list(op.parameters.values()))
        function = op.function

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            return target(**check_args(function, bound.arguments))

        call.__name__ = call.__qualname__ = name
        call.__doc__ = function.__doc__
        setattr(self, name, call)  # built once per operation
        return call

    def __repr__(self) -> str:
        return f"Checked({self.backend!r})"
