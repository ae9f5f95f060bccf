"""Linked and merged cases, as agents do it from the card's ⋮ → Link…: two tickets linked
show it on both cards and in their timelines; a duplicate merged into its primary gives
it its messages in order, is closed with a pointer, its requester is told, and what they
write later lands on the primary; refused merges say why; an admin's unmerge undoes it."""

from __future__ import annotations

import pytest

from bot.app import Casedesk
from bot.services.status import Status
from bot.settings import Settings, load_settings
from slack_double import Message, SlackDouble
from slack_double.people import Person
from tests.conftest import SUPPORT, People, base_env
from tests.desk_teams import BILLING_CHANNEL, choose_in_menu, file, make_teams

INTAKE = "C0INTAKE"


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(INTAKE, "help")
    return load_settings(base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": INTAKE})


def link(double: SlackDouble, agent: Person, card: Message, kind: str, other: str) -> dict[str, object] | None:
    """⋮ → Link… on ``card``, choose how and which: the modal's errors (None: it closed)."""
    env = choose_in_menu(double, agent, card, "Link…")
    modal = agent.modal_from(env.payload["trigger_id"]).choose("This ticket is", kind)
    ack = modal.type("Ticket", other).submit()
    return dict(ack["errors"]) if ack else None


def open_case(double: SlackDouble, person: Person, text: str, number: str) -> tuple[Message, Message]:
    asked = person.say(INTAKE, text)
    card = double.wait_message(SUPPORT, number)
    double.wait_thread_reply(asked, number)
    return asked, card


def bodies(desk: Casedesk, ticket_id: int) -> list[str]:
    return [m.body for m in desk.deps.conversations.messages(ticket_id)]


def test_two_linked_tickets_show_it_on_both_cards_and_timelines(desk: Casedesk, double: SlackDouble, people: People) -> None:
    first = file(double, people.reporter, "Bug", "The export button does nothing", "TCK-000001", SUPPORT)
    second = file(double, people.reporter, "Bug", "Exports time out", "TCK-000002", SUPPORT)
    assert link(double, people.agent, first, "Related to", "TCK-000002") is None
    double.wait_for(lambda: "Related to TCK-000002" in double.current(first).all_text(), what="the first card's link")
    double.wait_for(lambda: "Related to TCK-000001" in double.current(second).all_text(), what="the second card's link")
    double.wait_thread_reply(first, "marked TCK-000001 as related to TCK-000002")
    assert link(double, people.agent, second, "Child of", "1") is None
    double.wait_for(lambda: "Parent of TCK-000002" in double.current(first).all_text(), what="the parent's line")
    double.wait_for(lambda: "Child of TCK-000001" in double.current(second).all_text(), what="the child's line")
    kinds = [e.kind for e in desk.deps.tickets.events(1)]
    assert kinds.count("linked") == 2
    lines = [e.event.kind for e in desk.deps.timeline.page(2).entries if e.event]
    assert lines.count("linked") == 2
    # The same link again changes nothing and says so in the modal.
    errors = link(double, people.agent, first, "Related to", "TCK-000002")
    assert errors is not None and "already linked" in str(errors)


def test_a_duplicate_merges_into_its_primary(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, primary_card = open_case(double, people.reporter, "Checkout fails with error 500.", "TCK-000001")
    dup_asked, dup_card = open_case(double, people.outsider, "I can't pay, the checkout breaks.", "TCK-000002")
    people.outsider.say(INTAKE, "It says error 500.", thread=dup_asked)
    people.reporter.say(INTAKE, "Any news?", thread=asked)
    people.outsider.say(INTAKE, "Tried another card too.", thread=dup_asked)
    double.wait_for(lambda: len(bodies(desk, 2)) == 3 and len(bodies(desk, 1)) == 2, what="the messages stored")

    assert link(double, people.agent, dup_card, "Duplicate of (merge into it)", "TCK-000001") is None
    double.wait_for(lambda: "Closed" in double.current(dup_card).all_text(), what="the duplicate's card closed")
    assert "Duplicate of TCK-000001" in double.current(dup_card).all_text()
    double.wait_for(lambda: "Merged in: TCK-000002" in double.current(primary_card).all_text(), what="the primary's card")
    double.wait_thread_reply(dup_card, "merged TCK-000002 into TCK-000001")
    told = double.wait_thread_reply(dup_asked, "continues in TCK-000001")
    assert "TCK-000002" in told.text
    # The messages, in the order they were written, whichever ticket they came from.
    assert bodies(desk, 1) == [
        "Checkout fails with error 500.",
        "I can't pay, the checkout breaks.",
        "It says error 500.",
        "Any news?",
        "Tried another card too.",
    ]
    assert bodies(desk, 2) == []
    assert desk.deps.tickets.get(2).status is Status.CLOSED
    assert {"merged", "requester_told"} <= {e.kind for e in desk.deps.tickets.events(2)}
    assert "merged_in" in {e.kind for e in desk.deps.tickets.events(1)}
    # What the duplicate's requester writes later in their thread goes on in the primary.
    people.outsider.say(INTAKE, "Still broken this morning.", thread=dup_asked)
    double.wait_for(lambda: "Still broken this morning." in bodies(desk, 1), what="the later reply on the primary")
    assert desk.deps.tickets.get(2).status is Status.CLOSED

    # An admin's unmerge moves back exactly what the merge moved, and the status.
    choose_in_menu(double, people.agent, dup_card, "Unmerge")
    people.agent.wait_ephemeral("unmerged from TCK-000001")
    assert bodies(desk, 2) == ["I can't pay, the checkout breaks.", "It says error 500.", "Tried another card too."]
    assert bodies(desk, 1) == ["Checkout fails with error 500.", "Any news?", "Still broken this morning."]
    assert desk.deps.tickets.get(2).status is Status.OPEN
    double.wait_for(lambda: "Duplicate of" not in double.current(dup_card).all_text(), what="the pointer gone")
    double.wait_for(lambda: "Merged in" not in double.current(primary_card).all_text(), what="the primary's line gone")
    assert "unmerged" in {e.kind for e in desk.deps.tickets.events(2)}


def test_refused_merges_say_why(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    first = file(double, people.reporter, "Bug", "Login loops", "TCK-000001", SUPPORT)
    second = file(double, people.reporter, "Bug", "Login loops again", "TCK-000002", SUPPORT)
    file(double, people.reporter, "Data problem", "Wrong totals", "TCK-000003", BILLING_CHANNEL)

    errors = link(double, people.agent, first, "Duplicate of (merge into it)", "TCK-000001")
    assert errors == {"other": "A ticket cannot be merged into itself. Nothing changed."}
    errors = link(double, people.agent, first, "Duplicate of (merge into it)", "TCK-999")
    assert errors is not None and "does not exist" in str(errors)
    errors = link(double, people.agent, first, "Duplicate of (merge into it)", "not a number")
    assert errors is not None and "number" in str(errors)

    assert link(double, people.agent, second, "Duplicate of (merge into it)", "TCK-000001") is None
    double.wait_for(lambda: "Closed" in double.current(second).all_text(), what="the duplicate closed")
    errors = link(double, people.agent, first, "Duplicate of (merge into it)", "TCK-000002")
    assert errors is not None and "cycle" in str(errors)

    # Frank works Support only: TCK-000003 is Billing's.
    errors = link(double, teams.frank, first, "Duplicate of (merge into it)", "TCK-000003")
    assert errors is not None and "Billing queue" in str(errors)
    assert desk.deps.tickets.get(1).status is not Status.CLOSED

    # Only an admin unmerges.
    choose_in_menu(double, teams.frank, second, "Unmerge")
    teams.frank.wait_ephemeral("Only admins can unmerge")
    assert desk.deps.tickets.get(2).status is Status.CLOSED


def test_an_unmerge_finds_what_moved_on_along_the_chain(desk: Casedesk, double: SlackDouble, people: People) -> None:
    first, first_card = open_case(double, people.reporter, "Page 1 is blank.", "TCK-000001")
    second, second_card = open_case(double, people.outsider, "Page 2 is blank.", "TCK-000002")
    open_case(double, people.agent2, "Every page is blank.", "TCK-000003")
    assert link(double, people.agent, first_card, "Duplicate of (merge into it)", "TCK-000002") is None
    assert link(double, people.agent, second_card, "Duplicate of (merge into it)", "TCK-000003") is None
    double.wait_for(lambda: len(bodies(desk, 3)) == 3, what="everything on TCK-000003")
    # A duplicate of a duplicate: its requester's later words go to the end of the chain.
    people.reporter.say(INTAKE, "Still blank.", thread=first)
    double.wait_for(lambda: "Still blank." in bodies(desk, 3), what="the reply at the chain's end")

    choose_in_menu(double, people.agent, first_card, "Unmerge")
    people.agent.wait_ephemeral("unmerged from TCK-000002")
    assert bodies(desk, 1) == ["Page 1 is blank."]
    assert bodies(desk, 2) == []
    assert bodies(desk, 3) == ["Page 2 is blank.", "Every page is blank.", "Still blank."]

    # Into a ticket that is itself a duplicate: the merge goes where that one lives now.
    _asked, fourth_card = open_case(double, people.outsider, "Page 4 is blank.", "TCK-000004")
    assert link(double, people.agent, fourth_card, "Duplicate of (merge into it)", "TCK-000002") is None
    people.agent.wait_ephemeral("TCK-000004 is merged into TCK-000003")
    assert bodies(desk, 4) == [] and "Page 4 is blank." in bodies(desk, 3)
