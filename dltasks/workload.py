"""dtlpy's ``Workload``: how a task's items are shared between assignees, in percent.

Examples
--------
>>> w = Workload.generate(["a@x.io", "b@x.io", "c@x.io"])
>>> [(u.assignee_id, u.load) for u in w]
[('a@x.io', 34.0), ('b@x.io', 33.0), ('c@x.io', 33.0)]
>>> w.to_weights()
{'a@x.io': 34.0, 'b@x.io': 33.0, 'c@x.io': 33.0}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Sequence

from dltasks.errors import ValidationError

__all__ = ["Workload", "WorkloadUnit"]


@dataclass(frozen=True)
class WorkloadUnit:
    """One assignee's share of a task, in percent."""

    assignee_id: str
    load: float = 0.0


class Workload:
    """A list of :class:`WorkloadUnit` (dtlpy ``dl.Workload``)."""

    def __init__(self, workload: Sequence[WorkloadUnit] | None = None) -> None:
        self.workload: list[WorkloadUnit] = list(workload or [])

    @classmethod
    def generate(cls, assignee_ids: Sequence[str], loads: Sequence[float] | None = None) -> Workload:
        """Even percentages for ``assignee_ids`` (remainder to the first ones), or the given ``loads``."""
        ids = list(assignee_ids)
        if not ids:
            raise ValidationError("needs at least one assignee", "assignee_ids", ids)
        if loads is None:
            base, extra = divmod(100, len(ids))
            loads = [float(base + (1 if i < extra else 0)) for i in range(len(ids))]
        if len(loads) != len(ids):
            raise ValidationError("needs one load per assignee", "loads", list(loads))
        return cls([WorkloadUnit(a, float(v)) for a, v in zip(ids, loads)])

    def add(self, assignee_id: str, load: float = 0.0) -> None:
        """Add an assignee with a load (percent)."""
        self.workload.append(WorkloadUnit(assignee_id, float(load)))

    def to_weights(self) -> dict[str, float]:
        """``{assignee_id: load}`` as the task options take it."""
        return {u.assignee_id: u.load for u in self.workload}

    def __iter__(self) -> Iterator[WorkloadUnit]:
        return iter(self.workload)

    def __len__(self) -> int:
        return len(self.workload)

    def __repr__(self) -> str:
        return f"Workload({self.workload!r})"
