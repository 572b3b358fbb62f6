"""Pydantic types for the operation table's parameters and results (the served OpenAPI schema).

:func:`request_type` and :func:`response_type` translate a type hint of
:class:`~dltasks.backends.base.Backend` (with the bounds of its
:class:`~dltasks.domain.checks.Rule`) into the type Pydantic checks a request against and
documents: strings get their ``max_length``, ids their range, records (dataclasses) a model
of their public fields, datetimes epoch seconds, frames and filters their wire models.

Examples
--------
>>> from dltasks.domain.types import UserId
>>> request_type(UserId)
typing.Annotated[str, FieldInfo(annotation=NoneType, required=True, metadata=[MaxLen(max_length=255)])]
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import typing
from typing import Annotated, Any, Optional, Union

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model

from dltasks.backends.wire import plain_type
from dltasks.domain.annotations import AnnotationRows
from dltasks.domain.checks import Rule
from dltasks.domain.filters import Filters
from dltasks.domain.items import ItemEdit, ItemRows
from dltasks.server import models as M

__all__ = ["request_type", "response_type", "record_model"]

#: Values with a wire model of their own: (request model, response model).
_WIRE_MODELS: dict[type, tuple[Any, Any]] = {
    pd.DataFrame: (M.FrameIn, M.FrameOut),
    pd.Series: (M.FrameIn, M.FrameOut),
    ItemRows: (M.FrameIn, M.FrameOut),
    AnnotationRows: (M.FrameIn, M.FrameOut),
    Filters: (M.FiltersIn, dict[str, Any]),
    ItemEdit: (M.ItemEditIn, M.ItemEditIn),
}


_LIST: Any = list  # subscripted with types found at run time
_DICT: Any = dict


def _rule(hint: Any) -> Rule | None:
    if typing.get_origin(hint) is Annotated:
        return next((m for m in hint.__metadata__ if isinstance(m, Rule)), None)
    return None


def _bounded(tp: Any, max_length: int | None, ge: int | None, le: int | None) -> Any:
    if max_length is None and ge is None and le is None:
        return tp
    return Annotated[tp, Field(max_length=max_length, ge=ge, le=le)]


def _translate(hint: Any, inbound: bool) -> Any:
    rule = _rule(hint)
    tp, optional = plain_type(hint)
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp) or (Any,)
        inner = _translate(item, inbound)
        if rule is not None:
            inner = _bounded(inner, rule.item_max_length, rule.item_ge, rule.item_le)
        out: Any = _LIST[inner]
    elif origin is dict:
        key, item = typing.get_args(tp) or (str, Any)
        out = _DICT[key, _translate(item, inbound)]
    elif tp is _dt.datetime:
        out = Annotated[float, Field(ge=-1e10, le=1e10)] if inbound else float
    elif isinstance(tp, type) and tp in _WIRE_MODELS:
        out = _WIRE_MODELS[tp][0 if inbound else 1]
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        out = record_model(tp, inbound)
    else:
        out = tp
    if rule is not None and origin is not list:
        out = _bounded(out, rule.max_length, rule.ge, rule.le)
    elif rule is not None:
        out = _bounded(out, rule.max_length, None, None)
    return Optional[out] if optional else out


def request_type(hint: Any) -> Any:
    """The Pydantic type a request's value of type ``hint`` is checked against."""
    return _translate(hint, inbound=True)


def response_type(hint: Any) -> Any:
    """The Pydantic type that documents a result of type ``hint``."""
    return _translate(hint, inbound=False)


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


@functools.lru_cache(maxsize=None)
def record_model(cls: type, inbound: bool) -> type[BaseModel]:
    """A model of a record's public fields (``TaskSpec`` in a request, ``Item`` in a response, …)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name.startswith("_"):
            continue
        tp = _translate(hints[f.name], inbound)
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        optional = typing.get_origin(plain_type(hints[f.name])[0]) is Union or plain_type(hints[f.name])[1]
        fields[f.name] = (tp, None if (has_default or optional) else ...)
    base = _In if inbound else _Out
    return create_model(f"{cls.__name__}{'In' if inbound else ''}", __base__=base,
                        __doc__=(cls.__doc__ or "").strip().splitlines()[0], **fields)
