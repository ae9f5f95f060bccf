"""The card's Reply button and its modal: a public reply to the requester, in their thread
or DM (an email case's card has "Reply by email" instead, see email_reply), with canned
replies (macros) to pick from, a status to set after it, and "save as a macro"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps, deps_of
from bot.handlers.outcome import answer, store_then_ack
from bot.handlers.views import metadata
from bot.mail.compose import reply_subject
from bot.services.errors import PermissionDenied
from bot.services.macros import InvalidMacro, render
from bot.services.public_replies import SentReply
from bot.services.records import TicketRecord
from bot.services.status import Status
from bot.slack.replies import tell
from bot.views.modals import MACRO_PICK, REPLY_TICKET, VALUE, reply_modal
from bot.views.text import escape
from bot.views.ticket_card import REPLY

EMPTY = "Write the reply: it cannot be empty."


def _name(client: WebClient, user: str, fallback: str) -> str:
    """How a person is called in a reply: their Slack display or real name. Looked up when a
    macro's variables are filled in, never before the modal opens (its trigger expires in 3 s)."""
    try:
        found = client.users_info(user=user)["user"]
    except SlackApiError:
        return fallback
    profile = found.get("profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or found.get("real_name") or found.get("name") or fallback)


def _modal(deps: Deps, ticket: TicketRecord, channel: str, ts: str, **extra: Any) -> dict[str, Any]:
    if ticket.answered_by_email:
        title = f"Email {ticket.number}"
        recipient = f"To {escape(ticket.reporter_id)} by email · Subject: {escape(reply_subject(ticket.number, ticket.title))}."
    else:
        title = f"Reply on {ticket.number}"
        recipient = f"To <@{ticket.reporter_id}>, {'in the thread they wrote in' if ticket.origin_channel else 'by DM'}."
    macros = [(m.id, m.name) for m in deps.macros.listed()]
    return reply_modal(ticket.id, title, recipient, channel, ts, macros=macros, **extra)


def open_modal(deps: Deps, client: WebClient, ticket: TicketRecord, agent: str, trigger_id: str, channel: str, ts: str) -> None:
    """The reply modal for a case (by email for an email case)."""
    client.views_open(trigger_id=trigger_id, view=_modal(deps, ticket, channel, ts))


def open_reply(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    open_checked(ack, body, client, context, "reply on")


def open_checked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, doing: str,
    not_ready: Callable[[Deps], str | None] = lambda _deps: None,
) -> None:
    """The reply modal for the clicked card, or the clicker told why not: not an agent, not
    their team's case, or (``not_ready``) the way of sending is not set up."""
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    ticket_id = int(body["actions"][0]["value"])
    why = str(PermissionDenied(doing)) if not deps.tickets.is_agent(user) else deps.tickets.refusal(ticket_id, user)
    why = why or not_ready(deps)
    if why:
        tell(client, channel, user, why)
        return
    open_modal(deps, client, deps.tickets.get(ticket_id), user, body["trigger_id"], channel or "", ts or "")


def _filled(client: WebClient, ticket: TicketRecord, agent: str, text: str) -> str:
    """``text`` with a macro's variables filled in; the names are looked up only when used."""
    if "{" not in text:
        return text
    requester = ticket.reporter_name or (ticket.reporter_id if ticket.answered_by_email else "")
    if not requester and "{requester}" in text:
        requester = _name(client, ticket.reporter_id, "there")
    title = ticket.title or ticket.details.strip().split("\n", 1)[0]
    agent_name = _name(client, agent, "the support team") if "{agent}" in text else ""
    return render(text, {"requester": requester, "number": ticket.number, "agent": agent_name, "title": title})


def _body_block(view: dict[str, Any]) -> str:
    return next((b["block_id"] for b in view.get("blocks", []) if str(b.get("block_id", "")).startswith("body")), "body")


def pick_macro(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A canned reply picked: the modal drawn again with its text filled in and its status."""
    ack()
    deps = deps_of(context)
    view = body["view"]
    meta = json.loads(view.get("private_metadata") or "{}")
    macro = deps.macros.get(int(body["actions"][0]["selected_option"]["value"]))
    if macro is None:
        return
    ticket = deps.tickets.get(int(meta["ticket_id"]))
    version = int(_body_block(view)[len("body"):] or 0) + 1
    text = _filled(client, ticket, body["user"]["id"], macro.body)
    redrawn = _modal(
        deps, ticket, meta.get("channel") or "", meta.get("ts") or "",
        body=text, version=version, then=macro.status.value if macro.status else None,
    )
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=redrawn)


def _input(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    state: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {}).get(VALUE) or {}
    return state


def submit_reply(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    block = _body_block(view)
    text = str(_input(view, block).get("value") or "").strip()
    if not text:
        ack(response_action="errors", errors={block: EMPTY})
        return
    ticket_id, channel, _ts = metadata(view)
    agent = body["user"]["id"]
    then_value = str((_input(view, "then").get("selected_option") or {}).get("value") or "")
    then = Status(then_value) if then_value else None
    save_as = str(_input(view, "save_as").get("value") or "").strip()
    if save_as:
        try:
            deps.macros.save(agent, save_as, text, then, body_block=block)
        except InvalidMacro as err:
            ack(response_action="errors", errors=err.errors)
            return
        except PermissionDenied as err:
            ack(response_action="errors", errors={block: str(err)})
            return
    from_addr = deps.mail.mailer.smtp.from_addr if deps.mail.mailer else None

    def send() -> SentReply:  # the reply and the status chosen with it commit together
        rendered = _filled(client, deps.tickets.get(ticket_id), agent, text)  # within the ack's budget
        return deps.replies.reply(ticket_id, agent, rendered, from_addr=from_addr, then=then)

    sent = answer(client, deps, channel, agent, store_then_ack(deps, ack, send))
    if sent is not None and sent.status_note:
        tell(client, channel, agent, sent.status_note)
    if sent is not None and sent.by_email and deps.mail.mailer is not None:
        deps.mail.mailer.send_due()  # a refusal or an outage is retried by the email-poll job


def register(app: App) -> None:
    app.action(REPLY)(open_reply)
    app.action(MACRO_PICK)(pick_macro)
    app.view(REPLY_TICKET)(submit_reply)
