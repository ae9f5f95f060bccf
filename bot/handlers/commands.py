"""Slash commands."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.views.modals import new_ticket_modal


def open_new_ticket(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    # The trigger_id lives 3 s: open the modal before anything else.
    ack()
    settings = deps_of(context).settings
    client.views_open(
        trigger_id=command["trigger_id"],
        view=new_ticket_modal(settings.campaigns, settings.issue_types, command.get("channel_id", "")),
    )


COMMANDS = {"/new-ticket": open_new_ticket}


def register(app: App) -> None:
    for name, listener in COMMANDS.items():
        app.command(name)(listener)
