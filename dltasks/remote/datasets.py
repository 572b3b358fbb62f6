"""Remote datasets and users: ``store.datasets`` and ``store.users`` of a RemoteStore."""
from __future__ import annotations

import builtins
import datetime as _dt
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import quote

import pandas as pd

from dltasks.annotations import check_label
from dltasks.datasets import Dataset
from dltasks.entities import User
from dltasks.errors import ValidationError
from dltasks.remote import wire
from dltasks.timeutil import from_epoch
from dltasks.users import check_user_id

if TYPE_CHECKING:  # pragma: no cover
    from dltasks.client import RemoteStore
    from dltasks.remote.tasks import RemoteDatasetTasks

__all__ = ["RemoteDataset", "RemoteDatasets", "RemoteUsers", "q"]


def q(value: Any) -> str:
    """One URL path segment (ids may hold ``@``, ``/`` or spaces)."""
    return quote(str(value), safe="")


class RemoteDataset(Dataset):
    """A :class:`~dltasks.datasets.Dataset` on a server: the same methods, over HTTP."""

    def __init__(self, store: RemoteStore, id: str, name: str, created_at: _dt.datetime) -> None:
        from dltasks.remote.items import RemoteAnnotations, RemoteItems

        self._store = store  # type: ignore[assignment]
        self.id, self.name, self.created_at = id, name, created_at
        self.items = RemoteItems(store, self)  # type: ignore[assignment]
        self.annotations = RemoteAnnotations(store, self)  # type: ignore[assignment]

    @property
    def tasks(self) -> RemoteDatasetTasks:  # type: ignore[override]
        """This dataset's tasks (``.create``, ``.create_qa_task``, ``.get``, ``.list``)."""
        from dltasks.remote.tasks import RemoteDatasetTasks

        return RemoteDatasetTasks(self._store, self)  # type: ignore[arg-type]

    @property
    def labels(self) -> list[str]:
        """The label set tasks of this dataset offer, in the order added."""
        return list(self._http.request("GET", f"/api/v1/datasets/{q(self.id)}")["dataset"]["labels"])

    def add_labels(self, labels: str | Iterable[str]) -> list[str]:
        """Add labels to the label set (duplicates ignored); return the new set."""
        new = [labels] if isinstance(labels, str) else list(labels)
        checked = [check_label(lbl, "labels") for lbl in new]
        return list(self._http.request("POST", f"/api/v1/datasets/{q(self.id)}/labels", {"labels": checked})["labels"])

    @property
    def _http(self) -> Any:
        return self._store.http  # type: ignore[attr-defined]


def dataset_from_wire(store: RemoteStore, data: dict[str, Any]) -> RemoteDataset:
    """A :class:`RemoteDataset` from the server's JSON."""
    return RemoteDataset(store, data["id"], data["name"], from_epoch(data["created_at"]))


class RemoteDatasets:
    """``store.datasets`` of a RemoteStore (the methods of :class:`dltasks.datasets.Datasets`)."""

    def __init__(self, store: RemoteStore) -> None:
        self._store, self._http = store, store.http

    def create(self, name: str, labels: Iterable[str] | None = None) -> RemoteDataset:
        """Create a dataset; ``ConflictError`` if the name is taken."""
        checked = [check_label(lbl, "labels") for lbl in (labels or [])]
        body = self._http.request("POST", "/api/v1/datasets", {"name": name, "labels": checked})
        return dataset_from_wire(self._store, body["dataset"])

    def get(self, name: str | None = None, dataset_id: str | None = None) -> RemoteDataset:
        """One dataset by name or id; ``NotFoundError`` if there is none."""
        if name is None and dataset_id is None:
            raise ValidationError("give name or dataset_id", "name", None)
        if dataset_id is not None:
            data = self._http.request("GET", f"/api/v1/datasets/{q(dataset_id)}")["dataset"]
        else:
            data = self._http.request("GET", "/api/v1/datasets", params={"name": name})["datasets"][0]
        return dataset_from_wire(self._store, data)

    def list(self) -> list[RemoteDataset]:
        """Every dataset, by name."""
        return [dataset_from_wire(self._store, d) for d in self._http.request("GET", "/api/v1/datasets")["datasets"]]

    def to_df(self) -> pd.DataFrame:
        """Every dataset with its item count."""
        return wire.frame_from_wire(self._http.request("GET", "/api/v1/datasets-frame")["frame"])

    def delete(self, name: str | None = None, dataset_id: str | None = None) -> bool:
        """Delete a dataset with everything in it."""
        ds = self.get(name=name, dataset_id=dataset_id)
        self._http.request("DELETE", f"/api/v1/datasets/{q(ds.id)}")
        return True


class RemoteUsers:
    """``store.users`` of a RemoteStore."""

    def __init__(self, store: RemoteStore) -> None:
        self._http = store.http

    def create(self, user_id: str, name: str | None = None) -> User:
        """Register a user (admin token); ``ConflictError`` if the id is taken."""
        uid = check_user_id(user_id)
        return wire.user_from_wire(self._http.request("POST", "/api/v1/users", {"id": uid, "name": name})["user"])

    def ensure(self, user_ids: Iterable[str], conn: Any = None, field: str = "assignee_ids") -> builtins.list[str]:
        """Register every id not yet known (admin token); return the ids, checked and stripped."""
        ids = [check_user_id(u, field) for u in user_ids]
        return builtins.list(self._http.request("POST", "/api/v1/users/ensure", {"ids": ids})["ids"])

    def get(self, user_id: str) -> User:
        """One user by id."""
        return wire.user_from_wire(self._http.request("GET", f"/api/v1/users/{q(user_id)}")["user"])

    def list(self) -> list[User]:
        """Every user, by id."""
        return [wire.user_from_wire(u) for u in self._http.request("GET", "/api/v1/users")["users"]]

    def to_df(self) -> pd.DataFrame:
        """Every user as a DataFrame (id, name, created_at)."""
        users = self.list()
        return pd.DataFrame({"id": [u.id for u in users], "name": [u.name for u in users],
                             "created_at": pd.to_datetime([u.created_at for u in users], utc=True)})
