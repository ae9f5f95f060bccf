"""The App Home tab through the double."""

from __future__ import annotations

from bot.app import Casedesk
from bot.services.tickets import NewTicket
from slack_double import SlackDouble
from slack_double.blockkit import view_errors
from tests.conftest import AGENT, OUTSIDER, REPORTER, People
from tests.test_ticket_flow import file_ticket


def create(desk: Casedesk, reporter: str, priority: str = "high", details: str = "x") -> int:
    return desk.deps.tickets.create(NewTicket(reporter, "Billing", "Bug", priority, details))[0].id


def test_a_person_sees_their_open_tickets_and_a_new_ticket_button(desk: Casedesk, double: SlackDouble, people: People) -> None:
    mine = create(desk, REPORTER, details="my printer")
    create(desk, OUTSIDER, details="someone else's secret")
    home = people.reporter.open_home()
    text = str(home)
    assert f"TCK-{mine:06d}" in text and "my printer" in text
    assert "secret" not in text and "Unassigned queue" not in text and "Assigned to you" not in text
    assert "New ticket" in text
    assert view_errors(home) == []
    outsider_home = str(people.outsider.open_home())
    assert "my printer" not in outsider_home and "Unassigned queue" not in outsider_home


def test_agents_see_their_work_the_queue_and_counts(desk: Casedesk, double: SlackDouble, people: People) -> None:
    low = create(desk, REPORTER, "low")
    high = create(desk, REPORTER, "high")
    taken = create(desk, REPORTER, "medium")
    desk.deps.tickets.assign_to_self(taken, AGENT)
    home = str(people.agent.open_home())
    queue = home[home.index("Unassigned queue"):]
    assert queue.index(f"TCK-{high:06d}") < queue.index(f"TCK-{low:06d}")  # highest priority first
    assert f"TCK-{taken:06d}" in home[home.index("Assigned to you"):home.index("Unassigned queue")]
    assert "🔴 High: 1 · 🟡 Medium: 1 · 🔵 Low: 1" in home


def test_the_home_tab_refreshes_when_its_ticket_changes(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    assert "🆕 Open" in str(people.reporter.open_home())
    people.agent.open_home()
    people.agent.click(card, "Assign to Me")
    double.wait_for(lambda: "🛠️ In Progress" in str(people.reporter.home()), what="the reporter's home to refresh")
    double.wait_for(lambda: "Nothing assigned to you" not in str(people.agent.home()), what="the agent's home to refresh")


def test_new_ticket_from_home_opens_the_form(desk: Casedesk, double: SlackDouble, people: People) -> None:
    people.reporter.open_home()
    trigger = double.workspace.issue_trigger(people.reporter.id)
    env = double.socket.send(
        "interactive",
        {
            "type": "block_actions",
            "user": people.reporter.user_object(),
            "api_app_id": "A0CASEDESK",
            "container": {"type": "view", "view_id": "V0HOME"},
            "trigger_id": trigger,
            "team": {"id": "T0CASEDESK", "domain": "casedesk-test"},
            "view": {"id": "V0HOME", "type": "home", **(people.reporter.home() or {})},
            "actions": [{"action_id": "home_new_ticket", "block_id": "home_actions", "type": "button", "value": "new",
                         "text": {"type": "plain_text", "text": "New ticket"}, "action_ts": "1.0"}],
        },
    )
    double.socket.wait_ack(env)
    assert people.reporter.modal_from(trigger).title == "New ticket"
