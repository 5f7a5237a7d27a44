"""What a conversion brought, how it mapped Jira's names, and everything it left behind."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tally:
    """How often something was met, and the first issue it was met on."""

    count: int
    example: str


@dataclass
class JiraReport:
    """Filled in by the conversion. Nothing it doesn't bring is dropped without a word here:
    fields and changelog fields it doesn't map, link types other than "Blocks", statuses it
    has no workflow status for, users it had to give an address, and each skipped item."""

    project_keys: dict[str, str] = field(default_factory=dict)
    status_mapping: dict[str, str] = field(default_factory=dict)
    kind_mapping: dict[str, str] = field(default_factory=dict)
    priority_mapping: dict[str, str] = field(default_factory=dict)
    unmapped_statuses: dict[str, Tally] = field(default_factory=dict)
    unmapped_priorities: dict[str, Tally] = field(default_factory=dict)
    unknown_fields: dict[str, Tally] = field(default_factory=dict)
    unknown_changes: dict[str, Tally] = field(default_factory=dict)
    links_not_brought: dict[str, Tally] = field(default_factory=dict)
    users_without_email: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str, by: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + by

    def skip(self, issue_key: str, what: str) -> None:
        self.skipped.append(f"{issue_key}: {what}")

    def text_lines(self) -> list[str]:
        """The report for a person to read, one line each."""
        out = ["Brought:"]
        out += [f"  {what}: {n}" for what, n in sorted(self.counts.items())]
        out += _mapping("Projects (Jira key → workledger key):", self.project_keys)
        out += _mapping("Statuses (Jira → workledger):", self.status_mapping)
        out += _mapping("Issue types (Jira → kind):", self.kind_mapping)
        out += _mapping("Priorities (Jira → workledger):", self.priority_mapping)
        out += _tallies(
            "Statuses with no workledger status (changes to them skipped):",
            self.unmapped_statuses,
        )
        out += _tallies("Priorities not known (brought as none):", self.unmapped_priorities)
        out += _tallies("Fields not brought:", self.unknown_fields)
        out += _tallies("Changelog fields not replayed:", self.unknown_changes)
        out += _tallies("Issue links not brought (only Blocks is):", self.links_not_brought)
        out += _mapping("Users without an email (given an address):", self.users_without_email)
        if self.skipped:
            out.append("Skipped:")
            out += [f"  {what}" for what in self.skipped]
        return out


def note(table: dict[str, Tally], name: str, issue_key: str) -> None:
    """Counts one more of ``name`` in ``table``, remembering the first issue it was seen on."""
    tally = table.get(name)
    if tally is None:
        table[name] = Tally(1, issue_key)
    else:
        tally.count += 1


def _mapping(title: str, mapping: dict[str, str]) -> list[str]:
    if not mapping:
        return []
    return [title, *(f"  {name} → {value}" for name, value in sorted(mapping.items()))]


def _tallies(title: str, table: dict[str, Tally]) -> list[str]:
    if not table:
        return []
    rows = sorted(table.items(), key=lambda row: (-row[1].count, row[0]))
    return [title, *(f"  {name}: {t.count} (e.g. {t.example})" for name, t in rows)]
