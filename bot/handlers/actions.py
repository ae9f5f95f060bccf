"""Buttons on a ticket's card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.handlers import links
from bot.handlers.outcome import apply_change
from bot.services.errors import PermissionDenied
from bot.services.records import Change, format_number
from bot.slack.replies import tell
from bot.views.modals import move_modal, reassign_modal, resolve_modal
from bot.views.ticket_card import ASSIGN_SELF, CLOSE, LINK, MORE, MOVE, REASSIGN, REOPEN, RESOLVE, RESUME, UNMERGE, WAIT


def _click(body: dict[str, Any]) -> tuple[int, str, str | None, str | None]:
    """(ticket id, clicker, card channel, card ts) of a button click or an overflow choice."""
    action = body["actions"][0]
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    value = str(action.get("value") or (action.get("selected_option") or {}).get("value") or "")
    return int(value.rpartition(":")[2]), body["user"]["id"], channel, container.get("message_ts")


def _one_click(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, change: Callable[[Deps, int, str], Change]
) -> None:
    """A button that changes the ticket at once, without a modal: stored, then acked."""
    ticket_id, actor, channel, _ts = _click(body)
    deps = deps_of(context)
    apply_change(deps, ack, client, channel, actor, lambda: change(deps, ticket_id, actor))


def assign_to_me(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _one_click(ack, body, client, context, lambda deps, ticket_id, actor: deps.tickets.assign_to_self(ticket_id, actor))


def close(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _one_click(ack, body, client, context, lambda deps, ticket_id, actor: deps.tickets.close(ticket_id, actor))


def reopen(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _one_click(ack, body, client, context, lambda deps, ticket_id, actor: deps.tickets.reopen(ticket_id, actor))


def waiting(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Waiting on the customer: the resolution clock pauses until they write again."""
    _one_click(ack, body, client, context, lambda deps, ticket_id, actor: deps.tickets.set_waiting(ticket_id, actor))


def resume(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _one_click(ack, body, client, context, lambda deps, ticket_id, actor: deps.tickets.resume(ticket_id, actor))


def _open_modal(kind: str, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ticket_id, actor, channel, ts = _click(body)
    deps = deps_of(context)
    if not deps.tickets.is_agent(actor):
        # Checked again on submit; this only spares a non-agent a modal they cannot use.
        tell(client, channel, actor, str(PermissionDenied(kind)))
        return
    refused = deps.tickets.refusal(ticket_id, actor)  # an agent of another team
    if refused:
        tell(client, channel, actor, refused)
        return
    number = format_number(ticket_id)
    if kind == "reassign":
        ticket = deps.tickets.get(ticket_id)
        others = tuple(u for u in ticket.assignees if u != ticket.assignee_id)
        view = reassign_modal(ticket_id, number, channel or "", ts or "", others)
    elif kind == "move":
        ticket = deps.tickets.get(ticket_id)
        teams = [(t.id, t.name) for t in deps.directory.teams() if t.id != ticket.team_id]
        if not teams:
            tell(client, channel, actor, f"{number} is in the only team there is: an admin can add teams on the Home tab.")
            return
        view = move_modal(ticket_id, number, channel or "", ts or "", teams, ticket.team_name or "no team")
    else:
        view = resolve_modal(ticket_id, number, channel or "", ts or "")
    client.views_open(trigger_id=body["trigger_id"], view=view)


def reassign(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    _open_modal("reassign", body, client, context)


def resolve(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    _open_modal("resolve", body, client, context)


def more(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The card's overflow menu: Move to team…"""
    ack()
    choice = str((body["actions"][0].get("selected_option") or {}).get("value") or "")
    if choice.startswith(f"{MOVE}:"):
        _open_modal("move", body, client, context)
    elif choice.startswith((f"{LINK}:", f"{UNMERGE}:")):
        ticket_id, actor, channel, ts = _click(body)
        links.chosen(choice, ticket_id, actor, channel, ts, body["trigger_id"], client, context)


def register(app: App) -> None:
    app.action(MORE)(more)
    app.action(ASSIGN_SELF)(assign_to_me)
    app.action(REASSIGN)(reassign)
    app.action(RESOLVE)(resolve)
    app.action(CLOSE)(close)
    app.action(REOPEN)(reopen)
    app.action(WAIT)(waiting)
    app.action(RESUME)(resume)
