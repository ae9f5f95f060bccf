"""Channel messages: intake-channel posts open cases; replies in case threads join them.

Bolt acks Events API envelopes before the listener runs, so a message is acked before
any database or Slack call. Everything Slack should see afterwards goes through the
outbox, which paces posts per channel.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps, deps_of
from bot.services.conversations import Reply, SlackFile, SlackMessage
from bot.services.status import Status
from bot.views.notices import reopened_by_reply
from db.retry import with_db_retries

log = logging.getLogger(__name__)

# An event cannot be asked for again once acked: wait out a database restart
# (about a minute) before giving up and reporting it.
EVENT_DB_RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
PARENT_WAIT: tuple[float, ...] = (0.2, 0.5, 1.0)
# Subtypes that are people writing; every other subtype (joins, topic changes,
# bot_message, channel_name …) is ignored.
PEOPLE_SUBTYPES = (None, "file_share", "thread_broadcast")


# The manifest's bot_events these listeners need.
BOT_EVENTS = ("message.channels", "message.groups")


def is_channel_message(event: dict[str, Any]) -> bool:
    return event.get("channel_type") in ("channel", "group")


def slack_message(event: dict[str, Any]) -> SlackMessage:
    files = tuple(
        SlackFile(
            name=str(f.get("name") or f.get("title") or "file"),
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
        text=event.get("text") or "",
        thread_ts=event.get("thread_ts"),
        files=files,
    )


def on_channel_message(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    subtype = event.get("subtype")
    channel = event.get("channel", "")
    try:
        if subtype == "message_changed":
            edited = event.get("message") or {}
            if not edited.get("bot_id") and edited.get("ts"):
                with_db_retries(
                    lambda: deps.conversations.edit(channel, edited["ts"], edited.get("text") or ""),
                    EVENT_DB_RETRY_DELAYS,
                )
                deps.sender.poke()
            return
        if subtype == "message_deleted":
            if event.get("deleted_ts"):
                with_db_retries(lambda: deps.conversations.delete(channel, event["deleted_ts"]), EVENT_DB_RETRY_DELAYS)
            return
        if subtype not in PEOPLE_SUBTYPES or event.get("bot_id") or not event.get("user"):
            return
        msg = slack_message(event)
        if msg.thread_ts and msg.thread_ts != msg.ts:
            reply = with_db_retries(lambda: deps.conversations.add_reply(msg), EVENT_DB_RETRY_DELAYS)
            for delay in PARENT_WAIT if reply is None and channel in deps.settings.intake_channels else ():
                # The reply overtook the message it answers (events run in parallel): wait for its case.
                time.sleep(delay)
                reply = with_db_retries(lambda: deps.conversations.add_reply(msg), EVENT_DB_RETRY_DELAYS)
                if reply is not None:
                    break
            if reply is not None and not reply.duplicate:
                _after_reply(deps, client, msg, reply)
        elif channel in deps.settings.intake_channels:
            opened = with_db_retries(lambda: deps.conversations.open_case(msg), EVENT_DB_RETRY_DELAYS)
            if opened.created:
                log.info("%s opened from a message", opened.ticket.number, extra={"ticket": opened.ticket.number})
        deps.sender.poke()
    except SQLAlchemyError:
        log.exception("a channel message could not be stored (channel %s, ts %s)", channel, event.get("ts"))
        raise  # the error reporter tells the admin channel


def _after_reply(deps: Deps, client: WebClient, msg: SlackMessage, reply: Reply) -> None:
    if reply.change is None:
        return
    notifier = deps.notifier_for(client)
    notifier.publish_change(reply.change)
    if reply.change.ticket.status is Status.OPEN:
        notifier.post(msg.channel, reopened_by_reply(reply.change.ticket), msg.thread_ts)
    deps.home.refresh(client, deps.workspace_url.get(client), reply.change.ticket, reply.change)


def register(app: App) -> None:
    app.event("message", matchers=[is_channel_message])(on_channel_message)
