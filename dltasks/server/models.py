"""Request and response bodies of the server (Pydantic models: they check types and bounds
and document the API in the served OpenAPI spec).

Clarifai's task bodies come first (``Task*``), then dltasks' own routes.  Values the SDK
checks itself (names, strategies, thresholds) are checked there too, so an error names the
same field either way.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Status", "ErrorResponse", "TaskIn", "PostTasksRequest", "PatchTasksRequest", "DeleteTasksRequest",
    "TaskOut", "TasksResponse", "TaskResponse", "StatusResponse",
]

MAX_ID = 2**63 - 1
Text = Annotated[str, Field(max_length=10_000)]
Name = Annotated[str, Field(max_length=255)]
UserId = Annotated[str, Field(max_length=255)]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
ItemId = Annotated[int, Field(ge=0, le=MAX_ID)]
Weight = Annotated[float, Field(ge=0, le=1e12)]
Epoch = Annotated[float, Field(ge=-1e10, le=1e10)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- envelope --------------------------------------------------------------------------------
class Status(_Out):
    """Clarifai's status: ``10000``/``Ok`` on success; on errors the field at fault."""

    code: int
    description: str


class ErrorResponse(_Out):
    """The body of every error response."""

    status: Status


class StatusResponse(_Out):
    """A success with nothing more to say."""

    status: Status


# -- Clarifai tasks --------------------------------------------------------------------------
class UserRef(_In):
    """A user given by id, {"id": …} (worker.users, review.users, and inside worker.workers)."""

    id: UserId


class WorkerRef(_In):
    """A worker given as {"user": {"id": …}} (Clarifai's newer field form, worker.workers)."""

    user: UserRef


class PartitionedStrategyInfo(_In):
    """How a PARTITIONED task splits its inputs: EVENLY or WEIGHTED, workers_per_input, per-user weights."""

    type: Optional[Literal["EVENLY", "WEIGHTED", "PARTITIONED_WORKER_STRATEGY_NOT_SET"]] = None
    workers_per_input: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    weights: Optional[dict[UserId, Weight]] = None


class TaskWorkerIn(_In):
    """A Clarifai task's worker block: the strategy and its workers (workers, users or user_ids)."""

    strategy: Optional[Literal["FULL", "PARTITIONED", "DYNAMIC", "WORKER_STRATEGY_NOT_SET"]] = None
    workers: Optional[list[WorkerRef]] = Field(None, description="New form (wins over users / user_ids).")
    users: Optional[list[UserRef]] = Field(None, description="Older form.")
    user_ids: Optional[list[UserId]] = Field(None, description="Oldest form.")
    partitioned_strategy_info: Optional[PartitionedStrategyInfo] = None


class ConceptId(_In):
    """A concept given by id, {"id": …}: the label it stands for."""

    id: Name


class ConceptRef(_In):
    """A label given as {"concept": {"id": …}} (Clarifai's newer form of concept_ids)."""

    concept: ConceptId


class InputSource(_In):
    """A Clarifai task's inputs: ALL_INPUTS (the app's items) or DATASET with a dataset's id or name."""

    type: Optional[Literal["ALL_INPUTS", "DATASET"]] = None
    id: Optional[Name] = None


class ConsensusStrategyInfo(_In):
    """A CONSENSUS review's thresholds (``approval_threshold_labelers`` wins over ``approval_threshold``)."""

    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    approval_threshold_labelers: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    approval_threshold_reviewers: Optional[Annotated[int, Field(ge=-1, le=1000)]] = None


class ManualStrategyInfo(_In):
    """A MANUAL review's settings (sample_percentage, approval_threshold), kept with the task as given."""

    sample_percentage: Optional[Annotated[float, Field(ge=0, le=1)]] = None
    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None


class TaskReviewIn(_In):
    """A Clarifai task's review block: the strategy (NONE, MANUAL, CONSENSUS) and its reviewers."""

    strategy: Optional[Literal["NONE", "MANUAL", "CONSENSUS", "REVIEW_STRATEGY_NOT_SET"]] = None
    users: Optional[list[UserRef]] = Field(None, description="New form (wins over user_ids).")
    user_ids: Optional[list[UserId]] = None
    consensus_strategy_info: Optional[ConsensusStrategyInfo] = None
    manual_strategy_info: Optional[ManualStrategyInfo] = None


class TaskStatusIn(_In):
    """A Clarifai task status to set, by name (TASK_IN_PROGRESS, TASK_DONE, TASK_WONT_DO) or number (54001–54003)."""

    code: Optional[Union[Literal["TASK_IN_PROGRESS", "TASK_DONE", "TASK_WONT_DO"], Literal[54001, 54002, 54003]]] = None
    description: Optional[Text] = None


class TaskIn(_In):
    """A Clarifai task as sent to ``POST``/``PATCH …/tasks`` (unknown fields are ignored)."""

    id: Optional[Name] = Field(None, description="Needed by PATCH; ignored by POST (the server assigns ids).")
    type: Optional[Literal["CONCEPTS_CLASSIFICATION", "BOUNDING_BOX_DETECTION", "POLYGON_DETECTION",
                           "TYPE_NOT_SET"]] = None
    name: Optional[Name] = None
    description: Optional[Text] = None
    worker: Optional[TaskWorkerIn] = None
    concepts: Optional[list[ConceptRef]] = Field(None, description="New form (wins over concept_ids).")
    concept_ids: Optional[list[Name]] = None
    input_source: Optional[InputSource] = None
    sample_ms: Optional[Annotated[int, Field(ge=0, le=10**9)]] = None
    review: Optional[TaskReviewIn] = None
    status: Optional[TaskStatusIn] = None
    priority: Optional[Literal["LOW", "MEDIUM", "HIGH", "TASK_PRIORITY_NOT_SET"]] = None
    metadata: Optional[dict[str, Any]] = None


class PostTasksRequest(_In):
    """The body of ``POST …/tasks``: 1–128 Clarifai tasks to create, all or none."""

    tasks: list[TaskIn] = Field(min_length=1, max_length=128)


class PatchTasksRequest(_In):
    """The body of ``PATCH …/tasks``: action "overwrite" and 1–128 tasks (each with its id), all or none."""

    action: Literal["overwrite"] = "overwrite"
    tasks: list[TaskIn] = Field(min_length=1, max_length=128)


class DeleteTasksRequest(_In):
    """The body of ``DELETE …/tasks``: the ids of 1–1000 tasks to delete, all or none."""

    ids: list[Name] = Field(min_length=1, max_length=1000)


class TaskOut(_Out):
    """A task in Clarifai's shape (both field forms), dltasks facts under ``dltasks``."""

    id: str
    type: str
    name: str
    description: str
    worker: dict[str, Any]
    concept_ids: list[str]
    concepts: list[dict[str, Any]]
    input_source: dict[str, Any]
    sample_ms: int
    review: dict[str, Any]
    status: dict[str, Any]
    created_at: str
    modified_at: str
    priority: str
    metadata: dict[str, Any]
    dltasks: dict[str, Any]


class TasksResponse(_Out):
    """Tasks in Clarifai's shape: the answer of ``POST``, ``PATCH`` and ``GET`` (list) ``…/tasks``."""

    status: Status
    tasks: list[TaskOut]


class TaskResponse(_Out):
    """One task in Clarifai's shape: the answer of ``GET …/tasks/{task_id}``."""

    status: Status
    task: TaskOut


# -- dltasks' own routes ---------------------------------------------------------------------
class FilterCondition(_In):
    """One filter condition: a field, its values and an operator (``eq`` when omitted)."""

    field: Name
    values: Any = None
    operator: Optional[Annotated[str, Field(max_length=16)]] = None


class FiltersIn(_In):
    """``dl.Filters.to_json()``."""

    and_: list[FilterCondition] = Field(default_factory=list, alias="and", max_length=100)
    or_: list[FilterCondition] = Field(default_factory=list, alias="or", max_length=100)
    join: list[FilterCondition] = Field(default_factory=list, max_length=100)
    sort: list[Annotated[list[Name], Field(min_length=2, max_length=2)]] = Field(default_factory=list, max_length=10)

    def to_filters(self) -> Any:
        """The :class:`dltasks.Filters` this describes (checked again by the SDK)."""
        from dltasks.filters import Filters

        return Filters.from_json(self.model_dump(by_alias=True))


class FrameIn(_In):
    """A DataFrame as ``dltasks.remote.wire.frame_to_wire`` writes it."""

    columns: list[Union[str, int]] = Field(max_length=10_000)
    dtypes: Optional[list[Annotated[str, Field(max_length=64)]]] = None
    data: list[list[Any]]
    index: Optional[dict[str, Any]] = None


class FrameOut(_Out):
    """A DataFrame (or Series) as ``dltasks.remote.wire.frame_to_wire`` writes it."""

    columns: list[Any]
    dtypes: list[str]
    data: list[list[Any]]
    index: Optional[dict[str, Any]] = None


class FrameResponse(_Out):
    """A table (a DataFrame, e.g. ``to_df()`` or ``task.progress()``) under ``frame``."""

    status: Status
    frame: FrameOut


class UserIn(_In):
    """The body of ``POST /api/v1/users``: the new user's id and an optional display name."""

    id: UserId
    name: Optional[Name] = None


class UserOut(_Out):
    """A user: id, optional name, ``created_at`` in epoch seconds."""

    id: str
    name: Optional[str] = None
    created_at: float


class UserResponse(_Out):
    """One user: the answer of ``POST /api/v1/users`` and ``GET /api/v1/users/{user_id}``."""

    status: Status
    user: UserOut


class UsersResponse(_Out):
    """Every user, by id: the answer of ``GET /api/v1/users``."""

    status: Status
    users: list[UserOut]


class IdsIn(_In):
    """The body of ``POST /api/v1/users/ensure``: user ids to register if not yet known."""

    ids: list[UserId] = Field(max_length=10_000)


class IdsResponse(_Out):
    """The ids given to ``POST /api/v1/users/ensure``, checked and stripped."""

    status: Status
    ids: list[str]


class MeResponse(_Out):
    """Whom the calling token belongs to and whether it is an admin token (``GET /api/v1/me``)."""

    status: Status
    user_id: str
    admin: bool


class TokenIn(_In):
    """The body of ``POST /api/v1/tokens``: the user the new token acts as and whether it is an admin token."""

    user_id: UserId
    admin: bool = False


class TokenResponse(_Out):
    """A new API token, with the user it acts as and whether it is an admin token."""

    status: Status
    user_id: str
    admin: bool
    token: str


class DatasetIn(_In):
    """The body of ``POST /api/v1/datasets``: the new dataset's name and an optional label set."""

    name: Name
    labels: Optional[list[Name]] = Field(None, max_length=10_000)


class LabelsIn(_In):
    """The body of ``POST …/datasets/{dataset_id}/labels``: labels to add to the dataset's label set."""

    labels: list[Name] = Field(max_length=10_000)


class DatasetOut(_Out):
    """A dataset: id, name, ``created_at`` in epoch seconds, and its label set."""

    id: str
    name: str
    created_at: float
    labels: list[str]


class DatasetResponse(_Out):
    """One dataset: the answer of ``POST /api/v1/datasets`` and ``GET …/datasets/{dataset_id}``."""

    status: Status
    dataset: DatasetOut


class DatasetsResponse(_Out):
    """Datasets by name: the answer of ``GET /api/v1/datasets``."""

    status: Status
    datasets: list[DatasetOut]


class LabelsResponse(_Out):
    """A dataset's label set after ``POST …/datasets/{dataset_id}/labels``."""

    status: Status
    labels: list[str]


class CountResponse(_Out):
    """How many items, rows or tasks a request counted, inserted, changed or deleted."""

    status: Status
    count: int


class ItemOut(_Out):
    """An item: its file (name, dir, filename, path, mime, size), metadata, ``created_at`` and annotation count."""

    id: int
    dataset_id: str
    name: str
    dir: str
    filename: str
    path: Optional[str] = None
    mime: Optional[str] = None
    size: Optional[int] = None
    metadata: dict[str, Any]
    created_at: float
    annotations_count: int


class ItemResponse(_Out):
    """One item: the answer of ``GET``/``PUT …/items/{item_id}`` and ``GET …/items/by-path``."""

    status: Status
    item: ItemOut


class ItemsPageResponse(_Out):
    """A page of the items matching filters, with ``items_count`` (all matches): ``POST …/items/query``."""

    status: Status
    items_count: int
    items: list[ItemOut]


class ItemsResponse(_Out):
    """One item per uploaded row, in row order: the answer of ``POST …/items/upload``."""

    status: Status
    items: list[ItemOut]


class KeysResponse(_Out):
    """Dot paths of every user metadata key written to a dataset (``GET …/items/metadata-keys``)."""

    status: Status
    keys: list[str]


class ItemsQuery(_In):
    """The body of ``POST …/items/query``: filters and a page (0-based ``page_offset``, ``page_size``)."""

    filters: Optional[FiltersIn] = None
    page_offset: Annotated[int, Field(ge=0, le=10**9)] = 0
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 1000


class FiltersQuery(_In):
    """The body of ``POST …/items/count``: the filters to match (none matches every item)."""

    filters: Optional[FiltersIn] = None


class ItemsFrameQuery(_In):
    """The body of ``POST …/items/frame``: filters and how metadata appears (flat, dict or none)."""

    filters: Optional[FiltersIn] = None
    metadata: Literal["flat", "dict", "none"] = "flat"


class ItemsUpdate(_In):
    """The body of ``POST …/items/update``: filters and values to deep-merge into each match's metadata."""

    filters: Optional[FiltersIn] = None
    update_values: dict[str, Any]


class ItemsDelete(_In):
    """The body of ``POST …/items/delete``: one ``item_id``, or filters selecting the items to delete."""

    item_id: Optional[ItemId] = None
    filters: Optional[FiltersIn] = None


class ItemPatch(_In):
    """The body of ``PUT …/items/{item_id}``: the item's name, dir and metadata, all overwritten."""

    name: Text
    dir: Text
    metadata: dict[str, Any]


class ImportRequest(_In):
    """The body of ``POST …/items/import`` and ``…/annotations/import``: a frame, one row per record."""

    frame: FrameIn


class UploadRequest(_In):
    """The body of ``POST …/items/upload``: files as a frame (name, dir, …), and whether to merge metadata."""

    frame: FrameIn
    overwrite: bool = False


class AnnotationIn(_In):
    """The body of ``POST …/items/{item_id}/annotations``: the label and its author (default "import")."""

    label: Text
    author: Optional[Name] = None


class AnnotationPatch(_In):
    """The body of ``PATCH …/annotations/{annotation_id}``: the annotation's new label."""

    label: Text


class AnnotationOut(_Out):
    """An annotation: item, label, author, the task it came from (if any), ``created_at`` in epoch seconds."""

    id: int
    item_id: int
    label: str
    author: str
    task_id: Optional[str] = None
    created_at: float


class AnnotationResponse(_Out):
    """One annotation: the answer of the annotation routes that read, change or create one."""

    status: Status
    annotation: AnnotationOut


class AnnotationsResponse(_Out):
    """An item's annotations, oldest first (``GET …/items/{item_id}/annotations``)."""

    status: Status
    annotations: list[AnnotationOut]


Action = Union[Name, dict[str, Any]]


class TaskOptions(_In):
    """Options of ``dataset.tasks.create`` (the same names and meaning)."""

    task_name: Name
    due_date: Optional[Union[Epoch, Text]] = None
    assignee_ids: Optional[list[UserId]] = Field(None, max_length=10_000)
    filters: Optional[FiltersIn] = None
    items: Optional[list[ItemId]] = Field(None, max_length=1_000_000)
    worker_strategy: Optional[Name] = None
    workers_per_input: Annotated[int, Field(ge=0, le=1000)] = 1
    weights: Optional[dict[UserId, Weight]] = None
    review_strategy: Name = "none"
    reviewer_ids: Optional[list[UserId]] = Field(None, max_length=10_000)
    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    labels: Optional[list[Name]] = Field(None, max_length=10_000)
    available_actions: Optional[list[Action]] = Field(None, max_length=100)
    priority: Name = "medium"
    metadata: Optional[dict[str, Any]] = None
    task_type: Name = "annotation"
    seed: Optional[Annotated[int, Field(ge=0, le=2**31)]] = None


class QATaskOptions(_In):
    """Options of ``dataset.tasks.create_qa_task``; ``task_id`` is the task to review."""

    task_id: Name
    task_name: Optional[Name] = None
    due_date: Optional[Union[Epoch, Text]] = None
    assignee_ids: Optional[list[UserId]] = Field(None, max_length=10_000)
    filters: Optional[FiltersIn] = None
    workers_per_input: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    worker_strategy: Optional[Name] = None
    weights: Optional[dict[UserId, Weight]] = None
    review_strategy: Optional[Name] = None
    reviewer_ids: Optional[list[UserId]] = None
    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    labels: Optional[list[Name]] = None
    available_actions: Optional[list[Action]] = None
    priority: Optional[Name] = None
    metadata: Optional[dict[str, Any]] = None
    seed: Optional[Annotated[int, Field(ge=0, le=2**31)]] = None


class TaskFields(_In):
    """Every field of a task, for a full overwrite (``task.update()``)."""

    name: Name
    due_date: Epoch
    status: Name
    priority: Name
    worker_strategy: Name
    workers_per_input: Annotated[int, Field(ge=0, le=1000)]
    weights: dict[UserId, Weight]
    assignee_ids: list[UserId]
    review_strategy: Name
    reviewer_ids: list[UserId]
    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    labels: list[Name]
    available_actions: list[Action]
    filters: Optional[FiltersIn] = None
    metadata: dict[str, Any]
    seed: Annotated[int, Field(ge=0, le=2**31)]


class DltasksTaskOut(_Out):
    """A task in dltasks' own shape: every field, times in epoch seconds, filters as ``Filters.to_json()``."""

    id: str
    dataset_id: str
    name: str
    type: str
    parent_task_id: Optional[str] = None
    due_date: float
    status: str
    priority: str
    worker_strategy: str
    workers_per_input: int
    weights: dict[str, float]
    assignee_ids: list[str]
    review_strategy: str
    reviewer_ids: list[str]
    approval_threshold: Optional[int] = None
    labels: list[str]
    available_actions: list[dict[str, Any]]
    filters: Optional[dict[str, Any]] = None
    metadata: dict[str, Any]
    seed: int
    created_at: float
    modified_at: float


class DltasksTaskResponse(_Out):
    """One task in dltasks' shape: the answer of the ``/api/v1`` routes that create, get or overwrite one."""

    status: Status
    task: DltasksTaskOut


class DltasksTaskPage(_Out):
    """A page of tasks in dltasks' shape, newest first, with the total count (``GET /api/v1/tasks``)."""

    status: Status
    tasks: list[DltasksTaskOut]
    total: int
    page: int
    per_page: int


class TaskIdsIn(_In):
    """The body of ``DELETE /api/v1/tasks``: the ids of 1–1000 tasks to delete, all or none."""

    task_ids: list[Name] = Field(min_length=1, max_length=1000)


class SubmitIn(_In):
    """The body of ``POST /api/v1/tasks/{task_id}/submit``: a worker's label for an item."""

    item_id: ItemId
    user_id: UserId
    label: Text


class RetractIn(_In):
    """The body of ``POST /api/v1/tasks/{task_id}/retract``: the item and the worker whose label to withdraw."""

    item_id: ItemId
    user_id: UserId


class SetStatusIn(_In):
    """The body of ``POST /api/v1/tasks/{task_id}/status``: items to mark with an action, and who marks them."""

    item_ids: list[ItemId] = Field(min_length=1, max_length=100_000)
    status: Name
    user_id: UserId


class ReviewIn(_In):
    """The body of ``POST /api/v1/tasks/{task_id}/review``: a reviewer's approval or rejection of an item."""

    item_id: ItemId
    user_id: UserId
    approve: bool = True


class ItemStatusResponse(_Out):
    """An item's new status in a task, after a submit, review or retract."""

    status: Status
    item_status: str
