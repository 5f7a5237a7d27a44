"""Jira's users as workledger members: matched by email or created just before they first act,
added to the team of each project they work in, and deactivated after their last act when Jira
shows them deleted or inactive."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from contracts.commands import AddTeamMember, CreateMember
from services.importing.jira.export import JiraUser
from services.importing.jira.mapping import JiraOptions
from services.importing.jira.report import JiraReport
from services.importing.jira.schedule import Rank, Scheduled, derived_id, schedule

# Where users Jira shows without an email get one: ``.invalid`` is reserved (RFC 2606), so no
# message is ever delivered to such an address.
PLACEHOLDER_DOMAIN = "users.jira.invalid"
_NOT_IN_ADDRESS = re.compile(r"[^a-z0-9._:+-]")
_MAX_NAME = 200


@dataclass
class _Appearances:
    """When a user acted or was given work: first in each project, and last of all."""

    first_in: dict[str, datetime] = field(default_factory=dict)
    last: datetime | None = None


class People:
    def __init__(self, site: str, options: JiraOptions, report: JiraReport) -> None:
        self._site = site
        self._options = options
        self._existing = {email.lower(): id for email, id in options.existing_members.items()}
        self._report = report
        self._users: dict[str, JiraUser] = {}
        self._seen: dict[str, _Appearances] = {}

    def know(self, user: JiraUser | None) -> None:
        """Merges what one more mention tells of a user: any email found, and "inactive" if
        any mention says so."""
        if user is None:
            return
        known = self._users.get(user.account_id)
        if known is None:
            self._users[user.account_id] = user
            return
        name = known.name if known.name != known.account_id else user.name
        self._users[user.account_id] = replace(
            known, name=name, email=known.email or user.email, active=known.active and user.active
        )

    def know_account(self, account_id: str | None, name: str | None) -> None:
        """A user a changelog names only by account id and display name."""
        if account_id:
            self.know(JiraUser(account_id, name or account_id, None, True))

    def email(self, account_id: str) -> str:
        user = self._users[account_id]
        if user.email:
            return user.email.lower()
        local = _NOT_IN_ADDRESS.sub("-", account_id.lower())
        return f"{local}@{PLACEHOLDER_DOMAIN}"

    def by_email(self, email: str) -> str | None:
        """The account id of the user with this email, if the export has one."""
        wanted = email.strip().lower()
        return next((a for a in sorted(self._users) if self.email(a) == wanted), None)

    def existing(self, email: str) -> UUID | None:
        return self._existing.get(email.strip().lower())

    def member_id(self, account_id: str) -> UUID:
        existing = self._existing.get(self.email(account_id))
        return existing or derived_id(self._site, "user", account_id)

    def appear(self, account_id: str | None, at: datetime, project: str) -> UUID | None:
        """Notes that the user acts (or is given work) at ``at`` in ``project``; their id."""
        return self.member_id_at(account_id, at, project) if account_id is not None else None

    def member_id_at(self, account_id: str, at: datetime, project: str) -> UUID:
        if account_id not in self._users:
            self.know_account(account_id, None)
        seen = self._seen.setdefault(account_id, _Appearances())
        first = seen.first_in.get(project)
        if first is None or at < first:
            seen.first_in[project] = at
        if seen.last is None or at > seen.last:
            seen.last = at
        return self.member_id(account_id)

    def actor(self, user: JiraUser | None, at: datetime, project: str) -> UUID | None:
        return self.appear(user.account_id if user else None, at, project)

    def schedule(self, teams: Mapping[str, UUID]) -> list[Scheduled]:
        """Each user who appears: created (or, when they exist already, added to the team)
        before their first appearance, added to the team of every further project they work
        in, and deactivated after their last appearance if Jira shows them gone."""
        out: list[Scheduled] = []
        for account_id in sorted(self._seen):
            seen = self._seen[account_id]
            member_id = self.member_id(account_id)
            firsts = sorted((at, project) for project, at in seen.first_in.items())
            existing = self._existing.get(self.email(account_id)) is not None
            if existing:
                self._report.count("members matched by email")
            else:
                at, project = firsts.pop(0)
                out.append(self._create(account_id, member_id, at, teams[project]))
            for at, project in firsts:
                path = f"POST /v1/teams/{teams[project]}/members"
                out.append(schedule(path, at, Rank.JOIN, None, AddTeamMember(member_id=member_id)))
            if not existing and not self._users[account_id].active and seen.last is not None:
                path = f"POST /v1/members/{member_id}/deactivate"
                out.append(schedule(path, seen.last, Rank.DEACTIVATE, None))
                self._report.count("members deactivated")
        return out

    def _create(self, account_id: str, member_id: UUID, at: datetime, team: UUID) -> Scheduled:
        user = self._users[account_id]
        email = self.email(account_id)
        if not user.email:
            self._report.users_without_email[f"{user.name} ({account_id})"] = email
        self._report.count("members created")
        body = CreateMember(
            name=_name(user.name),
            email=email,
            role="member",
            weekly_capacity=self._options.weekly_capacity,
            team_ids=[team],
        )
        return schedule("POST /v1/members", at, Rank.MEMBER, None, body, id=member_id)


def _name(text: str) -> str:
    return text.strip()[:_MAX_NAME]
