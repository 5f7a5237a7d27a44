from uuid import uuid4

from domain import team
from domain.errors import AlreadyExists, InvalidInput, MemberInactive, NotFound
from tests.domain.spec import Spec

spec = Spec(team.decide, team.evolve)
TEAM = uuid4()
ALICE = uuid4()
created = team.TeamCreated(TEAM, "Payments", None)


def test_a_team_is_created_with_a_trimmed_name() -> None:
    assert spec.given().when(team.CreateTeam(TEAM, "  Payments ", 30)) == [
        team.TeamCreated(TEAM, "Payments", 30)
    ]


def test_a_team_can_not_be_created_twice() -> None:
    spec.given(created).rejects(team.CreateTeam(TEAM, "Again"), AlreadyExists)


def test_a_team_needs_a_name() -> None:
    error = spec.given().rejects(team.CreateTeam(TEAM, "   "), InvalidInput)
    assert error.field == "name"


def test_a_negative_capacity_is_refused() -> None:
    spec.given().rejects(team.CreateTeam(TEAM, "Payments", -1), InvalidInput)


def test_commands_on_a_missing_team_are_not_found() -> None:
    spec.given().rejects(team.RenameTeam("Billing"), NotFound)


def test_renaming_to_the_same_name_changes_nothing() -> None:
    assert spec.given(created).when(team.RenameTeam("Payments")) == []


def test_a_team_is_renamed() -> None:
    assert spec.given(created).when(team.RenameTeam("Billing")) == [team.TeamRenamed("Billing")]


def test_capacity_can_be_set_and_returned_to_the_default() -> None:
    assert spec.given(created).when(team.SetTeamCapacity(20)) == [team.TeamCapacitySet(20)]
    given = spec.given(created, team.TeamCapacitySet(20))
    assert given.when(team.SetTeamCapacity(None)) == [team.TeamCapacitySet(None)]


def test_an_active_member_joins_once() -> None:
    assert spec.given(created).when(team.AddTeamMember(ALICE, member_active=True)) == [
        team.TeamMemberAdded(ALICE)
    ]
    given = spec.given(created, team.TeamMemberAdded(ALICE))
    assert given.when(team.AddTeamMember(ALICE, member_active=True)) == []


def test_a_deactivated_member_can_not_join() -> None:
    spec.given(created).rejects(team.AddTeamMember(ALICE, member_active=False), MemberInactive)


def test_a_member_leaves_a_team_they_are_in() -> None:
    given = spec.given(created, team.TeamMemberAdded(ALICE))
    assert given.when(team.RemoveTeamMember(ALICE)) == [team.TeamMemberRemoved(ALICE)]
    spec.given(created).rejects(team.RemoveTeamMember(ALICE), NotFound)


def test_each_working_agreement_change_is_a_new_revision() -> None:
    given = spec.given(created, team.WorkingAgreementUpdated("Reviews within a day", 1))
    assert given.when(team.SetWorkingAgreement("Reviews within two days")) == [
        team.WorkingAgreementUpdated("Reviews within two days", 2)
    ]
    assert given.when(team.SetWorkingAgreement("Reviews within a day")) == []


def test_the_definition_of_done_is_a_checklist_of_non_empty_items() -> None:
    assert spec.given(created).when(team.SetDefinitionOfDone((" Tests pass", "Docs"))) == [
        team.DefinitionOfDoneUpdated(("Tests pass", "Docs"))
    ]
    spec.given(created).rejects(team.SetDefinitionOfDone(("ok", " ")), InvalidInput)


def test_evolve_builds_the_state() -> None:
    state = spec.state(
        created,
        team.TeamMemberAdded(ALICE),
        team.WorkingAgreementUpdated("Be kind", 1),
        team.TeamRenamed("Billing"),
    )
    assert state == team.Team(
        TEAM, "Billing", None, frozenset({ALICE}), "Be kind", 1, definition_of_done=()
    )


def test_an_active_member_becomes_a_lead_once_whether_or_not_they_are_in_the_team() -> None:
    assert spec.given(created).when(team.AddTeamLead(ALICE, member_active=True)) == [
        team.TeamLeadAdded(ALICE)
    ]
    given = spec.given(created, team.TeamLeadAdded(ALICE))
    assert given.when(team.AddTeamLead(ALICE, member_active=True)) == []


def test_a_deactivated_member_can_not_become_a_lead() -> None:
    error = spec.given(created).rejects(
        team.AddTeamLead(ALICE, member_active=False), MemberInactive
    )
    assert error.field == "member_id"


def test_a_lead_steps_down_only_from_a_team_they_lead() -> None:
    given = spec.given(created, team.TeamLeadAdded(ALICE))
    assert given.when(team.RemoveTeamLead(ALICE)) == [team.TeamLeadRemoved(ALICE)]
    error = spec.given(created).rejects(team.RemoveTeamLead(ALICE), NotFound)
    assert error.field == "member_id"


def test_leads_are_kept_apart_from_members() -> None:
    state = spec.state(created, team.TeamMemberAdded(ALICE), team.TeamLeadAdded(ALICE))
    assert state is not None
    assert state.lead_ids == {ALICE}
    after = spec.state(created, team.TeamLeadAdded(ALICE), team.TeamMemberRemoved(ALICE))
    assert after is not None
    assert after.lead_ids == {ALICE}
    assert after.member_ids == frozenset()
