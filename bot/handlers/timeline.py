"""The card's Timeline button and the modal's paging buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.services.errors import PermissionDenied
from bot.slack.replies import tell
from bot.views.ticket_card import TIMELINE
from bot.views.timeline import TIMELINE_NEWER, TIMELINE_OLDER, timeline_modal


def open_timeline(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    ticket_id = int(body["actions"][0]["value"])
    why = str(PermissionDenied("see the history of")) if not deps.tickets.is_agent(user) else deps.tickets.refusal(ticket_id, user)
    if why:
        tell(client, (body.get("container") or {}).get("channel_id"), user, why)
        return
    page = deps.timeline.page(ticket_id)
    client.views_open(trigger_id=body["trigger_id"], view=timeline_modal(page, deps.settings.tz))


def turn_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    view = body["view"]
    ticket_id = int(view["private_metadata"])
    user = body["user"]["id"]
    if not deps.tickets.is_agent(user) or deps.tickets.refusal(ticket_id, user):
        return  # only those who may see it were shown the modal; a forged click gets nothing
    page = deps.timeline.page(ticket_id, int(body["actions"][0]["value"]))
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=timeline_modal(page, deps.settings.tz))


def register(app: App) -> None:
    app.action(TIMELINE)(open_timeline)
    app.action(TIMELINE_OLDER)(turn_page)
    app.action(TIMELINE_NEWER)(turn_page)
