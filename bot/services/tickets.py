"""TicketService: create, assign, reassign, resolve, close, reopen and comment.

This is the one place that changes tickets. Each change checks permissions, applies
the status machine, writes the audit event in the same transaction, and guards
against lost updates (row lock on PostgreSQL, an immediate write lock on SQLite,
and the row's version column as a last line).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from bot.mail.addresses import address_errors, normalised
from bot.services.effects import Channels, owe_card_refresh, owe_change, owe_new_ticket
from bot.services.errors import ActionNotAllowed, PermissionDenied, TicketNotFound
from bot.services.records import Change, EventRecord, TicketRecord
from bot.services.status import ACTIVE, Priority, Status, can_transition
from db.models import Comment, Ticket, TicketEvent
from db.session import Database

Clock = Callable[[], datetime]
MAX_DETAILS = 20_000
PAST = {"assign": "assigned", "reassign": "reassigned", "resolve": "resolved", "close": "closed", "reopen": "reopened"}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class NewTicket:
    reporter_id: str
    campaign: str
    issue_type: str
    priority: str
    details: str
    source: str = "slack_form"
    source_key: str | None = None
    screenshot_name: str | None = None
    screenshot_url: str | None = None
    # Extra addresses told of its creation and resolution (the form's "Notify (emails)").
    notify_emails: str | None = None


class InvalidTicket(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate_new_ticket(new: NewTicket, campaigns: tuple[str, ...], issue_types: tuple[str, ...]) -> dict[str, str]:
    """Field name → a sentence for the person filling the form; empty when valid."""
    errors: dict[str, str] = {}
    if new.campaign not in campaigns:
        errors["campaign"] = "Choose one of the listed campaigns."
    if new.issue_type not in issue_types:
        errors["issue_type"] = "Choose one of the listed issue types."
    if new.priority not in {p.value for p in Priority}:
        errors["priority"] = "Choose High, Medium or Low."
    details = new.details.strip()
    if not details:
        errors["details"] = "Describe the problem: details cannot be empty."
    elif len(details) > MAX_DETAILS:
        errors["details"] = f"Keep the details under {MAX_DETAILS:,} characters (attach a file for logs)."
    bad_addresses = address_errors(new.notify_emails)
    if bad_addresses:
        errors["notify_emails"] = bad_addresses
    return errors


class TicketService:
    def __init__(
        self,
        db: Database,
        system_users: Collection[str],
        *,
        campaigns: tuple[str, ...],
        issue_types: tuple[str, ...],
        channels: Channels,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self.channels = channels
        self._system_users = system_users
        self._campaigns = campaigns
        self._issue_types = issue_types
        self._clock = clock

    # ---- reads -------------------------------------------------------------

    def get(self, ticket_id: int) -> TicketRecord:
        with self._db.read() as session:
            row = session.get(Ticket, ticket_id)
            if row is None:
                raise TicketNotFound(ticket_id)
            return TicketRecord.of(row)

    def change_of(self, event_id: int) -> Change:
        """A past change as it was made: the ticket with the status the event gave it."""
        with self._db.read() as session:
            ev = session.get(TicketEvent, event_id)
            if ev is None:
                raise TicketNotFound(event_id)
            ticket = TicketRecord.of(self._load(session, ev.ticket_id))
            if ev.kind == "status" and ev.to_value:
                note = ev.note if ev.to_value == Status.RESOLVED.value else ticket.resolution_note
                ticket = replace(ticket, status=Status(ev.to_value), resolution_note=note)
            return Change(ticket, EventRecord.of(ev))

    def events(self, ticket_id: int) -> list[EventRecord]:
        with self._db.read() as session:
            rows = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
            return [EventRecord.of(r) for r in rows]

    def is_agent(self, user_id: str) -> bool:
        return user_id in self._system_users

    # ---- creation ----------------------------------------------------------

    def create(self, new: NewTicket) -> tuple[TicketRecord, bool]:
        """Store a new ticket with everything it owes Slack (its card, the notices).
        Returns (ticket, created); created is False when the same source_key was stored
        before (a redelivered or resubmitted form)."""
        errors = validate_new_ticket(new, self._campaigns, self._issue_types)
        if errors:
            raise InvalidTicket(errors)
        now = self._clock()
        try:
            with self._db.write() as session:
                row = Ticket(
                    campaign=new.campaign,
                    issue_type=new.issue_type,
                    priority=new.priority,
                    status=Status.OPEN.value,
                    details=new.details.strip(),
                    reporter_id=new.reporter_id,
                    source=new.source,
                    source_key=new.source_key,
                    screenshot_name=new.screenshot_name,
                    screenshot_url=new.screenshot_url,
                    notify_emails=normalised(new.notify_emails) or None,
                    waiting_since=now,  # waiting for an agent's first response
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                session.add(self._event(row, new.reporter_id, "created", None, Status.OPEN.value, None, now))
                owe_new_ticket(session, row, now, self.channels)
                record = TicketRecord.of(row)
            return record, True
        except IntegrityError:
            if new.source_key is None:
                raise
            with self._db.read() as session:
                existing = session.scalars(select(Ticket).where(Ticket.source_key == new.source_key)).one()
                return TicketRecord.of(existing), False

    def record_card(self, ticket_id: int, channel: str, ts: str) -> TicketRecord:
        """Remember where the ticket's card is; returns the ticket as stored."""
        with self._db.write() as session:
            return TicketRecord.of(self.record_card_in(session, ticket_id, channel, ts))

    def record_card_in(self, session: Session, ticket_id: int, channel: str, ts: str) -> Ticket:
        row = self._load(session, ticket_id, lock=True)
        row.card_channel, row.card_ts = channel, ts
        session.flush()
        return row

    def refresh_card(self, ticket_id: int) -> None:
        """Redraw the card as the ticket stands (someone clicked a stale one)."""
        with self._db.write() as session:
            owe_card_refresh(session, ticket_id, self._clock())

    # ---- changes by agents -------------------------------------------------

    def assign_to_self(self, ticket_id: int, actor: str) -> Change:
        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            if rec.assignee_id == actor and rec.status is Status.IN_PROGRESS:
                raise ActionNotAllowed(f"{rec.number} is already assigned to you.", rec)
            if rec.assignee_id and rec.assignee_id != actor and rec.status is Status.IN_PROGRESS:
                raise ActionNotAllowed(
                    f"{rec.number} is already assigned to <@{rec.assignee_id}>. Use Reassign to take it over.", rec
                )
            row.assignee_id = actor
            return "assigned", rec.assignee_id, actor, None

        return self._change(ticket_id, actor, "assign", apply, to_status=Status.IN_PROGRESS)

    def reassign(self, ticket_id: int, actor: str, assignee: str, comment: str | None = None) -> Change:
        comment = (comment or "").strip() or None

        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            if rec.assignee_id == assignee and rec.status is Status.IN_PROGRESS:
                raise ActionNotAllowed(f"{rec.number} is already assigned to <@{assignee}>.", rec)
            row.assignee_id = assignee
            return "reassigned", rec.assignee_id, assignee, comment

        return self._change(ticket_id, actor, "reassign", apply, to_status=Status.IN_PROGRESS, comment=comment)

    def resolve(self, ticket_id: int, actor: str, note: str | None = None) -> Change:
        note = (note or "").strip() or None

        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            now = self._clock()
            row.resolved_at, row.resolved_by, row.resolution_note = now, actor, note
            return "status", rec.status.value, Status.RESOLVED.value, note

        return self._change(ticket_id, actor, "resolve", apply, to_status=Status.RESOLVED, comment=note)

    def close(self, ticket_id: int, actor: str, note: str | None = None) -> Change:
        return self._change(ticket_id, actor, "close", self._closing(note), to_status=Status.CLOSED)

    def close_in(
        self, session: Session, ticket_id: int, actor: str, note: str | None = None, line: str | None = None
    ) -> Change:
        """Close within the caller's transaction, for an actor already vouched for (an admin's
        address closing by email): the change commits with the mail that asked for it.
        ``line``: what the card's thread says, instead of the usual "who did what"."""
        return self._change_in(session, ticket_id, actor, "close", self._closing(note), Status.CLOSED, None, line)

    def _closing(self, note: str | None) -> Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]]:
        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            row.closed_at = self._clock()
            return "status", rec.status.value, Status.CLOSED.value, note

        return apply

    def reopen(self, ticket_id: int, actor: str, *, by_customer: bool = False) -> Change:
        """``by_customer``: the reporter wrote again on a resolved case (no agent needed)."""
        return self._change(ticket_id, actor, "reopen", _reopening, to_status=Status.OPEN, as_system=by_customer)

    def reopen_in(self, session: Session, ticket_id: int, actor: str, line: str | None = None) -> Change:
        """The reporter wrote again on a resolved case: reopen within the caller's transaction."""
        return self._change_in(session, ticket_id, actor, "reopen", _reopening, Status.OPEN, None, line)

    def comment(self, ticket_id: int, author: str, body: str) -> None:
        if not self.is_agent(author):
            raise PermissionDenied("comment on")
        now = self._clock()
        with self._db.write() as session:
            row = self._load(session, ticket_id)
            session.add(Comment(ticket_id=row.id, author_id=author, body=body, created_at=now))
            session.add(self._event(row, author, "commented", None, None, body, now))
            row.updated_at = now

    # ---- internals ---------------------------------------------------------

    def _change(
        self,
        ticket_id: int,
        actor: str,
        action: str,
        apply: Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]],
        *,
        to_status: Status,
        comment: str | None = None,
        as_system: bool = False,
    ) -> Change:
        if not (as_system or self.is_agent(actor)):
            raise PermissionDenied(action)
        for _ in range(3):
            try:
                with self._db.write() as session:
                    return self._change_in(session, ticket_id, actor, action, apply, to_status, comment)
            except StaleDataError:
                continue  # someone else changed the row between our read and write: decide again
        raise ActionNotAllowed("The ticket is changing too quickly right now; try again.", self.get(ticket_id))

    def _change_in(
        self,
        session: Session,
        ticket_id: int,
        actor: str,
        action: str,
        apply: Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]],
        to_status: Status,
        comment: str | None,
        line: str | None = None,
    ) -> Change:
        now = self._clock()
        row = self._load(session, ticket_id, lock=True)
        before = TicketRecord.of(row)
        if before.status is not to_status and not can_transition(before.status, to_status):
            hint = " Reopen it first." if action in ("assign", "reassign") else ""
            raise ActionNotAllowed(
                f"{before.number} is {before.status.label}, so it cannot be {PAST[action]}. Nothing changed.{hint}",
                before,
            )
        kind, old, new, note = apply(row, before)
        if kind == "status" and before.status is to_status:
            raise ActionNotAllowed(f"{before.number} is already {to_status.label}. Nothing changed.", before)
        row.status = to_status.value
        row.updated_at = now
        main = self._event(row, actor, kind, old, new, note, now)
        session.add(main)
        if kind != "status" and before.status is not to_status:
            session.add(self._event(row, actor, "status", before.status.value, to_status.value, None, now))
        if comment:
            session.add(Comment(ticket_id=row.id, author_id=actor, body=comment, created_at=now))
        session.flush()
        owe_change(session, row, main, before.assignee_id, now, self.channels, line)
        return Change(TicketRecord.of(row), EventRecord.of(main))

    @staticmethod
    def _load(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
        row = session.get(Ticket, ticket_id, with_for_update=lock or None)
        if row is None:
            raise TicketNotFound(ticket_id)
        return row

    @staticmethod
    def _event(
        row: Ticket, actor: str, kind: str, old: str | None, new: str | None, note: str | None, now: datetime
    ) -> TicketEvent:
        return audit_event(row.id, actor, kind, old, new, note, now)


def _reopening(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
    if rec.status in ACTIVE:
        raise ActionNotAllowed(f"{rec.number} is already {rec.status.label}; nothing to reopen.", rec)
    row.resolved_at = row.resolved_by = row.resolution_note = row.closed_at = None
    return "status", rec.status.value, Status.OPEN.value, None


def audit_event(
    ticket_id: int, actor: str, kind: str, old: str | None, new: str | None, note: str | None, now: datetime
) -> TicketEvent:
    """One audit-trail row; every change writes one in its own transaction."""
    return TicketEvent(
        ticket_id=ticket_id, actor_id=actor, kind=kind, from_value=old, to_value=new, note=note, created_at=now
    )
