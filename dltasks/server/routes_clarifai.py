"""Clarifai's task API: ``/v2/tasks`` and ``/v2/users/{user_id}/apps/{app_id}/tasks``.

A Clarifai *app* is a dataset when ``app_id`` names one (by id or name): the long route then
lists that dataset's tasks and ``ALL_INPUTS`` means its items.  Otherwise (and on
``/v2/tasks``) the app is the whole store: ``ALL_INPUTS`` needs the store to hold exactly one
dataset, and ``input_source`` ``{"type": "DATASET", "id": …}`` names one (by id or name).
"""
from __future__ import annotations

from typing import Annotated, Any, Callable, Optional

from fastapi import APIRouter, Depends, Query, Request, Response

from dltasks.errors import NotFoundError, ValidationError
from dltasks.server import models as M
from dltasks.server.clarifai import ClarifaiTask, parse_task, rename_field, task_to_clarifai
from dltasks.server.deps import admin, principal, store_of
from dltasks.server.answer_cache import AnswerCache
from dltasks.server.errors import encoded, ok, ok_response
from dltasks.server.threads import run_store_call
from dltasks.server.tokens import Principal

__all__ = ["add_clarifai_routes"]

#: The routes' tag in the API docs.
TAGS = ["Clarifai tasks"]

_IDS_HELP = "Repeat the parameter or separate ids with commas."
#: The page size of a task list when none is given (Clarifai's default); a page up to this size may be
#: answered on the event loop (``threads.run_store_call``).
DEFAULT_PER_PAGE = 128


def _app_id(request: Request) -> str | None:
    return request.path_params.get("app_id")


def _out(request: Request, task: Any) -> dict[str, Any]:
    return task_to_clarifai(task, app_id=_app_id(request), user_id=request.path_params.get("user_id"))


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [v.strip() for value in values for v in value.split(",") if v.strip()]
    return out or None


def _dataset(store: Any, parsed: ClarifaiTask, app_id: str | None, where: str) -> Any:
    kind, ref = parsed.source
    if kind == "DATASET":
        for key in ("dataset_id", "name"):
            try:
                return store.datasets.get(**{key: ref})
            except NotFoundError:
                continue
        raise NotFoundError(f"{where}.input_source.id: no dataset with id or name {ref!r}")
    app = _app_dataset(store, app_id)
    if app is not None:
        return app
    datasets = store.datasets.list()
    if len(datasets) == 1:
        return datasets[0]
    raise ValidationError(f"ALL_INPUTS is ambiguous: the store has {len(datasets)} datasets; use "
                          "{\"type\": \"DATASET\", \"id\": …} or the route /v2/users/{user_id}/apps/{dataset}/tasks",
                          f"{where}.input_source.type", "ALL_INPUTS")


def _app_dataset(store: Any, app_id: str | None) -> Any:
    """The dataset an ``app_id`` names (by id or name), or ``None``: the app is the whole store."""
    if app_id is None:
        return None
    for key in ("dataset_id", "name"):
        try:
            return store.datasets.get(**{key: app_id})
        except NotFoundError:
            continue
    return None


def _parse(task: M.TaskIn, i: int) -> ClarifaiTask:
    return parse_task(task.model_dump(exclude_none=True), where=f"tasks[{i}]")


def _create(store: Any, body: M.PostTasksRequest, app_id: str | None) -> list[Any]:
    parsed = [_parse(t, i) for i, t in enumerate(body.tasks)]
    created = []
    with store.atomic():  # all tasks or none
        for i, p in enumerate(parsed):
            dataset = _dataset(store, p, app_id, f"tasks[{i}]")
            try:
                task = dataset.tasks.create(**p.options)
                if p.status not in (None, task.status):
                    task.status = p.status
                    task = task.update()
            except ValidationError as exc:
                raise rename_field(exc, p.paths) from None
            created.append(task)
    return created


def _overwrite(store: Any, body: M.PatchTasksRequest) -> list[Any]:
    parsed = []
    for i, t in enumerate(body.tasks):
        if not t.id:
            raise ValidationError("give the id of the task to overwrite", f"tasks[{i}].id", None)
        parsed.append((t.id, _parse(t, i)))
    updated = []
    with store.atomic():
        for i, (task_id, p) in enumerate(parsed):
            task = store.tasks.get(task_id)
            if p.source[0] == "DATASET" and p.source[1] not in (task.dataset_id, task.dataset.name):
                raise ValidationError("a task's inputs cannot move to another dataset",
                                      f"tasks[{i}].input_source.id", p.source[1])
            o = p.options
            task.name = o["task_name"]
            task.worker_strategy = o["worker_strategy"]
            task.assignee_ids = o["assignee_ids"]
            task.workers_per_input = o.get("workers_per_input", 1)
            task.weights = o.get("weights") or {u: 1.0 for u in o["assignee_ids"]}
            task.review_strategy = o["review_strategy"]
            task.reviewer_ids = o["reviewer_ids"]
            task.approval_threshold = o.get("approval_threshold")
            task.labels = o["labels"]
            task.priority = o.get("priority", task.priority)
            task.status = p.status or "in_progress"
            task.metadata = o["metadata"]  # a full overwrite: Clarifai's metadata and ours
            try:
                updated.append(task.update())
            except ValidationError as exc:
                raise rename_field(exc, p.paths) from None
    return updated


def _kept(request: Request, store: Any, key: tuple[Any, ...], read: Callable[[], tuple[bytes, list[float]]]
          ) -> Response:
    """The answer of a task read, kept while the store's tasks are unchanged (``answer_cache``); the
    route's path values (the long route's user and app) are part of what it answered."""
    cache: AnswerCache = request.app.state.answers
    full_key = (*key, _app_id(request), request.path_params.get("user_id"))
    body = cache.answer(full_key, store.backend.catalog_version, read)
    return Response(body, media_type="application/json")


async def _app_route(user_id: str, app_id: str) -> None:
    """The ``user_id`` (the app's owner; any) and ``app_id`` (a dataset id or name) of the long route."""


def _routes(router: APIRouter, prefix: str, deps: list[Any], responses: dict[int | str, dict[str, Any]]) -> None:
    """The five routes under ``prefix`` (each with ``deps`` and the error ``responses``)."""
    common: dict[str, Any] = {"tags": TAGS, "dependencies": deps, "responses": responses}

    @router.post(prefix, response_model=M.TasksResponse, summary="Create tasks (all or none)", **common)
    def post_tasks(request: Request, body: M.PostTasksRequest, store: Any = Depends(store_of),
                   who: Principal = Depends(admin)) -> Response:
        """POST Clarifai tasks, created all or none, and return them in Clarifai's shape; admin token only."""
        return ok_response(tasks=[_out(request, t) for t in _create(store, body, _app_id(request))])

    @router.get(prefix + "/{task_id}", response_model=M.TaskResponse, summary="Get a task by id", **common)
    async def get_task(request: Request, task_id: str, store: Any = Depends(store_of),
                       who: Principal = Depends(principal)) -> Response:
        """GET one task by id in Clarifai's shape."""
        def read() -> tuple[bytes, list[float]]:
            task = store.tasks.get(task_id)
            return encoded(ok(task=_out(request, task))), [task.due_date.timestamp()]

        return await run_store_call(store.backend, lambda: _kept(request, store, ("get", task_id), read))

    @router.get(prefix, response_model=M.TasksResponse, summary="List tasks (newest first)", **common)
    async def list_tasks(request: Request,
                         page: Annotated[int, Query(ge=1, le=10**9)] = 1,
                         per_page: Annotated[int, Query(ge=1, le=1000)] = DEFAULT_PER_PAGE,
                         worker_user_ids: Optional[list[str]] = Query(None, max_length=1000, description=_IDS_HELP),
                         review_user_ids: Optional[list[str]] = Query(None, max_length=1000, description=_IDS_HELP),
                         ids: Optional[list[str]] = Query(None, max_length=1000, description=_IDS_HELP),
                         store: Any = Depends(store_of), who: Principal = Depends(principal)) -> Response:
        """GET a page of tasks in Clarifai's shape, newest first (on the long route, the app's dataset's only)."""
        workers, reviewers, some = _split(worker_user_ids), _split(review_user_ids), _split(ids)

        def read() -> tuple[bytes, list[float]]:
            found = store.tasks.list(page=page, per_page=per_page, worker_id=workers, reviewer_id=reviewers,
                                     ids=some, dataset=_app_dataset(store, _app_id(request)))
            return encoded(ok(tasks=[_out(request, t) for t in found])), [t.due_date.timestamp() for t in found]

        key = ("list", page, per_page, *(tuple(v) if v else None for v in (workers, reviewers, some)))
        # reads only; a page of the default size may run on the loop (SQLite), a bigger one in a thread
        return await run_store_call(store.backend, lambda: _kept(request, store, key, read),
                                    short=per_page <= DEFAULT_PER_PAGE)

    @router.patch(prefix, response_model=M.TasksResponse, summary="Overwrite tasks (all or none)", **common)
    def patch_tasks(request: Request, body: M.PatchTasksRequest, store: Any = Depends(store_of),
                    who: Principal = Depends(admin)) -> Response:
        """PATCH: overwrite tasks by id, all or none, and return them in Clarifai's shape; admin token only."""
        return ok_response(tasks=[_out(request, t) for t in _overwrite(store, body)])

    @router.delete(prefix, response_model=M.StatusResponse, summary="Delete tasks (all or none)", **common)
    def delete_tasks(body: M.DeleteTasksRequest, store: Any = Depends(store_of),
                     who: Principal = Depends(admin)) -> Response:
        """DELETE tasks by id, all or none; admin token only."""
        store.tasks.delete(task_ids=body.ids)
        return ok_response()


def add_clarifai_routes(router: APIRouter, responses: dict[int | str, dict[str, Any]] | None = None) -> None:
    """Add Clarifai's task routes to ``router`` (the app's own: no included router to match through),
    documenting the error ``responses``.

    Examples
    --------
    >>> router = APIRouter()
    >>> add_clarifai_routes(router)
    >>> sorted({r.path for r in router.routes})[:2]
    ['/v2/tasks', '/v2/tasks/{task_id}']
    """
    _routes(router, "/v2/tasks", [], responses or {})
    _routes(router, "/v2/users/{user_id}/apps/{app_id}/tasks", [Depends(_app_route)], responses or {})
