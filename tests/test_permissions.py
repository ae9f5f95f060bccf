"""Only SYSTEM_USERS act on tickets: enforced by the service, whatever the client shows."""

from __future__ import annotations

import pytest

from bot.app import Casedesk
from slack_double import SlackDouble
from tests.conftest import OUTSIDER, REPORTER, People
from tests.test_ticket_flow import file_ticket


@pytest.mark.parametrize("label", ["Assign to Me", "Reassign", "Resolve", "Close", "Timeline"])
def test_a_non_agent_clicking_is_refused_and_nothing_changes(
    desk: Casedesk, double: SlackDouble, people: People, label: str
) -> None:
    card = file_ticket(double, people)
    blocks_before = double.current(card).blocks
    env = people.outsider.click(card, label)
    said = people.outsider.wait_ephemeral("Only support agents")
    assert "tickets" in said
    ticket = desk.deps.tickets.get(1)
    assert ticket.status.value == "open" and ticket.assignee_id is None
    assert [e.kind for e in desk.deps.tickets.events(1)] == ["created"]
    assert double.current(card).blocks == blocks_before
    assert double.thread(card) == []
    # No modal was opened for someone who cannot use it.
    assert not any(v.trigger_id == env.payload["trigger_id"] for v in double.workspace.views.values())


def test_the_reporter_cannot_reopen_their_closed_ticket(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    people.agent.click(card, "Close")
    double.wait_for(lambda: double.current(card).button_labels() == ["Reopen", "Reply to requester", "Timeline"])
    people.reporter.click(card, "Reopen")
    assert "Only support agents can reopen" in people.reporter.wait_ephemeral("Only support agents")
    assert desk.deps.tickets.get(1).status.value == "closed"


@pytest.mark.parametrize("label,fill", [("Reassign", "assignee"), ("Resolve", "note")])
def test_a_forged_modal_submission_by_a_non_agent_is_refused(
    desk: Casedesk, double: SlackDouble, people: People, label: str, fill: str
) -> None:
    card = file_ticket(double, people)
    env = people.agent.click(card, label)
    modal = people.agent.modal_from(env.payload["trigger_id"])
    if fill == "assignee":
        modal.pick_user("New assignee", OUTSIDER)
    else:
        modal.type("Resolution note", "done")
    forged = modal.submission_payload()
    forged["user"] = people.outsider.user_object()
    modal.submit(forged)
    people.outsider.wait_ephemeral("Only support agents")
    ticket = desk.deps.tickets.get(1)
    assert ticket.status.value == "open" and ticket.assignee_id is None
    assert all(e.actor_id == REPORTER for e in desk.deps.tickets.events(1))
