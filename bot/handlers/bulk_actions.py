"""/system-tickets' bulk actions: the rows ticked on the page, one action, Apply. Each
ticket changes through the service (bot/services/bulk.py); the list is drawn again with
what was done and what was refused, and why, on top."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import deps_of
from bot.handlers.outcome import DB_RETRY_DELAYS, answer
from bot.handlers.ticket_lists import render
from bot.services.bulk import apply_to_many, bulk_workers, parse_action
from bot.services.errors import PermissionDenied
from bot.slack.replies import tell
from bot.views.bulk_actions import BULK_ACTION, BULK_APPLY, BULK_BLOCK, BULK_PICK, PICK_PREFIX, bulk_report
from bot.views.ticket_list import ListState
from db.retry import with_db_retries


def picked(values: dict[str, Any]) -> list[int]:
    """The ticket ids ticked on the page (the rows' checkboxes), as the view's state says."""
    ids = []
    for block_id, actions in values.items():
        if not block_id.startswith(PICK_PREFIX):
            continue
        for option in (actions.get(BULK_PICK) or {}).get("selected_options") or []:
            value = str(option.get("value") or "")
            if value.isdigit():
                ids.append(int(value))
    return ids


def chosen_action(values: dict[str, Any]) -> tuple[str, str]:
    """(value, label) of the action menu's choice; empty when none is chosen."""
    option = (values.get(BULK_BLOCK, {}).get(BULK_ACTION) or {}).get("selected_option") or {}
    return str(option.get("value") or ""), str((option.get("text") or {}).get("text") or "")


def tick(ack: Ack) -> None:
    """A checkbox ticked or the menu changed: Slack keeps it in the view's state till Apply."""
    ack()


def apply(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    view = body["view"]
    viewer = body["user"]["id"]
    state = ListState.from_metadata(view.get("private_metadata", ""))
    values = view.get("state", {}).get("values", {})
    ids = picked(values)
    action, label = chosen_action(values)
    if not deps.tickets.is_agent(viewer):
        tell(client, None, viewer, str(PermissionDenied("change")))
        return
    if not ids or parse_action(action) is None:
        report = "Tick the tickets to change, then choose an action, then Apply." if not ids else "Choose an action, then Apply."
    else:
        workers = bulk_workers(deps.db) if deps.db is not None else 1
        future = deps.store_first.submit(
            with_db_retries, lambda: apply_to_many(deps.tickets, viewer, ids, action, workers=workers), DB_RETRY_DELAYS
        )
        outcomes = answer(client, deps, None, viewer, future)
        if outcomes is None:
            return
        report = bulk_report(label, outcomes)
    client.views_update(view_id=view["id"], view=render(deps, state, viewer, deps.workspace_url.get(client), report))


def register(app: App) -> None:
    app.action(BULK_PICK)(tick)
    app.action(BULK_ACTION)(tick)
    app.action(BULK_APPLY)(apply)
