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
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.case_json import case_json, event_json, iso, message_json
from bot.services.field_values import as_json, values_of
from bot.services.tickets import Clock, utcnow
from db.commit_signals import CommitSignal
from db.models import CaseMessage, Team, Ticket, TicketEvent, Webhook, WebhookDelivery
from db.session import Database
from db.write_hooks import WriteHook

_QUEUED = CommitSignal("webhook_deliveries")
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


def _owe(session: Session, seen: list[TicketEvent | CaseMessage], clock: Clock) -> None:
    hooks = list(session.scalars(select(Webhook).where(Webhook.removed_at.is_(None))))
    if not hooks:
        return
    now = clock()
    created = {o.ticket_id for o in seen if isinstance(o, TicketEvent) and o.kind == "created"}
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
        wanting = [h for h in hooks if name in h.events.split(",")]
        if not wanting:
            continue
        row = session.get(Ticket, obj.ticket_id)
        if row is None:
            continue
        team = session.get(Team, row.team_id) if row.team_id is not None else None
        event_id = uuid.uuid4().hex
        body = json.dumps(
            {"id": event_id, "type": name, "created_at": iso(now), "case": case_json(row, team.name if team else None, as_json(values_of(session, row.id))), **extra},
            separators=(",", ":"),
        )
        _QUEUED.owed(session)
        for hook in wanting:
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id, event_id=event_id, event=name, ticket_id=row.id, body=body, created_at=now,
                    due_at=now, attempts=0,
                )
            )


_HOOK: WriteHook[Clock] = WriteHook("webhook", lambda obj: isinstance(obj, TicketEvent | CaseMessage), _owe)
