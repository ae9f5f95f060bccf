"""/ticket-summary: counts and medians for agents."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.handlers.ticket_lists import unknown_team
from bot.services.errors import PermissionDenied
from bot.views.summary import summary_view
from bot.views.ticket_list import loading_view


def ticket_summary(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
    ack()
    deps = deps_of(context)
    viewer = command["user_id"]
    if not deps.tickets.is_agent(viewer):
        respond(text=str(PermissionDenied("see the summary of")), response_type="ephemeral")
        return
    words = (command.get("text") or "").split()
    team_id = None
    if words:
        name = words[0].partition(":")[2].replace("_", " ") if words[0].lower().startswith("team:") else ""
        if len(words) > 1 or not name:
            respond(text=USAGE, response_type="ephemeral")
            return
        team = deps.directory.team_named(name)
        if team is None:
            respond(text=unknown_team(deps, name), response_type="ephemeral")
            return
        team_id = team.id
    opened = client.views_open(trigger_id=command["trigger_id"], view=loading_view("Ticket summary"))["view"]
    now = deps.clock()
    summary = deps.summaries.summary(viewer, now, team_id)
    client.views_update(view_id=opened["id"], hash=opened["hash"], view=summary_view(summary, now, deps.settings.tz))


USAGE = "Usage: `/ticket-summary [team:NAME]` (underscores for spaces), e.g. `/ticket-summary team:Support`."
COMMANDS = {"/ticket-summary": ticket_summary}


def register(app: App) -> None:
    for name, listener in COMMANDS.items():
        app.command(name)(listener)
