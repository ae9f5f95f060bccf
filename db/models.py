"""The ticket data model: tickets, their audit events and comments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UTCDateTime


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(100))
    issue_type: Mapped[str] = mapped_column(String(100))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[str] = mapped_column(String(32))
    assignee_id: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(20), default="slack_form")
    # Identifies the delivery that created the ticket (e.g. the modal's view ID);
    # unique so that a redelivered submission cannot create a second ticket.
    source_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    screenshot_name: Mapped[str | None] = mapped_column(String(255))
    screenshot_url: Mapped[str | None] = mapped_column(String(3000))
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_priority", "priority"),
        Index("ix_tickets_assignee_id", "assignee_id"),
        Index("ix_tickets_reporter_id", "reporter_id"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_card", "card_channel", "card_ts"),
        Index("ix_tickets_reporter_created", "reporter_id", "created_at"),
        Index("ix_tickets_assignee_created", "assignee_id", "created_at"),
        Index("ix_tickets_status_priority", "status", "priority"),
    )


class TicketEvent(Base):
    """One row per change: the audit trail."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(30))
    from_value: Mapped[str | None] = mapped_column(String(100))
    to_value: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="events")

    __table_args__ = (
        Index("ix_ticket_events_ticket_id", "ticket_id", "id"),
        Index("ix_ticket_events_kind_created", "kind", "created_at"),
    )


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_comments_ticket_id", "ticket_id", "id"),)
