"""Bursts in intake channels: people often say one thing in several top-level messages
("Hi" / "the export fails" / "since this morning"). A person's messages in one channel
this close together join the case their first one opened.

One row per (channel, person) holds the case their last top-level message went to and
that message's ts. The row is locked for the transaction that decides, so two processes
handling two messages of one burst take turns: the second sees the case the first opened.
The gap is measured between Slack's own ts of the messages, so a late or redelivered
event is judged by when it was written, not when it arrived.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services.status import Status
from db.models import IntakeBurst, Ticket

# A case that is finished takes no more of the burst: the next message is a new request.
FINISHED = frozenset({Status.RESOLVED.value, Status.CLOSED.value})


def burst_row(session: Session, channel: str, user: str) -> IntakeBurst:
    """The (channel, person) row, created if missing, locked until the transaction ends."""
    row = session.get(IntakeBurst, (channel, user), with_for_update=True)
    if row is not None:
        return row
    try:
        with session.begin_nested():  # another process may insert it first: then take theirs
            session.add(IntakeBurst(channel=channel, user_id=user))
    except IntegrityError:
        pass
    return session.get_one(IntakeBurst, (channel, user), with_for_update=True, populate_existing=True)


def case_to_join(session: Session, burst: IntakeBurst, ts: str, within: timedelta) -> Ticket | None:
    """The open case this message belongs to, when it follows the burst's last one closely."""
    if burst.ticket_id is None or burst.last_ts is None:
        return None
    try:
        gap = abs(float(ts) - float(burst.last_ts))
    except ValueError:
        return None
    if gap > within.total_seconds():
        return None
    ticket = session.get(Ticket, burst.ticket_id, with_for_update=True)
    return ticket if ticket is not None and ticket.status not in FINISHED else None


def remember(burst: IntakeBurst, ticket_id: int, ts: str) -> None:
    """The message at ``ts`` went to ``ticket_id``: the next one is measured from the latest."""
    if burst.ticket_id != ticket_id or burst.last_ts is None or _later(ts, burst.last_ts):
        burst.last_ts = ts
    burst.ticket_id = ticket_id


def _later(ts: str, than: str) -> bool:
    try:
        return float(ts) > float(than)
    except ValueError:
        return True
