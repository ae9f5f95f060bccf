"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.views.notices import dm_help


def is_direct_message(event: dict[str, Any]) -> bool:
    """A person writing to the bot in its DM (not an edit, a join or another bot)."""
    return event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")


def answer_direct_message(event: dict[str, Any], client: WebClient) -> None:
    client.chat_postMessage(channel=event["channel"], text=dm_help())


# The manifest's bot_events these listeners need.
BOT_EVENTS = ("message.im",)


def register(app: App) -> None:
    app.event("message", matchers=[is_direct_message])(answer_direct_message)
