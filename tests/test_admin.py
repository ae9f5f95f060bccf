"""The Admin section of the App Home, used through the double as admins use it: people,
roles, teams, routing rules and the CC list, each change at once and in the audit trail."""

from __future__ import annotations

import json

from bot.app import Casedesk
from bot.services.directory import Role
from slack_double import Person, SlackDouble
from slack_double.blockkit import view_errors
from slack_double.people import Modal
from tests.conftest import AGENT, AGENT2, GENERAL, OUTSIDER, REPORTER, SUPPORT, People
from tests.test_ticket_flow import file_ticket

BOT_USER = "U0DOUBLEBT"  # not in the workspace's people


def dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def kinds(desk: Casedesk) -> list[str]:
    return [e.kind for e in reversed(desk.deps.directory.events(200))]


def open_from_home(person: Person, label: str, near: str | None = None) -> Modal:
    person.open_home()
    env = person.click_home(label, near=near)
    return person.modal_from(env.payload["trigger_id"])


def add_agent(person: Person, user: str, role: str = "Agent: works tickets") -> Modal:
    modal = open_from_home(person, "Add agent")
    modal.pick_user("Person", user).choose("Role", role)
    modal.submit()
    return modal


def home_text(person: Person) -> str:
    return dump(person.home())


def test_an_admin_adds_an_agent_who_can_work_at_once(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    home = people.agent.open_home()
    assert view_errors(home) == []
    assert "Admin" in home_text(people.agent) and "Add agent" in home_text(people.agent)
    modal = open_from_home(people.agent, "Add agent")
    assert modal.labels() == ["Person", "Role", "Teams"]
    modal.pick_user("Person", OUTSIDER)
    assert modal.submit() is None and modal.closed
    assert desk.deps.directory.role_of(OUTSIDER) is Role.AGENT
    assert [t.name for t in desk.deps.directory.teams_of(OUTSIDER)] == ["Support"]
    # No restart: the new agent takes the ticket at once.
    people.outsider.click(card, "Assign to Me")
    double.wait_thread_reply(card, "assigned TCK-000001 to themselves")
    double.wait_for(lambda: f"*Assignee*\n<@{OUTSIDER}>" in double.current(card).all_text(), what="the card to name them")
    # The admin's tab lists them (refreshed through the outbox), and the audit trail has it.
    double.wait_for(lambda: f"admin_person_{OUTSIDER}" in home_text(people.agent), what="the admin's tab to list the new agent")
    events = [(e.actor_id, e.kind, e.subject, e.to_value) for e in desk.deps.directory.events()]
    assert (AGENT, "role", OUTSIDER, "agent") in events and (AGENT, "team_member_added", "Support", OUTSIDER) in events
    # The new agent's own tab: availability and My teams, no Admin section.
    theirs = dump(people.outsider.open_home())
    assert "I'm away" in theirs and "My teams" in theirs and "Support" in theirs
    assert "Add agent" not in theirs and '"Admin"' not in theirs


def test_a_non_admin_sees_no_admin_section_and_a_forged_admin_action_is_refused(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    add_agent(people.agent, OUTSIDER)
    for person in (people.reporter, people.outsider):
        text = dump(person.open_home())
        assert "Add agent" not in text and "admin_person_" not in text and "New team" not in text
    assert "I'm away" not in dump(people.reporter.home())  # not an agent: no availability
    # The outsider (an agent, not an admin) forges the admin's menu: removing an admin.
    admin_home = people.agent.open_home()
    double.workspace.home_views[OUTSIDER] = admin_home  # as if their client showed the admin's tab
    people.outsider.home_menu(f"<@{AGENT2}>", "Remove from the desk")
    people.outsider.wait_dm("Only admins")
    assert desk.deps.directory.role_of(AGENT2) is Role.ADMIN
    # And the buttons that open modals open none for them.
    env = people.outsider.click_home("Add agent")
    people.outsider.wait_dm("Only admins")
    assert not any(v.trigger_id == env.payload["trigger_id"] for v in double.workspace.views.values())
    # A forged submission of the Add agent modal is refused too, inline.
    modal = open_from_home(people.agent, "Add agent")
    modal.pick_user("Person", REPORTER)
    forged = modal.submission_payload()
    forged["user"] = people.outsider.user_object()
    ack = modal.submit(forged)
    assert ack is not None and "Only admins" in dump(ack)
    assert desk.deps.directory.role_of(REPORTER) is Role.NONE


def test_make_revoke_remove_and_the_last_admin(desk: Casedesk, double: SlackDouble, people: People) -> None:
    add_agent(people.agent, OUTSIDER)
    people.agent.open_home()
    double.wait_for(lambda: f"admin_person_{OUTSIDER}" in home_text(people.agent), what="the new agent listed")
    people.agent.home_menu(f"<@{OUTSIDER}>", "Make admin")
    double.wait_for(lambda: desk.deps.directory.is_admin(OUTSIDER), what="the outsider to be an admin")
    assert "Add agent" in dump(people.outsider.open_home())
    # Revoke AGENT2 and OUTSIDER: AGENT is the last admin and cannot revoke themselves.
    people.agent.home_menu(f"<@{AGENT2}>", "Revoke admin")
    double.wait_for(lambda: desk.deps.directory.role_of(AGENT2) is Role.AGENT, what="AGENT2 revoked")
    people.agent.home_menu(f"<@{OUTSIDER}>", "Remove from the desk")
    double.wait_for(lambda: desk.deps.directory.role_of(OUTSIDER) is Role.NONE, what="the outsider removed")
    double.wait_for(lambda: "Add agent" not in home_text(people.outsider), what="the removed admin's tab to lose the section")
    people.agent.open_home()
    people.agent.home_menu(f"<@{AGENT}>", "Revoke admin")
    said = people.agent.wait_dm("last admin")
    assert "make someone else an admin first" in said.all_text()
    people.agent.home_menu(f"<@{AGENT}>", "Remove from the desk")
    double.wait_for(lambda: len([m for m in people.agent.dms() if "last admin" in m.all_text()]) == 2, what="a second refusal")
    assert desk.deps.directory.is_admin(AGENT)
    assert kinds(desk).count("role") == 4  # outsider added, made admin; AGENT2 revoked; outsider removed


def test_adding_someone_who_cannot_be_an_agent_is_refused_inline(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.workspace.add_user(BOT_USER, "somebot", is_bot=True)
    double.person("U0GONEAWAY", "gone")
    double.workspace.users["U0GONEAWAY"]["deleted"] = True
    for user, says in ((BOT_USER, "is a bot"), ("U0GONEAWAY", "deactivated"), ("U0NOBODY01", "not a member"),
                       (AGENT2, "already an admin")):
        modal = add_agent(people.agent, user)
        assert not modal.closed and says in modal.errors["user"], (user, modal.errors)
    assert desk.deps.directory.role_of(BOT_USER) is Role.NONE


def make_team(desk: Casedesk, admin: Person, name: str, members: list[str], **fields: str) -> Modal:
    modal = open_from_home(admin, "New team")
    modal.type("Name", name).pick_users("Members", members)
    for label, value in fields.items():
        if label == "channel":
            modal.pick_channel("Triage channel", value)
        elif label == "emails":
            modal.type("Default notify emails", value)
        elif label == "lead":
            modal.pick_user("Lead", value)
        elif label == "auto":
            modal.choose("Automatic assignment", value)
    modal.submit()
    return modal


def test_an_admin_creates_and_edits_a_team(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = make_team(desk, people.agent, "Billing", [AGENT, AGENT2], channel=GENERAL, emails="billing@example.com, lead@example.com",
                      lead=AGENT2, auto="Round-robin")
    assert modal.closed, modal.errors
    team = desk.deps.directory.team_named("Billing")
    assert team is not None
    assert (team.triage_channel, team.notify_emails, team.lead_id, team.auto_assign, team.members) == (
        GENERAL, ("billing@example.com", "lead@example.com"), AGENT2, "round_robin", (AGENT, AGENT2))
    double.wait_for(lambda: "*Billing*" in home_text(people.agent), what="the team on the admin's tab")
    assert "Billing" in dump(people.agent2.open_home())  # My teams
    edit = open_from_home(people.agent, "Edit team", near="*Billing*")
    assert edit.title == "Edit team"
    edit.type("Name", "Billing & Invoices").pick_users("Members", [AGENT2]).choose("Automatic assignment", "Least open tickets")
    assert edit.submit() is None
    team = desk.deps.directory.team(team.id)
    assert team is not None and team.name == "Billing & Invoices" and team.members == (AGENT2,) and team.auto_assign == "least_open"
    assert {"team_created", "team_name", "team_auto_assign", "team_member_removed"} <= set(kinds(desk))
    double.wait_for(lambda: "Billing &amp; Invoices" in home_text(people.agent), what="the renamed team on the tab")
    assert "Billing" not in dump(people.agent.open_home()).split("My teams")[1].split("Your open tickets")[0]


def test_two_admins_edit_the_same_team_one_wins_the_other_is_told(desk: Casedesk, double: SlackDouble, people: People) -> None:
    make_team(desk, people.agent, "Billing", [AGENT])
    first = open_from_home(people.agent, "Edit team", near="*Billing*")
    second = open_from_home(people.agent2, "Edit team", near="*Billing*")
    first.pick_users("Members", [AGENT, AGENT2])
    assert first.submit() is None
    second.type("Default notify emails", "late@example.com")
    ack = second.submit()
    assert ack is not None and not second.closed
    assert "Someone else changed Billing" in second.errors["name"]
    team = desk.deps.directory.team_named("Billing")
    assert team is not None and team.members == (AGENT, AGENT2) and team.notify_emails == ()  # no lost update
    # Opened again, it shows the first admin's change and saves.
    again = open_from_home(people.agent2, "Edit team", near="*Billing*")
    again.type("Default notify emails", "late@example.com")
    assert again.submit() is None
    team = desk.deps.directory.team_named("Billing")
    assert team is not None and team.members == (AGENT, AGENT2) and team.notify_emails == ("late@example.com",)


def test_bad_team_input_gets_its_inline_error(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.channel("C0NOTJOIND", "elsewhere", bot_member=False)
    cases = [
        ({"emails": "billing@example, ok@example.com"}, [AGENT], "emails", "Not an email address: billing@example"),
        ({"channel": "C0NOTJOIND"}, [AGENT], "channel", "Casedesk is not in"),
        ({}, [AGENT, REPORTER], "members", "is not an agent"),
        ({"lead": REPORTER}, [AGENT], "lead", "is not an agent"),
        ({"auto": "Round-robin"}, [], "members", "needs members"),
        ({}, [AGENT], "name", "already a team called Support"),
    ]
    for fields, members, block, says in cases:
        name = "Support" if block == "name" else "Nightshift"
        modal = make_team(desk, people.agent, name, members, **fields)
        assert not modal.closed and says in modal.errors.get(block, ""), (fields, modal.errors)
    assert [t.name for t in desk.deps.directory.teams()] == ["Support"]
    # A team emptied while it assigns automatically: refused; off, it may be empty.
    make_team(desk, people.agent, "Nightshift", [AGENT2], auto="Round-robin")
    edit = open_from_home(people.agent, "Edit team", near="*Nightshift*")
    edit.pick_users("Members", [])
    edit.submit()
    assert "needs members" in edit.errors["members"]
    # Removing its last member from the desk is refused the same way.
    people.agent.home_menu(f"<@{AGENT2}>", "Revoke admin")
    double.wait_for(lambda: desk.deps.directory.role_of(AGENT2) is Role.AGENT, what="AGENT2 revoked")
    people.agent.open_home()
    people.agent.home_menu(f"<@{AGENT2}>", "Remove from the desk")
    assert "last member of Nightshift" in people.agent.wait_dm("last member").all_text()
    assert desk.deps.directory.is_agent(AGENT2)


def test_routing_rules_are_added_and_removed_in_a_modal(desk: Casedesk, double: SlackDouble, people: People) -> None:
    make_team(desk, people.agent, "Billing", [AGENT])
    double.channel("C0NOTJOIND", "elsewhere", bot_member=False)
    modal = open_from_home(people.agent, "Routing rules")
    assert "No rules yet" in dump(modal.view)
    modal.choose("Issue type", "Bug").choose("Team", "Billing")
    assert modal.submit() is not None  # the modal stays, updated
    assert not modal.closed and "Issue type *Bug* → Billing" in dump(modal.view)
    modal.select("Match on: Mailbox address")
    modal.type("Mailbox address", "not-an-address").choose("Team", "Billing")
    modal.submit()
    assert "one mailbox address" in next(iter(modal.errors.values()))
    modal.type("Mailbox address", "billing@example.com").choose("Team", "Billing")
    modal.submit()
    modal.select("Match on: Intake channel")
    modal.pick_channel("Intake channel", "C0NOTJOIND").choose("Team", "Billing")
    modal.submit()
    assert "Casedesk is not in" in next(iter(modal.errors.values()))
    modal.pick_channel("Intake channel", GENERAL)
    modal.submit()
    rules = desk.deps.directory.rules()
    assert [(r.field, r.value) for r in rules] == [("issue_type", "Bug"), ("mailbox", "billing@example.com"),
                                                   ("intake_channel", GENERAL)]
    modal.click("Remove", near="billing@example.com")
    assert [r.field for r in desk.deps.directory.rules()] == ["issue_type", "intake_channel"]
    assert "billing@example.com" not in dump(modal.view)
    assert kinds(desk).count("routing_rule_added") == 3 and "routing_rule_removed" in kinds(desk)


def test_the_cc_list_is_validated_and_versioned(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = open_from_home(people.agent, "Notification CC list")
    modal.type("CC addresses", "ops@example.com, nope")
    modal.submit()
    assert "Not an email address: nope" in modal.errors["cc"]
    other = open_from_home(people.agent2, "Notification CC list")
    modal.type("CC addresses", "ops@example.com; boss@example.com")
    assert modal.submit() is None
    assert desk.deps.directory.setting("notify_cc")[0] == "ops@example.com,boss@example.com"
    other.type("CC addresses", "someone@example.com")
    other.submit()
    assert "Someone else changed" in other.errors["cc"]
    assert desk.deps.directory.setting("notify_cc")[0] == "ops@example.com,boss@example.com"
    double.wait_for(lambda: "ops@example.com, boss@example.com" in home_text(people.agent), what="the CC list on the tab")
    assert "setting_notify_cc" in kinds(desk)


def test_the_admin_section_pages_a_big_desk_under_the_block_limit(desk: Casedesk, double: SlackDouble, people: People) -> None:
    for i in range(45):
        desk.deps.directory.add_agent(AGENT, f"U0MANY{i:04d}", Role.AGENT)
    for i in range(25):
        desk.deps.directory.create_team(AGENT, f"Team {i:02d} " + "x" * 60)
    home = people.agent.open_home()
    assert view_errors(home) == [] and len(home["blocks"]) <= 100
    people.agent.click_home("Next people ▶")
    # 47 people by ID, 20 a page: the second page starts at the 21st.
    double.wait_for(lambda: "U0MANY0018" in home_text(people.agent), what="the second page of people")
    assert "U0MANY0017" not in home_text(people.agent) and "Previous people" in home_text(people.agent)
    assert view_errors(people.agent.home()) == []
    modal = open_from_home(people.agent, "Add agent")
    assert all(len(o) <= 75 for o in modal.options("Teams"))
    assert SUPPORT  # the support channel is every team's default
