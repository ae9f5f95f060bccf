"""Bulk actions from the ticket list: one change applied to several tickets, each through
the ticket service as if clicked on its card (permissions, the status machine, the audit
trail, the card's redraw paced through the outbox), each ticket's outcome reported."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.services.errors import ServiceError
from bot.services.records import Change, format_number
from bot.services.status import Priority
from bot.services.tickets import TicketService
from db.session import Database

PG_WORKERS = 4  # within the connection pool, beside the listeners and the senders
MAX_TICKETS = 100  # more than a list's page, so that a forged payload cannot ask for the desk


@dataclass(frozen=True)
class Outcome:
    ticket_id: int
    done: bool
    said: str  # what changed, or why it was refused

    @property
    def number(self) -> str:
        return format_number(self.ticket_id)


def parse_action(value: str) -> tuple[str, str] | None:
    """``assign``, ``resolve``, ``close``, ``priority:high``, ``move:3`` → (verb, argument);
    None for anything else."""
    verb, _, arg = value.partition(":")
    if verb in ("assign", "resolve", "close") and not arg:
        return verb, ""
    if verb == "priority" and arg in {p.value for p in Priority}:
        return verb, arg
    if verb == "move" and arg.isdigit():
        return verb, arg
    return None


def bulk_workers(db: Database) -> int:
    """How many tickets of a bulk action change at once on this database."""
    return PG_WORKERS if db.engine.dialect.name == "postgresql" else 1


def apply_to_many(tickets: TicketService, actor: str, ticket_ids: list[int], action: str, *, workers: int = 1) -> list[Outcome]:
    """Apply ``action`` (see parse_action) to each ticket, each in its own transaction; a
    refusal of one stops none of the others. ``workers`` > 1: that many tickets change at
    once (PostgreSQL, where each waits mostly on its commit; SQLite writes one at a time)."""
    parsed = parse_action(action)
    if parsed is None:
        raise ValueError(f"unknown bulk action {action!r}")
    verb, arg = parsed
    change: Callable[[int], Change] = {
        "assign": lambda t: tickets.assign_to_self(t, actor),
        "resolve": lambda t: tickets.resolve(t, actor),
        "close": lambda t: tickets.close(t, actor),
        "priority": lambda t: tickets.set_priority(t, actor, Priority(arg or "medium")),
        "move": lambda t: tickets.move(t, actor, int(arg or 0)),
    }[verb]

    def one(ticket_id: int) -> Outcome:
        try:
            done = change(ticket_id)
        except ServiceError as err:
            return Outcome(ticket_id, False, str(err))
        return Outcome(ticket_id, True, f"{done.ticket.status.label}, {done.ticket.priority.label} priority")

    chosen = list(dict.fromkeys(ticket_ids))[:MAX_TICKETS]
    if workers <= 1:
        return [one(t) for t in chosen]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="casedesk-bulk") as pool:
        return list(pool.map(one, chosen))
