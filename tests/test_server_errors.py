"""The server's error envelope: each dltasks error gets its HTTP status and a Clarifai-like code."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import dltasks as dl
from dltasks.server.errors import _loc_to_field, error_body


@pytest.mark.parametrize("exc, tasks_route, http, code", [
    (dl.ValidationError("must be >= 1", "workers_per_input", 0), False, 400, 11102),
    (dl.PermissionDeniedError("not yours"), False, 403, 11007),
    (dl.NotFoundError("no task with id 'x'"), True, 404, 54102),
    (dl.NotFoundError("no dataset named 'x'"), False, 404, 11101),
    (dl.ConflictError("taken"), True, 409, 54100),
    (dl.ConflictError("taken"), False, 409, 40010),
    (dl.errors.StoreBusyError("database busy: database is locked"), False, 503, 10030),
    (dl.DltasksError("database error: attempt to write a readonly database"), False, 500, 98005),
    (RuntimeError("bug"), False, 500, 98004),
], ids=["validation", "permission", "task-missing", "not-found", "task-conflict", "conflict", "locked", "read-only",
        "bug"])
def test_error_statuses(exc, tasks_route, http, code):
    got_http, body = error_body(exc, tasks_route)
    assert (got_http, body["status"]["code"]) == (http, code)
    if code == 98004:
        assert body["status"]["description"] == "internal server error"  # no internals of a bug leak


def test_a_full_connection_pool_is_a_retryable_store_error():
    """The SQL backend turns SQLAlchemy's pool timeout into a DltasksError, which the server answers 503."""
    from dltasks.backends.sql.engine import translate_errors

    with pytest.raises(dl.DltasksError) as caught:
        with translate_errors():
            raise sa.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")
    assert error_body(caught.value)[0] == 503


def test_validation_error_carries_field_message_and_value():
    _, body = error_body(dl.ValidationError("must be >= 1", "workers_per_input", 0))
    assert body["status"] == {"code": 11102, "description": "workers_per_input: must be >= 1 (got 0)",
                              "field": "workers_per_input", "message": "must be >= 1", "value": 0}
    _, body = error_body(dl.ValidationError("give name or dataset_id"))
    assert "value" not in body["status"] and "field" not in body["status"]


def test_pydantic_locations_become_json_paths():
    assert _loc_to_field(("body", "tasks", 0, "worker", "users", 1, "id")) == "tasks[0].worker.users[1].id"
    assert _loc_to_field(("body", "tasks", 0, "status", "code", "literal['TASK_DONE']")) == "tasks[0].status.code"
    assert _loc_to_field(("query", "per_page")) == "per_page"
    assert _loc_to_field(("body",)) == "body"
