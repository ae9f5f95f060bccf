"""A case's whole history, oldest first: its messages (Slack and email) and audit events,
merged and paged in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, union_all

from bot.services.records import EventRecord, MessageRecord
from db.models import CaseMessage, TicketEvent
from db.session import Database

PAGE_SIZE = 20


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    message: MessageRecord | None = None
    event: EventRecord | None = None


@dataclass(frozen=True)
class TimelinePage:
    ticket_id: int
    entries: list[TimelineEntry]
    offset: int
    total: int
    page_size: int = PAGE_SIZE

    @property
    def has_older(self) -> bool:
        return self.offset > 0

    @property
    def has_newer(self) -> bool:
        return self.offset + len(self.entries) < self.total


class TimelineQueries:
    def __init__(self, db: Database) -> None:
        self._db = db

    def page(self, ticket_id: int, offset: int = 0, page_size: int = PAGE_SIZE) -> TimelinePage:
        # An event sorts before a message of the same instant: "created" before the text.
        merged = union_all(
            select(TicketEvent.created_at.label("at"), literal(0).label("src"), TicketEvent.id.label("id")).where(
                TicketEvent.ticket_id == ticket_id
            ),
            select(CaseMessage.created_at.label("at"), literal(1).label("src"), CaseMessage.id.label("id")).where(
                CaseMessage.ticket_id == ticket_id
            ),
        ).subquery()
        with self._db.read() as session:
            total = int(session.scalar(select(func.count()).select_from(merged)) or 0)
            offset = max(0, min(offset, max(0, total - 1) // page_size * page_size))
            keys = session.execute(
                select(merged.c.src, merged.c.id)
                .order_by(merged.c.at, merged.c.src, merged.c.id)
                .offset(offset)
                .limit(page_size)
            ).all()
            event_ids = [k.id for k in keys if k.src == 0]
            message_ids = [k.id for k in keys if k.src == 1]
            events = {e.id: e for e in session.scalars(select(TicketEvent).where(TicketEvent.id.in_(event_ids)))} if event_ids else {}
            messages = (
                {m.id: m for m in session.scalars(select(CaseMessage).where(CaseMessage.id.in_(message_ids)))}
                if message_ids
                else {}
            )
            entries = []
            for k in keys:
                if k.src == 0:
                    ev = events[k.id]
                    entries.append(TimelineEntry(ev.created_at, event=EventRecord.of(ev)))
                else:
                    msg = messages[k.id]
                    entries.append(TimelineEntry(msg.created_at, message=MessageRecord.of(msg)))
        return TimelinePage(ticket_id, entries, offset, total, page_size)
