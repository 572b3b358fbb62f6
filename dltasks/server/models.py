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
    id: UserId


class WorkerRef(_In):
    user: UserRef


class PartitionedStrategyInfo(_In):
    type: Optional[Literal["EVENLY", "WEIGHTED", "PARTITIONED_WORKER_STRATEGY_NOT_SET"]] = None
    workers_per_input: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    weights: Optional[dict[UserId, Weight]] = None


class TaskWorkerIn(_In):
    strategy: Optional[Literal["FULL", "PARTITIONED", "DYNAMIC", "WORKER_STRATEGY_NOT_SET"]] = None
    workers: Optional[list[WorkerRef]] = Field(None, description="New form (wins over users / user_ids).")
    users: Optional[list[UserRef]] = Field(None, description="Older form.")
    user_ids: Optional[list[UserId]] = Field(None, description="Oldest form.")
    partitioned_strategy_info: Optional[PartitionedStrategyInfo] = None


class ConceptId(_In):
    id: Name


class ConceptRef(_In):
    concept: ConceptId


class InputSource(_In):
    type: Optional[Literal["ALL_INPUTS", "DATASET"]] = None
    id: Optional[Name] = None


class ConsensusStrategyInfo(_In):
    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    approval_threshold_labelers: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    approval_threshold_reviewers: Optional[Annotated[int, Field(ge=-1, le=1000)]] = None


class ManualStrategyInfo(_In):
    sample_percentage: Optional[Annotated[float, Field(ge=0, le=1)]] = None
    approval_threshold: Optional[Annotated[int, Field(ge=0, le=1000)]] = None


class TaskReviewIn(_In):
    strategy: Optional[Literal["NONE", "MANUAL", "CONSENSUS", "REVIEW_STRATEGY_NOT_SET"]] = None
    users: Optional[list[UserRef]] = Field(None, description="New form (wins over user_ids).")
    user_ids: Optional[list[UserId]] = None
    consensus_strategy_info: Optional[ConsensusStrategyInfo] = None
    manual_strategy_info: Optional[ManualStrategyInfo] = None


class TaskStatusIn(_In):
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
    tasks: list[TaskIn] = Field(min_length=1, max_length=128)


class PatchTasksRequest(_In):
    action: Literal["overwrite"] = "overwrite"
    tasks: list[TaskIn] = Field(min_length=1, max_length=128)


class DeleteTasksRequest(_In):
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
    status: Status
    tasks: list[TaskOut]


class TaskResponse(_Out):
    status: Status
    task: TaskOut


# -- dltasks' own routes ---------------------------------------------------------------------
class FilterCondition(_In):
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
    columns: list[Any]
    dtypes: list[str]
    data: list[list[Any]]
    index: Optional[dict[str, Any]] = None


class FrameResponse(_Out):
    status: Status
    frame: FrameOut


class UserIn(_In):
    id: UserId
    name: Optional[Name] = None


class UserOut(_Out):
    id: str
    name: Optional[str] = None
    created_at: float


class UserResponse(_Out):
    status: Status
    user: UserOut


class UsersResponse(_Out):
    status: Status
    users: list[UserOut]


class IdsIn(_In):
    ids: list[UserId] = Field(max_length=10_000)


class IdsResponse(_Out):
    status: Status
    ids: list[str]


class MeResponse(_Out):
    status: Status
    user_id: str
    admin: bool


class TokenIn(_In):
    user_id: UserId
    admin: bool = False


class TokenResponse(_Out):
    status: Status
    user_id: str
    admin: bool
    token: str


class DatasetIn(_In):
    name: Name
    labels: Optional[list[Name]] = Field(None, max_length=10_000)


class LabelsIn(_In):
    labels: list[Name] = Field(max_length=10_000)


class DatasetOut(_Out):
    id: str
    name: str
    created_at: float
    labels: list[str]


class DatasetResponse(_Out):
    status: Status
    dataset: DatasetOut


class DatasetsResponse(_Out):
    status: Status
    datasets: list[DatasetOut]


class LabelsResponse(_Out):
    status: Status
    labels: list[str]


class CountResponse(_Out):
    status: Status
    count: int


class ItemOut(_Out):
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
    status: Status
    item: ItemOut


class ItemsPageResponse(_Out):
    status: Status
    items_count: int
    items: list[ItemOut]


class ItemsResponse(_Out):
    status: Status
    items: list[ItemOut]


class KeysResponse(_Out):
    status: Status
    keys: list[str]


class ItemsQuery(_In):
    filters: Optional[FiltersIn] = None
    page_offset: Annotated[int, Field(ge=0, le=10**9)] = 0
    page_size: Annotated[int, Field(ge=1, le=10_000)] = 1000


class FiltersQuery(_In):
    filters: Optional[FiltersIn] = None


class ItemsFrameQuery(_In):
    filters: Optional[FiltersIn] = None
    metadata: Literal["flat", "dict", "none"] = "flat"


class ItemsUpdate(_In):
    filters: Optional[FiltersIn] = None
    update_values: dict[str, Any]


class ItemsDelete(_In):
    item_id: Optional[ItemId] = None
    filters: Optional[FiltersIn] = None


class ItemPatch(_In):
    name: Text
    dir: Text
    metadata: dict[str, Any]


class ImportRequest(_In):
    frame: FrameIn


class UploadRequest(_In):
    frame: FrameIn
    overwrite: bool = False


class AnnotationIn(_In):
    label: Text
    author: Optional[Name] = None


class AnnotationPatch(_In):
    label: Text


class AnnotationOut(_Out):
    id: int
    item_id: int
    label: str
    author: str
    task_id: Optional[str] = None
    created_at: float


class AnnotationResponse(_Out):
    status: Status
    annotation: AnnotationOut


class AnnotationsResponse(_Out):
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
    status: Status
    task: DltasksTaskOut


class DltasksTaskPage(_Out):
    status: Status
    tasks: list[DltasksTaskOut]
    total: int
    page: int
    per_page: int


class TaskIdsIn(_In):
    task_ids: list[Name] = Field(min_length=1, max_length=1000)


class SubmitIn(_In):
    item_id: ItemId
    user_id: UserId
    label: Text


class RetractIn(_In):
    item_id: ItemId
    user_id: UserId


class SetStatusIn(_In):
    item_ids: list[ItemId] = Field(min_length=1, max_length=100_000)
    status: Name
    user_id: UserId


class ReviewIn(_In):
    item_id: ItemId
    user_id: UserId
    approve: bool = True


class ItemStatusResponse(_Out):
    status: Status
    item_status: str
