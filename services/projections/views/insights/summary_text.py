"""A summary as plain text: a few short paragraphs an executive reads in under a minute, with
names, never ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

# Names listed in a sentence before "and N more".
NAMED: Final = 5


def _names(entries: list[dict[str, Any]], total: int, with_due: bool = False) -> str:
    shown = [
        # An occurrence's name carries its due date already.
        f"{entry['name']} (due {entry['due_date']})"
        if with_due and entry["kind"] != "occurrence"
        else str(entry["name"])
        for entry in entries[:NAMED]
    ]
    if total > len(shown):
        shown.append(f"{total - len(shown)} more")
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _day(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y")


def _number(value: float) -> str:
    """A key result's value as people write it: thousands grouped, at most two decimals."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _progress(value: float | None) -> str:
    return "no key results" if value is None else f"{value:.0%}"


def render(summary: dict[str, Any]) -> str:
    finished, opened = summary["finished"], summary["opened"]
    slipped, blocked = summary["slipped"], summary["blocked"]
    lines = [
        f"Status of {summary['scope_name']}, {_day(summary['since'])} to {_day(summary['until'])}",
        "",
    ]
    done = f"Finished: {_plural(finished['count'], 'issue')}"
    if finished["count"]:
        done += (
            f" ({finished['planned']} planned, {finished['unplanned']} unplanned, "
            f"{finished['points']:g} points): {_names(finished['items'], finished['count'])}"
        )
    recurring = finished["occurrences_completed"] + finished["occurrences_skipped"]
    if recurring:
        done += (
            f"; recurring work: {finished['occurrences_completed']} done, "
            f"{finished['occurrences_skipped']} skipped"
        )
    lines.append(done + ".")
    new = f"Opened: {_plural(opened['count'], 'issue')}"
    if opened["count"]:
        new += (
            f" ({opened['planned']} planned, {opened['unplanned']} unplanned): "
            f"{_names(opened['items'], opened['count'])}"
        )
    lines.append(new + ".")
    slips = []
    if slipped["passed_count"]:
        slips.append(
            f"{_plural(slipped['passed_count'], 'item')} went past the due date while open: "
            + _names(slipped["passed"], slipped["passed_count"], with_due=True)
        )
    if slipped["moved_count"]:
        slips.append(
            f"{_plural(slipped['moved_count'], 'due date')} moved: "
            + _names(slipped["moved"], slipped["moved_count"])
        )
    lines.append("Slipped: " + ("; ".join(slips) if slips else "nothing") + ".")
    if blocked["count"]:
        lines.append(
            f"Blocked now: {_plural(blocked['count'], 'issue')}: "
            f"{_names(blocked['items'], blocked['count'])}."
        )
    else:
        lines.append("Blocked now: nothing.")
    if summary["goals"]:
        lines += ["", "Goals:"]
        for goal in summary["goals"]:
            moved = [
                f"{kr['title']} {_number(kr['before'])} → {_number(kr['after'])} "
                f"of {_number(kr['target'])}"
                for kr in goal["key_results"]
                if kr["before"] is not None and kr["before"] != kr["after"]
            ]
            line = (
                f"- {goal['title']}: {_progress(goal['progress_before'])} → "
                f"{_progress(goal['progress_after'])}"
            )
            if moved:
                line += f" ({'; '.join(moved)})"
            lines.append(line)
    if summary["forecasts"]:
        lines += ["", "Forecasts that changed:"]
        for change in summary["forecasts"]:
            lines.append(
                f"- {change['project']['name']} (target {change['target_date']}): "
                f"{_chance(change['before'])} → {_chance(change['after'])}"
            )
    if summary["insights"]:
        lines += ["", "Needs attention:"]
        lines += [f"- {insight['explanation']}" for insight in summary["insights"]]
    return "\n".join(lines) + "\n"


def _chance(forecast: dict[str, Any] | None) -> str:
    if forecast is None:
        return "too little history to forecast"
    p85 = forecast["p85_date"] or "beyond ten years"
    return f"{forecast['probability_by_target']:.0%} by target, 85% by {p85}"
