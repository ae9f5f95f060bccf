"""Customers in Slack Connect channels: an intake channel shared with another organisation,
whose people write from their own workspace. Their top-level messages open cases with
their organisation as the account; our own people's do not; the bot says there only what
the customer may read, and everything else stays in the support channel."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from bot.app import Casedesk
from bot.services import customer_channels
from bot.services.customer_channels import RETRY_FAILED, CustomerChannels
from bot.services.directory import NewRule
from bot.services.status import Status
from bot.settings import Settings, load_settings
from bot.views.notices import SOLVED_LABEL
from db.models import Account, CaseMessage, CustomerChannel
from slack_double import BOT_USER_ID, Message, SlackDouble, events
from slack_double.blockkit import view_errors
from tests.conftest import AGENT, SUPPORT, People, base_env
from tests.test_admin import open_from_home
from tests.test_ticket_lists import numbers, open_list

SHARED = "C0ACMESHR"
ACME = "T0ACMECORP"
CUSTOMER = "U0ACMEKIM"
OTHER = "C0GLOBEXS"
GLOBEX = "T0GLOBEXCO"
ENTERPRISE = "C0ENTERPR"


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(SHARED, "acme-support")
    double.organisation(ACME, "Acme Corp")
    env = base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": SHARED}
    del env["INTAKE_GROUP_MINUTES"]  # the default: a person's messages within 2 minutes are one case
    return load_settings(env)


def bot_posts(double: SlackDouble, channel: str) -> list[Message]:
    return [m for m in double.workspace.messages.get(channel, []) if m.user == BOT_USER_ID or m.bot_id]


def test_a_customer_writes_an_agent_answers_and_nothing_internal_reaches_them(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the channel marked a customer channel")
    assert desk.deps.customers.get(SHARED).account_id == ACME  # type: ignore[union-attr]
    kim = double.external_person(CUSTOMER, ACME, "kim")

    # Our own agent's top-level message there opens nothing.
    people.agent.say(SHARED, "Hi Acme, welcome to your support channel!")
    asked = kim.say(SHARED, "Export is failing")
    card = double.wait_message(SUPPORT, "TCK-000001")
    ack = double.wait_thread_reply(asked, "TCK-000001")
    assert "support channel" not in ack.text and "archives/" not in ack.text  # no way to the card
    ticket = desk.deps.tickets.get(1)
    assert ticket.reporter_id == CUSTOMER and ticket.account_id == ACME
    double.wait_for(lambda: "Account: *Acme Corp*" in double.current(card).all_text(), what="the account's name on the card")

    # A burst from the customer joins the case; their thread reply is a case message.
    kim.say(SHARED, "since this morning")
    double.wait_thread_reply(card, "since this morning")
    kim.say(SHARED, "It says error 500", thread=asked)
    double.wait_thread_reply(card, "error 500")

    # An internal note in the card's thread stays inside; the agent answers in the customer's thread.
    people.agent.say(SUPPORT, "Internal: probably the S3 bucket again", thread=card)
    people.agent.say(SHARED, "We are looking at it now.", thread=asked)
    double.wait_for(lambda: desk.deps.tickets.get(1).first_response_at, what="the first response recorded")

    def stored() -> dict[str, str]:
        with engine.connect() as conn:
            return dict(conn.execute(select(CaseMessage.body, CaseMessage.kind)).all())

    # The note and the reply are stored side by side, in either order: wait for both.
    double.wait_for(lambda: "Internal: probably the S3 bucket again" in stored(), what="the note stored")
    kinds = stored()
    assert kinds["We are looking at it now."] == "public" and kinds["Internal: probably the S3 bucket again"] == "internal"

    # Taking the case is said in the card's thread only.
    people.agent.click(double.current(card), "Assign to Me")
    double.wait_thread_reply(card, "assigned")
    # A public reply from the card, then the resolution: both in the customer's thread.
    env = people.agent.click(card, "Reply to requester")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Your reply", "Fixed on our side, please retry.")
    assert modal.submit() is None
    double.wait_thread_reply(asked, "Fixed on our side")
    env = people.agent.click(double.current(card), "Resolve")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Resolution note", "Bucket permissions restored.")
    modal.submit()
    resolved = double.wait_thread_reply(asked, "was resolved")
    assert "View the ticket" not in resolved.text and "Bucket permissions restored." in resolved.text
    assert not [m for m in people.reporter.dms() if "TCK" in m.text]
    double.wait_for(lambda: "✅ Resolved" in double.current(card).all_text())

    # Everything the bot said in the shared channel: the acknowledgment, the reply and the resolution.
    said = bot_posts(double, SHARED)
    assert len(said) == 3, [m.text for m in said]
    # The acknowledgment has the customer's own button, and nothing else any button.
    assert [m.button_labels() for m in said] == [[SOLVED_LABEL], [], []]
    for message in said:
        text = message.all_text()
        assert message.thread_ts == asked.ts
        for internal in ("Internal:", "S3 bucket", "archives/", "assigned", "Public reply", "escalat", "Account"):
            assert internal not in text, text
    assert not [m for m in double.messages(SHARED) if m.user == BOT_USER_ID]  # nothing top-level
    assert len(double.messages(SHARED)) == 3  # the agent's greeting, the two questions


def test_a_channel_seen_shared_on_a_message_and_a_sender_no_lookup_resolves(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    """No channel_shared event came; the envelope says the channel is shared. The message
    carries no user_team and users.info refuses: the case opens all the same, with the raw
    ids, and the organisation's name is filled in when a later lookup succeeds."""
    double.share_channel(SHARED, ACME, announce=False)
    double.external_person(CUSTOMER, ACME, "kim")
    double.workspace.hidden_users[CUSTOMER] = "user_not_visible"
    ws = double.workspace
    msg = ws.add_message(Message(SHARED, ws.next_ts(), "Login page is blank", None, CUSTOMER))
    event = events.message_event(ws, msg)
    for key in ("user_team", "source_team", "team"):
        event.pop(key)
    double.deliver(event)
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert desk.deps.customers.get(SHARED) is not None
    assert desk.deps.tickets.get(1).reporter_id == CUSTOMER
    double.wait_thread_reply(msg, "TCK-000001")
    assert "Account" not in card.all_text()  # the organisation is not known yet: nothing invented

    # An agent writing there is ours (the directory knows them) even when Slack cannot say.
    people.agent.say(SHARED, "Looking into the login page")
    double.workspace.hidden_users.pop(CUSTOMER)
    double.external_person("U0ACMEJOE", ACME, "joe")
    joe = double.person("U0ACMEJOE")
    joe.say(SHARED, "Same here")
    double.wait_message(SUPPORT, "TCK-000002")
    double.wait_for(lambda: "Account: *Acme Corp*" in double.current(double.wait_message(SUPPORT, "TCK-000002")).all_text())
    assert len([m for m in double.messages(SUPPORT) if "TCK-00000" in m.all_text()]) == 2


def test_a_failed_team_lookup_is_tried_again_later_not_kept(double: SlackDouble, engine: Engine, desk: Casedesk) -> None:
    now = [datetime(2026, 11, 30, 9, 0, tzinfo=UTC)]
    customers = CustomerChannels(desk.deps.db, desk.deps.client, is_admin=lambda _: False, clock=lambda: now[0])  # type: ignore[arg-type]
    assert customers.refresh(ACME).name is None  # not shared with us yet: team_not_found
    with engine.connect() as conn:
        assert conn.execute(select(Account.error)).scalar_one() == "team_not_found"
    double.share_channel(SHARED, ACME, announce=False)
    assert not customers.due(ACME)
    now[0] += RETRY_FAILED
    assert customers.due(ACME)
    assert customers.refresh(ACME).name == "Acme Corp"
    calls = len(double.workspace.calls_to("team.info"))
    now[0] += timedelta(minutes=59)
    for _ in range(20):
        customers.refresh(ACME)
    assert len(double.workspace.calls_to("team.info")) == calls  # at most hourly
    now[0] += timedelta(minutes=1)
    assert customers.due(ACME)


def test_an_admin_marks_a_customer_channel_from_home_with_its_own_acknowledgment(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    """A shared channel that is no intake channel: nothing until an admin marks it, then
    its external members' messages open cases at once (no restart)."""
    double.channel(OTHER, "globex-support")
    double.organisation(GLOBEX, "Globex")
    double.share_channel(OTHER, GLOBEX)
    sam = double.external_person("U0GLOBSAM", GLOBEX, "sam")
    sam.say(OTHER, "Hello, is anyone there?")
    assert desk.deps.customers.get(OTHER) is None  # not an intake channel: sharing it made none of it

    modal = open_from_home(people.agent, "Customer channels")
    modal.pick_channel("Channel", OTHER).type("Acknowledgment", "Thanks <!channel>! We answer within 4 business hours.")
    assert modal.submit() is None
    assert desk.deps.customers.get(OTHER).account_id == GLOBEX  # type: ignore[union-attr]  # from conversations.info
    asked = sam.say(OTHER, "Our invoices are wrong")
    ack = double.wait_thread_reply(asked, "TCK-000001")
    assert ack.text == "Thanks &lt;!channel&gt;! We answer within 4 business hours. (TCK-000001)"

    home = json.dumps(people.agent.open_home())
    assert f"<#{OTHER}> (Globex)" in home or f"<#{OTHER}> ({GLOBEX})" in home

    # Unmarked: its messages open nothing any more.
    modal = open_from_home(people.agent, "Customer channels")
    modal.pick_channel("Channel", OTHER).choose("This channel is", "Not a customer channel")
    assert modal.submit() is None
    assert desk.deps.customers.get(OTHER) is None
    sam.say(OTHER, "And the reports too")
    double.wait_message(SUPPORT, "TCK-000001")
    assert desk.deps.conversations.case_of_message(OTHER, double.messages(OTHER)[-1].ts) is None


def test_a_customer_channel_marked_by_another_process_applies_here_within_moments(
    desk: Casedesk, double: SlackDouble, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What this process read of a channel is believed for a few seconds on a message's
    way; a change another process (a replica, the CLI) commits shows here after that."""
    monkeypatch.setattr(customer_channels, "FRESH_FOR", 0.5)
    double.channel(OTHER, "globex-support")
    double.organisation(GLOBEX, "Globex")
    double.share_channel(OTHER, GLOBEX, announce=False)
    sam = double.external_person("U0GLOBSAM", GLOBEX, "sam")
    assert desk.deps.customers.current(OTHER) is None  # read here, and now believed
    with engine.begin() as conn:  # another process marks it: nothing in this one hears of it
        conn.execute(insert(CustomerChannel).values(channel=OTHER, account_id=GLOBEX, marked_by=AGENT, marked_at=datetime.now(UTC)))
    double.wait_for(lambda: desk.deps.customers.current(OTHER) is not None, what="the other process's change seen here")
    asked = sam.say(OTHER, "Our invoices are wrong")
    double.wait_thread_reply(asked, "TCK-000001")


def test_an_accounts_cases_are_routed_to_its_team(desk: Casedesk, double: SlackDouble) -> None:
    double.channel(ENTERPRISE, "enterprise-triage")
    team = desk.deps.directory.create_team(AGENT, "Enterprise", triage_channel=ENTERPRISE)
    desk.deps.directory.add_rule(AGENT, NewRule(field="account", value="acme corp", team_id=team.id))
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.account(ACME).name, what="the organisation's name looked up")
    kim = double.external_person(CUSTOMER, ACME, "kim")
    kim.say(SHARED, "Export is failing")
    card = double.wait_message(ENTERPRISE, "TCK-000001")
    assert "Account: *Acme Corp*" in card.all_text()
    assert not [m for m in double.messages(SUPPORT) if "TCK-000001" in m.all_text()]


def test_system_tickets_lists_an_accounts_cases(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.organisation(GLOBEX, "Globex")
    double.channel(OTHER, "globex-support")
    double.share_channel(SHARED, ACME)
    double.share_channel(OTHER, GLOBEX)
    desk.deps.customers.mark(AGENT, OTHER, account_id=GLOBEX)  # as an admin does from the Home tab
    double.wait_for(lambda: desk.deps.customers.account(ACME).name, what="the organisation's name")
    kim = double.external_person(CUSTOMER, ACME, "kim")
    sam = double.external_person("U0GLOBSAM", GLOBEX, "sam")
    kim.say(SHARED, "Export is failing")
    sam.say(OTHER, "Invoices are wrong")
    people.reporter.say(SUPPORT, "unrelated")
    double.wait_message(SUPPORT, "TCK-000002")
    assert numbers(open_list(people.agent, "/system-tickets", "account:acme_corp")) == ["TCK-000001"]
    assert numbers(open_list(people.agent, "/system-tickets", f"account:{GLOBEX}")) == ["TCK-000002"]
    assert numbers(open_list(people.agent, "/system-tickets", "account:Initech")) == []
    summary = people.agent.open_modal("/ticket-summary")
    double.wait_for(lambda: "Customer accounts" in json.dumps(summary.view), what="the summary")
    text = json.dumps(summary.view)
    assert "*Acme Corp*: 1 open, 1 opened" in text and "*Globex*: 1 open, 1 opened" in text
    assert view_errors(summary.view) == []


def test_the_customer_says_their_case_is_solved_and_only_they_can(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the channel marked a customer channel")
    kim = double.external_person(CUSTOMER, ACME, "kim")
    lee = double.external_person("U0ACMELEE", ACME, "lee")
    asked = kim.say(SHARED, "Invoices will not download")
    ack = double.wait_thread_reply(asked, "TCK-000001")
    card = double.wait_message(SUPPORT, "TCK-000001")

    # A colleague of hers (or anyone replaying the button) cannot close her case.
    lee.click(ack, SOLVED_LABEL)
    lee.wait_ephemeral("Only the person who asked")
    assert desk.deps.tickets.get(1).status is Status.OPEN

    stale = copy.deepcopy(ack)  # as her client may still show it
    kim.click(ack, SOLVED_LABEL)
    double.wait_for(lambda: desk.deps.tickets.get(1).status is Status.RESOLVED, what="resolved by the requester")
    double.wait_for(lambda: "marked this solved" in double.current(ack).all_text(), what="the button to give way")
    assert not double.current(ack).buttons() and "TCK-000001" in double.current(ack).all_text()
    double.wait_for(lambda: "✅ Resolved" in double.current(card).all_text(), what="the card to follow")
    assert desk.deps.tickets.get(1).resolved_by == CUSTOMER
    kim.click(stale, SOLVED_LABEL, as_shown=True)  # a stale copy pressed again: told, nothing changes
    kim.wait_ephemeral("already Resolved")
