"""A ticket from any message: the ticket reaction (TICKET_REACTION) and the "Create ticket"
message shortcut. Refusals (a bot's message, one already a case, a channel the bot cannot
read) are one ephemeral line to the person, and nothing is filed."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps, deps_of
from bot.handlers.views import file_from_form
from bot.services.message_tickets import MessageRef, message_source_key
from bot.services.tickets import NewTicket
from bot.slack.replies import tell
from bot.views.modals import MESSAGE_TICKET, notice_modal, ticket_from_message_modal
from bot.views.text import permalink

log = logging.getLogger(__name__)

SHORTCUT = "create_ticket_from_message"  # the manifest's message shortcut callback_id
# The manifest's bot_events these listeners need.
BOT_EVENTS = ("reaction_added",)
NOT_READABLE = "I can't read messages in <#{channel}>: invite me there first (`/invite @Casedesk`), then try again."


def _permalink(deps: Deps, client: WebClient, ref: MessageRef) -> str | None:
    """Built as Slack builds it (no call on a path that must ack quickly); a reply's opens its thread."""
    link = permalink(deps.workspace_url.get(client), ref.channel, ref.ts)
    return f"{link}?thread_ts={ref.thread_ts}&cid={ref.channel}" if link and ref.thread_ts and ref.thread_ts != ref.ts else link


def on_reaction(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    item = event.get("item") or {}
    if event.get("reaction") != deps.settings.ticket_reaction or item.get("type") != "message":
        return
    channel, ts, reactor = str(item.get("channel") or ""), str(item.get("ts") or ""), str(event.get("user") or "")
    try:
        # The event names the message; its text, author and thread come from Slack.
        # oldest=ts: for a reply in a thread Slack would otherwise start from the thread's root.
        page = client.conversations_replies(channel=channel, ts=ts, oldest=ts, limit=1, inclusive=True)
    except SlackApiError as err:
        log.info("a ticket reaction on an unreadable message (%s)", err.response.get("error"))
        tell(client, None, reactor, NOT_READABLE.format(channel=channel))
        return
    found = next((m for m in page.get("messages") or [] if m.get("ts") == ts), None)
    if found is None:
        tell(client, channel, reactor, "That message is gone: no ticket was filed.")
        return
    ref = MessageRef.of(channel, found)
    why = deps.message_tickets.refusal(ref)
    if why:
        tell(client, channel, reactor, why)
        return
    opened = deps.message_tickets.from_reaction(ref, reactor, _permalink(deps, client, ref))
    if not opened.created:
        tell(client, channel, reactor, f"That message is already part of {opened.ticket.number}: no new ticket was filed.")
        return
    log.info("%s: filed from a reaction", opened.ticket.number, extra={"ticket": opened.ticket.number, "slack_user": reactor})


def on_shortcut(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    channel = str((body.get("channel") or {}).get("id") or "")
    ref = MessageRef.of(channel, body.get("message") or {})
    why = deps.message_tickets.refusal(ref)  # the database only: the trigger is still fresh after it
    if why:
        respond(text=why, response_type="ephemeral", replace_original=False)
        return
    origin = {"channel": channel, "ts": ref.ts, "thread_ts": ref.thread_ts, "user": ref.user}
    view = ticket_from_message_modal(
        deps.settings.campaigns, deps.settings.issue_types, origin=origin, author=ref.user or "", details=ref.text
    )
    opened = client.views_open(trigger_id=body["trigger_id"], view=view)  # first: the trigger lasts 3 s
    if not _bot_is_member(client, channel):
        client.views_update(
            view_id=opened["view"]["id"], view=notice_modal("Create ticket", NOT_READABLE.format(channel=channel))
        )


def _bot_is_member(client: WebClient, channel: str) -> bool:
    try:
        return bool(client.conversations_info(channel=channel)["channel"].get("is_member"))
    except SlackApiError:
        return False


def submit_message_ticket(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    origin = json.loads(view.get("private_metadata") or "{}")
    channel, ts, author = str(origin.get("channel") or ""), str(origin.get("ts") or ""), str(origin.get("user") or "")
    ref = MessageRef(channel=channel, ts=ts, user=author, text="", thread_ts=origin.get("thread_ts"), bot=False)
    link = _permalink(deps, client, ref)

    def store(new: NewTicket) -> Any:
        return deps.message_tickets.from_form(new, _with_text(ref, new.details), link)

    file_from_form(ack, deps, view, author, message_source_key(ref), store)


def _with_text(ref: MessageRef, text: str) -> MessageRef:
    return MessageRef(ref.channel, ref.ts, ref.user, text, ref.thread_ts, ref.bot)


def register(app: App) -> None:
    app.event("reaction_added")(on_reaction)
    app.shortcut(SHORTCUT)(on_shortcut)
    app.view(MESSAGE_TICKET)(submit_message_ticket)

