"""Every public method of the local repositories exists on the remote ones with the same
parameters, so SDK code written for a local store runs on a server unchanged (and a new SDK
method without a remote twin fails here, not in a user's notebook)."""
from __future__ import annotations

import inspect

import pytest

from dltasks.annotations import Annotations
from dltasks.datasets import Datasets
from dltasks.items import Items
from dltasks.remote.datasets import RemoteDatasets, RemoteUsers
from dltasks.remote.items import RemoteAnnotations, RemoteItems
from dltasks.remote.tasks import RemoteDatasetTasks, RemoteTasks, RemoteWork
from dltasks.task_work import LocalWork
from dltasks.tasks import DatasetTasks, Tasks
from dltasks.users import Users

PAIRS = [(Datasets, RemoteDatasets), (Users, RemoteUsers), (Items, RemoteItems), (Annotations, RemoteAnnotations),
         (Tasks, RemoteTasks), (DatasetTasks, RemoteDatasetTasks), (LocalWork, RemoteWork)]
#: Methods entities call on their repository (item.update(), annotation.delete(), task.update() …).
ENTITY_HOOKS = {"Items": ["_update_item", "_page"], "Annotations": ["_create", "_list", "_update_annotation"],
                "Tasks": ["_overwrite"]}


def _params(fn: object) -> list[str]:
    return [p for p in inspect.signature(fn).parameters if p != "self"]  # type: ignore[arg-type]


@pytest.mark.parametrize("local, remote", PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_remote_repositories_have_every_local_method(local, remote):
    names = [n for n, f in inspect.getmembers(local, inspect.isfunction) if not n.startswith("_")]
    names += ENTITY_HOOKS.get(local.__name__, [])
    for name in names:
        assert hasattr(remote, name), f"{remote.__name__} lacks {name}()"
        assert _params(getattr(remote, name)) == _params(getattr(local, name)), f"{remote.__name__}.{name}"
