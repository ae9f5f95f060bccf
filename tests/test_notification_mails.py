"""Notification mails, as a desk with SMTP sends them: a ticket's creation and resolution
reach its team's recipients, the form's extra addresses, the assignees and the requester
(To) with the admins' CC list (Cc), at a real SMTP server on loopback, exactly once —
through a refusal and a restart — and are listed in the ticket's timeline."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from email.utils import getaddresses
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from bot.app import Casedesk, create_app
from bot.jobs.email_poll import email_poll
from bot.services.mail_outbox import MailOutbox
from bot.services.notifications import CC_SETTING
from bot.services.tickets import utcnow
from bot.settings import Settings, load_settings
from db.models import OutboundEmail, Ticket
from db.session import Database
from mail_double.servers import MAILBOX_USER, ImapServer, Received, SmtpServer
from slack_double import Message, SlackDouble
from tests.conftest import AGENT, SUPPORT, People, base_env, email_env
from tests.mail_samples import CUSTOMER, mail

TEAM = ("team@example.com", "lead@example.com")
BOSS = "boss@example.com"
TOKEN = r"\[TCK-000001-[a-z0-9]+\]"


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    return load_settings(base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ACK": "false"})


@pytest.fixture
def smtp(mail_servers: tuple[ImapServer, SmtpServer]) -> SmtpServer:
    return mail_servers[1]


@pytest.fixture
def recipients(desk: Casedesk) -> Iterator[None]:
    """The default team's recipients and the admins' CC list, set by an admin (after the
    start, SYSTEM_USERS are admins). The CC list repeats a team address and names the
    desk's own mailbox: each is mailed once, the mailbox never."""
    directory = desk.deps.directory
    team = directory.default_team()
    directory.update_team(AGENT, team.id, team.version, notify_emails=TEAM)
    directory.set_setting(AGENT, CC_SETTING, f"{BOSS}, Team@Example.com, {MAILBOX_USER}", 0)
    yield


def file_ticket(double: SlackDouble, people: People, notify: str | None = None) -> Message:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High")
    modal.type("Details", "The export button does nothing.")
    if notify is not None:
        modal.type("Notify (emails)", notify)
    assert modal.submit() is None
    return double.wait_message(SUPPORT, "TCK-000001")


def sent(desk: Casedesk, smtp: SmtpServer, count: int) -> list[Received]:
    """Run the mail job (as the scheduler would) until the server has ``count`` mails."""
    for _ in range(50):
        email_poll(desk.deps)
        if len(smtp.received) >= count:
            break
        _due_now(desk.engine)
    return smtp.wait(count)


def _due_now(engine: Engine) -> None:
    """A notice waiting for its card is due again (its short wait has passed)."""
    time.sleep(0.05)
    with engine.begin() as conn:
        conn.execute(update(OutboundEmail).where(OutboundEmail.sent_at.is_(None)).values(due_at=OutboundEmail.created_at))


def subject(received: Received) -> str:
    return " ".join(str(make_header(decode_header(received.message["Subject"]))).split())


def body(received: Received) -> str:
    return bytes(received.message.get_payload(decode=True)).decode()


def addresses(received: Received, header: str) -> list[str]:
    return [a for _, a in getaddresses(received.message.get_all(header) or [])]


def card_link(double: SlackDouble, card: Message) -> str:
    return f"{double.api_url.replace('/api/', '/')}archives/{card.channel}/p{card.ts.replace('.', '')}"


def timeline_text(people: People, double: SlackDouble, card: Message) -> str:
    env = people.agent.click(double.current(card), "Timeline")
    view: dict[str, Any] = people.agent.modal_from(env.payload["trigger_id"]).view
    return "\n".join(str(b.get("text", {}).get("text", "")) for b in view["blocks"] if b["type"] == "section")


def test_the_creation_mail_reaches_the_team_the_form_and_the_cc_list_once(
    desk: Casedesk, double: SlackDouble, people: People, smtp: SmtpServer, recipients: None
) -> None:
    card = file_ticket(double, people, notify="extra@example.com, TEAM@example.com")
    [notice] = sent(desk, smtp, 1)
    assert addresses(notice, "To") == ["team@example.com", "lead@example.com", "extra@example.com"]
    assert addresses(notice, "Cc") == [BOSS]
    assert sorted(notice.recipients) == sorted([*TEAM, "extra@example.com", BOSS])
    assert MAILBOX_USER not in notice.recipients  # never the desk's own mailbox
    message = notice.message
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Auto-Response-Suppress"] == "All" and message["X-Loop"] == MAILBOX_USER
    assert re.fullmatch(rf"New ticket TCK-000001: Bug \(Billing\) {TOKEN}", subject(notice))
    text = body(notice)
    assert card_link(double, card) in text
    assert "The export button does nothing." in text and "Priority: High" in text

    assert email_poll(desk.deps).endswith("0 sent")  # nothing twice
    assert len(smtp.received) == 1
    assert "📧 Notification mailed to team@example.com, lead@example.com, extra@example.com (Cc: boss@example.com)" in (
        timeline_text(people, double, card)
    )


def test_the_resolution_mail_adds_the_assignees_and_the_requester(
    desk: Casedesk, double: SlackDouble, people: People, smtp: SmtpServer, recipients: None
) -> None:
    card = file_ticket(double, people)
    sent(desk, smtp, 1)
    people.agent.click(card, "Assign to Me")
    double.wait_thread_reply(card, "assigned")
    env = people.agent.click(double.current(card), "Resolve")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Resolution note", "Cleared the cache.")
    modal.submit()
    double.wait_thread_reply(card, "resolved TCK-000001")

    created, resolved = sent(desk, smtp, 2)
    assert "New ticket" in subject(created)
    assert re.fullmatch(rf"Resolved TCK-000001: Bug \(Billing\) {TOKEN}", subject(resolved))
    # The assignee and the Slack requester by their Slack profile's address.
    assert addresses(resolved, "To") == [*TEAM, "alice@example.com", "rita@example.com"]
    assert addresses(resolved, "Cc") == [BOSS]
    assert "Cleared the cache." in body(resolved)
    assert card_link(double, card) in body(resolved)
    assert email_poll(desk.deps).endswith("0 sent") and len(smtp.received) == 2
    lines = timeline_text(people, double, card)
    assert lines.count("📧 Notification mailed to") == 2
    assert "alice@example.com, rita@example.com (Cc: boss@example.com)" in lines


def test_bad_notify_addresses_are_refused_in_the_form(
    desk: Casedesk, double: SlackDouble, people: People, smtp: SmtpServer
) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    assert modal.labels()[-1] == "Notify (emails)"
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High")
    modal.type("Details", "Broken.")
    modal.type("Notify (emails)", "ok@example.com, not-an-address, Bob <bob@example.com>")
    ack = modal.submit()
    assert ack is not None
    assert ack["errors"] == {
        "notify_emails": "“not-an-address”, “Bob <bob@example.com>” are not email addresses: "
        "write each as name@example.com, separated by commas."
    }
    with Database(desk.engine).read() as session:
        assert session.scalars(select(Ticket)).first() is None
    modal.type("Notify (emails)", "ok@example.com;  second@example.org ")
    assert modal.submit() is None
    double.wait_message(SUPPORT, "TCK-000001")
    assert desk.deps.tickets.get(1).id == 1
    with Database(desk.engine).read() as session:
        assert session.get(Ticket, 1).notify_emails == "ok@example.com, second@example.org"  # type: ignore[union-attr]


def test_a_refusal_delays_the_mail_and_it_still_goes_once(
    desk: Casedesk, double: SlackDouble, people: People, smtp: SmtpServer, recipients: None
) -> None:
    file_ticket(double, people)
    double.wait_for(lambda: desk.deps.tickets.get(1).card_ts, what="the card recorded")
    smtp.refuse()
    assert email_poll(desk.deps).endswith("0 sent")
    assert _attempted(desk.engine)
    assert smtp.received == []
    smtp.refuse(False)
    [notice] = sent(desk, smtp, 1)
    assert addresses(notice, "To") == list(TEAM)
    email_poll(desk.deps)
    assert len(smtp.received) == 1


def test_a_restart_between_the_change_and_the_mail_sends_it_once(
    desk: Casedesk, settings: Settings, double: SlackDouble, people: People, smtp: SmtpServer, recipients: None
) -> None:
    card = file_ticket(double, people)
    double.wait_for(lambda: desk.deps.tickets.get(1).card_ts, what="the card recorded")
    # The first process claims the mail and dies before sending it.
    claimed = MailOutbox(Database(desk.engine)).claim(utcnow(), 10)
    assert len(claimed) == 1 and smtp.received == []
    desk.deps.sender.stop()
    later = create_app(settings, engine=desk.engine, client=desk.deps.client, clock=lambda: utcnow() + timedelta(minutes=3))
    assert email_poll(later.deps).endswith("1 sent")  # its claim has run out: the new process sends it
    [notice] = smtp.wait(1)
    assert card_link(double, card) in body(notice)
    assert email_poll(later.deps).endswith("0 sent") and email_poll(desk.deps).endswith("0 sent")
    assert len(smtp.received) == 1


def test_an_email_case_tells_its_customer_apart_from_the_team(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer], recipients: None
) -> None:
    imap, smtp = mail_servers
    imap.append(mail())
    email_poll(desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")
    [created] = sent(desk, smtp, 1)
    assert CUSTOMER not in created.recipients and addresses(created, "To") == list(TEAM)
    env = people.agent.click(card, "Resolve")
    people.agent.modal_from(env.payload["trigger_id"]).type("Resolution note", "Replaced the roller.").submit()
    double.wait_thread_reply(card, "resolved TCK-000001")
    _, resolved, customer = sent(desk, smtp, 3)
    assert CUSTOMER not in resolved.recipients
    # The customer's own mail: to them alone, none of the desk's lists, threaded to the case.
    assert customer.recipients == [CUSTOMER] and customer.message["Cc"] is None
    assert customer.message["Auto-Submitted"] == "auto-generated"
    assert re.search(TOKEN, subject(customer))
    assert "Replaced the roller." in body(customer) and "archives" not in body(customer)
    assert "📧 The requester's notification mailed to" in timeline_text(people, double, card)


def test_no_recipients_no_mail(desk: Casedesk, double: SlackDouble, people: People, smtp: SmtpServer) -> None:
    file_ticket(double, people)
    email_poll(desk.deps)
    with Database(desk.engine).read() as session:
        assert session.scalars(select(OutboundEmail)).first() is None
    assert smtp.received == []


def test_without_smtp_nothing_is_owed(engine: Engine, double: SlackDouble, people: People) -> None:
    from tests.conftest import connected

    built = create_app(load_settings(base_env(double.api_url)), engine=engine)
    directory = built.deps.directory
    team = directory.default_team()
    directory.update_team(AGENT, team.id, team.version, notify_emails=TEAM)
    for _ in connected(built, double):
        file_ticket(double, people, notify="extra@example.com")
        with Database(engine).read() as session:
            assert session.scalars(select(OutboundEmail)).first() is None


def _attempted(engine: Engine) -> bool:
    with Database(engine).read() as session:
        return session.scalars(select(OutboundEmail).where(OutboundEmail.attempts >= 1)).first() is not None
