"""The parameter vocabulary of the backend operations: each type names its check and its bounds.

A parameter of ``Backend.submit`` typed :data:`UserId` is checked by
:func:`~dltasks.domain.checks.check_user_id` wherever it is received: by the SDK before any
I/O and by the server on the decoded request (see :func:`check_args`); the server's request
schema states its bounds (at most 255 characters).  A new parameter with a new rule gets a
new type here, once.

Examples
--------
>>> def submit(task_id: TaskId, item_id: ItemId, user_id: UserId, label: Label) -> str: ...
>>> check_args(submit, {"task_id": "t1", "item_id": "7", "user_id": " ann ", "label": "cat"})
{'task_id': 't1', 'item_id': 7, 'user_id': 'ann', 'label': 'cat'}
>>> check_args(submit, {"task_id": "t1", "item_id": 7, "user_id": "", "label": "cat"})
Traceback (most recent call last):
dltasks.errors.ValidationError: user_id: must be a non-empty string (a user id or e-mail) (got '')
"""
from __future__ import annotations

import functools
import typing
from typing import Annotated, Any, Callable, Literal, Union

from dltasks.domain.annotations import AnnotationRows, annotation_rows, check_annotation_metadata
from dltasks.domain.checks import (MAX_ID, MAX_NAME, MAX_TEXT, Rule, check_author, check_bool, check_id, check_ids,
                                   check_label, check_labels, check_name, check_role, check_user_id, check_user_ids,
                                   check_seconds, check_whole, to_item_id, to_item_ids, MAX_SECONDS)
from dltasks.domain.filters import Filters
from dltasks.domain.gold import MAX_GOLD, gold_pairs
from dltasks.domain.predictions import MAX_PREDICTIONS, prediction_rows
from dltasks.domain.items import ItemEdit, ItemRows, check_item_edit, check_update_values, item_rows
from dltasks.domain.shapes import MAX_SHAPES, Definition, check_definition, check_definitions
from dltasks.domain.task_options import TaskSpec, recheck
from dltasks.domain.values import check_text
from dltasks.errors import ValidationError

__all__ = [
    "DatasetId", "TaskId", "TaskIds", "OptionalTaskIds", "Name", "OptionalName", "Label", "OptionalLabel", "Labels",
    "UserId", "UserIds", "OptionalUserId", "OptionalUserIds", "DisplayName", "Author", "ItemId", "OptionalItemId",
    "ItemIds", "OptionalItemIds", "ItemFilters", "ImportItems", "ImportAnnotations", "MetadataPatch", "ItemChange",
    "Spec", "Page", "PerPage", "PageSize", "MetadataMode", "OptionalRole", "OptionalShort", "Approve", "Flag",
    "FilePath", "Answer", "Gold", "Seconds", "Predictions", "OptionalDefinition", "AnnotationMetadata", "RowOffset", "RowLimit", "check_args", "MAX_ITEM_IDS", "MAX_PAGE_ITEMS",
    "MAX_STATUS_ITEMS",
]

#: The most item ids one call takes (an ``items=`` list).
MAX_ITEM_IDS = 1_000_000
#: The most items one page of ``dataset.items.list`` holds (items carry up to 64 KiB of metadata).
MAX_PAGE_ITEMS = 1000
#: The most items one status change takes (each is checked and re-derived in one transaction).
MAX_STATUS_ITEMS = 1000


def _optional(check: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """``check``, letting ``None`` through (an optional parameter left out)."""
    def run(value: Any, field: str) -> Any:
        return None if value is None else check(value, field)
    return run


def _filters(value: Any, field: str) -> Filters | None:
    if value is not None and not isinstance(value, Filters):
        raise ValidationError("must be a dl.Filters", field, value)
    return value


def _id_list(values: Any, field: str) -> list[str]:
    """Ids to match (one string is a list of one; an empty list matches nothing)."""
    if isinstance(values, str):
        values = [values]
    return [check_id(v, field) for v in values]


def _item_list(values: Any, field: str) -> list[int]:
    """Item ids to choose (each once; an empty list chooses none)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        raise ValidationError("must be a list of item ids", field, values)
    return list(dict.fromkeys(to_item_id(v, field) for v in values))


def _text(limit: int) -> Callable[[Any, str], str]:
    def run(value: Any, field: str) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise ValidationError(f"must be a string of at most {limit} characters", field, value)
        return check_text(value, field)
    return run


def _whole(low: int, high: int) -> Callable[[Any, str], int]:
    return lambda value, field: check_whole(value, field, low, high)


def _choice(*allowed: str) -> Callable[[Any, str], str]:
    def run(value: Any, field: str) -> str:
        if value not in allowed:
            raise ValidationError(f"use one of {list(allowed)}", field, value)
        return str(value)
    return run


def _item_rows(value: Any, field: str) -> ItemRows:
    return value if isinstance(value, ItemRows) else item_rows(value, field)


def _annotation_rows(value: Any, field: str) -> AnnotationRows:
    return value if isinstance(value, AnnotationRows) else annotation_rows(value, field)


def _item_change(value: Any, field: str) -> ItemEdit:
    if not isinstance(value, ItemEdit):
        raise ValidationError("must be an ItemEdit from check_item_edit", field, type(value).__name__)
    return check_item_edit(value.name, value.dir, value.metadata)


DatasetId = Annotated[str, Rule(check_id, max_length=64)]
TaskId = Annotated[str, Rule(check_id, max_length=64)]
TaskIds = Annotated[list[str], Rule(check_ids, max_length=1000, item_max_length=64)]
OptionalTaskIds = Annotated[Union[list[str], None], Rule(_optional(_id_list), max_length=1000, item_max_length=64)]
Name = Annotated[str, Rule(check_name, max_length=MAX_NAME)]
OptionalName = Annotated[Union[str, None], Rule(_optional(check_name), max_length=MAX_NAME)]
Label = Annotated[str, Rule(check_label, max_length=MAX_NAME)]
OptionalLabel = Annotated[Union[str, None], Rule(_optional(check_label), max_length=MAX_NAME)]
Labels = Annotated[list[str], Rule(check_labels, max_length=10_000, item_max_length=MAX_NAME)]
UserId = Annotated[str, Rule(check_user_id, max_length=MAX_NAME)]
OptionalUserId = Annotated[Union[str, None], Rule(_optional(check_user_id), max_length=MAX_NAME)]
UserIds = Annotated[list[str], Rule(check_user_ids, max_length=10_000, item_max_length=MAX_NAME)]
OptionalUserIds = Annotated[Union[list[str], None], Rule(_optional(check_user_ids), max_length=1000,
                                                          item_max_length=MAX_NAME)]
DisplayName = Annotated[Union[str, None], Rule(_optional(_text(MAX_NAME)), max_length=MAX_NAME)]
Author = Annotated[Union[str, None], Rule(check_author, max_length=MAX_NAME)]
ItemId = Annotated[int, Rule(to_item_id, ge=0, le=MAX_ID)]
OptionalItemId = Annotated[Union[int, None], Rule(_optional(to_item_id), ge=0, le=MAX_ID)]
ItemIds = Annotated[list[int], Rule(to_item_ids, max_length=MAX_STATUS_ITEMS, item_ge=0, item_le=MAX_ID)]
OptionalItemIds = Annotated[Union[list[int], None], Rule(_optional(_item_list), max_length=MAX_ITEM_IDS, item_ge=0,
                                                          item_le=MAX_ID)]
ItemFilters = Annotated[Union[Filters, None], Rule(_filters)]
ImportItems = Annotated[ItemRows, Rule(_item_rows)]
ImportAnnotations = Annotated[AnnotationRows, Rule(_annotation_rows)]
MetadataPatch = Annotated[dict[str, Any], Rule(check_update_values)]
ItemChange = Annotated[ItemEdit, Rule(_item_change)]
Spec = Annotated[TaskSpec, Rule(lambda value, field: recheck(value, field))]
Page = Annotated[int, Rule(_whole(1, 10**9), ge=1, le=10**9)]
PerPage = Annotated[int, Rule(_whole(1, 1000), ge=1, le=1000)]
PageSize = Annotated[int, Rule(_whole(1, MAX_PAGE_ITEMS), ge=1, le=MAX_PAGE_ITEMS)]
RowOffset = Annotated[int, Rule(_whole(0, MAX_ID), ge=0, le=MAX_ID)]
RowLimit = Annotated[Union[int, None], Rule(_optional(_whole(1, MAX_ID)), ge=1, le=MAX_ID)]
MetadataMode = Annotated[Literal["flat", "dict", "none"], Rule(_choice("flat", "dict", "none"))]
OptionalRole = Annotated[Union[Literal["worker", "reviewer"], None], Rule(_optional(check_role))]
OptionalShort = Annotated[Union[str, None], Rule(_optional(_text(MAX_NAME)), max_length=MAX_NAME)]
FilePath = Annotated[str, Rule(_text(MAX_TEXT), max_length=MAX_TEXT)]
Approve = Annotated[bool, Rule(check_bool)]
OptionalDefinition = Annotated[Union[Definition, None], Rule(_optional(check_definition))]
AnnotationMetadata = Annotated[Union[dict[str, Any], None], Rule(_optional(check_annotation_metadata))]
Answer = Annotated[Union[list[Definition], None], Rule(_optional(check_definitions), max_length=MAX_SHAPES)]
Flag = Annotated[bool, Rule(check_bool)]
#: Known answers of gold items: ``[item_id, label or list of labels]`` pairs (a dict or frame becomes them).
Gold = Annotated[Union[list[list[Any]], None], Rule(_optional(gold_pairs), max_length=MAX_GOLD)]
#: How long an item was on screen before an answer, in seconds (at most a day).
Seconds = Annotated[Union[float, None], Rule(_optional(check_seconds), ge=0, le=MAX_SECONDS)]
#: A model's predictions: ``[item_id, model, label, score]`` rows (a DataFrame becomes them).
Predictions = Annotated[list[list[Any]], Rule(prediction_rows, max_length=MAX_PREDICTIONS)]


@functools.lru_cache(maxsize=None)
def _rules(function: Callable[..., Any]) -> tuple[tuple[str, Rule], ...]:
    hints = typing.get_type_hints(function, include_extras=True)
    out = []
    for name, hint in hints.items():
        if name == "return" or typing.get_origin(hint) is not Annotated:
            continue
        rule = next((m for m in hint.__metadata__ if isinstance(m, Rule)), None)
        if rule is not None and rule.check is not None:
            out.append((name, rule))
    return tuple(out)


def check_args(function: Callable[..., Any], args: dict[str, Any]) -> dict[str, Any]:
    """``args`` (keyword arguments of ``function``) with each one checked by its type's rule."""
    out = dict(args)
    for name, rule in _rules(function):
        if name in out:
            assert rule.check is not None
            value = out[name]
            if rule.max_length is not None and isinstance(value, (list, tuple)) and len(value) > rule.max_length:
                raise ValidationError(f"takes at most {rule.max_length:,} values per call", name, len(value))
            out[name] = rule.check(value, name)
    return out
