"""Who and what is in the sandbox's workspace: the people one can act as (a customer
organisation's person among them, in the channel shared with it through Slack Connect),
the channels, the customer who writes in by mail, and the settings the bot is started with."""

from __future__ import annotations

from dataclasses import dataclass

from mail_double import MAILBOX_PASSWORD, MAILBOX_USER


@dataclass(frozen=True)
class Role:
    id: str
    name: str
    real_name: str
    role: str
    description: str


REPORTER = Role("U0REPORTR", "rita", "Rita Reyes", "reporter", "files tickets, follows her own")
AGENT = Role("U0AGENTAL", "alice", "Alice Agent", "agent", "support agent and the desk's admin")
AGENT2 = Role("U0AGENTBO", "bob", "Bob Builder", "agent", "support agent")
OUTSIDER = Role("U0OUTSIDR", "oscar", "Oscar Outsider", "outsider", "not an agent: watch the refusals")
# Acme Corp's person: writes from their own organisation's Slack, in the shared channel only.
CUSTOMER = Role("U0ACMEKIM", "kim", "Kim from Acme", "customer", "Acme Corp's person, in #acme-support (Slack Connect)")
CUSTOMER_ORG = ("T0ACMECORP", "Acme Corp")
OUR_PEOPLE = (REPORTER, AGENT, AGENT2, OUTSIDER)
PEOPLE = (*OUR_PEOPLE, CUSTOMER)


@dataclass(frozen=True)
class Room:
    id: str
    name: str
    purpose: str


SUPPORT = Room("C0SUPPORT", "support-tickets", "Ticket cards: agents work every case here")
HELP = Room("C0HELP", "help", "Intake: every message here opens a case")
ADMIN = Room("C0ADMINS", "admin-notifications", "A notice for every new ticket")
ALERTS = Room("C0ALERTS", "alerts", "Escalation alerts")
SHARED = Room("C0ACMESUP", "acme-support", "Shared with Acme Corp (Slack Connect): their messages open cases")
ROOMS = (SUPPORT, HELP, ADMIN, ALERTS, SHARED)

CUSTOMER_NAME = "Dana Customer"
CUSTOMER_EMAIL = "dana@customer.example"

COMMANDS = (
    ("/new-ticket", "file a support ticket"),
    ("/agent-tickets", "the tickets you filed or are assigned"),
    ("/system-tickets", "all tickets, for agents"),
    ("/ticket-summary", "counts and response times, for agents"),
)

JOB_LABELS = {
    "escalate": "Escalation check",
    "pin-high-priority": "Pin the urgent tickets",
    "stale": "Stale-ticket reminders",
    "overdue": "Overdue-ticket reminders",
    "weekly-summary": "Weekly summary",
    "email-poll": "Read the mailbox now",
}


def bot_settings(api_url: str, database_url: str, imap_port: int, smtp_port: int) -> dict[str, str]:
    """The environment the sandbox's bot runs with: every setting given, none read from a
    .env, so a real configuration never mixes in."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-sandbox-bot-token",
        "SLACK_APP_TOKEN": "xapp-sandbox-app-token",
        "SLACK_API_URL": api_url,
        "SUPPORT_SLACK_CHANNEL": SUPPORT.id,
        "ADMIN_CHANNEL": ADMIN.id,
        "ALERTING_SLACK_CHANNEL": ALERTS.id,
        "INTAKE_SLACK_CHANNELS": f"{HELP.id},{SHARED.id}",
        "SYSTEM_USERS": f"{AGENT.id},{AGENT2.id}",
        "DATABASE_URL": database_url,
        "TIMEZONE": "UTC",
        "LOG_LEVEL": "WARNING",
        "SCHEDULER_ENABLED": "true",
        # The double has no rate limit to respect; cards should appear as fast as the page can show them.
        "SLACK_POSTS_PER_SECOND": "50",
        "IMAP_SERVER": "127.0.0.1",
        "IMAP_PORT": str(imap_port),
        "IMAP_SSL": "false",
        "IMAP_EMAIL": MAILBOX_USER,
        "IMAP_PASSWORD": MAILBOX_PASSWORD,
        "IMAP_POLL_SECONDS": "0.5",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": MAILBOX_USER,
    }
