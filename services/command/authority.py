"""Which teams a command may change: the reach of a manager, who manages the teams they lead.

A route declares the least role that may call it; a manager's token that calls a route declared
for managers acts with a *bounded* authority: the command may target and change only objects of
the teams its member leads (the team itself, its projects, goals and operations). Admins, the
system (the scheduler, the first start) and imports act without bound, and a manager calling a
route declared for members acts as any member does, on any team's work.

Whether a team is led by the member is judged from the team's own stream, loaded in the command's
session like any object the command reads: its version is checked when the command commits, so a
lead removed meanwhile makes the command be decided again, and refused. No read model is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain import goal, issue, operation, project, team
from domain.catalog import TEAM, Aggregate
from domain.errors import DomainError

if TYPE_CHECKING:
    from services.command.handler import Action, Reply, Session


class NotLed(DomainError):
    """A manager's command on a team they don't lead, or on work bound to no team."""

    code = "forbidden"


@dataclass(frozen=True)
class Authority:
    """Whom a command acts for, as far as teams go: every team, or those ``lead`` leads."""

    bounded: bool = False
    lead: UUID | None = None
    """The member whose leads bound the command (``None``: a token acting for no member)."""

    def guard(self, action: Action, target: tuple[Aggregate[Any, Any, Any], UUID] | None) -> Action:
        """``action``, refused unless every object it targets or writes is in a team the lead
        leads (unbounded authority: ``action`` itself)."""
        if not self.bounded:
            return action

        def guarded(s: Session) -> Reply:
            if target is not None:
                aggregate, stream_id = target
                state = s.load(aggregate, stream_id).state
                if state is not None:
                    # Judged before the command, so a refused manager hears 403 rather than
                    # whatever the rules would have said about the object.
                    self._require_lead(s, team_of(state))
            reply = action(s)
            for state in s.written_states():
                self._require_lead(s, team_of(state))
            return reply

        return guarded

    def _require_lead(self, s: Session, team_id: UUID | None) -> None:
        if team_id is None:
            raise NotLed("only an admin may change what belongs to no team")
        led = s.load(TEAM, team_id).state
        if led is None or self.lead is None or self.lead not in led.lead_ids:
            raise NotLed(
                "a manager may change only the teams they lead and their work; "
                f"the token's member does not lead team {team_id}"
            )


EVERY_TEAM = Authority()


def leading(member_id: UUID | None) -> Authority:
    """The authority of a manager acting for ``member_id``: the teams the member leads."""
    return Authority(bounded=True, lead=member_id)


def team_of(state: object) -> UUID | None:
    """The team an object belongs to; ``None`` for one that belongs to none (a member, a goal
    of the whole organisation)."""
    match state:
        case team.Team():
            return state.id
        case project.Project() | goal.Goal() | operation.Operation() | issue.Issue():
            return state.team_id
        case _:
            return None
