"""Who may run which command: the least role each command route needs."""

from __future__ import annotations

from typing import Final

MEMBER: Final = "member"
MANAGER: Final = "manager"
ADMIN: Final = "admin"

# Route names (the FastAPI operation names) to the least role allowed to call them. A viewer
# reads only. A route missing here needs an admin, so a forgotten entry fails closed.
COMMAND_ROLES: dict[str, str] = {
    # teams
    "create_team": MANAGER,
    "update_team": MANAGER,
    "add_team_member": MANAGER,
    "remove_team_member": MANAGER,
    "set_working_agreement": MANAGER,
    "set_definition_of_done": MANAGER,
    # members
    "create_member": ADMIN,
    "update_member": ADMIN,
    "deactivate_member": ADMIN,
    "reactivate_member": ADMIN,
    # goals
    "create_goal": MANAGER,
    "update_goal": MANAGER,
    "activate_goal": MANAGER,
    "close_goal": MANAGER,
    "add_key_result": MANAGER,
    "check_in_key_result": MEMBER,
    # projects
    "create_project": MANAGER,
    "update_project": MANAGER,
    "change_project_status": MANAGER,
    "post_project_health": MEMBER,
    "add_milestone": MANAGER,
    "complete_milestone": MANAGER,
    "link_project_goal": MANAGER,
    # issues
    "create_issue": MEMBER,
    "update_issue": MEMBER,
    "assign_issue": MEMBER,
    "transition_issue": MEMBER,
    "block_issue": MEMBER,
    "unblock_issue": MEMBER,
    "add_dependency": MEMBER,
    "remove_dependency": MEMBER,
    "link_issue": MEMBER,
    "unlink_issue": MEMBER,
    "comment_on_issue": MEMBER,
    "watch_issue": MEMBER,
    "unwatch_issue": MEMBER,
    # operations
    "create_operation": MANAGER,
    "update_operation": MANAGER,
    "change_cadence": MANAGER,
    "pause_operation": MANAGER,
    "resume_operation": MANAGER,
    "retire_operation": MANAGER,
    "tick_operations": MANAGER,
    "complete_occurrence": MEMBER,
    "skip_occurrence": MEMBER,
}
