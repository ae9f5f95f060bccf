"""Agents answer email cases from Slack: the "Reply by email" button, its modal, the mail
the customer gets, and their answer threading back."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.settings import Settings, load_settings
from db.models import OutboundEmail
from mail_double.servers import ImapServer, SmtpServer
from slack_double import Message, SlackDouble
from tests.conftest import AGENT, SUPPORT, People, base_env, email_env
from tests.mail_samples import CUSTOMER, KEYED_TOKEN, mail
from tests.test_email_intake import count
from tests.test_ticket_flow import file_ticket


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    env = base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ACK": "false"}
    return load_settings(env)


def email_case(desk: Casedesk, double: SlackDouble, imap: ImapServer) -> Message:
    imap.append(mail())
    email_poll(desk.deps)
    return double.wait_message(SUPPORT, "TCK-000001")


def test_an_agent_replies_by_email_and_the_answer_threads_back(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    card = email_case(desk, double, imap)
    env = people.agent.click(card, "Reply by email")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    assert modal.title == "Email TCK-000001"
    ack = modal.submit()
    assert ack is not None and ack["errors"] == {"body": "Write the reply: it cannot be empty."}
    modal.type("Your reply", "Hi Carol,\nwe replaced the roller. <@U0AGENTBO> & co")
    assert modal.submit() is None

    [sent] = smtp.wait(1)
    assert sent.recipients == [CUSTOMER]
    assert re.fullmatch(rf"Re: Printer on floor 3 is broken {KEYED_TOKEN}", sent.message["Subject"])
    assert sent.message["In-Reply-To"] == "<first@customer.test>"
    assert sent.message["References"] == "<first@customer.test>"
    assert "Auto-Submitted" not in sent.message
    assert "we replaced the roller." in sent.message.get_payload()
    line = double.wait_thread_reply(card, "replied by email")
    assert f"<@{AGENT}> replied by email to {CUSTOMER}" in line.text
    assert "&lt;@U0AGENTBO&gt; &amp; co" in line.text  # quoted, not a mention
    ticket = desk.deps.tickets.get(1)
    assert ticket.first_response_at is not None and ticket.waiting_since is None

    imap.append(mail("Re: Printer on floor 3 is broken [TCK-000001]", "Works now, thanks!", message_id="<thanks@customer.test>",
                     in_reply_to=sent.message["Message-ID"], references=f"<first@customer.test> {sent.message['Message-ID']}"))
    assert "1 threaded" in email_poll(desk.deps)
    double.wait_thread_reply(card, "Works now, thanks!")


def test_only_agents_can_reply_by_email(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    card = email_case(desk, double, imap)
    people.outsider.click(card, "Reply by email")
    people.outsider.wait_ephemeral("Only support agents")
    # A forged submission of the modal is refused by the service too.
    env = people.agent.click(card, "Reply by email")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Your reply", "forged")
    payload = modal.submission_payload()
    payload["user"] = people.outsider.user_object()
    modal.submit(payload)
    people.outsider.wait_ephemeral("Only support agents")
    assert count(desk.engine, OutboundEmail) == 0 and smtp.received == []


def test_a_reply_waits_out_an_smtp_refusal_and_is_sent_later(
    desk: Casedesk, double: SlackDouble, people: People, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, smtp = mail_servers
    card = email_case(desk, double, imap)
    smtp.refuse()
    env = people.agent.click(card, "Reply by email")
    people.agent.modal_from(env.payload["trigger_id"]).type("Your reply", "On its way").submit()
    double.wait_thread_reply(card, "replied by email")
    double.wait_for(lambda: count(desk.engine, OutboundEmail, OutboundEmail.attempts == 1), what="a refused attempt")
    assert smtp.received == []
    smtp.refuse(False)
    with desk.engine.begin() as conn:  # its backoff has passed
        conn.execute(update(OutboundEmail).values(due_at=OutboundEmail.created_at))
    assert email_poll(desk.deps).endswith("1 sent")
    [sent] = smtp.wait(1)
    assert "On its way" in sent.message.get_payload()


def test_cards_of_slack_tickets_have_no_email_button(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    assert "Reply by email" not in card.button_labels()


def test_a_case_that_did_not_come_by_email_has_no_one_to_mail(desk: Casedesk, double: SlackDouble, people: People) -> None:
    from bot.services.errors import ActionNotAllowed

    file_ticket(double, people)
    with pytest.raises(ActionNotAllowed, match="did not come by email"):
        desk.deps.mail.replies.reply(1, AGENT, "Hello", "support@example.com")
    assert count(desk.engine, OutboundEmail) == 0
