"""Demo data for a fresh sandbox: tickets in each state, and a case from the #help channel
flagged and escalated; the sandbox adds a customer's mail waiting in the mailbox.

Written through the bot's own services (as the bot would have written them, at times in
the past), before the bot starts: the outbox rows they leave are what the bot then posts,
so the cards, DMs and alerts reach the page by the one road everything takes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import Engine

from bot.app import create_app
from bot.services.conversations import SlackMessage
from bot.services.directory import Role
from bot.services.tickets import NewTicket, utcnow
from bot.settings import load_settings
from mail_double import MAILBOX_USER
from sandbox.cast import AGENT, AGENT2, CUSTOMER_EMAIL, CUSTOMER_NAME, HELP, REPORTER
from slack_double import SlackDouble
from slack_double.workspace import Message


class PastClock:
    """The desk's clock, set back to when each demo event happened."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def ago(self, **delta: float) -> None:
        self.now = utcnow() - timedelta(**delta)


FIRST_MAIL = ("I can't reset my password", "The reset link in your email says it has expired, every time. Can you help?")


def seed(engine: Engine, env: dict[str, str], double: SlackDouble) -> None:
    clock = PastClock()
    deps = create_app(load_settings(env), engine=engine, clock=clock).deps
    tickets = deps.tickets
    # Both agents start as admins (SYSTEM_USERS); Alice keeps it, Bob is an agent alone.
    deps.directory.set_role(AGENT.id, AGENT2.id, Role.AGENT)

    def form(ago_hours: float, campaign: str, issue_type: str, priority: str, details: str) -> int:
        clock.ago(hours=ago_hours)
        record, _ = tickets.create(NewTicket(REPORTER.id, campaign, issue_type, priority, details))
        return record.id

    form(3, "Billing", "Bug", "high", "The invoice PDF shows last month's total instead of this month's.")

    working = form(26, "Onboarding", "Access request", "medium", "I need access to the analytics dashboard for the Q4 review.")
    clock.ago(hours=25)
    tickets.assign_to_self(working, AGENT.id)
    tickets.comment(working, AGENT.id, "Asked the data team for a seat; waiting on their answer.")

    answered = form(50, "Website", "Question", "low", "How do I change the email address my notifications go to?")
    clock.ago(hours=49)
    tickets.assign_to_self(answered, AGENT2.id)
    clock.ago(hours=48)
    tickets.resolve(answered, AGENT2.id, "Profile → Notifications → Email; sent Rita the steps.")

    done = form(150, "General", "Data problem", "medium", "Two customers were merged by mistake in the CRM export.")
    clock.ago(hours=149)
    tickets.assign_to_self(done, AGENT.id)
    clock.ago(hours=140)
    tickets.resolve(done, AGENT.id, "Split them again and re-ran the export.")
    clock.ago(hours=139)
    tickets.close(done, AGENT.id)

    # A message in #help opens a case; "urgent" flags it and the escalation check alerts.
    clock.ago(hours=1)
    ws = double.workspace
    text = "Checkout times out for every customer since this morning, this is urgent"
    said = ws.add_message(Message(HELP.id, ws.next_ts(), text, None, REPORTER.id))
    opened = deps.conversations.open_case(SlackMessage(HELP.id, said.ts, REPORTER.id, text))
    clock.now = utcnow()
    deps.escalations.escalate(opened.ticket.id)


def customer_mail(subject: str, body: str, *, sender_name: str = CUSTOMER_NAME, sender: str = CUSTOMER_EMAIL,
                  in_reply_to: str | None = None) -> bytes:
    """A customer's mail to the support mailbox, as their mail program would send it."""
    mail = EmailMessage()
    mail["From"] = f"{sender_name} <{sender}>"
    mail["To"] = MAILBOX_USER
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "customer.example")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    mail.set_content(body)
    return bytes(mail)
