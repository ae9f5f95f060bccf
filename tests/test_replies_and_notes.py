"""Replies and internal notes: what agents write in a card's thread stays there; a public
reply is explicit (the Reply button, or ``reply:`` at the start) and reaches the requester
where they are: their thread, their DMs, or their mailbox."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select, text

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.settings import Settings, load_settings
from db.models import CaseMessage, OutboxPost
from mail_double.servers import ImapServer, SmtpServer
from slack_double import Message, SlackDouble, events
from tests.conftest import AGENT, REPORTER, SUPPORT, People, base_env, email_env
from tests.mail_samples import CUSTOMER, mail
from tests.test_conversations import INTAKE
from tests.test_ticket_flow import file_ticket

# Notes that look like replies, mention the requester, or quote the prefix: all internal.
NOTES = [
    "please reply: soon",
    "Re: reply: the customer",
    "`reply:` is how we answer them",
    "> reply: quoted from the docs",
    "I'll reply: tomorrow, after the deploy",
    f"<@{REPORTER}> is this still broken?",
    "Reply by email later <!here>",
    "reply : with a space is no prefix",
    "replying: tomorrow",
    "reply:",  # nothing to send: said in the card's thread, kept as a note
]


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    double.channel(INTAKE, "help")
    env = base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ACK": "false", "INTAKE_SLACK_CHANNELS": INTAKE}
    return load_settings(env)


def kinds(engine: Engine, ticket_id: int) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(CaseMessage.body, CaseMessage.kind).where(CaseMessage.ticket_id == ticket_id).order_by(CaseMessage.id))
        return [(body, kind) for body, kind in rows]


def recorded(desk: Casedesk, double: SlackDouble, ticket_id: int) -> None:
    """Wait until the desk knows where the case's card is: a card-thread message is matched by it."""
    double.wait_for(lambda: desk.deps.tickets.get(ticket_id).card_ts, what=f"card {ticket_id} recorded")


def outbox_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.scalar(select(OutboxPost.id).where(OutboxPost.sent_at.is_(None), OutboxPost.dead_at.is_(None)).limit(1)) is None


def test_no_internal_note_ever_reaches_the_requester(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    asked = people.reporter.say(INTAKE, "The dashboard is empty.")  # a case from a message: TCK-000001
    slack_card = double.wait_message(SUPPORT, "TCK-000001")
    form_card = file_ticket(double, people, details="Laptop fan is loud.", number="TCK-000002")  # a form's case: TCK-000002
    imap.append(mail())  # an email case: TCK-000003
    email_poll(desk.deps)
    mail_card = double.wait_message(SUPPORT, "TCK-000003")
    cards = [slack_card, form_card, mail_card]
    for ticket_id in (1, 2, 3):
        recorded(desk, double, ticket_id)
    for card in cards:
        for note in NOTES:
            people.agent.say(SUPPORT, note, thread=card)
    for card in cards:
        double.wait_thread_reply(card, "Not sent to the requester")  # the bare "reply:", told
    # Every note stored first (messages are stored side by side, in any order), so anything
    # one of them wrongly owed the requester is in the outbox before the replies go.
    def notes_stored() -> bool:
        return all({(n, "internal") for n in NOTES} <= set(kinds(engine, t)) for t in (1, 2, 3))

    double.wait_for(notes_stored, what="every note stored")
    # The public replies, last: once they have arrived, everything owed before them has gone out.
    for card in cards:
        people.agent.say(SUPPORT, "reply: We are on it.", thread=card)
    double.wait_thread_reply(asked, "We are on it.")
    people.reporter.wait_dm("We are on it.")
    smtp.wait(1)
    double.wait_for(lambda: outbox_empty(engine), what="the outbox drained")
    assert desk.deps.mail.mailer is not None and desk.deps.mail.mailer.send_due() == 0

    said_to_requester = [m.all_text() for m in double.thread(asked) if m.ts != asked.ts]
    said_to_requester += [m.all_text() for m in people.reporter.dms()]
    said_to_requester += [str(r.message) for r in smtp.received]
    for note in NOTES:
        core = note.split(" ", 1)[-1] if note != "reply:" else "reply:"
        assert not [s for s in said_to_requester if note in s or (len(core) > 8 and core in s)], note
    assert sum("We are on it." in s for s in said_to_requester) == 3
    for ticket_id in (1, 2, 3):
        stored = kinds(engine, ticket_id)
        assert {(n, "internal") for n in NOTES} <= set(stored)
        assert ("We are on it.", "public") in stored


def test_the_reply_button_answers_in_the_requesters_thread_and_marks_it(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    asked = people.reporter.say(INTAKE, "Printer shows error 53.")
    card = double.wait_message(SUPPORT, "TCK-000001")
    people.reporter.click(card, "Reply to requester")
    assert "Only support agents" in people.reporter.wait_ephemeral("Only support agents")
    env = people.agent.click(card, "Reply to requester")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    ack = modal.submit()
    assert ack is not None and ack["errors"] == {"body": "Write the reply: it cannot be empty."}
    modal.type("Your reply", "Turn it off and on again <!channel> & tell us.")
    assert modal.submit() is None
    answer = double.wait_thread_reply(asked, "Turn it off and on again")
    assert "<!channel>" not in answer.text and "&lt;!channel&gt; &amp; tell us." in answer.text
    marked = double.wait_thread_reply(card, "Public reply")
    assert f"<@{AGENT}>" in marked.text and "in their thread" in marked.text
    ticket = desk.deps.tickets.get(1)
    assert ticket.first_response_at is not None
    assert kinds(engine, 1)[-1] == ("Turn it off and on again <!channel> & tell us.", "public")


def test_a_form_case_is_answered_by_dm(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    env = people.agent.click(card, "Reply to requester")
    people.agent.modal_from(env.payload["trigger_id"]).type("Your reply", "Which browser do you use?").submit()
    dm = people.reporter.wait_dm("Which browser do you use?")
    assert "TCK-000001" in dm.text
    double.wait_thread_reply(card, "by DM")
    # Stored with the reply, before its DM went: the first response's business time, which
    # the SLA reports' medians read.
    with desk.engine.connect() as conn:
        assert conn.execute(text("SELECT first_response_seconds FROM tickets WHERE id = 1")).scalar_one() is not None


def test_a_reply_prefix_on_an_email_case_mails_once(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    imap.append(mail())
    email_poll(desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")
    recorded(desk, double, 1)
    env = double.deliver(_reply_event(double, card, "Reply: The roller is replaced."))
    double.redeliver(env.payload, retry_attempt=1)
    [sent] = smtp.wait(1)
    assert sent.recipients == [CUSTOMER] and "The roller is replaced." in sent.message.get_payload()
    double.wait_thread_reply(card, "replied by email")
    assert desk.deps.mail.mailer is not None and desk.deps.mail.mailer.send_due() == 0
    assert len(smtp.received) == 1


def _reply_event(double: SlackDouble, card: Message, text: str) -> dict[str, object]:
    """An agent's message in the card's thread, as an event (kept to be delivered again)."""
    ws = double.workspace
    msg = ws.add_message(Message(SUPPORT, ws.next_ts(), text, None, AGENT, None, card.ts))
    return events.message_event(ws, msg)


def test_an_email_case_is_answered_with_a_canned_reply_by_mail(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    desk.deps.macros.save(AGENT, "Received", "Dear {requester}, {number} is with {agent}.", None)
    imap.append(mail())
    email_poll(desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")
    modal = people.agent.modal_from(people.agent.click(card, "Reply by email").payload["trigger_id"])
    assert modal.title == "Email TCK-000001"
    modal.select("Received")
    assert modal.submit() is None
    [sent] = smtp.wait(1)
    assert sent.recipients == [CUSTOMER]
    payload = sent.message.get_payload(decode=True)
    assert isinstance(payload, bytes) and "Dear Carol Díaz, TCK-000001 is with alice." in payload.decode()
    double.wait_thread_reply(card, "replied by email")
