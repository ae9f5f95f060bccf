"""The card's Link… and Unmerge: link two tickets, mark one a duplicate of another (a
merge), or undo a merge (admins). Refusals are said in the modal or as an ephemeral line."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.deps import Deps, deps_of
from bot.handlers.outcome import ACK_BUDGET, DB_RETRY_DELAYS, answer
from bot.handlers.views import _selected as selected
from bot.handlers.views import metadata, text_value
from bot.services.case_links import LinkKind
from bot.services.errors import PermissionDenied, ServiceError
from bot.services.merges import CaseLinks
from bot.services.records import format_number, parse_number
from bot.slack.replies import tell
from bot.views.link_modal import LINK_TICKET, link_modal
from bot.views.ticket_card import LINK
from db.retry import with_db_retries


def case_links(deps: Deps) -> CaseLinks:
    assert deps.db is not None
    smtp = deps.settings.smtp
    return CaseLinks(deps.db, deps.tickets, deps.clock, mail_from=smtp.from_addr if smtp else None)


def chosen(
    choice: str,
    ticket_id: int,
    actor: str,
    channel: str | None,
    ts: str | None,
    trigger_id: str,
    client: WebClient,
    context: BoltContext,
) -> None:
    """Link… (open the modal) or Unmerge (at once), chosen in the card's overflow menu."""
    deps = deps_of(context)
    if choice.startswith(f"{LINK}:"):
        refused = str(PermissionDenied("link")) if not deps.tickets.is_agent(actor) else deps.tickets.refusal(ticket_id, actor)
        if refused:
            tell(client, channel, actor, refused)
            return
        client.views_open(trigger_id=trigger_id, view=link_modal(ticket_id, format_number(ticket_id), channel or "", ts or ""))
        return
    future = deps.store_first.submit(with_db_retries, lambda: case_links(deps).unmerge(actor, ticket_id), DB_RETRY_DELAYS)
    done = answer(client, deps, channel, actor, future)
    if done is not None:
        tell(client, channel, actor, f"↩️ {done}")


def submit_link(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    kind = selected(view, "kind")
    if kind not in {k.value for k in LinkKind}:
        ack(response_action="errors", errors={"kind": "Choose how the tickets are linked."})
        return
    other = parse_number(text_value(view, "other"))
    if other is None:
        ack(response_action="errors", errors={"other": "Write the other ticket's number, e.g. TCK-000042."})
        return
    ticket_id, channel, _ts = metadata(view)
    actor = body["user"]["id"]
    future = _stored_or_refused(deps, ack, lambda: case_links(deps).link(actor, ticket_id, LinkKind(kind), other))
    done = answer(client, deps, channel, actor, future) if future is not None else None
    if done is not None:
        tell(client, channel, actor, f"🔗 {done}")


def _stored_or_refused(deps: Deps, ack: Ack, work: Callable[[], str]) -> Future[str] | None:
    """Store first, as every change (outcome.py), but a refusal known before the ack is said
    in the modal, where the number can be fixed (None returned)."""
    future = deps.store_first.submit(with_db_retries, work, DB_RETRY_DELAYS)
    try:
        error = future.exception(timeout=ACK_BUDGET)
    except FutureTimeout:
        error = None  # still storing: the ack goes out, the outcome is told when it comes
    if isinstance(error, ServiceError):
        ack(response_action="errors", errors={"other": str(error)})
        return None
    ack()
    return future


def register(app: App) -> None:
    app.view(LINK_TICKET)(submit_link)
