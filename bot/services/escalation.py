"""Escalation: which cases have waited too long or been chased too often, and raising them.

A case escalates for each reason once per episode: the reasons already alerted are kept
on the ticket and cleared when an agent responds, so a reason alerts again only after a
response and a new occurrence. The due cases are found by one indexed query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, select, union
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.services.outbox import PostKind, enqueue
from bot.services.records import TicketRecord
from bot.services.status import ACTIVE, Priority
from bot.services.tickets import Clock, audit_event, utcnow
from db.models import Ticket
from db.session import Database

NO_RESPONSE, FOLLOWUPS, KEYWORD = "no_response", "followups", "keyword"
REASON_ORDER = (NO_RESPONSE, FOLLOWUPS, KEYWORD)
SYSTEM_ACTOR = "casedesk"
log = logging.getLogger(__name__)


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
        self.failed = 0  # cases a sweep could not escalate (logged; tried again next sweep)

    def _conditions(self, now: datetime) -> dict[str, ColumnElement[bool]]:
        return {
            NO_RESPONSE: and_(
                Ticket.waiting_since.is_not(None), Ticket.waiting_since <= now - timedelta(hours=self.hours)
            ),
            FOLLOWUPS: Ticket.followups >= self._followups,
            KEYWORD: Ticket.keyword.is_not(None),
        }

    def due(self, limit: int = 500) -> list[int]:
        """Active cases with a reason not yet alerted in this episode, oldest first.

        One SELECT per reason, each matching a partial index of the cases that reason has
        not alerted yet (migration 0004), so the sweep reads only candidates.
        """
        now = self._clock()
        active = Ticket.status.in_([s.value for s in ACTIVE])
        parts = [
            select(Ticket.id).where(active, ~Ticket.escalated_reasons.like(f"%{reason}%"), cond)
            for reason, cond in self._conditions(now).items()
        ]
        ids = union(*parts).subquery()
        with self._db.read() as session:
            return list(session.scalars(select(ids.c.id).order_by(ids.c.id).limit(limit)))

    def escalate(self, ticket_id: int) -> Escalation | None:
        done = self.escalate_many([ticket_id])
        return done[0] if done else None

    def escalate_many(self, ticket_ids: list[int]) -> list[Escalation]:
        """Escalate each case for every reason that holds and was not alerted yet, in one
        transaction (a sweep's commits would otherwise dominate its time)."""
        if not ticket_ids:
            return []
        now = self._clock()
        conditions = self._conditions(now)
        done: list[Escalation] = []
        with self._db.write() as session:
            rows = session.execute(
                select(Ticket, *(case((cond, True), else_=False) for cond in conditions.values()))
                .where(Ticket.id.in_(ticket_ids), Ticket.status.in_([s.value for s in ACTIVE]))
                .order_by(Ticket.id)
                .with_for_update(of=Ticket)
            ).all()
            for row, *flags in rows:
                alerted = set(filter(None, row.escalated_reasons.split(",")))
                holding = [reason for reason, holds in zip(conditions, flags, strict=False) if holds and reason not in alerted]
                if not holding:
                    continue
                try:  # one case that cannot be written never holds back the others
                    with session.begin_nested():
                        done.append(self._raise(session, row, alerted, holding, now))
                except SQLAlchemyError:
                    log.exception("escalating ticket %s failed; the others go on", row.id)
                    self.failed += 1
            session.flush()
        return done

    def _raise(self, session: Session, row: Ticket, alerted: set[str], holding: list[str], now: datetime) -> Escalation:
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
        return Escalation(record, tuple(holding))
