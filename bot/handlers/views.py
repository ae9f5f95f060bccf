"""Modal submissions."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import deps_of
from bot.handlers import outcome
from bot.handlers.outcome import apply_change
from bot.services.tickets import NewTicket, validate_new_ticket
from bot.views.modals import NEW_TICKET, REASSIGN_TICKET, RESOLVE_TICKET, VALUE
from bot.views.notices import not_saved
from db.retry import with_db_retries

log = logging.getLogger(__name__)


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    state: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {}).get(VALUE) or {}
    return state


def text_value(view: dict[str, Any], block_id: str) -> str:
    return str(_state(view, block_id).get("value") or "")


def _selected(view: dict[str, Any], block_id: str) -> str:
    option = _state(view, block_id).get("selected_option") or {}
    return str(option.get("value") or "")


def submit_new_ticket(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    files = _state(view, "screenshot").get("files") or []
    screenshot = files[0] if files else {}
    new = NewTicket(
        reporter_id=body["user"]["id"],
        campaign=_selected(view, "campaign"),
        issue_type=_selected(view, "issue_type"),
        priority=_selected(view, "priority"),
        details=text_value(view, "details"),
        # One modal, one ticket: a redelivered submission carries the same view ID.
        source_key=f"slack-view:{view['id']}",
        screenshot_name=screenshot.get("name") or screenshot.get("title"),
        screenshot_url=screenshot.get("permalink"),
    )
    errors = validate_new_ticket(new, deps.settings.campaigns, deps.settings.issue_types)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    notifier = deps.notifier_for(client)
    try:
        ticket, created = with_db_retries(lambda: deps.tickets.create(new), outcome.DB_RETRY_DELAYS)
    except SQLAlchemyError:
        # The modal is closed already: give the person their words back rather than lose them.
        log.exception("a new ticket could not be stored")
        notifier.tell(None, new.reporter_id, not_saved(new.details))
        return
    if created:
        log.info("%s: filed", ticket.number, extra={"ticket": ticket.number, "slack_user": ticket.reporter_id})
        deps.home.refresh(client, deps.workspace_url.get(client), notifier.publish_new(ticket))


def metadata(view: dict[str, Any]) -> tuple[int, str | None, str | None]:
    """(ticket id, card channel, card ts) carried by a ticket modal."""
    meta = json.loads(view.get("private_metadata") or "{}")
    return int(meta["ticket_id"]), meta.get("channel") or None, meta.get("ts") or None


def submit_reassign(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    assignee = str(_state(view, "assignee").get("selected_user") or "")
    if not assignee:
        ack(response_action="errors", errors={"assignee": "Choose who should take this ticket."})
        return
    ack()
    deps = deps_of(context)
    ticket_id, channel, ts = metadata(view)
    actor = body["user"]["id"]
    comment = text_value(view, "comment")
    apply_change(deps, client, channel, actor, lambda: deps.tickets.reassign(ticket_id, actor, assignee, comment), ts)


def submit_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    ticket_id, channel, ts = metadata(view)
    actor = body["user"]["id"]
    note = text_value(view, "note")
    apply_change(deps, client, channel, actor, lambda: deps.tickets.resolve(ticket_id, actor, note), ts)


def register(app: App) -> None:
    app.view(NEW_TICKET)(submit_new_ticket)
    app.view(REASSIGN_TICKET)(submit_reassign)
    app.view(RESOLVE_TICKET)(submit_resolve)
