"""The goal tree: every goal with its key results, progress and linked work, aligned under its
parent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain import goal as goals
from services.projections.views.portfolio.tables import loads


def done_and_total(tally: Mapping[str, Any]) -> dict[str, float]:
    """A tally's done and total work; a tally not made yet (``NULL``s) is no work."""
    return {
        "issues_total": int(tally["issues_total"] or 0),
        "issues_done": int(tally["issues_done"] or 0),
        "estimate_total": float(tally["estimate_total"] or 0.0),
        "estimate_done": float(tally["estimate_done"] or 0.0),
    }


def work_progress(work: Mapping[str, float]) -> float | None:
    return goals.work_progress(
        int(work["issues_done"]),
        int(work["issues_total"]),
        work["estimate_done"],
        work["estimate_total"],
    )


def goal_nodes(rows: Sequence[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """Every goal as a node of the tree (children not yet attached), by id."""
    nodes: dict[str, dict[str, Any]] = {}
    for (
        goal_id,
        title,
        status,
        owner_id,
        owner_name,
        team_id,
        period_start,
        period_end,
        parent_id,
        key_results_text,
        issues_total,
        issues_done,
        estimate_total,
        estimate_done,
    ) in rows:
        key_results = [
            {
                "id": kr["id"],
                "title": kr["title"],
                "unit": kr["unit"],
                "start": kr["start"],
                "target": kr["target"],
                "current": kr["current"],
                "progress": goals.progress_between(kr["start"], kr["target"], kr["current"]),
            }
            for kr in loads(key_results_text)
        ]
        work = done_and_total(
            {
                "issues_total": issues_total,
                "issues_done": issues_done,
                "estimate_total": estimate_total,
                "estimate_done": estimate_done,
            }
        )
        progress = goals.mean_progress([kr["progress"] for kr in key_results])
        basis: str | None = "key_results"
        if progress is None:
            progress = work_progress(work)
            basis = "work" if progress is not None else None
        nodes[goal_id] = {
            "id": goal_id,
            "title": title,
            "status": status,
            "owner": {"id": owner_id, "name": owner_name},
            "team_id": team_id,
            "period_start": period_start,
            "period_end": period_end,
            "progress": progress,
            "progress_basis": basis,
            "key_results": key_results,
            "linked_work": work,
            "_parent": parent_id,
        }
    return nodes


def goal_tree(nodes: Mapping[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The goals as a forest: roots, then the goals aligned under each, by title."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for node in nodes.values():
        parent = node["_parent"] if node["_parent"] in nodes else None
        children.setdefault(parent, []).append(node)

    def level(parent: str | None) -> list[dict[str, Any]]:
        found = sorted(children.get(parent, ()), key=lambda node: (node["title"], node["id"]))
        return [
            {**{k: v for k, v in node.items() if k != "_parent"}, "children": level(node["id"])}
            for node in found
        ]

    return level(None)
