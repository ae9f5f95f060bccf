"""A ticket from any message: the ticket reaction and the Create ticket message shortcut,
as people use them, on messages in channels that are not intake channels."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk
from bot.handlers.message_tickets import SHORTCUT
from bot.services.status import Status
from bot.settings import Settings, load_settings
from db.models import CaseMessage, Ticket
from slack_double import Message, SlackDouble
from tests.conftest import AGENT, GENERAL, REPORTER, SUPPORT, People, base_env
from tests.test_conversations import count
from tests.test_ticket_flow import file_ticket

HIDDEN = "C0HIDDEN"


@pytest.fixture
def settings(double: SlackDouble, request: pytest.FixtureRequest) -> Settings:
    return load_settings(base_env(double.api_url) | getattr(request, "param", {}))


def test_a_ticket_reaction_files_the_message_and_its_thread_joins_the_case(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked = people.reporter.say(GENERAL, "The export button does nothing.")
    people.agent.react(asked, "ticket")
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")
    ticket = desk.deps.tickets.get(1)
    assert (ticket.reporter_id, ticket.details, ticket.status) == (REPORTER, "The export button does nothing.", Status.OPEN)
    assert (ticket.origin_channel, ticket.origin_ts) == (GENERAL, asked.ts)
    assert ticket.origin_link and f"archives/{GENERAL}/p{asked.ts.replace('.', '')}" in ticket.origin_link
    assert ticket.origin_link in card.all_text()
    [created] = desk.deps.tickets.events(1)
    assert (created.actor_id, created.kind) == (AGENT, "created")
    # The message's thread is now the case's customer thread.
    people.reporter.say(GENERAL, "Also the PDF export.", thread=asked)
    double.wait_thread_reply(card, "Also the PDF export.")
    assert [m.body for m in desk.deps.conversations.messages(1)] == ["The export button does nothing.", "Also the PDF export."]


def test_a_ticket_reaction_on_a_reply_in_a_thread_files_that_reply(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked = people.outsider.say(GENERAL, "Is anyone else seeing slow exports?")
    reply = people.reporter.say(GENERAL, "Yes: the export <button> takes & minutes.", thread=asked)
    people.agent.react(reply, "ticket")
    double.wait_message(SUPPORT, "TCK-000001")
    ticket = desk.deps.tickets.get(1)
    # The reply as written (Slack's escaping undone once), by its author, not the thread's root.
    assert (ticket.reporter_id, ticket.details) == (REPORTER, "Yes: the export <button> takes & minutes.")


def test_the_same_message_twice_is_one_ticket(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    asked = people.reporter.say(GENERAL, "Password reset mail never arrives.")
    people.agent.react(asked, "ticket")
    double.wait_message(SUPPORT, "TCK-000001")
    people.agent2.react(asked, "ticket")
    assert "already part of TCK-000001" in people.agent2.wait_ephemeral("TCK-000001")
    people.agent.shortcut(asked, SHORTCUT)
    assert "already part of TCK-000001" in people.agent.wait_ephemeral("already part of")
    assert count(engine, Ticket) == 1


def test_a_redelivered_reaction_files_nothing_more(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    asked = people.reporter.say(GENERAL, "Invoices show the wrong VAT.")
    env = people.agent.react(asked, "ticket")
    double.wait_message(SUPPORT, "TCK-000001")
    double.redeliver(env.payload, retry_attempt=1)
    people.agent.wait_ephemeral("already part of TCK-000001")
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 1


def test_other_reactions_file_nothing(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    asked = people.reporter.say(GENERAL, "Nice work on the release!")
    env = people.agent.react(asked, "tada")
    assert env.acks == 1
    assert count(engine, Ticket) == 0


@pytest.mark.parametrize("settings", [{"TICKET_REACTION": ":sos:"}], indirect=True)
def test_the_reaction_is_a_setting(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    asked = people.reporter.say(GENERAL, "Checkout is down.")
    people.agent.react(asked, "ticket")
    assert count(engine, Ticket) == 0
    people.agent.react(asked, "sos")
    double.wait_message(SUPPORT, "TCK-000001")
    assert desk.deps.tickets.get(1).details == "Checkout is down."


@pytest.mark.parametrize("what", ["a bot's message", "a card's thread note"])
def test_a_message_that_cannot_be_a_ticket_gets_a_line_and_nothing(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine, what: str
) -> None:
    if what == "a bot's message":
        ws = double.workspace
        target = ws.add_message(Message(GENERAL, ws.next_ts(), "Deploy finished", None, None, "B0OTHERBOT"))
        expected = "posted by an app"
    else:
        card = file_ticket(double, people)
        target = people.agent.say(SUPPORT, "Internal: checking the logs.", thread=card)
        double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == 1, what="the note stored")
        expected = "already part of TCK-000001"
    before = count(engine, Ticket)
    people.agent.react(target, "ticket")
    assert expected in people.agent.wait_ephemeral(expected)
    people.agent.shortcut(target, SHORTCUT)
    assert expected in people.agent.wait_ephemeral(expected) and count(engine, Ticket) == before


def test_the_shortcut_opens_the_form_filled_in_and_files_for_the_author(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked = people.reporter.say(GENERAL, "Can't log in from the iPad app.")
    env = people.agent.shortcut(asked, SHORTCUT)
    modal = people.agent.modal_from(env.payload["trigger_id"])
    assert f"<@{REPORTER}>" in str(modal.view["blocks"][0])
    modal.choose("Campaign", "Website").choose("Issue type", "Access request")
    assert modal.submit() is None  # closed: filed
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")
    ticket = desk.deps.tickets.get(1)
    assert (ticket.reporter_id, ticket.details, ticket.issue_type) == (REPORTER, "Can't log in from the iPad app.", "Access request")
    assert (ticket.origin_channel, ticket.origin_ts) == (GENERAL, asked.ts)
    double.wait_for(lambda: "a message" in double.current(card).all_text(), what="the card's link back")
    people.reporter.say(GENERAL, "It's the 2nd-gen iPad.", thread=asked)
    double.wait_thread_reply(card, "2nd-gen iPad")


def test_the_shortcut_in_a_channel_the_bot_is_not_in_says_so(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    double.channel(HIDDEN, "hidden", bot_member=False)
    ws = double.workspace
    asked = ws.add_message(Message(HIDDEN, ws.next_ts(), "Where is the VPN guide?", None, REPORTER))
    env = people.agent.shortcut(asked, SHORTCUT)
    people.agent.modal_from(env.payload["trigger_id"])  # opened at once, within the trigger's 3 s
    double.wait_for(lambda: double.workspace.calls_to("views.update"), what="the modal told why")
    assert "invite me" in str(double.workspace.calls_to("views.update")[-1].args)
    assert count(engine, Ticket) == 0
