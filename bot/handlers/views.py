"""Modal submissions."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.handlers.forms import entered
from bot.handlers.outcome import ACK_BUDGET, DB_RETRY_DELAYS, apply_change
from bot.services.forms import BLOCK_PREFIX, check
from bot.services.records import TicketRecord
from bot.services.tickets import NewTicket, validate_new_ticket
from bot.views.forms import shown_fields, with_fields
from bot.views.modals import MOVE_TICKET, NEW_TICKET, REASSIGN_TICKET, RESOLVE_TICKET, VALUE
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
    # One modal, one ticket: a redelivered submission carries the same view ID.
    file_from_form(ack, deps, view, body["user"]["id"], f"slack-view:{view['id']}", deps.tickets.create)


def file_from_form(
    ack: Ack, deps: Deps, view: dict[str, Any], reporter: str, source_key: str,
    store: Callable[[NewTicket], tuple[TicketRecord, bool]],
) -> None:
    """File the new-ticket form's ticket with ``store``, before the modal closes."""
    files = _state(view, "screenshot").get("files") or []
    screenshot = files[0] if files else {}
    new = NewTicket(
        reporter_id=reporter,
        campaign=_selected(view, "campaign"),
        issue_type=_selected(view, "issue_type"),
        priority=_selected(view, "priority"),
        details=text_value(view, "details"),
        source_key=source_key,
        screenshot_name=screenshot.get("name") or screenshot.get("title"),
        screenshot_url=screenshot.get("permalink"),
        notify_emails=text_value(view, "notify_emails") or None,
    )
    errors = validate_new_ticket(new, deps.settings.campaigns, deps.settings.issue_types)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    try:
        fields = deps.forms.fields_for(new.issue_type)
    except Exception:  # the database is down: the person keeps the form and their words
        log.exception("the issue type's form could not be read")
        ack(response_action="errors", errors={"details": NOT_STORED})
        return
    if [(f.block_id, f.label) for f in fields] != shown_fields(view):
        # The form shown is not the type's (a redraw lost to a quicker pick, or an admin
        # changed it meanwhile): show the right one; what was typed stays.
        ack(response_action="update", view=with_fields(view, fields))
        return
    checked = check(fields, entered(view))
    if checked.errors:
        ack(response_action="errors", errors={f"{BLOCK_PREFIX}{key}": error for key, error in checked.errors.items()})
        return
    new = replace(new, fields=tuple(checked.values))
    # Stored (with its card and notices in the outbox) before the modal closes: an acked
    # submission is never sent again, so a modal must not close on a ticket not stored.
    stored = deps.store_first.submit(with_db_retries, lambda: store(new), DB_RETRY_DELAYS)
    try:
        ticket, created = stored.result(timeout=ACK_BUDGET)
    except Exception:  # the database is down or too slow: the person keeps the form and their words
        log.exception("a new ticket could not be stored in time")
        ack(response_action="errors", errors={"details": NOT_STORED})
        return
    ack()
    if created:
        log.info("%s: filed", ticket.number, extra={"ticket": ticket.number, "slack_user": ticket.reporter_id})


NOT_STORED = (
    "Your ticket could not be saved just now (the ticket database is not answering). "
    "Nothing is lost: press Submit again in a moment."
)


def metadata(view: dict[str, Any]) -> tuple[int, str | None, str | None]:
    """(ticket id, card channel, card ts) carried by a ticket modal."""
    meta = json.loads(view.get("private_metadata") or "{}")
    return int(meta["ticket_id"]), meta.get("channel") or None, meta.get("ts") or None


def submit_reassign(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    assignee = str(_state(view, "assignee").get("selected_user") or "")
    if not assignee:
        ack(response_action="errors", errors={"assignee": "Choose who should take this ticket."})
        return
    deps = deps_of(context)
    others = [str(u) for u in _state(view, "others").get("selected_users") or [] if u != assignee]
    # Assignees must be agents: said in the form, where it can be fixed (the service checks
    # again). Someone who is no agent themselves is refused by the service, as for any change.
    errors = _not_agents(deps.directory.is_agent, assignee, others) if deps.directory.is_agent(body["user"]["id"]) else {}
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ticket_id, channel, _ts = metadata(view)
    actor = body["user"]["id"]
    comment = text_value(view, "comment")
    apply_change(deps, ack, client, channel, actor, lambda: deps.tickets.reassign(ticket_id, actor, assignee, comment, others))


def _not_agents(is_agent: Callable[[str], bool], owner: str, others: list[str]) -> dict[str, str]:
    if not is_agent(owner):
        return {"assignee": f"<@{owner}> is not an agent: choose an agent as the owner."}
    strangers = [u for u in others if not is_agent(u)]
    if strangers:
        who = ", ".join(f"<@{u}>" for u in strangers)
        return {"others": f"{who} {'is not an agent' if len(strangers) == 1 else 'are not agents'}: only agents can be assigned."}
    return {}


def submit_move(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    chosen = _selected(view, "team")
    if not chosen.isdigit():
        ack(response_action="errors", errors={"team": "Choose the team to move the ticket to."})
        return
    deps = deps_of(context)
    ticket_id, channel, _ts = metadata(view)
    actor = body["user"]["id"]
    apply_change(deps, ack, client, channel, actor, lambda: deps.tickets.move(ticket_id, actor, int(chosen)))


def submit_resolve(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    ticket_id, channel, _ts = metadata(view)
    actor = body["user"]["id"]
    note = text_value(view, "note")
    apply_change(deps, ack, client, channel, actor, lambda: deps.tickets.resolve(ticket_id, actor, note))


def register(app: App) -> None:
    app.view(NEW_TICKET)(submit_new_ticket)
    app.view(REASSIGN_TICKET)(submit_reassign)
    app.view(RESOLVE_TICKET)(submit_resolve)
    app.view(MOVE_TICKET)(submit_move)
