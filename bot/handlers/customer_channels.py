"""Slack Connect events: an intake channel shared with another organisation becomes a
customer channel, with that organisation as its account (its name looked up off the ack)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import deps_of

log = logging.getLogger(__name__)

# The manifest's bot_events these listeners need.
BOT_EVENTS = ("channel_shared",)


def on_channel_shared(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    channel, team = str(event.get("channel") or ""), str(event.get("connected_team_id") or "") or None
    if not channel:
        return
    if channel not in deps.settings.intake_channels and deps.customers.get(channel) is None:
        return  # a channel the bot is in for other reasons: sharing it makes no intake of it
    deps.customers.detected(channel, team)
    log.info("channel %s is shared with %s: its external members' messages are customers'", channel, team)
    if team:
        deps.lookups.submit(deps.customers.refresh, team)


def register(app: App) -> None:
    app.event("channel_shared")(on_channel_shared)
