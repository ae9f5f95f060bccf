"""Plain snapshots of stored rows, safe to use after the session has closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.services.field_values import FieldValue
from bot.services.status import Priority, Status
from db.models import CaseMessage, Ticket, TicketEvent

NUMBER_PREFIX = "TCK-"


def format_number(ticket_id: int) -> str:
    return f"{NUMBER_PREFIX}{ticket_id:06d}"


def parse_number(text: str) -> int | None:
    """``TCK-000123``, ``tck-123`` or ``123`` → 123; anything else → None."""
    raw = text.strip().upper()
    if raw.startswith(NUMBER_PREFIX):
        raw = raw[len(NUMBER_PREFIX):]
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


@dataclass(frozen=True)
class TicketRecord:
    id: int
    campaign: str
    issue_type: str
    priority: Priority
    status: Status
    details: str
    reporter_id: str
    assignee_id: str | None
    source: str
    screenshot_name: str | None
    screenshot_url: str | None
    card_channel: str | None
    card_ts: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None
    closed_at: datetime | None
    reporter_name: str | None = None
    title: str | None = None
    origin_channel: str | None = None
    origin_ts: str | None = None
    origin_link: str | None = None  # the permalink of the message it was made from
    first_response_at: datetime | None = None
    last_agent_response_at: datetime | None = None
    waiting_since: datetime | None = None
    followups: int = 0
    keyword: str | None = None
    escalated_reasons: tuple[str, ...] = ()
    escalated_at: datetime | None = None
    team_id: int | None = None
    # Service levels: due times (None: no SLA, a ticket older than them), the stages
    # alerted, and the pause while Waiting on the customer.
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_warned: tuple[str, ...] = ()
    paused_at: datetime | None = None
    # Filled where a ticket is shown whole (its card): the team's name and everyone
    # assigned, the owner first. Lists leave them empty.
    team_name: str | None = None
    account_id: str | None = None  # the external organisation whose member opened it (Slack Connect)
    account_name: str | None = None  # its name, where a ticket is shown whole (None: not known yet)
    assignees: tuple[str, ...] = ()
    # Its links and merges as the card says them, and the primary it was merged into.
    links: tuple[str, ...] = ()
    merged_into: int | None = None
    fields: tuple[FieldValue, ...] = ()  # its issue type's extra fields, as filed

    @property
    def number(self) -> str:
        return format_number(self.id)

    @property
    def by_email(self) -> bool:
        return self.source == "email"

    @property
    def answered_by_email(self) -> bool:
        """Its requester is reached by mail: it came by email, or was filed for an address."""
        return self.by_email or "@" in self.reporter_id

    @classmethod
    def of(cls, row: Ticket) -> TicketRecord:
        return cls(
            id=row.id,
            campaign=row.campaign,
            issue_type=row.issue_type,
            priority=Priority(row.priority),
            status=Status(row.status),
            details=row.details,
            reporter_id=row.reporter_id,
            assignee_id=row.assignee_id,
            source=row.source,
            screenshot_name=row.screenshot_name,
            screenshot_url=row.screenshot_url,
            card_channel=row.card_channel,
            card_ts=row.card_ts,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
            resolved_by=row.resolved_by,
            resolution_note=row.resolution_note,
            closed_at=row.closed_at,
            reporter_name=row.reporter_name,
            title=row.title,
            origin_channel=row.origin_channel,
            origin_ts=row.origin_ts,
            origin_link=row.origin_link,
            first_response_at=row.first_response_at,
            last_agent_response_at=row.last_agent_response_at,
            waiting_since=row.waiting_since,
            followups=row.followups or 0,
            keyword=row.keyword,
            escalated_reasons=tuple(r for r in (row.escalated_reasons or "").split(",") if r),
            escalated_at=row.escalated_at,
            team_id=row.team_id,
            first_response_due_at=row.first_response_due_at,
            resolution_due_at=row.resolution_due_at,
            sla_warned=tuple(r for r in (row.sla_warned or "").split(",") if r),
            paused_at=row.paused_at,
            account_id=row.account_id,
        )


@dataclass(frozen=True)
class EventRecord:
    ticket_id: int
    actor_id: str
    kind: str
    from_value: str | None
    to_value: str | None
    note: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: TicketEvent) -> EventRecord:
        return cls(row.ticket_id, row.actor_id, row.kind, row.from_value, row.to_value, row.note, row.created_at)


@dataclass(frozen=True)
class Change:
    """The outcome of one state change: the ticket after it and the audit event written."""

    ticket: TicketRecord
    event: EventRecord


@dataclass(frozen=True)
class MessageRecord:
    id: int
    ticket_id: int
    via: str
    role: str
    author_id: str
    author_name: str | None
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    slack_channel: str | None
    slack_ts: str | None
    kind: str = "public"  # or "internal": a note in the card's thread, never sent to the requester

    @property
    def internal(self) -> bool:
        return self.kind == "internal"

    @classmethod
    def of(cls, row: CaseMessage) -> MessageRecord:
        return cls(
            row.id, row.ticket_id, row.via, row.role, row.author_id, row.author_name, row.body,
            row.created_at, row.edited_at, row.deleted_at, row.slack_channel, row.slack_ts, row.kind or "public",
        )
