"""An insight as the API shows it: a stable id, kind, severity, the objects it is about, a
sentence, since when it holds, and its evidence (the facts, with the log positions of the
events that made them so)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Final, Literal
from uuid import UUID, uuid5

from services.projections.readmodel import from_micros

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: Final[dict[str, int]] = {"critical": 0, "warning": 1, "info": 2}
KINDS: Final = (
    "goal_at_risk",
    "work_on_goal_at_risk",
    "project_slipping",
    "overloaded",
    "operation_unhealthy",
    "aging_work",
    "stale_work",
    "due_date_churn",
    "idle_capacity",
    "triage",
)
KIND_RANK: Final = {kind: number for number, kind in enumerate(KINDS)}
# Insight ids are name-based UUIDs in this namespace: the same kind on the same objects, the
# same id, in every store.
NAMESPACE: Final = UUID("6f1d8a52-3c1e-5b7a-9d2e-8a4c0f6b1e37")
DAY_MICROS: Final = 86_400_000_000


def ref(kind: str, object_id: str, name: str | None) -> dict[str, Any]:
    """An object an insight is about or draws on: its kind, id and name."""
    return {"kind": kind, "id": object_id, "name": name}


def fact(about: dict[str, Any], values: dict[str, Any], *positions: int | None) -> dict[str, Any]:
    """One piece of evidence: an object, the values that matter, and the log positions of the
    events that made them so."""
    found = sorted({position for position in positions if position is not None})
    return {"object": about, "values": values, "positions": found}


@dataclass
class Insight:
    """An insight judged; its sentence and evidence are written out only for the page shown
    (``details``), since an organisation may hold thousands."""

    kind: str
    severity: Severity
    objects: list[dict[str, Any]]
    since: int
    # The teams, projects, goals and members it belongs to: which scopes show it.
    scopes: frozenset[tuple[str, str]]
    explanation: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    score: dict[str, Any] | None = None
    details: Callable[[], tuple[str, list[dict[str, Any]]]] | None = None
    # Whether the items committing an overloaded owner are named in its evidence yet.
    committed_named: bool = False

    def written(self) -> Insight:
        """Itself with its sentence and evidence written out."""
        if self.details is not None:
            self.explanation, evidence = self.details()
            self.evidence = [*evidence, *self.evidence]
            self.details = None
        return self

    @cached_property
    def about(self) -> str:
        """The kind and the objects, in a canonical order: what the id is made from."""
        objects = ",".join(sorted(f"{o['kind']}:{o['id']}" for o in self.objects))
        return f"{self.kind}|{objects}"

    @property
    def id(self) -> str:
        return str(uuid5(NAMESPACE, self.about))

    @cached_property
    def order(self) -> tuple[int, int, float, int, str]:
        """Most severe first; within a kind, the highest score (triage) or the longest held."""
        score = -float(self.score["total"]) if self.score else 0.0
        return (SEVERITY_RANK[self.severity], KIND_RANK[self.kind], score, self.since, self.about)

    def document(self) -> dict[str, Any]:
        self.written()
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "objects": self.objects,
            "explanation": self.explanation,
            "since": from_micros(self.since),
            "evidence": self.evidence,
            "score": self.score,
        }


def days(micros: int | float) -> float:
    """A span in days, to one decimal."""
    return round(micros / DAY_MICROS, 1)


def counted(amount: float, unit: str) -> str:
    """``amount`` of ``unit`` in words: "1 day", "2.5 days", "3 items"."""
    return f"{amount:g} {unit}" if amount == 1 else f"{amount:g} {unit}s"


def moment(micros: int | None) -> datetime | None:
    return from_micros(micros) if micros is not None else None
