"""Who sees and works on which tickets, checked on the server: an agent works their teams'
tickets and those assigned to them, an admin all; lists and the summary show each agent
what they may see, and take team:NAME."""

from __future__ import annotations

import re

from bot.app import Casedesk
from bot.services.tickets import NewTicket
from slack_double import SlackDouble
from slack_double.people import Modal, Person
from tests.conftest import REPORTER, People
from tests.desk_teams import BILLING_CHANNEL, CARLA, FRANK, file, make_teams

NUMBER = re.compile(r"TCK-\d{6}")


def listed(person: Person, command: str, text: str = "") -> Modal:
    modal = person.open_modal(command, text)
    person.double.wait_for(lambda: "Loading" not in str(modal.view["blocks"]), what="the list")
    return modal


def numbers(modal: Modal) -> list[str]:
    rows = [b["text"]["text"] for b in modal.view["blocks"] if b.get("type") == "section"]
    return sorted(m for row in rows for m in NUMBER.findall(row.split("\n")[0]))


def seed(desk: Casedesk) -> None:
    """TCK-1 and TCK-2 in Billing (routed by type), TCK-3 in Support."""
    for issue_type in ("Data problem", "Data problem", "Bug"):
        desk.deps.tickets.create(NewTicket(REPORTER, "Billing", issue_type, "medium", f"a {issue_type}"))


def test_an_agent_of_another_team_is_refused_on_the_card(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    card = file(double, people.reporter, "Data problem", "Billing's ticket", "TCK-000001", BILLING_CHANNEL)
    teams.frank.click(card, "Assign to Me")
    refusal = teams.frank.wait_ephemeral("is in the Billing queue")
    assert refusal.startswith("TCK-000001 is in the Billing queue: only its team's agents")
    teams.frank.click(card, "Reassign")
    double.wait_for(lambda: len([e for e in teams.frank.ephemerals() if "Billing queue" in e]) == 2)
    assert all(c.args["view"]["callback_id"] != "reassign_ticket" for c in double.workspace.calls_to("views.open"))
    ticket = desk.deps.tickets.get(1)
    assert ticket.assignee_id is None and [e.kind for e in desk.deps.tickets.events(1)] == ["created"]
    # Its own team's agent, and an admin of any team, work it.
    teams.carla.click(card, "Assign to Me")
    double.wait_for(lambda: desk.deps.tickets.get(1).assignee_id == CARLA)
    env = people.agent.click(card, "Resolve")  # an admin, of no team in particular: the modal opens
    assert people.agent.modal_from(env.payload["trigger_id"]).title == "Resolve TCK-000001"


def test_a_ticket_assigned_to_an_agent_of_another_team_is_theirs_to_work(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    teams = make_teams(desk, double)
    card = file(double, people.reporter, "Data problem", "Frank helps", "TCK-000001", BILLING_CHANNEL)
    desk.deps.tickets.reassign(1, CARLA, CARLA, others=[FRANK])
    teams.frank.click(card, "Close")
    double.wait_for(lambda: desk.deps.tickets.get(1).status.value == "closed")
    assert "TCK-000001" in numbers(listed(teams.frank, "/system-tickets", "closed"))


def test_lists_show_each_agent_their_teams_tickets(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    seed(desk)
    assert numbers(listed(teams.frank, "/system-tickets")) == ["TCK-000003"]
    assert numbers(listed(teams.carla, "/system-tickets")) == ["TCK-000001", "TCK-000002"]
    assert numbers(listed(people.agent, "/system-tickets")) == ["TCK-000001", "TCK-000002", "TCK-000003"]  # an admin
    assert numbers(listed(people.agent, "/system-tickets", "team:Billing")) == ["TCK-000001", "TCK-000002"]
    assert numbers(listed(teams.frank, "/system-tickets", "team:billing")) == []  # not his team: nothing to see there
    assert numbers(listed(people.agent, "/system-tickets", "team:Support open")) == ["TCK-000003"]
    # A reporter still sees their own, in /agent-tickets.
    assert numbers(listed(people.reporter, "/agent-tickets")) == ["TCK-000001", "TCK-000002", "TCK-000003"]


def test_an_unknown_team_is_one_clear_line(desk: Casedesk, double: SlackDouble, people: People) -> None:
    make_teams(desk, double)
    people.agent.run("/system-tickets", "team:Nope")
    assert people.agent.wait_ephemeral("no team") == "There is no team called “Nope”. Teams: `Support`, `Billing`."
    people.agent.run("/ticket-summary", "team:No_such_team")
    assert people.agent.wait_ephemeral("No such team") == "There is no team called “No such team”. Teams: `Support`, `Billing`."
    assert double.workspace.calls_to("views.open") == []


def test_the_summary_counts_what_the_agent_may_see_and_takes_a_team(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    teams = make_teams(desk, double)
    seed(desk)

    def open_count(person: Person, text: str = "") -> str:
        modal = person.open_modal("/ticket-summary", text)
        double.wait_for(lambda: "Loading" not in str(modal.view), what="the summary")
        fields = [f["text"] for b in modal.view["blocks"] for f in b.get("fields", [])]
        return next(f for f in fields if f.startswith("*🆕 Open*")).split("\n")[1]

    assert open_count(teams.carla) == "2"
    assert open_count(teams.frank) == "1"
    assert open_count(people.agent) == "3"  # an admin
    assert open_count(people.agent, "team:Billing") == "2"
    assert open_count(teams.carla, "team:Support") == "0"  # not hers to see
