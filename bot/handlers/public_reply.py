"""The card's Reply button and its modal: a public reply to the requester, in their thread
or DM (an email case's card has "Reply by email" instead, see email_reply)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.handlers.outcome import answer, store_then_ack
from bot.handlers.views import metadata, text_value
from bot.services.errors import PermissionDenied
from bot.slack.replies import tell
from bot.views.modals import REPLY_TICKET, reply_modal
from bot.views.ticket_card import REPLY


def open_reply(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    ticket_id = int(body["actions"][0]["value"])
    why = str(PermissionDenied("reply on")) if not deps.tickets.is_agent(user) else deps.tickets.refusal(ticket_id, user)
    if why:
        tell(client, channel, user, why)
        return
    ticket = deps.tickets.get(ticket_id)
    where = "in the thread they wrote in" if ticket.origin_channel else "by DM"
    view = reply_modal(ticket.id, ticket.number, ticket.reporter_id, where, channel or "", ts or "")
    client.views_open(trigger_id=body["trigger_id"], view=view)


def submit_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    text = text_value(view, "body").strip()
    if not text:
        ack(response_action="errors", errors={"body": "Write the reply: it cannot be empty."})
        return
    ticket_id, channel, _ts = metadata(view)
    agent = body["user"]["id"]
    from_addr = deps.mail.mailer.smtp.from_addr if deps.mail.mailer else None
    answer(client, deps, channel, agent, store_then_ack(deps, ack, lambda: deps.replies.reply(ticket_id, agent, text, from_addr=from_addr)))


def register(app: App) -> None:
    app.action(REPLY)(open_reply)
    app.view(REPLY_TICKET)(submit_reply)
