"""The webhook events a change owes, queued in the change's own transaction.

Whoever changes a case (the form, a click, a mail, a channel message, the API, a job), the
audit event and the message it writes are seen by a hook on the desk's write sessions;
just before that transaction commits, one delivery per interested webhook is added to
``webhook_deliveries`` (the webhooks' outbox), its body fixed from the case as it then
stands. A transaction that rolls back owes nothing; one that commits cannot lose them.

Each audit event is one webhook event, the most specific that fits: ``created`` →
case.created; a status change → case.status_changed; an assignment → case.assigned; an
SLA breach → sla.breached; any other change of the case → case.updated; a message on
the case → message.created. A case created in the transaction sends case.created only
(its body is the case as filed, after routing and automatic assignment).

A separate table rather than a kind of the Slack outbox: that one is paced per Slack
channel and rendered from the ticket when sent, where a webhook's body must be fixed when
the event happens, and its deliveries are listed and replayed per receiver.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from bot.services.case_json import case_json, event_json, iso, message_json
from bot.services.field_values import values_by_ticket
from bot.services.tickets import Clock, utcnow
from db.commit_signals import CommitSignal
from db.models import CaseMessage, Team, Ticket, TicketEvent, Webhook, WebhookDelivery
from db.session import Database
from db.write_hooks import WriteHook

_QUEUED = CommitSignal("webhook_deliveries")
M = TypeVar("M", Ticket, Team)
ASSIGNING = frozenset({"assigned", "reassigned", "assignees", "auto_assigned", "handed_back", "assignee_left"})
# Bookkeeping beside another change (a notice mailed, the first response noted): no event of their own.
QUIET = frozenset({"mailed", "first_response"})


def serve(db: Database, clock: Clock = utcnow) -> None:
    """Owe webhook deliveries for changes written through ``db``."""
    _HOOK.serve(db, clock)


# Call a function after every commit that queued deliveries; returns the unsubscribe.
on_queued = _QUEUED.subscribe


def event_name(ev: TicketEvent) -> str | None:
    if ev.kind == "created":
        return "case.created"
    if ev.kind == "status":
        return "case.status_changed"
    if ev.kind in ASSIGNING:
        return "case.assigned"
    if ev.kind == "sla":
        return "sla.breached" if (ev.to_value or "").endswith("breached") else None
    return None if ev.kind in QUIET else "case.updated"


# Built once: every write asks it, and building the statement cost as much as running it.
_VERSION = select(
    func.count(Webhook.id), func.max(Webhook.id), func.max(Webhook.created_at), func.count(Webhook.removed_at), func.max(Webhook.removed_at)
)


@dataclass(frozen=True)
class Subscription:
    id: int
    events: frozenset[str]


class Subscriptions:
    """The live webhooks and their events, kept per process and database. A write reads one
    aggregate row (how many webhooks, the newest id and time, how many removed and when)
    instead of the list: any add or remove, by any process, changes it, and the list is
    read again. Webhooks are never edited in place (a change is a remove and an add)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[tuple[Any, ...], tuple[Subscription, ...]]] = {}

    def live(self, session: Session) -> tuple[Subscription, ...]:
        key = str(session.get_bind().engine.url)
        version = tuple(session.execute(_VERSION).one())
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept[0] == version:
            return kept[1]
        rows = session.execute(select(Webhook.id, Webhook.events).where(Webhook.removed_at.is_(None)).order_by(Webhook.id))
        hooks = tuple(Subscription(int(i), frozenset(e.split(","))) for i, e in rows)
        with self._lock:
            self._kept[key] = (version, hooks)
        return hooks


SUBSCRIPTIONS = Subscriptions()


def _owe(session: Session, seen: list[TicketEvent | CaseMessage], clock: Clock) -> None:
    hooks = SUBSCRIPTIONS.live(session)
    if not hooks:
        return
    created = {o.ticket_id for o in seen if isinstance(o, TicketEvent) and o.kind == "created"}
    owed: list[tuple[TicketEvent | CaseMessage, str, dict[str, Any], list[Subscription]]] = []
    for obj in seen:
        if isinstance(obj, TicketEvent):
            name = event_name(obj)
            if name is None or (obj.ticket_id in created and name != "case.created"):
                continue
            extra: dict[str, Any] = {} if name == "case.created" else {"change": event_json(obj)}
        else:
            if obj.ticket_id in created:
                continue
            name, extra = "message.created", {"message": message_json(obj)}
        wanting = [h for h in hooks if name in h.events]
        if wanting:
            owed.append((obj, name, extra, wanting))
    if not owed:
        return
    cases = _cases(session, {obj.ticket_id for obj, _, _, _ in owed})
    now = clock()
    for obj, name, extra, wanting in owed:
        case = cases.get(obj.ticket_id)
        if case is None:
            continue
        event_id = uuid.uuid4().hex
        body = json.dumps({"id": event_id, "type": name, "created_at": iso(now), "case": case, **extra}, separators=(",", ":"))
        _QUEUED.owed(session)
        for hook in wanting:
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id, event_id=event_id, event=name, ticket_id=obj.ticket_id, body=body, created_at=now,
                    due_at=now, attempts=0,
                )
            )


def _cases(session: Session, ticket_ids: set[int]) -> dict[int, dict[str, Any]]:
    """The cases as they stand in this transaction, by id: those the session does not hold
    yet (the change usually loaded its own) in one query, their teams likewise, and their
    extra fields in one query, however many events the transaction owes."""
    rows = _held_or_read(session, Ticket, ticket_ids)
    teams = _held_or_read(session, Team, {r.team_id for r in rows.values() if r.team_id is not None})
    values = values_by_ticket(session, list(rows))
    return {
        i: case_json(r, teams[r.team_id].name if r.team_id in teams else None, values.get(i)) for i, r in rows.items()
    }


def _held_or_read(session: Session, model: type[M], ids: set[int]) -> dict[int, M]:
    held: dict[int, M] = {}
    for i in ids:
        obj = session.identity_map.get(identity_key(model, i))
        if obj is not None:
            held[i] = obj
    missing = ids - set(held)
    if missing:
        held.update({int(r.id): r for r in session.scalars(select(model).where(model.id.in_(missing)))})  # type: ignore[attr-defined]
    return held


_HOOK: WriteHook[Clock] = WriteHook("webhook", lambda obj: isinstance(obj, TicketEvent | CaseMessage), _owe)
