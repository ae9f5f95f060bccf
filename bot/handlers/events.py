"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.views.home import HOME_NEW_TICKET
from bot.views.modals import new_ticket_modal
from bot.views.notices import dm_help


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person writing to the bot in its DM (not an edit, a join or another bot)."""
    return event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")


def answer_direct_message(event: dict[str, Any], client: WebClient) -> None:
    client.chat_postMessage(channel=event["channel"], text=dm_help())


# The manifest's bot_events these listeners need.
BOT_EVENTS = ("message.im", "app_home_opened")


def show_home(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    deps = deps_of(context)
    deps.home.publish(client, event["user"], deps.workspace_url.get(client))


def new_ticket_from_home(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    settings = deps_of(context).settings
    client.views_open(trigger_id=body["trigger_id"], view=new_ticket_modal(settings.campaigns, settings.issue_types))


def register(app: App) -> None:
    app.event("message", matchers=[is_direct_message])(answer_direct_message)
    app.event("app_home_opened")(show_home)
    app.action(HOME_NEW_TICKET)(new_ticket_from_home)
