"""Clarifai's task API on a live server: the JSON bodies of Clarifai's Tasks guide (seed 003),
sent as written with real user ids, and the errors a client sees."""
from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
import requests

from server_fixtures import LiveServer, live_server  # noqa: F401  (fixture)

ADMIN = "lead@example.com"
W1, W2, W3, REVIEWER = "ann@example.com", "bob@example.com", "cat@example.com", "rev@example.com"
N_ITEMS = 30

# -- the bodies of Clarifai's guide (code_snippets/api-guide/annotate/tasks), real ids filled in --
NON_ASSIGNED = {"tasks": [{
    "type": "CONCEPTS_CLASSIFICATION", "name": "Annotate water", "worker": {"strategy": "FULL"},
    "concept_ids": ["water"], "input_source": {"type": "ALL_INPUTS"}, "sample_ms": 1000,
    "review": {"strategy": "NONE"}}]}


def assigned_body(dataset_id: str) -> dict[str, Any]:
    return {"tasks": [{
        "type": "CONCEPTS_CLASSIFICATION", "name": "Annotate water",
        "worker": {"strategy": "DYNAMIC", "workers": [{"user": {"id": W1}}]},
        "concepts": [{"concept": {"id": "water"}}],
        "input_source": {"type": "DATASET", "id": dataset_id}, "sample_ms": 1000,
        "review": {"strategy": "MANUAL", "manual_strategy_info": {"sample_percentage": 0.5},
                   "users": [{"id": REVIEWER}]}}]}


WEIGHTED = {"tasks": [{
    "type": "CONCEPTS_CLASSIFICATION", "name": "Annotate water",
    "worker": {"strategy": "PARTITIONED", "users": [{"id": W1}, {"id": W2}],
               "partitioned_strategy_info": {"type": "WEIGHTED", "workers_per_input": 1,
                                             "weights": {W1: 90, W2: 10}}},
    "concept_ids": ["water"], "input_source": {"type": "ALL_INPUTS"}, "sample_ms": 1000,
    "review": {"strategy": "NONE"}}]}

CONSENSUS = {"tasks": [{
    "type": "CONCEPTS_CLASSIFICATION", "name": "Annotate water",
    "worker": {"strategy": "PARTITIONED", "workers": [{"user": {"id": W1}}, {"user": {"id": W2}}, {"user": {"id": W3}}],
               "partitioned_strategy_info": {"type": "WEIGHTED", "workers_per_input": 3,
                                             "weights": {W1: 1, W2: 1, W3: 1}}},
    "concepts": [{"concept": {"id": "water"}}], "input_source": {"type": "ALL_INPUTS"}, "sample_ms": 1000,
    "review": {"strategy": "CONSENSUS", "consensus_strategy_info": {"approval_threshold": 2},
               "users": [{"id": REVIEWER}]}}]}


def update_body(task_id: str) -> dict[str, Any]:
    return {"action": "overwrite", "tasks": [{
        "id": task_id, "type": "CONCEPTS_CLASSIFICATION", "name": "Annotate water",
        "worker": {"strategy": "PARTITIONED", "users": [{"id": W1}, {"id": W2}],
                   "partitioned_strategy_info": {"type": "WEIGHTED", "workers_per_input": 1,
                                                 "weights": {W1: 1, W2: 1}}},
        "concept_ids": ["water"], "input_source": {"type": "ALL_INPUTS"}, "sample_ms": 1000,
        "review": {"strategy": "CONSENSUS", "consensus_strategy_info": {"approval_threshold": 2},
                   "users": [{"id": W3}]},
        "status": {"code": "TASK_DONE"}}]}


class Api:
    """``requests`` with a token, against a prefix (``/v2`` or the long user/app route)."""

    def __init__(self, server: LiveServer, token: str, prefix: str = "/v2") -> None:
        self.base = server.url + prefix
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Key {token}"

    def __call__(self, method: str, path: str = "/tasks", **kwargs: Any) -> requests.Response:
        return self.s.request(method, self.base + path, timeout=30, **kwargs)


@pytest.fixture
def setup(live_server: LiveServer) -> tuple[LiveServer, Any, Api]:  # noqa: F811
    """A server whose store has one dataset 'water' of 30 items, and an admin client."""
    ds = live_server.store.datasets.create("water", labels=["water"])
    ds.items.import_df(pd.DataFrame({"name": [f"{i:02d}.jpg" for i in range(N_ITEMS)]}))
    return live_server, ds, Api(live_server, live_server.token(ADMIN, admin=True))


def created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == {"code": 10000, "description": "Ok"}
    return body["tasks"][0]


def test_non_assigned_task_as_written(setup):
    server, ds, api = setup
    task = created(api("POST", json=NON_ASSIGNED))
    assert task["name"] == "Annotate water" and task["type"] == "CONCEPTS_CLASSIFICATION"
    assert task["worker"]["strategy"] == "FULL" and task["worker"]["users"] == []
    assert task["concept_ids"] == ["water"] and task["input_source"] == {"type": "ALL_INPUTS"}
    assert task["review"]["strategy"] == "NONE" and task["status"]["code"] == "TASK_IN_PROGRESS"
    assert task["dltasks"]["dataset_id"] == ds.id
    # nobody is assigned: the first worker to label an item claims it
    sdk_task = server.store.tasks.get(task["id"])
    assert sdk_task.assignee_ids == [] and len(sdk_task.items_df()) == N_ITEMS
    assert sdk_task.submit(int(sdk_task.items_df()["item_id"][0]), W3, "water") == "completed"


def test_assigned_task_as_written(setup):
    server, ds, api = setup
    task = created(api("POST", json=assigned_body(ds.id)))
    assert task["worker"]["strategy"] == "DYNAMIC"
    assert task["worker"]["workers"] == [{"user": {"id": W1}}]
    assert task["concepts"] == [{"concept": {"id": "water"}}]
    assert task["input_source"] == {"type": "DATASET", "id": ds.id}
    assert task["review"]["strategy"] == "MANUAL" and task["review"]["users"] == [{"id": REVIEWER}]
    assert task["review"]["manual_strategy_info"] == {"sample_percentage": 0.5}
    progress = server.store.tasks.get(task["id"]).progress()
    assert progress.loc[W1, "assigned"] == N_ITEMS


def test_weighted_partition_90_10(setup):
    server, _, api = setup
    task = created(api("POST", json=WEIGHTED))
    info = task["worker"]["partitioned_strategy_info"]
    assert info == {"type": "WEIGHTED", "workers_per_input": 1, "weights": {W1: 90, W2: 10}}
    progress = server.store.tasks.get(task["id"]).progress()
    assert (progress.loc[W1, "assigned"], progress.loc[W2, "assigned"]) == (27, 3)  # exactly 90 % / 10 %


def test_consensus_review_three_workers(setup):
    server, _, api = setup
    task = created(api("POST", json=CONSENSUS))
    assert task["worker"]["partitioned_strategy_info"]["workers_per_input"] == 3
    assert task["review"]["strategy"] == "CONSENSUS"
    assert task["review"]["consensus_strategy_info"]["approval_threshold"] == 2
    sdk_task = server.store.tasks.get(task["id"])
    assert list(sdk_task.progress()["assigned"]) == [N_ITEMS] * 3 + [3 * N_ITEMS]
    item = int(sdk_task.items_df()["item_id"][0])
    assert sdk_task.submit(item, W1, "water") == "awaiting_consensus"
    assert sdk_task.submit(item, W2, "water") == "approved"  # two of three agree


def test_get_list_by_worker_and_reviewer(setup):
    server, ds, api = setup
    weighted = created(api("POST", json=WEIGHTED))
    consensus = created(api("POST", json=CONSENSUS))
    assigned = created(api("POST", json=assigned_body(ds.id)))
    got = api("GET", f"/tasks/{weighted['id']}").json()
    assert got["status"]["code"] == 10000 and got["task"]["id"] == weighted["id"]
    assert got["task"]["worker"] == weighted["worker"]

    def ids(**params: Any) -> list[str]:
        r = api("GET", params=params)
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()["tasks"]]

    assert ids() == [assigned["id"], consensus["id"], weighted["id"]]  # newest first
    assert ids(page=1, per_page=2) == [assigned["id"], consensus["id"]]
    assert ids(page=2, per_page=2) == [weighted["id"]]
    assert ids(worker_user_ids=W3) == [consensus["id"]]
    assert ids(worker_user_ids=W2) == [consensus["id"], weighted["id"]]
    assert ids(worker_user_ids=f"{W3},{W1}") == [assigned["id"], consensus["id"], weighted["id"]]
    assert ids(review_user_ids=REVIEWER) == [assigned["id"], consensus["id"]]
    assert ids(ids=[weighted["id"], assigned["id"]]) == [assigned["id"], weighted["id"]]


def test_overwrite_update_as_written(setup):
    server, _, api = setup
    task = created(api("POST", json=WEIGHTED))
    r = api("PATCH", json=update_body(task["id"]))
    new = created(r)
    assert new["id"] == task["id"] and new["status"]["code"] == "TASK_DONE"
    assert new["worker"]["partitioned_strategy_info"]["weights"] == {W1: 1, W2: 1}
    assert new["review"]["strategy"] == "CONSENSUS" and new["review"]["users"] == [{"id": W3}]
    # the guide pairs workers_per_input 1 with approval_threshold 2: each input goes to 2 workers
    assert new["worker"]["partitioned_strategy_info"]["workers_per_input"] == 2
    assert "raised from 1 to 2" in new["dltasks"]["note"]
    sdk_task = server.store.tasks.get(task["id"])
    assert sdk_task.status == "done" and sdk_task.reviewer_ids == [W3]
    assert list(sdk_task.progress()["assigned"]) == [N_ITEMS, N_ITEMS, 2 * N_ITEMS]


def test_delete_several(setup):
    server, _, api = setup
    keep = created(api("POST", json=NON_ASSIGNED))["id"]
    gone = [created(api("POST", json=WEIGHTED))["id"], created(api("POST", json=CONSENSUS))["id"]]
    r = api("DELETE", json={"ids": gone})
    assert r.status_code == 200 and r.json()["status"]["code"] == 10000
    assert [t["id"] for t in api("GET").json()["tasks"]] == [keep]
    assert api("GET", f"/tasks/{gone[0]}").status_code == 404


def test_the_long_route_works_too(setup):
    server, ds, api = setup
    long = Api(server, api.s.headers["Authorization"].split()[1], prefix=f"/v2/users/{ADMIN}/apps/water")
    task = created(long("POST", json=WEIGHTED))
    assert task["app_id"] == "water" and task["dltasks"]["dataset_id"] == ds.id
    assert long("GET", f"/tasks/{task['id']}").json()["task"]["id"] == task["id"]
    assert [t["id"] for t in long("GET").json()["tasks"]] == [task["id"]]
    other = server.store.datasets.create("land", labels=["land"])
    other.items.import_df(pd.DataFrame({"name": ["x.jpg"]}))
    body = copy.deepcopy(NON_ASSIGNED)
    body["tasks"][0]["input_source"] = {"type": "DATASET", "id": "land"}  # a name works as an id
    elsewhere = created(api("POST", json=body))
    assert elsewhere["dltasks"]["dataset_id"] == other.id
    assert [t["id"] for t in long("GET").json()["tasks"]] == [task["id"]]  # the app is the dataset
    assert [t["id"] for t in api("GET").json()["tasks"]] == [elsewhere["id"], task["id"]]  # /v2: the store


def test_new_field_forms_win_over_old_ones(setup):
    server, _, api = setup
    body = copy.deepcopy(CONSENSUS)
    t = body["tasks"][0]
    t["worker"]["users"] = [{"id": "old@example.com"}]
    t["worker"]["user_ids"] = ["older@example.com"]
    t["concept_ids"] = ["old-concept"]
    t["review"]["user_ids"] = ["old-reviewer@example.com"]
    t["review"]["consensus_strategy_info"]["approval_threshold_labelers"] = 3
    task = created(api("POST", json=body))
    assert task["worker"]["user_ids"] == [W1, W2, W3]
    assert task["concept_ids"] == ["water"]
    assert task["review"]["user_ids"] == [REVIEWER]
    assert task["review"]["consensus_strategy_info"]["approval_threshold"] == 3


# -- errors ------------------------------------------------------------------------------------
def error(response: requests.Response, http: int) -> dict[str, Any]:
    assert response.status_code == http, response.text
    status = response.json()["status"]
    assert status["code"] != 10000
    return status


@pytest.mark.parametrize("path, value, field", [
    (("worker", "partitioned_strategy_info", "workers_per_input"), 3,
     "tasks[0].worker.partitioned_strategy_info.workers_per_input"),
    (("worker", "partitioned_strategy_info", "weights"), {W1: 90, "nobody@example.com": 10},
     "tasks[0].worker.partitioned_strategy_info.weights"),
    (("worker", "strategy"), "EVERYONE", "tasks[0].worker.strategy"),
    (("concept_ids",), [""], "tasks[0].concept_ids"),
    (("name",), "", "tasks[0].name"),
    (("review",), {"strategy": "CONSENSUS", "users": [{"id": REVIEWER}]},
     "tasks[0].review.consensus_strategy_info.approval_threshold"),
    (("input_source",), {"type": "DATASET"}, "tasks[0].input_source.id"),
    (("status",), {"code": "TASK_SOMETIMES"}, "tasks[0].status.code"),
], ids=["wpi", "weights", "strategy", "concept", "name", "threshold", "source", "status"])
def test_bad_field_is_named_and_nothing_written(setup, path, value, field):
    server, _, api = setup
    body = copy.deepcopy(WEIGHTED)
    body["tasks"].insert(0, copy.deepcopy(NON_ASSIGNED["tasks"][0]))  # a good task first
    target = body["tasks"][1]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    status = error(api("POST", json=body), 400)
    assert status["field"] == field.replace("tasks[0]", "tasks[1]")
    assert status["description"].startswith(status["field"])
    assert api("GET").json()["tasks"] == []  # the good task was not written either


def test_ambiguous_all_inputs_asks_for_a_dataset(setup):
    server, _, api = setup
    server.store.datasets.create("second")
    status = error(api("POST", json=WEIGHTED), 400)
    assert status["field"] == "tasks[0].input_source.type" and "DATASET" in status["description"]


def test_unknown_dataset_and_task_are_404(setup):
    server, _, api = setup
    body = assigned_body("no-such-dataset")
    assert "no-such-dataset" in error(api("POST", json=body), 404)["description"]
    assert error(api("GET", "/tasks/nope"), 404)["code"] == 54102  # TASK_MISSING
    keep = created(api("POST", json=WEIGHTED))["id"]
    assert error(api("DELETE", json={"ids": [keep, "nope"]}), 404)["description"].endswith("nothing was deleted")
    assert [t["id"] for t in api("GET").json()["tasks"]] == [keep]
    assert error(api("PATCH", json=update_body("nope")), 404)["code"] == 54102


def test_patch_needs_ids_and_overwrite(setup):
    server, _, api = setup
    body = update_body("x")
    del body["tasks"][0]["id"]
    assert error(api("PATCH", json=body), 400)["field"] == "tasks[0].id"
    body = update_body("x")
    body["action"] = "merge"
    assert error(api("PATCH", json=body), 400)["field"] == "action"


def test_malformed_json_and_pagination_bounds(setup):
    server, _, api = setup
    r = api("POST", data=b'{"tasks": [', headers={"Content-Type": "application/json"})
    assert error(r, 400)["code"] == 11100  # CONN_BAD_REQUEST_FORMAT
    assert error(api("GET", params={"per_page": 1001}), 400)["field"] == "per_page"
    assert error(api("GET", params={"page": 0}), 400)["field"] == "page"


def test_auth_errors(setup):
    server, _, api = setup
    r = requests.get(server.url + "/v2/tasks", timeout=10)
    assert error(r, 401)["code"] == 11009 and "Authorization: Key" in r.json()["status"]["description"]
    r = requests.get(server.url + "/v2/tasks", headers={"Authorization": "Key dlt_not-a-token"}, timeout=10)
    assert error(r, 401)["code"] == 11008
    worker = Api(server, server.token(W1))
    assert worker("GET").status_code == 200  # any user may read
    status = error(worker("POST", json=WEIGHTED), 403)
    assert status["code"] == 11007 and "admin token" in status["description"]
    assert api("GET").json()["tasks"] == []


def test_request_size_limit(setup, server_factory):
    server, ds, _ = setup
    small = server_factory(max_body_bytes=10_000)
    api = Api(small, small.token(ADMIN, admin=True))
    body = copy.deepcopy(NON_ASSIGNED)
    body["tasks"][0]["description"] = "x" * 9_000
    body["tasks"] *= 3
    status = error(api("POST", json=body), 413)
    assert status["code"] == 40033 and "limit" in status["description"]
    chunked = api("POST", data=(b" " * 1000 for _ in range(20)), headers={"Content-Type": "application/json"})
    assert error(chunked, 413)["code"] == 40033  # no Content-Length: counted as it arrives
    assert small.store.tasks.list().total == 0


from server_fixtures import server_factory  # noqa: E402,F401  (fixture)


@pytest.mark.parametrize("clarifai_type, annotation_type", [("BOUNDING_BOX_DETECTION", "box"),
                                                            ("POLYGON_DETECTION", "polygon"),
                                                            ("CONCEPTS_CLASSIFICATION", "class")])
def test_a_detection_task_is_a_shape_task_both_ways(setup, clarifai_type, annotation_type):
    server, ds, api = setup
    body = copy.deepcopy(NON_ASSIGNED)
    body["tasks"][0]["type"] = clarifai_type
    task = created(api("POST", json=body))
    assert task["type"] == clarifai_type and task["dltasks"]["annotation_type"] == annotation_type
    assert server.store.tasks.get(task["id"]).annotation_type == annotation_type
    got = api("GET", f"/tasks/{task['id']}").json()["task"]
    assert got["type"] == clarifai_type
    # a task made in dltasks shows Clarifai the type it maps to
    sdk = ds.tasks.create("boxes", annotation_type=annotation_type)
    assert api("GET", f"/tasks/{sdk.id}").json()["task"]["type"] == clarifai_type


def test_dynamic_with_consensus_is_dynamic_overlap(setup):
    server, _, api = setup
    body = {"tasks": [{
        "type": "CONCEPTS_CLASSIFICATION", "name": "Dynamic water",
        "worker": {"strategy": "DYNAMIC", "user_ids": [W1, W2, W3],
                   "partitioned_strategy_info": {"type": "EVENLY", "workers_per_input": 2}},
        "concept_ids": ["water", "land"], "input_source": {"type": "ALL_INPUTS"},
        "review": {"strategy": "CONSENSUS", "consensus_strategy_info": {"approval_threshold": 2},
                   "user_ids": [REVIEWER]}}]}
    task = created(api("POST", json=body))
    assert task["worker"]["strategy"] == "DYNAMIC"
    assert task["worker"]["partitioned_strategy_info"]["workers_per_input"] == 2
    assert task["worker"]["partitioned_strategy_info"]["max_workers"] == 3
    sdk_task = server.store.tasks.get(task["id"])
    assert (sdk_task.worker_strategy, sdk_task.workers_per_input, sdk_task.max_workers) == ("dynamic", 2, 3)
    item = int(sdk_task.items_df()["item_id"][0])
    first, second = sdk_task.assignments_df(role="worker").query("item_id == @item")["user_id"].tolist()
    sdk_task.submit(item, first, "water")
    assert sdk_task.submit(item, second, "land") == "awaiting_consensus"  # a third opinion is asked for
    assert len(sdk_task.assignments_df(role="worker").query("item_id == @item")) == 3
