"""A desk with teams, for the routing, assignment and visibility tests: people made agents
and teams made by an admin through the directory, as the Admin section does."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import Casedesk
from bot.services.directory import NewRule, Role, TeamRecord
from slack_double import Message, SlackDouble
from slack_double.people import Person, block_actions
from slack_double.socket_mode import Envelope
from tests.conftest import AGENT

BILLING_CHANNEL = "C0BILLING"
# Sorted as round-robin goes: Carla, Dave, Erin.
CARLA = "U0CARLA00"
DAVE = "U0DAVE000"
ERIN = "U0ERIN000"
FRANK = "U0FRANK00"  # an agent of Support only (not an admin)


@dataclass
class Teams:
    billing: TeamRecord
    carla: Person
    dave: Person
    erin: Person
    frank: Person


def make_teams(desk: Casedesk, double: SlackDouble, auto_assign: str = "off") -> Teams:
    """Billing (Carla, Dave, Erin; its cards in #billing-triage; "Data problem" routed to it)
    beside the default Support team, which gets Frank. The admin is the conftest's agent."""
    double.channel(BILLING_CHANNEL, "billing-triage")
    directory = desk.deps.directory
    people = {u: double.person(u, name) for u, name in ((CARLA, "carla"), (DAVE, "dave"), (ERIN, "erin"), (FRANK, "frank"))}
    for user in people:
        directory.set_role(AGENT, user, Role.AGENT)
    billing = directory.create_team(AGENT, "Billing", triage_channel=BILLING_CHANNEL)
    for user in (CARLA, DAVE, ERIN):
        directory.add_member(AGENT, billing.id, user)
    directory.add_member(AGENT, directory.default_team().id, FRANK)
    if auto_assign != "off":
        current = directory.team(billing.id)
        assert current is not None
        directory.update_team(AGENT, billing.id, current.version, auto_assign=auto_assign)
    directory.set_rules(AGENT, [NewRule("issue_type", "Data problem", billing.id)])
    team = directory.team(billing.id)
    assert team is not None
    return Teams(team, people[CARLA], people[DAVE], people[ERIN], people[FRANK])


def file(double: SlackDouble, reporter: Person, issue_type: str, details: str, number: str, channel: str) -> Message:
    """File a ticket with /new-ticket and wait for its card in ``channel``."""
    modal = reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", issue_type).choose("Priority", "🟡 Medium")
    modal.type("Details", details)
    assert modal.submit() is None
    return double.wait_message(channel, number)


def choose_in_menu(double: SlackDouble, person: Person, message: Message, option: str, timeout: float = 5.0) -> Envelope:
    """Choose an option of the overflow menu on a message (the card's ⋮), as Slack sends it."""
    current = double.current(message)
    for block in current.blocks or []:
        for el in block.get("elements", []) if block.get("type") == "actions" else []:
            for opt in el.get("options", []) if el.get("type") == "overflow" else []:
                if opt["text"]["text"] == option:
                    action = {"action_id": el["action_id"], "type": "overflow", "selected_option": opt}
                    container = {"type": "message", "message_ts": current.ts, "channel_id": current.channel, "is_ephemeral": False}
                    payload = block_actions(double, person, container, block, action, message=current)
                    return double.socket.wait_ack(double.socket.send("interactive", payload), timeout)
    raise KeyError(f"no menu option {option!r} on the message")

