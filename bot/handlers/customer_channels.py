"""Customer channels (Slack Connect): an intake channel shared with another organisation
becomes one when Slack says so (``channel_shared``), with that organisation as its account
(its name looked up off the ack); admins mark or unmark one from the Admin section of the
Home tab, with its own acknowledgment, and the change applies to the next message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps, deps_of
from bot.handlers.admin import ADMINS_ONLY, channel_problem
from bot.services.errors import ServiceError
from bot.slack.replies import tell
from bot.views.admin import ADMIN_CUSTOMER_CHANNELS, VALUE
from bot.views.customer_channels import CUSTOMER_CHANNEL_VIEW, UNMARK, customer_channel_modal

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


def open_modal(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    if not deps.directory.is_admin(user):
        tell(client, None, user, ADMINS_ONLY)
        return
    client.views_open(trigger_id=body["trigger_id"], view=customer_channel_modal(len(deps.customers.all())))


def _value(view: dict[str, Any], block: str) -> dict[str, Any]:
    found: dict[str, Any] = view.get("state", {}).get("values", {}).get(block, {}).get(VALUE) or {}
    return found


def _connected_team(client: WebClient, channel: str) -> str | None:
    """The other organisation Slack says the channel is shared with, if any."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError:
        return None
    teams = info.get("connected_team_ids") or [] if info.get("is_ext_shared") else []
    return str(teams[0]) if teams else None


def submit_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    channel = str(_value(view, "channel").get("selected_conversation") or "")
    mode = str((_value(view, "mode").get("selected_option") or {}).get("value") or "")
    ack_text = str(_value(view, "ack").get("value") or "")
    if not channel:
        ack(response_action="errors", errors={"channel": "Choose the channel."})
        return
    if not deps.directory.is_admin(actor):
        ack(response_action="errors", errors={"channel": ADMINS_ONLY})
        return
    if mode != UNMARK and (problem := channel_problem(client, channel)):
        ack(response_action="errors", errors={"channel": problem})
        return
    try:
        _save(deps, client, actor, channel, mode, ack_text)
    except ServiceError as err:
        ack(response_action="errors", errors={"ack" if "acknowledgment" in str(err) else "channel": str(err)})
        return
    ack()
    log.info("%s made %s %s", actor, channel, "no customer channel" if mode == UNMARK else "a customer channel",
             extra={"slack_user": actor})


def _save(deps: Deps, client: WebClient, actor: str, channel: str, mode: str, ack_text: str) -> None:
    if mode == UNMARK:
        deps.customers.unmark(actor, channel)
        return
    team = _connected_team(client, channel)
    deps.customers.mark(actor, channel, account_id=team, ack_text=ack_text)
    if team:
        deps.lookups.submit(deps.customers.refresh, team)


def register(app: App) -> None:
    app.event("channel_shared")(on_channel_shared)
    app.action(ADMIN_CUSTOMER_CHANNELS)(open_modal)
    app.view(CUSTOMER_CHANNEL_VIEW)(submit_modal)
