"""Escalation: which cases have waited too long or been chased too often, and raising them.

A case escalates for each reason once per episode: the reasons already alerted are kept
on the ticket and cleared when an agent responds, so a reason alerts again only after a
response and a new occurrence. The due cases are found by one indexed query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select

from bot.services.outbox import PostKind, enqueue
from bot.services.records import TicketRecord
from bot.services.status import ACTIVE, Priority
from bot.services.tickets import Clock, audit_event, utcnow
from db.models import Ticket
from db.session import Database

NO_RESPONSE, FOLLOWUPS, KEYWORD = "no_response", "followups", "keyword"
REASON_ORDER = (NO_RESPONSE, FOLLOWUPS, KEYWORD)
SYSTEM_ACTOR = "casedesk"


@dataclass(frozen=True)
class Escalation:
    ticket: TicketRecord
    reasons: tuple[str, ...]  # the new ones, alerted now


def describe(reason: str, ticket: TicketRecord, hours: float) -> str:
    if reason == NO_RESPONSE:
        return f"no agent response for {hours:g} h"
    if reason == FOLLOWUPS:
        return f"{ticket.followups} customer follow-ups without an answer"
    return f"escalation keyword “{ticket.keyword}”"


class EscalationService:
    def __init__(
        self, db: Database, *, hours: float, followups: int, alert_channel: str, clock: Clock = utcnow
    ) -> None:
        self._db = db
        self.hours = hours
        self._followups = followups
        self._alert_channel = alert_channel
        self._clock = clock

    def _conditions(self, now: datetime) -> dict[str, ColumnElement[bool]]:
        return {
            NO_RESPONSE: and_(
                Ticket.waiting_since.is_not(None), Ticket.waiting_since <= now - timedelta(hours=self.hours)
            ),
            FOLLOWUPS: Ticket.followups >= self._followups,
            KEYWORD: Ticket.keyword.is_not(None),
        }

    def due(self, limit: int = 500) -> list[int]:
        """Active cases with a reason not yet alerted in this episode, oldest first."""
        now = self._clock()
        new_reason = or_(
            *(and_(cond, ~Ticket.escalated_reasons.contains(reason)) for reason, cond in self._conditions(now).items())
        )
        active = [s.value for s in ACTIVE]
        with self._db.read() as session:
            return list(
                session.scalars(
                    select(Ticket.id).where(Ticket.status.in_(active), new_reason).order_by(Ticket.id).limit(limit)
                )
            )

    def escalate(self, ticket_id: int) -> Escalation | None:
        """Escalate for every reason that holds and was not alerted yet; None when none does."""
        now = self._clock()
        with self._db.write() as session:
            row = session.get(Ticket, ticket_id, with_for_update=True)
            if row is None or row.status not in {s.value for s in ACTIVE}:
                return None
            alerted = set(filter(None, row.escalated_reasons.split(",")))
            holding = [
                reason
                for reason, cond in self._conditions(now).items()
                if reason not in alerted
                and session.scalar(select(Ticket.id).where(Ticket.id == ticket_id, cond)) is not None
            ]
            if not holding:
                return None
            if row.priority != Priority.HIGH.value:
                session.add(audit_event(row.id, SYSTEM_ACTOR, "priority", row.priority, Priority.HIGH.value, "escalated", now))
                row.priority = Priority.HIGH.value
            row.escalated_reasons = ",".join(r for r in REASON_ORDER if r in alerted | set(holding))
            row.escalated_at = now
            row.updated_at = now
            record = TicketRecord.of(row)
            text = "; ".join(describe(r, record, self.hours) for r in holding)
            session.add(audit_event(row.id, SYSTEM_ACTOR, "escalated", None, text, None, now))
            enqueue(session, PostKind.ALERT, now, ticket_id=row.id, channel=self._alert_channel, text=text)
            enqueue(session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=row.card_channel, text=f"🚨 Escalated: {text}.")
            enqueue(session, PostKind.CARD_REFRESH, now, ticket_id=row.id, channel=row.card_channel)
            session.flush()
            return Escalation(TicketRecord.of(row), tuple(holding))
