"""Auto-close: a Resolved ticket nobody has answered for AUTO_CLOSE_DAYS, or one Waiting on
the customer for WAITING_CLOSE_DAYS, is closed, after its requester was told
AUTO_CLOSE_WARN_DAYS before ("will close in 2 days unless you reply").

A spell starts when the ticket is resolved (``resolved_at``) or set Waiting (``paused_at``);
the warning is stamped on the ticket (``autoclose_warned_at``) and counts for the spell it
was given in only (stamped after the spell began), so a ticket reopened by the customer's
reply and resolved again is warned again, and nothing has to clear the stamp. The tickets
are locked as they are read, on the very conditions that make them due, so two replicas or
a re-run never warn or close twice, and a ticket is closed only after its warning's lead.

The candidates are read by SQL over the (status, resolved_at) and (status, paused_at)
indexes. A batch's warnings are written together (a batch the database refuses is tried
again ticket by ticket); each close runs in a savepoint of its own. A ticket that cannot be
warned or closed is logged and left for the next run, never stopping the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.mail.compose import new_message_id
from bot.services.escalation import SYSTEM_ACTOR
from bot.services.mail_outbox import queue_mail
from bot.services.outbox import PostKind, enqueue
from bot.services.records import format_number
from bot.services.status import Status
from bot.services.tickets import Clock, TicketService, audit_event, utcnow
from bot.settings.service_levels import ServiceLevels
from bot.views.customer_loop import closing_mail_body, closing_note, closing_subject
from bot.views.text import is_slack_user
from db.models import Ticket
from db.session import Database

log = logging.getLogger(__name__)
BATCH = 100  # tickets per transaction


@dataclass(frozen=True)
class Spell:
    """Resolved or Waiting: the status, the column that says since when, and how long it may last."""

    status: Status
    since: InstrumentedAttribute[datetime | None]
    days: float


@dataclass(frozen=True)
class SweepResult:
    warned: list[str]
    closed: list[str]
    failed: int

    def summary(self) -> str:
        text = f"auto-close: {len(self.warned)} warned, {len(self.closed)} closed"
        if self.failed:
            text += f", {self.failed} failed (logged; tried again next run)"
        listed = ", ".join([*self.closed[:20]])
        return text + (f": closed {listed}" if listed else "")


class AutoClose:
    def __init__(
        self,
        db: Database,
        tickets: TicketService,
        levels: ServiceLevels,
        *,
        support_channel: str,
        mail_from: str | None,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self._tickets = tickets
        self._levels = levels
        self._support = support_channel
        self._mail_from = mail_from  # None: no SMTP, an email requester cannot be told
        self._clock = clock
        self.lead = timedelta(days=levels.auto_close_warn_days)
        self.spells = (
            Spell(Status.RESOLVED, Ticket.resolved_at, levels.auto_close_days),
            Spell(Status.WAITING, Ticket.paused_at, levels.waiting_close_days),
        )

    # ---- which tickets ----------------------------------------------------------------

    def _to_warn(self, spell: Spell, now: datetime) -> ColumnElement[bool]:
        """In the spell long enough to be warned, and not warned in it yet."""
        return and_(
            Ticket.status == spell.status.value,
            spell.since <= now - timedelta(days=spell.days) + self.lead,
            or_(Ticket.autoclose_warned_at.is_(None), Ticket.autoclose_warned_at <= spell.since),
        )

    def _to_close(self, spell: Spell, now: datetime) -> ColumnElement[bool]:
        """Warned in this spell, the warning's lead passed, and the spell's days too."""
        return and_(
            Ticket.status == spell.status.value,
            spell.since <= now - timedelta(days=spell.days),
            Ticket.autoclose_warned_at > spell.since,
            Ticket.autoclose_warned_at <= now - self.lead,
        )

    def due(self, limit: int = 1000) -> tuple[list[int], list[int]]:
        """(tickets to warn, tickets to close), oldest first."""
        now = self._clock()
        with self._db.read() as session:
            warn = [
                i for s in self.spells for i in session.scalars(select(Ticket.id).where(self._to_warn(s, now)).limit(limit))
            ]
            close = [
                i for s in self.spells for i in session.scalars(select(Ticket.id).where(self._to_close(s, now)).limit(limit))
            ]
        return sorted(warn)[:limit], sorted(close)[:limit]

    def sweep(self) -> SweepResult:
        to_warn, to_close = self.due()
        warned: list[str] = []
        closed: list[str] = []
        failed = 0
        for start in range(0, len(to_warn), BATCH):
            done, bad = self.warn_many(to_warn[start : start + BATCH])
            warned += done
            failed += bad
        for start in range(0, len(to_close), BATCH):
            done, bad = self.close_many(to_close[start : start + BATCH])
            closed += done
            failed += bad
        return SweepResult(warned, closed, failed)

    # ---- the warning --------------------------------------------------------------------

    def warn_many(self, ticket_ids: list[int]) -> tuple[list[str], int]:
        """Warn each ticket still due a warning, in one transaction; returns (numbers warned,
        failures). A batch the database refuses is tried again ticket by ticket, so one bad
        row never holds back the others."""
        try:
            return self._warn_batch(ticket_ids)
        except SQLAlchemyError:
            if len(ticket_ids) == 1:
                log.exception("auto-close warning of ticket %s failed; tried again next run", ticket_ids[0])
                return [], 1
            log.warning("an auto-close batch failed; warning its %d tickets one by one", len(ticket_ids))
            results = [self.warn_many([ticket_id]) for ticket_id in ticket_ids]
            return [n for done, _ in results for n in done], sum(bad for _, bad in results)

    def _warn_batch(self, ticket_ids: list[int]) -> tuple[list[str], int]:
        """The tickets are locked as they are read, on the conditions that make them due (on
        PostgreSQL a row warned meanwhile by another process no longer matches once its lock
        is released; SQLite writes one at a time), so each is warned once. The batch's rows
        are plain inserts and one update, written together."""
        now = self._clock()
        done: list[str] = []
        stamped: list[int] = []
        failed = 0
        with self._db.write() as session:
            for spell in self.spells:
                rows = session.scalars(
                    select(Ticket)
                    .where(Ticket.id.in_(ticket_ids), self._to_warn(spell, now))
                    .order_by(Ticket.id)
                    .with_for_update()
                ).all()
                for row in rows:
                    try:  # a ticket the desk cannot read (a bad value) is logged and skipped
                        self._warn(session, row, spell, now)
                    except Exception:  # noqa: BLE001 - one bad row never stops the batch
                        log.exception("auto-close warning of ticket %s failed; the others go on", row.id)
                        failed += 1
                        continue
                    stamped.append(row.id)
                    done.append(format_number(row.id))
            if stamped:
                session.execute(
                    update(Ticket)
                    .where(Ticket.id.in_(stamped))
                    .values(autoclose_warned_at=now)
                    .execution_options(synchronize_session=False)
                )
        return done, failed

    def _warn(self, session: Session, row: Ticket, spell: Spell, now: datetime) -> None:
        since: datetime = getattr(row, spell.since.key)
        closes_at = max(since + timedelta(days=spell.days), now + self.lead)
        number = format_number(row.id)
        local = closes_at.astimezone(ZoneInfo(self._levels.calendar.timezone))
        line = f"⏳ {number} closes automatically on {local:%a %d %b %H:%M} unless the requester replies"
        told = self._tell_requester(session, row, spell.status, closes_at, now)
        session.add(audit_event(row.id, SYSTEM_ACTOR, "autoclose_warned", spell.status.value, closes_at.isoformat(), told, now))
        enqueue(session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=row.card_channel or self._support, text=f"{line} ({told}).")

    def _tell_requester(self, session: Session, row: Ticket, status: Status, closes_at: datetime, now: datetime) -> str:
        """The note to the requester where they follow the case; returns where it went."""
        number = format_number(row.id)
        days = max(1, round((closes_at - now) / timedelta(days=1)))
        reporter = row.reporter_id
        if is_slack_user(reporter):
            text = closing_note(number, status, days, reporter, in_thread=bool(row.origin_channel and row.origin_ts))
            if row.origin_channel and row.origin_ts:
                enqueue(session, PostKind.POST, now, ticket_id=row.id, channel=row.origin_channel, thread_ts=row.origin_ts, text=text)
                return "told in the thread the case came from"
            enqueue(session, PostKind.POST, now, ticket_id=row.id, channel=reporter, user_id=reporter, text=text)
            return "told by DM"
        if "@" in reporter and self._mail_from:
            queue_mail(
                session, now, ticket_id=row.id, message_id=new_message_id(self._mail_from), kind="closing",
                to_addr=reporter, subject=closing_subject(number, row.title), body=closing_mail_body(number, status, days),
                in_reply_to=None, references=None, automatic=False,
            )
            return "told by mail"
        return "the requester could not be told: no way to reach them"

    # ---- the close ------------------------------------------------------------------------

    def close_many(self, ticket_ids: list[int]) -> tuple[list[str], int]:
        """Close each ticket still due to close; returns (numbers closed, failures)."""
        now = self._clock()
        done: list[str] = []
        failed = 0
        with self._db.write() as session:
            for spell in self.spells:
                rows = session.scalars(
                    select(Ticket)
                    .where(Ticket.id.in_(ticket_ids), self._to_close(spell, now))
                    .order_by(Ticket.id)
                    .with_for_update()
                ).all()
                for row in rows:
                    what = "resolved" if spell.status is Status.RESOLVED else "waiting on the customer"
                    days = f"{spell.days:g} day{'s' if spell.days != 1 else ''}"
                    try:
                        with session.begin_nested():
                            self._tickets.close_in(
                                session, row.id, SYSTEM_ACTOR, note=f"closed automatically: {what} for {days} without a reply",
                                line=f"🔒 Closed automatically: {what} for {days} without a reply.",
                            )
                            done.append(format_number(row.id))
                    except Exception:  # noqa: BLE001 - one bad row (unreadable, refused) never stops the batch
                        log.exception("auto-closing ticket %s failed; the others go on", row.id)
                        failed += 1
        return done, failed
