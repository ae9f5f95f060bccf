"""/ticket-summary team:NAME says which team it counts; without it, that it counts all the
tickets the viewer may see."""

from __future__ import annotations

from bot.app import Casedesk
from slack_double import SlackDouble
from slack_double.people import Person
from tests.conftest import People
from tests.desk_teams import make_teams


def scope_line(double: SlackDouble, person: Person, text: str = "") -> str:
    modal = person.open_modal("/ticket-summary", text)
    double.wait_for(lambda: "Loading" not in str(modal.view), what="the summary")
    first = modal.view["blocks"][0]
    assert first["type"] == "context"
    return str(first["elements"][0]["text"])


def test_the_summary_names_its_team(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    assert scope_line(double, people.agent, "team:Billing") == "The *Billing* team's tickets"
    assert scope_line(double, teams.carla, "team:billing") == "The *Billing* team's tickets"
    assert scope_line(double, people.agent) == "All the tickets you can see"
