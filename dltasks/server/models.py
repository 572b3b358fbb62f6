"""Request and response bodies the server states by hand (Pydantic models: they check types and
bounds and document the API in the served OpenAPI spec).

Clarifai's task bodies come first (``Task*``); then the wire forms of the values dltasks'
own routes carry (frames, filters, an item edit) and the envelope.  The bodies of the
``/api/v1`` operations are generated from the operation table (:mod:`dltasks.server.schema`).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Status", "ErrorResponse", "TaskIn", "PostTasksRequest", "PatchTasksRequest", "DeleteTasksRequest",
    "TaskOut", "TasksResponse", "TaskResponse", "StatusResponse", "FrameIn", "FrameOut", "FiltersIn",
    "MeResponse", "ItemEditIn",
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
        from dltasks.domain.filters import Filters

        return Filters.from_json(self.model_dump(by_alias=True))


class FrameIn(_In):
    """A DataFrame as ``dltasks.backends.wire.frame_to_wire`` writes it."""

    columns: list[Union[str, int]] = Field(max_length=10_000)
    dtypes: Optional[list[Annotated[str, Field(max_length=64)]]] = None
    data: list[list[Any]]
    index: Optional[dict[str, Any]] = None


class FrameOut(_Out):
    """A DataFrame (or Series) as ``dltasks.backends.wire.frame_to_wire`` writes it."""

    columns: list[Any]
    dtypes: list[str]
    data: list[list[Any]]
    index: Optional[dict[str, Any]] = None


class MeResponse(_Out):
    """Whom the calling token belongs to and whether it is an admin token (``GET /api/v1/me``)."""

    status: Status
    user_id: str
    admin: bool


class ItemEditIn(_In):
    """An item's editable fields (``item.update()``): name, folder, metadata, all overwritten."""

    name: Text
    dir: Text
    metadata: dict[str, Any]
