"""Mail into cases, with a real IMAP server (pymap) and SMTP server (aiosmtpd) on loopback
and the real bot connected to the Slack double."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import Engine, func, select

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.services.status import Status
from bot.settings import Settings, load_settings
from bot.views.timeline import event_line
from db.models import Attachment, CaseMessage, InboundEmail, Ticket, TicketEvent
from mail_double.servers import ImapServer, Received, SmtpServer
from slack_double import Message, SlackDouble
from tests.conftest import ADMIN, SUPPORT, base_env, email_env
from tests.mail_samples import (
    BOUNCE,
    CUSTOMER,
    FORWARDED,
    HTML_ONLY,
    INLINE_IMAGE,
    KEYED_TOKEN,
    LATIN1,
    NO_MESSAGE_ID,
    OUT_OF_OFFICE,
    SHIFT_JIS_BODY,
    TRUSTED_AUTHSERV,
    UNKNOWN_CHARSET,
    mail,
    passed,
    raw,
)


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    return load_settings(base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_TRUSTED_AUTHSERV": TRUSTED_AUTHSERV})


@pytest.fixture
def imap(mail_servers: tuple[ImapServer, SmtpServer]) -> ImapServer:
    return mail_servers[0]


@pytest.fixture
def smtp(mail_servers: tuple[ImapServer, SmtpServer]) -> SmtpServer:
    return mail_servers[1]


def count(engine: Engine, model: type, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def poll(desk: Casedesk) -> str:
    return email_poll(desk.deps)


def test_a_new_mail_opens_a_case_posts_its_card_and_is_acknowledged(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer
) -> None:
    imap.append(mail(html="<p>It jams on <b>every</b> page.</p>", attachments=[("jam.txt", "text/plain", b"error 42")]))
    assert poll(desk) == "email-poll: 1 read (1 opened); 1 sent"
    card = double.wait_message(SUPPORT, "TCK-000001")
    text = card.all_text()
    assert "📧 By email from Carol Díaz &lt;carol@customer.test&gt;" in text
    assert "Printer on floor 3 is broken" in text and "It jams on every page." in text
    assert "Reply by email" in card.button_labels()
    ticket = desk.deps.tickets.get(1)
    assert (ticket.source, ticket.reporter_id, ticket.reporter_name, ticket.title) == (
        "email", CUSTOMER, "Carol Díaz", "Printer on floor 3 is broken",
    )
    assert ticket.details == "It jams on every page.\nPlease help."  # the plain part, not the HTML
    with desk.engine.connect() as conn:
        [(name, content)] = conn.execute(select(Attachment.name, Attachment.content)).all()
    assert (name, content) == ("jam.txt", b"error 42")
    [ack] = smtp.wait(1)
    assert ack.recipients == [CUSTOMER]
    assert re.fullmatch(rf"Re: Printer on floor 3 is broken {KEYED_TOKEN}", ack.message["Subject"])
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["In-Reply-To"] == "<first@customer.test>"
    assert "TCK-000001" in ack.message.get_payload()
    assert imap.unseen() == []  # flagged \Seen once recorded


def acknowledged_case(desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer) -> tuple[Message, Received]:
    """Carol writes in; returns the case's card and the acknowledgement she got."""
    imap.append(mail())
    poll(desk)
    card = double.wait_message(SUPPORT, "TCK-000001")
    [ack] = smtp.wait(1)
    return card, ack


def test_a_reply_joins_its_case_by_in_reply_to_and_counts_as_a_follow_up(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer
) -> None:
    card, ack = acknowledged_case(desk, double, imap, smtp)
    # The customer answers the acknowledgement; their mail program changed the subject.
    imap.append(mail("AW: something else entirely", "Still jammed <!channel>", message_id="<second@customer.test>",
                     in_reply_to=ack.message["Message-ID"], references=f"<first@customer.test> {ack.message['Message-ID']}"))
    assert "1 threaded" in poll(desk)
    line = double.wait_thread_reply(card, "wrote by email")
    assert "Still jammed &lt;!channel&gt;" in line.text and "<!channel>" not in line.text
    ticket = desk.deps.tickets.get(1)
    assert ticket.followups == 1
    assert count(desk.engine, Ticket) == 1 and count(desk.engine, CaseMessage) == 2
    assert len(smtp.received) == 1  # replies are not acknowledged again


def test_the_reply_key_threads_a_bare_number_only_the_authenticated_requester_and_bare_subjects_never(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer
) -> None:
    _, ack = acknowledged_case(desk, double, imap, smtp)
    keyed = ack.message["Subject"]
    imap.append(
        mail(keyed, "From me again, a new mail with the subject kept", message_id="<token@customer.test>"),
        mail("Re: Printer [TCK-000001]", "I am a stranger", sender="mallory@elsewhere.test", message_id="<stranger@elsewhere.test>"),
        mail("Re: Printer on floor 3 is broken", "Same subject, no token", message_id="<bare@customer.test>"),
        mail("Re: Printer [TCK-000001]", "Typed the number myself", message_id="<typed@customer.test>"),
        mail("Re: Printer [TCK-000001]", "Typed it, and my mail is authenticated", message_id="<signed@customer.test>",
             headers=passed("customer.test")),
        mail("Re: Printer [TCK-000001-aaaaaaaaaaaa]", "A made-up key", sender="mallory@elsewhere.test", message_id="<guess@elsewhere.test>"),
    )
    assert "2 threaded" in poll(desk)
    with desk.engine.connect() as conn:
        rows = conn.execute(select(InboundEmail.message_id, InboundEmail.outcome, InboundEmail.ticket_id).order_by(InboundEmail.id)).all()
    assert [tuple(r) for r in rows[1:]] == [
        ("<token@customer.test>", "threaded", 1),
        ("<stranger@elsewhere.test>", "opened", 2),
        ("<bare@customer.test>", "opened", 3),
        ("<typed@customer.test>", "opened", 4),
        ("<signed@customer.test>", "threaded", 1),
        ("<guess@elsewhere.test>", "opened", 5),
    ]
    # The new cases' history says why the number in their subject did not thread them.
    why = {e.ticket_id: e.note for n in (2, 4, 5) for e in desk.deps.tickets.events(n) if e.kind == "unverified"}
    assert "neither its reporter nor an authenticated admin" in (why[2] or "")
    assert "claims to be from its reporter" in (why[4] or "") and "no Authentication-Results" in (why[4] or "")
    assert "reply key that is not that case's" in (why[5] or "")


def test_an_admin_closes_by_email_only_the_case_their_mail_answers(
    desk: Casedesk, double: SlackDouble, imap: ImapServer
) -> None:
    imap.append(mail(), mail("Second problem", "Other", message_id="<other@customer.test>"))
    poll(desk)
    card = double.wait_message(SUPPORT, "TCK-000001")
    imap.append(
        mail("Re: Printer", "I’m closing this case", sender="carol@customer.test", message_id="<c1@customer.test>", in_reply_to="<first@customer.test>"),
    )
    poll(desk)
    assert desk.deps.tickets.get(1).status is Status.OPEN  # a customer saying it closes nothing
    imap.append(
        mail("Re: Printer", "Fixed on site.\nI'm closing this case.", sender="Boss <BOSS@example.com>",
             message_id="<close@example.com>", in_reply_to="<first@customer.test>", headers=passed("example.com")),
    )
    poll(desk)
    assert desk.deps.tickets.get(1).status is Status.CLOSED
    assert desk.deps.tickets.get(2).status is Status.OPEN
    double.wait_thread_reply(card, "Closed by an admin's email")
    double.wait_for(lambda: "🔒 Closed" in double.current(card).all_text())
    [event] = [e for e in desk.deps.tickets.events(1) if e.to_value == Status.CLOSED.value]
    assert event.actor_id == "boss@example.com"


def test_a_customer_reply_reopens_a_resolved_case(desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer) -> None:
    _, ack = acknowledged_case(desk, double, imap, smtp)
    desk.deps.tickets.resolve(1, "U0AGENTAL", "Replaced the roller.")
    imap.append(mail(ack.message["Subject"], "It jams again.", message_id="<again@customer.test>"))
    poll(desk)
    assert desk.deps.tickets.get(1).status is Status.OPEN


def test_automatic_mail_never_opens_a_case_and_is_never_answered(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, smtp: SmtpServer
) -> None:
    card, ack = acknowledged_case(desk, double, imap, smtp)
    out_of_office = raw(OUT_OF_OFFICE.format(subject=ack.message["Subject"], in_reply_to=ack.message["Message-ID"]))
    imap.append(
        out_of_office,
        BOUNCE,
        mail("Weekly digest", "News", sender="news@lists.test", message_id="<list@lists.test>", headers={"List-Id": "<news.lists.test>"}),
        mail("Loop", "Our own mail came back", sender="support@example.com", message_id="<own@example.com>"),
        mail("Bulk", "Offer", sender="deals@shop.test", message_id="<bulk@shop.test>", headers={"Precedence": "bulk"}),
    )
    assert poll(desk) == "email-poll: 5 read (1 note, 4 skipped); 0 sent"
    assert count(desk.engine, Ticket) == 1
    note = double.wait_thread_reply(card, "automatic mail")
    assert "out of the office" in note.text
    ticket = desk.deps.tickets.get(1)
    assert ticket.followups == 0  # an auto-reply is not the customer chasing
    assert len(smtp.received) == 1  # only the first acknowledgement, ever


def test_awkward_shapes_are_read_into_readable_cases(desk: Casedesk, double: SlackDouble, imap: ImapServer) -> None:
    shift_jis = (
        b"From: ken@customer.test\r\nTo: support@example.com\r\nSubject: =?shift_jis?b?"
        + __import__("base64").b64encode("請求書".encode("shift_jis"))
        + b"?=\r\nMessage-ID: <sjis@customer.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + SHIFT_JIS_BODY + b"\r\n"
    )
    imap.append(HTML_ONLY, LATIN1, shift_jis, FORWARDED, INLINE_IMAGE)
    assert poll(desk).startswith("email-poll: 5 read (5 opened)")
    html, latin1, sjis, forwarded, inline = (desk.deps.tickets.get(n) for n in range(1, 6))
    assert html.details == "Hello,\n\nThe invoice & the receipt differ.\n\n• one\n• two\n\nSee invoice 7 (https://example.com/inv/7)"
    assert (latin1.reporter_name, latin1.title, latin1.details) == ("René Müller", "Grüße aus Köln", "Schöne Grüße, das Menü ist kaputt.")
    assert (sjis.title, sjis.details) == ("請求書", "請求書が表示されません。")
    assert forwarded.details == "See the mail below, the order never arrived."
    assert inline.details == "Look at this: [error dialog]"
    with desk.engine.connect() as conn:
        files = {(t, n, c) for t, n, c in conn.execute(select(Attachment.ticket_id, Attachment.name, Attachment.content_type))}
    assert files == {(4, "Your order.eml", "message/rfc822"), (5, "shot.png", "image/png")}
    # None of these needed a review.
    assert count(desk.engine, TicketEvent, TicketEvent.kind == "flagged") == 0
    assert count(desk.engine, TicketEvent, TicketEvent.kind == "review") == 0


def test_mail_that_cannot_be_read_cleanly_is_kept_and_flagged_for_review(
    desk: Casedesk, double: SlackDouble, imap: ImapServer
) -> None:
    imap.append(NO_MESSAGE_ID, UNKNOWN_CHARSET)
    poll(desk)
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(card, "could not be read cleanly (no Message-ID)")
    with desk.engine.connect() as conn:
        rows = conn.execute(select(InboundEmail.outcome, InboundEmail.note, InboundEmail.raw).order_by(InboundEmail.id)).all()
    assert [(o, n) for o, n, _ in rows] == [("opened", "no Message-ID"), ("opened", "unknown charset x-no-such-charset")]
    assert rows[0][2] == NO_MESSAGE_ID  # kept as received
    # The history says why, and does not mistake it for an escalation keyword.
    lines = [event_line(e, "TCK-000001", desk.deps.settings.tz) for e in desk.deps.tickets.events(1)]
    assert any(line.startswith("🔎 A mail from frank@customer.test could not be read cleanly") and "> no Message-ID" in line for line in lines)
    assert not any("Escalation keyword" in line for line in lines)
    assert desk.deps.tickets.get(2).details == "Plain words in an unknown charset."
    # The same mail without a Message-ID delivered again is still one case.
    imap.append(NO_MESSAGE_ID)
    assert poll(desk).startswith("email-poll: 1 read (1 duplicate)")
    assert count(desk.engine, Ticket) == 2


def test_mail_without_a_sender_is_quarantined_and_reported(desk: Casedesk, double: SlackDouble, imap: ImapServer) -> None:
    imap.append(raw("To: support@example.com\nSubject: who am I\nMessage-ID: <anon@x.test>\n\nNo From line."))
    assert "1 quarantined" in poll(desk)
    report = double.wait_message(ADMIN, "could not be taken into a case")
    assert "inbound mail #1" in report.text and "no sender address" in report.text
    assert count(desk.engine, Ticket) == 0 and imap.unseen() == []


def test_an_attachment_over_the_cap_is_noted_not_kept(
    double: SlackDouble, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    from bot.app import create_app
    from tests.conftest import connected

    env = base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ATTACHMENT_MAX_MB": "0.001"}
    for desk in connected(create_app(load_settings(env), engine=engine), double):
        mail_servers[0].append(mail(attachments=[("small.txt", "text/plain", b"x" * 100), ("big.bin", "application/octet-stream", b"y" * 5000)]))
        poll(desk)
        card = double.wait_message(SUPPORT, "TCK-000001")
        double.wait_thread_reply(card, "over the")
        with desk.engine.connect() as conn:
            rows = {n: (s, c is not None, note) for n, s, c, note in conn.execute(select(Attachment.name, Attachment.size, Attachment.content, Attachment.note))}
        assert rows["small.txt"] == (100, True, None)
        assert rows["big.bin"][:2] == (5000, False) and "over the 1,048-byte limit" in str(rows["big.bin"][2])


def test_the_poll_is_scheduled_every_imap_poll_seconds_only_when_mail_is_set_up(desk: Casedesk, double: SlackDouble) -> None:
    from datetime import timedelta

    from bot.jobs.scheduler import guarded_jobs

    jobs = {job.name: job for job in guarded_jobs(desk.deps)}
    assert jobs["email-poll"].trigger.interval == timedelta(seconds=60)  # type: ignore[attr-defined]
    assert jobs["email-poll"]() == "email-poll: 0 read; 0 sent"  # every fire runs; no run record needed
    without_mail = replace(desk.deps, settings=load_settings(base_env(double.api_url)))
    assert "email-poll" not in {job.name for job in guarded_jobs(without_mail)}
