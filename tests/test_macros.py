"""Canned replies (macros): saved from the Reply modal, picked in it with their variables
filled in, setting a status after the reply; an unknown variable or a taken name refused
inline."""

from __future__ import annotations

import pytest

from bot.app import Casedesk
from bot.services.status import Status
from bot.settings import Settings, load_settings
from slack_double import Message, SlackDouble
from slack_double.people import Modal
from tests.conftest import SUPPORT, People, base_env
from tests.test_conversations import INTAKE

ACK = "Hi {requester}, {agent} here: {number} ({title}) is ours now."


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(INTAKE, "help")
    return load_settings(base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": INTAKE})


def reply_modal(people: People, card: Message) -> Modal:
    env = people.agent.click(card, "Reply to requester")
    return people.agent.modal_from(env.payload["trigger_id"])


def test_a_reply_saved_as_a_macro_is_picked_filled_in_and_sets_its_status(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked = people.reporter.say(INTAKE, "Badge reader <!channel> at door 4")
    card = double.wait_message(SUPPORT, "TCK-000001")
    desk.deps.tickets.assign_to_self(1, people.agent.id)  # Waiting on the customer is for a case in progress
    modal = reply_modal(people, card)
    assert modal.submit() is not None  # empty: refused inline
    modal.type("Your reply", ACK).type("Save as a macro", "Taken on").choose("Then set the case to", "Waiting on customer")
    assert modal.submit() is None
    first = double.wait_thread_reply(asked, "is ours now")
    # Variables are filled in as text and escaped where shown: the title's <!channel> pings nobody.
    assert "Hi rita, alice here: TCK-000001 (Badge reader &lt;!channel&gt; at door 4) is ours now." in first.text
    double.wait_for(lambda: desk.deps.tickets.get(1).status is Status.WAITING, what="the macro's status")
    [macro] = desk.deps.macros.listed()
    assert (macro.name, macro.body, macro.status) == ("Taken on", ACK, Status.WAITING)

    desk.deps.tickets.resume(1, people.agent.id)
    modal = reply_modal(people, card)
    modal.select("Taken on")
    assert modal.view["blocks"][2]["element"]["initial_value"].startswith("Hi rita, alice here: TCK-000001")
    assert modal.submit() is None
    double.wait_for(lambda: len([m for m in double.thread(asked) if "is ours now" in m.text]) == 2, what="the second reply")
    double.wait_for(lambda: desk.deps.tickets.get(1).status is Status.WAITING, what="waiting again")


def test_the_status_chosen_with_a_reply_commits_with_it_and_a_move_the_case_cannot_make_is_told(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    asked = people.reporter.say(INTAKE, "The printer on floor 2 jams.")
    card = double.wait_message(SUPPORT, "TCK-000001")
    # An Open case cannot wait on the customer: the reply goes, the status stays, the agent is told why.
    looked_up = len(double.workspace.calls_to("users.info"))
    modal = reply_modal(people, card)
    assert len(double.workspace.calls_to("users.info")) == looked_up  # nothing slow before the modal opens
    modal.type("Your reply", "Which tray?").choose("Then set the case to", "Waiting on customer").submit()
    double.wait_thread_reply(asked, "Which tray?")
    told = people.agent.wait_ephemeral("was not set to Waiting")
    assert "The reply was sent; TCK-000001 is Open" in told
    assert desk.deps.tickets.get(1).status is Status.OPEN

    reply_modal(people, card).type("Your reply", "Fixed: tray 2 was jammed.").choose("Then set the case to", "Resolved").submit()
    double.wait_thread_reply(asked, "tray 2 was jammed")
    double.wait_for(lambda: desk.deps.tickets.get(1).status is Status.RESOLVED, what="resolved with the reply")
    kinds = [e.kind for e in desk.deps.tickets.events(1)]
    assert kinds.count("status") == 1
    assert len([m for m in double.thread(asked) if "tray 2" in m.text]) == 1


@pytest.mark.parametrize(
    ("name", "text", "block", "error"),
    [
        ("Greeting", "Hello {customer}, see {number}", "body", "Unknown variable {customer}"),
        ("Taken on", "Hello {requester}", "save_as", "a macro named “Taken on” already"),
        ("", "Hello", None, None),
    ],
)
def test_a_bad_macro_is_refused_inline_and_nothing_is_sent(
    desk: Casedesk, double: SlackDouble, people: People, name: str, text: str, block: str | None, error: str | None
) -> None:
    desk.deps.macros.save(people.agent.id, "Taken on", ACK, None)
    asked = people.reporter.say(INTAKE, "The lift is stuck.")
    card = double.wait_message(SUPPORT, "TCK-000001")
    modal = reply_modal(people, card).type("Your reply", text)
    if name:
        modal.type("Save as a macro", name)
    ack = modal.submit()
    if block is None:  # no name: just a reply, sent as written
        assert ack is None
        double.wait_thread_reply(asked, "Hello")
        return
    assert ack is not None and error is not None and error in ack["errors"][block]
    assert len(desk.deps.macros.listed()) == 1
    assert [m for m in double.thread(asked) if "Hello" in m.text] == []


def test_agents_manage_macros_from_slack(desk: Casedesk, double: SlackDouble, people: People) -> None:
    people.reporter.run("/ticket-macros")
    assert "Only support agents" in people.reporter.wait_ephemeral("Only support agents")
    modal = people.agent.open_modal("/ticket-macros")
    assert "No canned replies yet." in str(modal.view["blocks"])
    modal.type("New macro's name", "Closing").type("Its text", "Bye {requester} from {team}")
    ack = modal.submit()
    assert ack is not None and "Unknown variable {team}" in ack["errors"]["body"]
    modal.type("Its text", "Closing {number} now, {requester}.").choose("Then set the case to", "Closed")
    ack = modal.submit()
    assert ack is not None and ack["response_action"] == "update"
    [macro] = desk.deps.macros.listed()
    assert (macro.name, macro.status) == ("Closing", Status.CLOSED)
    assert "Closing {number} now" in str(modal.view["blocks"])
    modal.click("Delete", near="Closing")
    assert desk.deps.macros.listed() == []
    assert "No canned replies yet." in str(modal.view["blocks"])
