"""No bad item stops a batch: a sender with a control character is quarantined and the
next mail is answered; an outgoing mail that cannot be sent is retried, given up after
its attempts and reported once, while the rest go out. And the desk is no reflector:
acknowledgements are limited per sender and per domain, and none answers mail failing
DMARC."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, insert, select, update

from bot.app import Casedesk, create_app
from bot.jobs.email_poll import email_poll
from bot.mail.smtp_send import DEAD_AFTER
from bot.settings import load_settings
from db.models import InboundEmail, OutboundEmail, OutboxPost
from mail_double.servers import ImapServer, SmtpServer, free_port
from slack_double import SlackDouble
from tests.conftest import ADMIN, base_env, connected, email_env
from tests.mail_samples import CUSTOMER, TRUSTED_AUTHSERV, mail, raw
from tests.test_email_intake import count, imap, settings, smtp  # noqa: F401 - fixtures, used by name


def test_a_control_character_sender_is_quarantined_and_the_next_mail_is_acknowledged(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer
) -> None:
    imap.append(raw("From: x\x0by@evil.test\nTo: support@example.com\nSubject: hi\nMessage-ID: <vt@evil.test>\n\nhello"), mail())
    assert email_poll(desk.deps) == "email-poll: 2 read (1 opened, 1 quarantined); 1 sent"
    [ack] = smtp.wait(1)
    assert ack.recipients == [CUSTOMER] and "TCK-000001" in ack.message["Subject"]
    report = double.wait_message(ADMIN, "could not be taken into a case")
    assert "the sender address is malformed" in report.text
    with desk.engine.connect() as conn:
        [(outcome, kept)] = conn.execute(select(InboundEmail.outcome, InboundEmail.raw).where(InboundEmail.message_id == "<vt@evil.test>"))
    assert outcome == "quarantined" and kept is not None and b"x\x0by@evil.test" in kept


def due_now(engine: Engine) -> None:
    """Every unsent mail's backoff has passed."""
    with engine.begin() as conn:
        conn.execute(update(OutboundEmail).values(due_at=OutboundEmail.created_at))


def test_an_outgoing_mail_that_cannot_be_written_never_stops_the_others_and_is_given_up_once(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer
) -> None:
    imap.append(mail())
    assert email_poll(desk.deps).endswith("1 sent")
    smtp.wait(1)
    # A row queued before addresses were checked (or by any path that forgot to), then a good one.
    with desk.engine.begin() as conn:
        first = conn.execute(select(OutboundEmail.__table__)).mappings().one()
        for n, to in enumerate(["x\x0by@evil.test", CUSTOMER]):
            values = {**first, "to_addr": to, "message_id": f"<queued{n}@example.com>", "sent_at": None, "claimed_until": None}
            conn.execute(insert(OutboundEmail).values({k: v for k, v in values.items() if k != "id"}))
    assert email_poll(desk.deps).endswith("1 sent")
    received = smtp.wait(2)
    assert [r.message["Message-ID"] for r in received[1:]] == ["<queued1@example.com>"]
    for _ in range(2, DEAD_AFTER + 2):  # one more round than it takes: a given-up mail is not tried again
        due_now(desk.engine)
        email_poll(desk.deps)
    with desk.engine.connect() as conn:
        [(attempts, error, dead_at)] = conn.execute(
            select(OutboundEmail.attempts, OutboundEmail.error, OutboundEmail.dead_at).where(OutboundEmail.sent_at.is_(None))
        ).all()
        reports = list(conn.scalars(select(OutboxPost.text).where(OutboxPost.text.like("%given up%"))))
    assert attempts == DEAD_AFTER and dead_at is not None and str(error).startswith("ValueError")
    assert len(reports) == 1  # reported once, naming the error's type, not the customer's data
    report = double.wait_message(ADMIN, "was given up after 8 failed attempts (ValueError)")
    assert "evil.test" not in report.text
    assert len(smtp.received) == 2


@pytest.fixture
def unreachable(double: SlackDouble, engine: Engine, imap: ImapServer, smtp: SmtpServer) -> Iterator[Casedesk]:
    env = base_env(double.api_url) | email_env(imap, smtp) | {"SMTP_PORT": str(free_port())}
    yield from connected(create_app(load_settings(env), engine=engine), double)


def test_an_unreachable_smtp_server_delays_mail_and_counts_against_none(unreachable: Casedesk, imap: ImapServer) -> None:
    imap.append(mail())
    for _ in range(DEAD_AFTER + 1):
        assert email_poll(unreachable.deps).endswith("0 sent")
        due_now(unreachable.engine)
    with unreachable.engine.connect() as conn:
        [(attempts, error, dead_at)] = conn.execute(select(OutboundEmail.attempts, OutboundEmail.error, OutboundEmail.dead_at)).all()
    assert attempts == 0 and dead_at is None and str(error).startswith("ConnectionRefusedError")


def test_twenty_mails_from_one_sender_get_at_most_three_acknowledgements(
    desk: Casedesk, imap: ImapServer, smtp: SmtpServer
) -> None:
    imap.append(*(mail(f"Spam {n}", "Hello", message_id=f"<spam{n}@customer.test>") for n in range(20)))
    assert email_poll(desk.deps) == "email-poll: 20 read (20 opened); 3 sent"
    assert len(smtp.wait(3)) == 3 and {r.recipients[0] for r in smtp.received} == {CUSTOMER}
    with desk.engine.connect() as conn:
        notes = list(conn.scalars(select(InboundEmail.note).order_by(InboundEmail.id)))
    assert notes[:3] == [None] * 3
    assert all(n and "3 acknowledgements went to this address in the last hour" in n for n in notes[3:])


@pytest.fixture
def domain_capped(double: SlackDouble, engine: Engine, imap: ImapServer, smtp: SmtpServer) -> Iterator[Casedesk]:
    env = base_env(double.api_url) | email_env(imap, smtp) | {"EMAIL_ACK_PER_DOMAIN_HOUR": "4"}
    yield from connected(create_app(load_settings(env), engine=engine), double)


def test_acknowledgements_to_one_domain_are_limited_too(domain_capped: Casedesk, imap: ImapServer, smtp: SmtpServer) -> None:
    imap.append(*(mail(f"From {n}", "Hi", sender=f"user{n}@victim.test", message_id=f"<d{n}@victim.test>") for n in range(6)))
    imap.append(mail("Elsewhere", "Hi", sender="someone@other.test", message_id="<other@other.test>"))
    assert email_poll(domain_capped.deps).endswith("; 5 sent")
    received = smtp.wait(5)
    assert sum(r.recipients[0].endswith("@victim.test") for r in received) == 4
    assert any(r.recipients == ["someone@other.test"] for r in received)


def test_mail_failing_dmarc_opens_a_case_and_is_not_acknowledged(desk: Casedesk, imap: ImapServer, smtp: SmtpServer) -> None:
    failing = {"Authentication-Results": f"{TRUSTED_AUTHSERV}; spf=fail smtp.mailfrom=evil.test; dmarc=fail header.from=customer.test"}
    imap.append(mail(headers=failing), mail("Real", "Hi", sender="dan@other.test", message_id="<real@other.test>"))
    assert email_poll(desk.deps) == "email-poll: 2 read (2 opened); 1 sent"
    assert [r.recipients for r in smtp.wait(1)] == [["dan@other.test"]]
    assert count(desk.engine, InboundEmail, InboundEmail.note.like("%fails DMARC%")) == 1
