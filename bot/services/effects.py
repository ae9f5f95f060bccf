"""What a ticket change owes Slack, written as outbox rows in the change's transaction.

The rows name the change (the ticket, the audit event) rather than carry rendered text:
the sender renders them when it sends, from what was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.services.outbox import PostKind, enqueue
from bot.services.status import Status
from bot.views.text import is_slack_user
from db.models import Ticket, TicketEvent


@dataclass(frozen=True)
class Channels:
    """Where the desk posts: cards (support) and new-ticket notices (admin)."""

    support: str
    admin: str | None = None


def owe_new_ticket(session: Session, row: Ticket, now: datetime, channels: Channels, card_channel: str | None = None) -> None:
    """A ticket filed from the form: its card (in its team's channel), the admins' notice,
    the reporter's confirmation and the Home tabs that list it."""
    enqueue(session, PostKind.CARD, now, ticket_id=row.id, channel=card_channel or channels.support)
    if channels.admin:
        enqueue(session, PostKind.ADMIN_NEW, now, ticket_id=row.id, channel=channels.admin)
    if is_slack_user(row.reporter_id):  # a requester named by address (the API) has no DMs
        enqueue(session, PostKind.FILED_DM, now, ticket_id=row.id, channel=row.reporter_id, user_id=row.reporter_id)
    owe_home(session, row, now)


def owe_change(
    session: Session,
    row: Ticket,
    main: TicketEvent,
    before_assignee: str | None,
    now: datetime,
    channels: Channels,
    line: str | None = None,
) -> None:
    """A change by a person or a rule: the card redrawn, a line in its thread (``line``, or
    "who did what" rendered from the event), the reporter and a new assignee told, the
    Home tabs that show the ticket refreshed."""
    enqueue(session, PostKind.CARD_REFRESH, now, ticket_id=row.id)
    enqueue(session, PostKind.CHANGE_LINE, now, ticket_id=row.id, channel=row.card_channel or channels.support, event_id=main.id, text=line)
    actor = main.actor_id
    if row.reporter_id != actor and main.kind == "status" and main.to_value in (Status.RESOLVED.value, Status.CLOSED.value):
        enqueue(session, PostKind.REPORTER_DM, now, ticket_id=row.id, channel=row.reporter_id, user_id=row.reporter_id, event_id=main.id)
    if main.kind == "reassigned" and main.to_value and main.to_value != actor:
        enqueue(session, PostKind.ASSIGNEE_DM, now, ticket_id=row.id, channel=main.to_value, user_id=main.to_value, event_id=main.id)
    reopened_by_reporter = main.to_value == Status.OPEN.value and actor == row.reporter_id
    if reopened_by_reporter and row.origin_channel and row.origin_ts:
        enqueue(
            session, PostKind.REOPENED_NOTE, now, ticket_id=row.id, channel=row.origin_channel, thread_ts=row.origin_ts
        )
    owe_home(session, row, now, before_assignee)


def owe_auto_assigned(session: Session, row: Ticket, main: TicketEvent, now: datetime, card_channel: str) -> None:
    """A new ticket given to a team member automatically: they are told, and the card's thread says so."""
    enqueue(session, PostKind.CHANGE_LINE, now, ticket_id=row.id, channel=card_channel, event_id=main.id)
    owe_assignee_dm(session, row, main, main.to_value or "", now)


def owe_assignee_dm(session: Session, row: Ticket, main: TicketEvent, user: str, now: datetime) -> None:
    """``user`` told by DM that the ticket is theirs now (rendered from ``main``)."""
    enqueue(session, PostKind.ASSIGNEE_DM, now, ticket_id=row.id, channel=user, user_id=user, event_id=main.id)


def owe_line(session: Session, row: Ticket, main: TicketEvent, now: datetime, channels: Channels) -> None:
    """A line in the card's thread rendered from ``main`` (a change beside the main one)."""
    enqueue(session, PostKind.CHANGE_LINE, now, ticket_id=row.id, channel=row.card_channel or channels.support, event_id=main.id)


def owe_move(
    session: Session,
    row: Ticket,
    main: TicketEvent,
    old_card: tuple[str, str] | None,
    card_channel: str,
    line: str,
    now: datetime,
    before_assignee: str | None,
) -> None:
    """A ticket moved to another team: the old card says where it went and its thread gets
    ``line``; a new card is posted in the team's channel, with the same line in its thread."""
    if old_card is not None:
        channel, ts = old_card
        moved = f"{line} Its card is now in <#{card_channel}>."
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": moved}}]
        enqueue(session, PostKind.CARD_MOVED, now, ticket_id=row.id, channel=channel, thread_ts=ts, text=moved, blocks=blocks)
        enqueue(session, PostKind.POST, now, ticket_id=row.id, channel=channel, thread_ts=ts, text=line)
        enqueue(session, PostKind.CARD, now, ticket_id=row.id, channel=card_channel)
    enqueue(session, PostKind.CHANGE_LINE, now, ticket_id=row.id, channel=card_channel, event_id=main.id, text=line)
    owe_home(session, row, now, before_assignee)


def owe_card_refresh(session: Session, ticket_id: int, now: datetime) -> None:
    enqueue(session, PostKind.CARD_REFRESH, now, ticket_id=ticket_id)


def owe_home(session: Session, row: Ticket, now: datetime, also: str | None = None) -> None:
    """Re-publish the Home tabs that show the ticket: its people's and the agents' (the queue)."""
    people = sorted({p for p in (row.reporter_id, row.assignee_id, also) if p})
    enqueue(session, PostKind.HOME, now, ticket_id=row.id, text=",".join(people))
