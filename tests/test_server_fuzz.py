"""Schemathesis fuzzes every operation of the served OpenAPI spec (valid and invalid input,
with an admin token): no 500, and every response matches the spec (status code, content
type, body schema).  Bounded by ``DLTASKS_FUZZ_EXAMPLES`` (default 15 per operation)."""
from __future__ import annotations

import os
import tempfile
from typing import Any

import pandas as pd
import pytest

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,  # noqa: E402
                                               status_code_conformance)

import dltasks as dl  # noqa: E402
from dltasks.server.app import create_app  # noqa: E402

MAX_EXAMPLES = int(os.environ.get("DLTASKS_FUZZ_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _fuzz_store() -> Any:
    """A store with a dataset, items, a task with labels, and an admin token (a temp dir)."""

    store = dl.connect(os.path.join(tempfile.mkdtemp(prefix="dltasks-fuzz-"), "fuzz.db"))
    ds = store.datasets.create("water", labels=["water", "land"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i}.jpg" for i in range(20)], "user.n": range(20)}))
    task = ds.tasks.create(task_name="t", assignee_ids=["a@x.io", "b@x.io"], workers_per_input=2,
                           review_strategy="consensus", reviewer_ids=["r@x.io"], approval_threshold=2, seed=1)
    item = int(task.items_df()["item_id"][0])
    task.submit(item, "a@x.io", "water")
    task.submit(item, "b@x.io", "land")
    ann = store.datasets.get(name="water").items.get(item_id=item).annotations.create("water", author="a@x.io")
    known = {"dataset_id": ds.id, "task_id": task.id, "item_id": item, "annotation_id": ann.id, "app_id": "water",
             "user_id": "a@x.io"}
    return store, store.create_token("admin@x.io", admin=True), known


# The schema is loaded when the module is imported (schemathesis' pytest integration needs it then).
STORE, TOKEN, KNOWN = _fuzz_store()
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(STORE))
schema.config.generation.update(max_examples=MAX_EXAMPLES, deterministic=True, database="none")


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    """Half the time, aim at objects that exist (a random id mostly finds nothing)."""
    from hypothesis import strategies as st

    keys = [k for k in (path_parameters or {}) if k in KNOWN]
    destructive = context.operation.method.upper() == "DELETE" or context.operation.path.endswith("/delete")
    if not keys or destructive:  # keep the known objects alive for the other operations
        return st.just(path_parameters)
    return st.booleans().map(lambda real: {**path_parameters, **({k: KNOWN[k] for k in keys} if real else {})})


@schema.parametrize()
@pytest.mark.slow
def test_no_server_error_and_responses_match_the_spec(case: Any) -> None:
    case.call_and_validate(headers={"Authorization": f"Key {TOKEN}"}, checks=CHECKS)
