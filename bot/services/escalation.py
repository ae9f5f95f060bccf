"""Escalation: which cases have waited too long or been chased too often, and raising them;
and the SLA sweep: which cases' first response or resolution targets are 75 % used or
breached, and telling people.

A case escalates for each reason once per episode: the reasons already alerted are kept
on the ticket and cleared when an agent responds, so a reason alerts again only after a
response and a new occurrence. The due cases are found by one indexed query.

Each SLA stage (a target's warning, its breach) alerts once per ticket: the stages
alerted are kept on the ticket (sla_warned) and never cleared. The due tickets are found
by one query over the stored due times, each stage reading a partial index of the tickets
it has not alerted yet (migration 0011). A case Waiting on the customer is not escalated
and its resolution target does not fire (its clock is paused); the 48 h rule stays the
default for tickets without SLA due times.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, select, union
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.services.outbox import PostKind, enqueue, enqueue_refreshes
from bot.services.records import TicketRecord
from bot.services.sla import Target, target_label
from bot.services.status import ACTIVE, WITH_DESK, Priority, Status
from bot.services.team_service_levels import team_levels
from bot.services.tickets import Clock, audit_event, set_due_times, utcnow
from bot.settings.service_levels import ServiceLevels
from db.models import Ticket, TicketAssignee
from db.session import Database

NO_RESPONSE, FOLLOWUPS, KEYWORD = "no_response", "followups", "keyword"
REASON_ORDER = (NO_RESPONSE, FOLLOWUPS, KEYWORD)
SYSTEM_ACTOR = "casedesk"
# The SLA stages, each alerted once per ticket: target → (its warning, its breach).
SLA_STAGES = {
    Target.FIRST_RESPONSE: ("first_warned", "first_breached"),
    Target.RESOLUTION: ("resolution_warned", "resolution_breached"),
}
SLA_ORDER = tuple(code for pair in SLA_STAGES.values() for code in pair)
# In the order of the partial indexes' predicates (migration 0011).
OPEN_WORK_VALUES = [s.value for s in Status if s in ACTIVE]
WITH_DESK_VALUES = [s.value for s in Status if s in WITH_DESK]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SlaAlert:
    ticket: TicketRecord
    fired: tuple[str, ...]  # the stages alerted now (a breach alerted with its warning says only the breach)


def sla_rule(ticket: TicketRecord, target: Target, levels: ServiceLevels) -> str:
    """The rule as the card's thread names it: ``First response SLA (High, 1 business hour)``."""
    allowed = levels.policy(ticket.priority).allowed(target)
    return f"{target.label.capitalize()} SLA ({ticket.priority.label}, {target_label(allowed)})"


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
        self,
        db: Database,
        *,
        hours: float,
        followups: int,
        alert_channel: str,
        clock: Clock = utcnow,
        levels: ServiceLevels | None = None,
    ) -> None:
        self._db = db
        self._levels = levels
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
        active = Ticket.status.in_(WITH_DESK_VALUES)  # Waiting on the customer: not the desk's to answer
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
                .where(Ticket.id.in_(ticket_ids), Ticket.status.in_(WITH_DESK_VALUES))
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
            if row.first_response_due_at is not None:  # the SLA targets are those of its new priority
                set_due_times(row, team_levels(session, row.team_id, self._levels))
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

    # ---- the SLA sweep ------------------------------------------------------------------

    def _sla_conditions(self, now: datetime) -> dict[str, ColumnElement[bool]]:
        """Stage → the condition under which it fires now and has not fired before, each the
        predicate of its partial index and a range on its indexed due time."""
        live = {
            Target.FIRST_RESPONSE: and_(Ticket.first_response_at.is_(None), Ticket.status.in_(OPEN_WORK_VALUES)),
            Target.RESOLUTION: Ticket.status.in_(WITH_DESK_VALUES),
        }
        due = {
            "first_warned": Ticket.first_response_warn_at,
            "first_breached": Ticket.first_response_due_at,
            "resolution_warned": Ticket.resolution_warn_at,
            "resolution_breached": Ticket.resolution_due_at,
        }
        return {
            code: and_(live[target], ~Ticket.sla_warned.like(f"%{code}%"), due[code] <= now)
            for target, codes in SLA_STAGES.items()
            for code in codes
        }

    def sla_due(self, limit: int = 500) -> list[int]:
        """Tickets with an SLA stage due and not alerted yet, oldest first: one SELECT per
        stage, each an index range over the candidates of its partial index."""
        if self._levels is None:
            return []
        parts = [select(Ticket.id).where(cond) for cond in self._sla_conditions(self._clock()).values()]
        ids = union(*parts).subquery()
        with self._db.read() as session:
            return list(session.scalars(select(ids.c.id).order_by(ids.c.id).limit(limit)))

    def sla_alert_many(self, ticket_ids: list[int]) -> list[SlaAlert]:
        """Alert each ticket's due SLA stages once, in one transaction: at 75 % of a target a
        DM to its owner and assignees, at 100 % an alert in the alerting channel; the card's
        thread names the rule either way, and the audit trail keeps it."""
        if not ticket_ids or self._levels is None:
            return []
        now = self._clock()
        conditions = self._sla_conditions(now)
        done: list[SlaAlert] = []
        with self._db.write() as session:
            rows = session.execute(
                select(Ticket, *(case((cond, True), else_=False) for cond in conditions.values()))
                .where(Ticket.id.in_(ticket_ids))
                .order_by(Ticket.id)
                .with_for_update(of=Ticket)
            ).all()
            people = self._assignees([row.id for row, *_ in rows], session)
            for row, *flags in rows:
                holding = {code for code, holds in zip(conditions, flags, strict=False) if holds}
                if not holding:
                    continue
                try:  # one case that cannot be written never holds back the others
                    with session.begin_nested():
                        done.append(self._sla_raise(session, row, holding, people.get(row.id, []), now))
                except SQLAlchemyError:
                    log.exception("the SLA alert of ticket %s failed; the others go on", row.id)
                    self.failed += 1
            # The cards redrawn (they show the breach), coalesced by one query for the batch.
            enqueue_refreshes(session, [a.ticket.id for a in done], now)
            session.flush()
        return done

    @staticmethod
    def _assignees(ticket_ids: list[int], session: Session) -> dict[int, list[str]]:
        """Everyone assigned to each ticket, the owner first: one query for a batch."""
        found: dict[int, list[str]] = {}
        rows = session.execute(
            select(TicketAssignee.ticket_id, TicketAssignee.user_id)
            .where(TicketAssignee.ticket_id.in_(ticket_ids))
            .order_by(TicketAssignee.ticket_id, TicketAssignee.is_owner.desc(), TicketAssignee.added_at, TicketAssignee.user_id)
        )
        for ticket_id, user in rows:
            found.setdefault(ticket_id, []).append(user)
        return found

    def _sla_raise(self, session: Session, row: Ticket, holding: set[str], assigned: list[str], now: datetime) -> SlaAlert:
        assert self._levels is not None
        alerted = set(filter(None, (row.sla_warned or "").split(",")))
        fired: list[tuple[Target, str]] = []
        for target, (warned, breached) in SLA_STAGES.items():
            if breached in holding:  # a warning due too is moot: only the breach is said
                alerted |= {warned, breached}
                fired.append((target, breached))
            elif warned in holding:
                alerted.add(warned)
                fired.append((target, warned))
        row.sla_warned = ",".join(code for code in SLA_ORDER if code in alerted)
        record = TicketRecord.of(row)
        people = assigned or ([row.assignee_id] if row.assignee_id else [])
        thread = row.card_channel
        for target, code in fired:
            rule = sla_rule(record, target, team_levels(session, row.team_id, self._levels))
            if code.endswith("breached"):
                session.add(audit_event(row.id, SYSTEM_ACTOR, "sla", None, code, f"{rule} breached", now))
                enqueue(session, PostKind.SLA_ALERT, now, ticket_id=row.id, channel=self._alert_channel, text=rule)
                enqueue(session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=thread, text=f"⏱ {rule} breached.")
                continue
            session.add(audit_event(row.id, SYSTEM_ACTOR, "sla", None, code, f"{rule}: 75 % used", now))
            for user in people:
                enqueue(session, PostKind.SLA_WARNING, now, ticket_id=row.id, channel=user, user_id=user, text=rule)
            nobody = "" if people else " Nobody is assigned to it."
            enqueue(session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=thread, text=f"⏱ {rule}: 75 % used.{nobody}")
        return SlaAlert(record, tuple(code for _, code in fired))
