"""Channel messages: intake-channel posts open cases; replies in case threads join them.

Stored before acked: Bolt acks an Events API envelope before its listener runs, and Slack
never resends an acked one, so a listener middleware stores what the message says first
(new case, reply, edit, deletion) and only then lets Bolt ack. When the database cannot
take it within ``STORE_WAIT`` the envelope is answered 503 and not acked: Slack
redelivers it, and the unique keys on (channel, ts) store it once however often it comes.
What Slack should see afterwards goes through the outbox, which paces posts per channel.

Slack sends text with ``&``, ``<`` and ``>`` escaped; it is stored as the person wrote it
(and escaped once again when shown).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.deps import Deps, deps_of
from bot.services.conversations import SlackFile, SlackMessage
from bot.services.customer_channels import ACKS_PER_MINUTE, is_external, our_team
from bot.services.errors import ServiceError
from bot.services.public_replies import reply_text
from bot.views.text import unescape
from db.retry import with_db_retries

log = logging.getLogger(__name__)

# Slack wants the ack within 3 s; what is not stored by then waits for its redelivery.
STORE_WAIT = 2.0
STORE_DB_RETRY_DELAYS: tuple[float, ...] = (0.1, 0.3, 0.6)
# A reply can overtake the message it answers (events are handled in parallel).
PARENT_WAIT: tuple[float, ...] = (0.1, 0.3, 0.6)
NOT_STORED = 503
# Slack redelivers an unacked event three times.
LAST_RETRY = 3
# Subtypes that are people writing; every other subtype (joins, topic changes,
# bot_message, channel_name …) is ignored.
PEOPLE_SUBTYPES = (None, "file_share", "thread_broadcast")

# The manifest's bot_events these listeners need.
BOT_EVENTS = ("message.channels", "message.groups")


def is_channel_message(event: dict[str, Any]) -> bool:
    return event.get("channel_type") in ("channel", "group")


def is_person_writing(event: dict[str, Any]) -> bool:
    return event.get("subtype") in PEOPLE_SUBTYPES and not event.get("bot_id") and bool(event.get("user"))


def slack_message(event: dict[str, Any]) -> SlackMessage:
    files = tuple(
        SlackFile(
            # A Slack Connect stub that files.info did not resolve is known by its id alone.
            name=str(f.get("name") or f.get("title") or f.get("id") or "file"),
            permalink=f.get("permalink"),
            content_type=f.get("mimetype"),
            size=int(f.get("size") or 0),
        )
        for f in event.get("files") or []
    )
    return SlackMessage(
        channel=event["channel"],
        ts=event["ts"],
        user=event["user"],
        text=unescape(event.get("text") or ""),
        thread_ts=event.get("thread_ts"),
        files=files,
    )


def store(deps: Deps, event: dict[str, Any], envelope: dict[str, Any] | None = None, ours: str | None = None) -> None:
    """Store what a channel event says (what it owes Slack goes into the outbox with it).
    ``envelope``: the event_callback around it; ``ours``: the installation's team."""
    subtype = event.get("subtype")
    channel = event.get("channel", "")
    if subtype == "message_changed":
        _store_edit(deps, channel, event.get("message") or {})
    elif subtype == "message_deleted":
        if event.get("deleted_ts"):
            _retrying(lambda: deps.conversations.delete(channel, event["deleted_ts"]))
    elif is_person_writing(event):
        if event.get("files"):
            event = dict(event, files=deps.files.resolve(list(event["files"])))
        msg = slack_message(event)
        if msg.thread_ts and msg.thread_ts != msg.ts:
            # Another organisation's people are customers wherever they write, whatever list names them.
            shared = bool((envelope or {}).get("is_ext_shared_channel"))
            outsider = shared and is_external(deps.customers.team_of(msg.user, event.get("user_team")), ours) is True
            _store_reply(deps, msg, outsider=outsider)
            return
        intake = channel in deps.settings.intake_channels
        customer = _retrying(lambda: deps.customers.current(channel))
        if customer is None and intake and (envelope or {}).get("is_ext_shared_channel"):
            customer = _retrying(lambda: deps.customers.detected(channel, None))  # Slack says it is shared
        account = None
        if customer is not None:
            team = deps.customers.team_of(msg.user, event.get("user_team"))
            external = is_external(team, ours)
            if external is False or (external is None and deps.tickets.is_agent(msg.user)):
                return  # our own people's messages there open nothing (🎫 or the shortcut do)
            account = team if external else customer.account_id
        if intake or customer is not None:
            minutes = deps.settings.intake_group_minutes
            within = timedelta(minutes=minutes) if minutes > 0 else None
            acks = ACKS_PER_MINUTE if customer is not None else None
            opened = _retrying(
                lambda: deps.conversations.open_case(msg, group_within=within, account=account, acks_per_minute=acks)
            )
            if account and deps.customers.due(account):
                deps.lookups.submit(deps.customers.refresh, account)  # the name, off the way to the ack
            if opened.created:
                log.info("%s opened from a message", opened.ticket.number, extra={"ticket": opened.ticket.number})
            elif opened.joined:
                log.info("%s: a message of the same burst joined it", opened.ticket.number, extra={"ticket": opened.ticket.number})


def _store_edit(deps: Deps, channel: str, edited: dict[str, Any]) -> None:
    # A message_changed without "edited" is Slack's bookkeeping (an unfurl, a reply count), not a person's edit.
    edited_ts = (edited.get("edited") or {}).get("ts")
    if edited.get("bot_id") or not edited.get("ts") or not edited_ts:
        return
    _retrying(lambda: deps.conversations.edit(channel, edited["ts"], unescape(edited.get("text") or ""), edited_ts))


def _store_reply(deps: Deps, msg: SlackMessage, *, outsider: bool = False) -> None:
    if not outsider and _sent_as_reply(deps, msg):
        return
    reply = _retrying(lambda: deps.conversations.add_reply(msg, outsider=outsider))
    waits = reply is None and (msg.channel in deps.settings.intake_channels or deps.customers.current(msg.channel) is not None)
    for delay in PARENT_WAIT if waits else ():
        time.sleep(delay)
        reply = _retrying(lambda: deps.conversations.add_reply(msg, outsider=outsider))
        if reply is not None:
            break
    if reply is not None and reply.change is not None:
        ticket = reply.change.ticket
        log.info("%s: %s by a thread reply", ticket.number, reply.change.event.kind, extra={"ticket": ticket.number})


def _sent_as_reply(deps: Deps, msg: SlackMessage) -> bool:
    """An agent's ``reply:`` in a card's thread: sent to the requester. False for everything
    else, which is stored as it is (in a card's thread: an internal note)."""
    text = reply_text(msg.text)
    if text is None or not msg.thread_ts or not deps.tickets.is_agent(msg.user):
        return False
    ticket = _retrying(lambda: deps.replies.card_case(msg.channel, msg.thread_ts or ""))
    if ticket is None:
        return False
    mailer = deps.mail.mailer
    from_addr = mailer.smtp.from_addr if mailer else None
    try:
        sent = _retrying(lambda: deps.replies.reply(ticket.id, msg.user, text, from_addr=from_addr, posted=(msg.channel, msg.ts)))
    except ServiceError as err:
        why = str(err)
        _retrying(lambda: deps.replies.refused(ticket.id, why))
        return False  # kept as the note it now is
    if sent.by_email and sent.message is not None and mailer is not None:
        deps.store_first.submit(mailer.send_due)  # not on the way to the ack; the email-poll job retries
    return True


def _retrying(work: Callable[[], Any]) -> Any:
    return with_db_retries(work, STORE_DB_RETRY_DELAYS)


def store_before_ack(
    body: dict[str, Any], request: BoltRequest, context: BoltContext, next: Callable[[], None]
) -> BoltResponse | None:
    """The listener middleware that stores a channel message, waiting at most ``STORE_WAIT``.

    The storing runs on its own thread, not the Socket Mode worker's, so a hung database
    cannot hold the answer past the wait; a store still running finishes on its own."""
    deps, event = deps_of(context), body.get("event") or {}
    authorized = context.authorize_result.team_id if context.authorize_result else None
    ours = our_team(authorized, body.get("authorizations"))
    work: Future[None] = deps.store_first.submit(store, deps, event, body, ours)
    try:
        work.result(timeout=STORE_WAIT)
    except (FutureTimeout, OperationalError, InterfaceError) as err:
        _not_stored(deps, event, retry_num(request), err)
        return BoltResponse(status=NOT_STORED, body="")
    next()
    return None


def retry_num(request: BoltRequest) -> int:
    """Which redelivery this is (0: the first delivery)."""
    values = request.headers.get("x-slack-retry-num") or ["0"]
    return int(values[0]) if values[0].isdigit() else 0


def _not_stored(deps: Deps, event: dict[str, Any], retry: int, err: BaseException) -> None:
    why = "the database took too long" if isinstance(err, FutureTimeout) else f"the database failed ({type(err).__name__})"
    where = f"channel {event.get('channel')}, ts {event.get('ts')}"
    if retry < LAST_RETRY:
        log.warning("a channel message was not stored (%s): %s; not acked, so Slack redelivers it", where, why)
    else:
        deps.errors.report(err, f"storing a channel message ({where}) on Slack's last redelivery")


def on_channel_message() -> None:
    """Bolt's listener, which acks: everything was done before (see ``store_before_ack``)."""


def register(app: App) -> None:
    app.event("message", matchers=[is_channel_message], middleware=[store_before_ack])(on_channel_message)
