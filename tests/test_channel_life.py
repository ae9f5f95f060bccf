"""A customer channel's life (Slack Connect), through the double as the two organisations
live it: the customer leaves the channel and comes back, the connection is severed and
the old id answers channel_not_found, a private channel's id changes as its share starts.
Held cases wait, the team is told once, nothing is retried into a channel that is gone,
and nothing is lost: what was owed there goes out when the channel is shared again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select

from bot.app import Casedesk, create_app
from bot.services.channel_life import PARKED, ChannelLife
from bot.services.customer_channels import CustomerChannels
from bot.services.directory import NewRule
from bot.settings import Settings, load_settings
from db.models import CaseMessage, OutboxPost, RoutingRule, Team, Ticket
from db.session import Database, make_engine
from slack_double import Message, SlackDouble, events
from tests.conftest import AGENT, SUPPORT, People, base_env, connected
from tests.test_customer_channels import ACME, CUSTOMER, SHARED
from tests.test_operations import bot_env, check

PRIVATE = "G0ACMEPRV"
TRIAGE = "C0TRIAGEE"


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(SHARED, "acme-support")
    double.organisation(ACME, "Acme Corp")
    return load_settings(base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": SHARED})


def desk_client(double: SlackDouble) -> WebClient:
    return WebClient(token=double.bot_token, base_url=double.api_url)


def card_recorded(desk: Casedesk, double: SlackDouble, ticket_id: int) -> None:
    """The card is in Slack and recorded: a reply in its thread is the case's (a customer
    channel's acknowledgment goes beside the card, so seeing it says nothing of the card)."""
    double.wait_for(lambda: desk.deps.tickets.get(ticket_id).card_ts, what="the card recorded")


def status(desk: Casedesk, ticket_id: int) -> str:
    return desk.deps.tickets.get(ticket_id).status.value


def alerts(double: SlackDouble, channel: str, words: str) -> list[Message]:
    return [m for m in double.messages(channel) if words in m.text]


def outbox_row(engine: Engine, kind: str, ticket_id: int) -> OutboxPost | None:
    with engine.connect() as conn:
        row = conn.execute(select(OutboxPost).where(OutboxPost.kind == kind, OutboxPost.ticket_id == ticket_id)).first()
        return row  # type: ignore[return-value]


def posts_to(double: SlackDouble, channel: str) -> int:
    return len([c for c in double.workspace.calls_to("chat.postMessage") if c.args.get("channel") == channel])


def test_an_unshared_channel_holds_its_cases_once_and_sharing_it_again_resumes_them(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the channel marked a customer channel")
    kim = double.external_person(CUSTOMER, ACME, "kim")
    first = kim.say(SHARED, "Export is failing")
    second = kim.say(SHARED, "Login is slow")
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_message(SUPPORT, "TCK-000002")
    double.wait_thread_reply(second, "TCK-000002")
    people.agent.click(double.current(card), "Assign to Me")
    double.wait_for(lambda: status(desk, 1) == "in_progress", what="the case taken")

    # Another organisation leaving a channel still shared with Acme holds nothing (done before the ack).
    double.organisation("T0GLOBEXCO", "Globex")
    double.share_channel(SHARED, "T0GLOBEXCO", announce=False)
    double.unshare_channel(SHARED, "T0GLOBEXCO")
    assert desk.deps.customers.get(SHARED).held is None and status(desk, 2) == "open"  # type: ignore[union-attr]

    double.unshare_channel(SHARED, ACME)
    alert = double.wait_message(SUPPORT, "no longer shared")
    assert "TCK-000001" in alert.text and "TCK-000002" in alert.text and "Acme Corp" in alert.text
    assert (status(desk, 1), status(desk, 2)) == ("waiting", "waiting")
    double.wait_for(lambda: "Waiting" in double.current(card).all_text(), what="the card redrawn")

    # An agent's reply meanwhile is kept for the customer, not sent and not retried.
    people.agent.say(SUPPORT, "reply: We found it, please retry.", thread=card)
    double.wait_for(lambda: (r := outbox_row(engine, "public_reply", 1)) is not None and r.dead_at is not None,
                    what="the reply parked")
    row = outbox_row(engine, "public_reply", 1)
    assert row is not None and row.error == PARKED + "unshared" and row.attempts == 0
    assert not [m for m in double.thread(first) if "We found it" in m.text]

    # Slack saying so again (a redelivery) tells nobody twice.
    double.deliver(events.channel_unshared_event(double.workspace, SHARED, ACME, False))

    double.share_channel(SHARED, ACME)
    line = double.wait_message(SUPPORT, "is shared again")
    assert "2 open cases resumed" in line.text
    double.wait_thread_reply(first, "We found it, please retry.")  # what was owed there goes out
    assert (status(desk, 1), status(desk, 2)) == ("in_progress", "open")
    assert len(alerts(double, SUPPORT, "no longer shared")) == 1
    assert len(alerts(double, SUPPORT, "is shared again")) == 1
    assert "no longer shared" not in " ".join(m.text for m in double.workspace.messages[SHARED])  # said inside only


def test_a_resolution_owed_while_the_channel_is_held_goes_out_when_it_is_shared_again(
    desk: Casedesk, double: SlackDouble, engine: Engine
) -> None:
    """The resolution notice is owed to the requester (not to the channel) and read in their
    thread: parked by its own row when the channel turns out gone, resumed with the channel."""
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the channel marked a customer channel")
    asked = double.external_person(CUSTOMER, ACME, "kim").say(SHARED, "Export is failing")
    double.wait_thread_reply(asked, "TCK-000001")
    card_recorded(desk, double, 1)
    double.unshare_channel(SHARED, ACME)
    double.wait_message(SUPPORT, "no longer shared")

    desk.deps.tickets.resolve(1, AGENT, "Bucket permissions restored.")
    double.wait_for(lambda: (r := outbox_row(engine, "reporter_dm", 1)) is not None and r.dead_at is not None,
                    what="the resolution notice parked")
    assert not [m for m in double.thread(asked) if "was resolved" in m.text]

    double.share_channel(SHARED, ACME)
    double.wait_thread_reply(asked, "was resolved")


def test_a_disconnected_channel_answering_channel_not_found_is_held_not_retried(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    """The customer hosted the channel: once the connection is severed our copy has a new
    id and the one the desk knows answers channel_not_found, with no event to say so. The
    first post there finds out; nothing is posted there again."""
    double.share_channel(SHARED, ACME, their_channel=True)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the channel marked a customer channel")
    kim = double.external_person(CUSTOMER, ACME, "kim")
    asked = kim.say(SHARED, "Export is failing")
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")
    card_recorded(desk, double, 1)
    sent = posts_to(double, SHARED)

    assert double.disconnect(SHARED, ACME) is not None
    people.agent.say(SUPPORT, "reply: Fixed, please retry.", thread=card)
    alert = double.wait_message(SUPPORT, "disconnected or gone")
    assert "TCK-000001" in alert.text and "channel_not_found" in alert.text
    assert status(desk, 1) == "waiting"
    first = outbox_row(engine, "public_reply", 1)
    assert first is not None and first.dead_at is not None and first.error == PARKED + "channel_not_found"
    assert posts_to(double, SHARED) == sent + 1  # the one attempt that found out

    # A second reply is parked without asking Slack.
    people.agent.say(SUPPORT, "reply: Any news?", thread=card)

    def second_parked() -> bool:
        with engine.connect() as conn:
            return conn.execute(
                select(OutboxPost.id).where(OutboxPost.kind == "public_reply", OutboxPost.dead_at.is_not(None))
            ).all().__len__() == 2

    double.wait_for(second_parked, what="the second reply parked")
    assert posts_to(double, SHARED) == sent + 1
    assert len(alerts(double, SUPPORT, "disconnected or gone")) == 1
    with engine.connect() as conn:
        retried = conn.execute(select(OutboxPost.id).where(OutboxPost.channel == SHARED, OutboxPost.dead_at.is_(None),
                                                           OutboxPost.sent_at.is_(None))).all()
    assert retried == []


def test_an_archived_customer_channel_holds_its_cases(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.share_channel(SHARED, ACME)
    double.wait_for(lambda: desk.deps.customers.get(SHARED), what="the channel marked a customer channel")
    kim = double.external_person(CUSTOMER, ACME, "kim")
    asked = kim.say(SHARED, "Export is failing")
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")
    card_recorded(desk, double, 1)
    double.workspace.channels[SHARED].is_archived = True
    people.agent.say(SUPPORT, "reply: Fixed.", thread=card)
    double.wait_message(SUPPORT, "archived or frozen")
    assert status(desk, 1) == "waiting"


def test_a_private_channels_new_id_is_followed_everywhere(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    """A private customer channel's id changes as its share starts: its case, its messages,
    its routing rule and the channel's own settings follow the new id, and the customer's
    next reply and the agent's answer land in the same case under it."""
    double.channel(PRIVATE, "acme-private")
    double.channel(TRIAGE, "acme-triage")
    team = desk.deps.directory.create_team(AGENT, "Acme team", triage_channel=TRIAGE)
    desk.deps.directory.add_rule(AGENT, NewRule(field="intake_channel", value=PRIVATE, team_id=team.id))
    desk.deps.customers.mark(AGENT, PRIVATE, account_id=ACME, ack_text="Thanks, we are on it.")
    double.share_channel(PRIVATE, ACME, announce=False)
    kim = double.external_person(CUSTOMER, ACME, "kim")
    asked = kim.say(PRIVATE, "Export is failing")
    card = double.wait_message(TRIAGE, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")

    new = "C0ACMENEW"
    double.change_channel_id(PRIVATE, new)
    double.wait_for(lambda: desk.deps.customers.get(new), what="the customer channel under its new id")
    assert desk.deps.customers.get(PRIVATE) is None
    assert desk.deps.customers.get(new).ack_text == "Thanks, we are on it."  # type: ignore[union-attr]
    ticket = desk.deps.tickets.get(1)
    assert ticket.origin_channel == new and ticket.status.value == "open"
    with engine.connect() as conn:
        assert conn.execute(select(RoutingRule.value)).scalar_one() == new
        assert set(conn.execute(select(CaseMessage.slack_channel)).scalars()) == {new}
        assert conn.execute(select(Team.triage_channel).where(Team.id == team.id)).scalar_one() == TRIAGE

    kim.say(new, "It says error 500", thread=asked)
    double.wait_thread_reply(card, "error 500")
    people.agent.say(TRIAGE, "reply: Fixed, please retry.", thread=card)
    double.wait_thread_reply(asked, "Fixed, please retry.")
    kim.say(new, "Another thing: the reports")
    double.wait_message(TRIAGE, "TCK-000002")
    with engine.connect() as conn:
        assert set(conn.execute(select(Ticket.origin_channel)).scalars()) == {new}
    assert not alerts(double, TRIAGE, "no longer shared") and not alerts(double, SUPPORT, "no longer shared")


def test_the_doctor_lists_customer_channels_and_a_setting_naming_an_old_id(
    double: SlackDouble, people: People, tmp_path: Path
) -> None:
    double.channel(SHARED, "acme-support")
    double.organisation(ACME, "Acme Corp")
    double.share_channel(SHARED, ACME, announce=False)
    double.channel(PRIVATE, "globex-support")
    assert subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=bot_env(double), cwd=tmp_path).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'casedesk.db'}")
    try:
        db = Database(engine)
        customers = CustomerChannels(db, desk_client(double), is_admin=lambda _: True)
        customers.mark(AGENT, SHARED, account_id=ACME)
        customers.mark(AGENT, "C0NOTSEEN", account_id="T0INITECH")
        customers.mark(AGENT, "G0OLDPRIV")
        life = ChannelLife(db, None, SUPPORT)  # type: ignore[arg-type]  # only resuming cases needs the ticket service
        life.moved("G0OLDPRIV", PRIVATE)
        life.gone(PRIVATE, "channel_not_found")
    finally:
        engine.dispose()
    result = check(double, tmp_path, INTAKE_SLACK_CHANNELS=f"{SHARED},G0OLDPRIV")
    lines = result.stdout.splitlines()
    assert "✓ customer channel #acme-support (T0ACMECORP)" in lines
    assert ("✗ customer channel C0NOTSEEN, which the bot cannot see: check it, or /invite @Casedesk there (T0INITECH)"
            in lines)
    held = [line for line in lines if line.startswith(f"✗ customer channel {PRIVATE}: on hold since")]
    assert len(held) == 1 and "(channel_not_found)" in held[0] and "shared with the customer again" in held[0]
    assert ("✗ INTAKE_SLACK_CHANNELS[1] names G0OLDPRIV, which Slack renamed G0ACMEPRV when it was shared: "
            "set INTAKE_SLACK_CHANNELS[1] to G0ACMEPRV") in lines
    assert result.returncode == 1


def test_an_intake_channel_named_in_the_settings_keeps_its_cases_under_its_new_id(
    double: SlackDouble, engine: Engine, people: People
) -> None:
    """INTAKE_SLACK_CHANNELS names a private channel; its share starts and Slack gives it a
    new id. The setting cannot change by itself: the channel is a customer channel under
    the new id (it is being shared), and its customers' messages still open cases."""
    double.channel(PRIVATE, "acme-private")
    double.organisation(ACME, "Acme Corp")
    built = create_app(load_settings(base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": PRIVATE}), engine=engine)
    for desk in connected(built, double):
        new = "C0ACMENEW"
        double.change_channel_id(PRIVATE, new)
        assert desk.deps.customers.get(new) is not None  # done before Slack's envelope was acked
        double.share_channel(new, ACME)
        kim = double.external_person(CUSTOMER, ACME, "kim")
        asked = kim.say(new, "Export is failing")
        double.wait_message(SUPPORT, "TCK-000001")
        double.wait_thread_reply(asked, "TCK-000001")
        assert desk.deps.tickets.get(1).account_id == ACME
