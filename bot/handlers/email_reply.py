"""The card's "Reply by email" button and its modal: an agent answers an email case from Slack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.handlers.outcome import answer, store_then_ack
from bot.handlers.public_reply import open_checked
from bot.handlers.views import metadata, text_value
from bot.views.modals import EMAIL_REPLY_TICKET
from bot.views.ticket_card import EMAIL_REPLY

NOT_SET_UP = "Email replies are not set up: ask an admin to set SMTP_HOST and SMTP_FROM."


def open_reply(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    # The one reply modal (canned replies, a status after it), sending by email for this case.
    open_checked(ack, body, client, context, "reply by email on", lambda deps: NOT_SET_UP if deps.mail.mailer is None else None)


def submit_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The email modal of earlier releases, still open in someone's client when they upgraded."""
    deps = deps_of(context)
    text = text_value(view, "body").strip()
    if not text:
        ack(response_action="errors", errors={"body": "Write the reply: it cannot be empty."})
        return
    mailer = deps.mail.mailer
    if mailer is None:
        ack(response_action="errors", errors={"body": NOT_SET_UP})
        return
    ticket_id, channel, _ts = metadata(view)
    agent = body["user"]["id"]
    stored = store_then_ack(deps, ack, lambda: deps.mail.replies.reply(ticket_id, agent, text, mailer.smtp.from_addr))
    if answer(client, deps, channel, agent, stored) is None:
        return
    mailer.send_due()  # a refusal or an outage is retried by the email-poll job


def register(app: App) -> None:
    app.action(EMAIL_REPLY)(open_reply)
    app.view(EMAIL_REPLY_TICKET)(submit_reply)
