"""A customer channel's life (Slack Connect): its id changes, its share ends or Slack stops
answering for it, and it is shared again.

- ``moved``: Slack gave the channel a new id (a private channel's changes as soon as a
  share starts): every stored reference to the old id follows, in one transaction.
- ``gone``: the share ended (``channel_unshared``), or Slack answers ``channel_not_found``
  or ``is_archived`` for it (frozen, disconnected): its open cases are put on hold
  (Waiting, their resolution clock stopped), their team is told once, and what the desk
  owes the channel is parked (dead-lettered with the reason) instead of retried.
- ``reshared``: the channel is shared again: the cases held for it take up the status
  they had, the parked posts go out, and the team reads one line saying so.

While a channel is held the sender posts nothing there; a post it meets for it is parked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.services.customer_channels import channels_changed
from bot.services.effects import owe_home
from bot.services.escalation import SYSTEM_ACTOR
from bot.services.outbox import PostKind, enqueue, enqueue_refreshes
from bot.services.records import format_number
from bot.services.status import ACTIVE, Status
from bot.services.tickets import Clock, TicketService, audit_event, utcnow
from db.models import (
    Account,
    CaseMessage,
    CustomerChannel,
    DeskEvent,
    FormerCard,
    IntakeBurst,
    OutboxPost,
    RoutingRule,
    Team,
    Ticket,
    TicketEvent,
)
from db.session import Database

log = logging.getLogger(__name__)

# What Slack answers for a channel that is no longer there for us: disconnected (the
# other organisation hosted it), deleted, archived or frozen.
CHANNEL_GONE = frozenset({"channel_not_found", "is_archived", "channel_is_archived"})
UNSHARED = "unshared"
PARKED = "parked: customer channel "  # the error of a post parked while its channel is held
HOLD_NOTE = "on hold: the customer channel is "
_ACTIVE = [s.value for s in ACTIVE]
WHY = {
    UNSHARED: "no longer shared with the customer",
    "channel_not_found": "disconnected or gone (Slack: channel_not_found)",
    "is_archived": "archived or frozen (Slack: is_archived)",
    "channel_is_archived": "archived or frozen (Slack: channel_is_archived)",
}


@dataclass(frozen=True)
class Held:
    """What a channel's end held: its cases (numbers) and whether it was news."""

    channel: str
    cases: tuple[str, ...]
    first: bool


class ChannelLife:
    def __init__(self, db: Database, tickets: TicketService, support_channel: str, clock: Clock = utcnow) -> None:
        self._db = db
        self._tickets = tickets
        self._support = support_channel
        self._clock = clock

    # ---- a new id ----------------------------------------------------------------------

    def moved(self, old: str, new: str) -> bool:
        """Every stored reference to ``old`` now names ``new``; False when none did."""
        if not old or not new or old == new:
            return False
        now = self._clock()
        with self._db.write() as session:
            channels_changed(session)
            counts = [
                _move_customer_channel(session, old, new),
                _set(session, Ticket.origin_channel, old, new),
                _set(session, Ticket.card_channel, old, new),
                _set(session, CaseMessage.slack_channel, old, new),
                _set(session, Team.triage_channel, old, new),
                _set(session, FormerCard.channel, old, new),
                _set(session, IntakeBurst.channel, old, new),
                _set(session, OutboxPost.channel, old, new, OutboxPost.sent_at.is_(None)),
                _set(session, RoutingRule.value, old, new, RoutingRule.field == "intake_channel"),
            ]
            link = f"/archives/{old}/"
            session.execute(
                update(Ticket)
                .where(Ticket.origin_link.contains(link, autoescape=True))
                .values(origin_link=func.replace(Ticket.origin_link, link, f"/archives/{new}/"))
                .execution_options(synchronize_session=False)
            )
            session.add(DeskEvent(actor_id=SYSTEM_ACTOR, kind="channel_id_changed", subject=old, from_value=old,
                                  to_value=new, created_at=now))
        moved = sum(counts)
        log.info("channel %s is now %s: %d stored references moved", old, new, moved)
        return moved > 0

    # ---- the share ends ---------------------------------------------------------------

    def gone(self, channel: str, reason: str, post_id: int | None = None) -> Held | None:
        """The customer channel's share is gone (``reason``: ``unshared`` or what Slack
        answered): its open cases on hold, its owed posts parked (and ``post_id``, a post
        for it sent elsewhere), its team told once. None: not a customer channel."""
        now = self._clock()
        with self._db.write() as session:
            row = session.get(CustomerChannel, channel, with_for_update=True)
            if row is None:
                return None
            first = row.held_at is None
            if first:
                row.held_at, row.held_reason = now, reason[:60]
                channels_changed(session)
            why = row.held_reason or reason
            parked = OutboxPost.channel == channel if post_id is None else or_(OutboxPost.channel == channel, OutboxPost.id == post_id)
            session.execute(
                update(OutboxPost)
                .where(parked, OutboxPost.sent_at.is_(None), OutboxPost.dead_at.is_(None))
                .values(dead_at=now, claimed_until=None, error=(PARKED + why)[:200])
                .execution_options(synchronize_session=False)
            )
            if not first:
                return Held(channel, (), False)
            cases = self._hold_cases(session, channel, why, now)
            self._tell(session, channel, row.account_id, cases, now, held=why)
        log.warning("customer channel %s is %s: %d open cases on hold", channel, WHY.get(why, why), len(cases))
        return Held(channel, tuple(number for number, _ in cases), True)

    def _hold_cases(self, session: Session, channel: str, why: str, now: datetime) -> list[tuple[str, str | None]]:
        rows = session.scalars(
            select(Ticket).where(Ticket.origin_channel == channel, Ticket.status.in_(_ACTIVE)).order_by(Ticket.id).with_for_update()
        ).all()
        held: list[tuple[str, str | None]] = []
        for row in rows:
            if row.status != Status.WAITING.value:  # Waiting already: its clock is stopped
                session.add(audit_event(row.id, SYSTEM_ACTOR, "status", row.status, Status.WAITING.value,
                                        HOLD_NOTE + WHY.get(why, why), now))
                self._tickets.pause_or_resume(row, Status(row.status), Status.WAITING, now)
                row.status, row.updated_at = Status.WAITING.value, now
                owe_home(session, row, now)
            held.append((format_number(row.id), row.card_channel))
        session.flush()
        enqueue_refreshes(session, [r.id for r in rows], now)
        return held

    # ---- shared again ----------------------------------------------------------------

    def reshared(self, channel: str) -> Held | None:
        """The channel is shared again: the cases its end held take up their status again
        and the posts parked for it go out. None: it was not held."""
        now = self._clock()
        with self._db.write() as session:
            row = session.get(CustomerChannel, channel, with_for_update=True)
            if row is None or row.held_at is None:
                return None
            since = row.held_at
            row.held_at = row.held_reason = None
            channels_changed(session)
            holds = dict(
                session.execute(
                    select(TicketEvent.ticket_id, TicketEvent.from_value)
                    .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                    .where(
                        Ticket.origin_channel == channel,
                        Ticket.status == Status.WAITING.value,
                        TicketEvent.kind == "status",
                        TicketEvent.created_at >= since,
                        TicketEvent.note.startswith(HOLD_NOTE, autoescape=True),
                    )
                ).all()
            )
            rows = session.scalars(select(Ticket).where(Ticket.id.in_(holds)).order_by(Ticket.id).with_for_update()).all()
            resumed: list[tuple[str, str | None]] = []
            for ticket in rows:
                before = Status(holds[ticket.id] or Status.OPEN.value)
                session.add(audit_event(ticket.id, SYSTEM_ACTOR, "status", Status.WAITING.value, before.value,
                                        "resumed: the customer channel is shared again", now))
                # The hold counts as a wait: the resolution target moves by it, as any Waiting spell's.
                self._tickets.pause_or_resume(ticket, Status.WAITING, before, now)
                ticket.status, ticket.updated_at = before.value, now
                owe_home(session, ticket, now)
                resumed.append((format_number(ticket.id), ticket.card_channel))
            session.flush()
            enqueue_refreshes(session, [r.id for r in rows], now)
            session.execute(
                update(OutboxPost)
                # Parked for this channel: its own posts, and those addressed elsewhere that its
                # cases' requesters read in it (a resolution notice is owed to the requester).
                .where(
                    or_(OutboxPost.channel == channel, OutboxPost.ticket_id.in_(select(Ticket.id).where(Ticket.origin_channel == channel))),
                    OutboxPost.sent_at.is_(None), OutboxPost.error.startswith(PARKED, autoescape=True),
                )
                .values(dead_at=None, attempts=0, due_at=now, error=None)
                .execution_options(synchronize_session=False)
            )
            self._tell(session, channel, row.account_id, resumed, now, held=None)
        log.info("customer channel %s is shared again: %d cases resumed", channel, len(resumed))
        return Held(channel, tuple(number for number, _ in resumed), True)

    # ---- telling the team --------------------------------------------------------------

    def _tell(self, session: Session, channel: str, account_id: str | None, cases: list[tuple[str, str | None]],
              now: datetime, *, held: str | None) -> None:
        """One line to each triage channel holding the cards of these cases (the support
        channel when there are none)."""
        who = _account_label(session, account_id)
        where: dict[str, list[str]] = {}
        for number, card_channel in cases:
            where.setdefault(card_channel or self._support, []).append(number)
        for triage, numbers in (where or {self._support: []}).items():
            enqueue(session, PostKind.POST, now, channel=triage, text=_line(channel, who, numbers, held))


def _line(channel: str, who: str, numbers: list[str], held: str | None) -> str:
    listed = ", ".join(numbers[:20]) + (f" and {len(numbers) - 20} more" if len(numbers) > 20 else "")
    cases = f"{len(numbers)} open case{'s' if len(numbers) != 1 else ''}"
    if held is not None:
        on_hold = f": {cases} on hold ({listed})" if numbers else ": it had no open cases"
        return (f"⚠️ The customer channel <#{channel}>{who} is {WHY.get(held, held)}{on_hold}. "
                "Nothing more is posted there until it is shared with them again; what was owed there is kept.")
    resumed = f": {cases} resumed ({listed})" if numbers else ""
    return f"✅ The customer channel <#{channel}>{who} is shared again{resumed}; what was owed there is being sent."


def _account_label(session: Session, account_id: str | None) -> str:
    if not account_id:
        return ""
    name = session.scalar(select(Account.name).where(Account.id == account_id))
    return f" ({name or account_id})"


def _set(session: Session, column: InstrumentedAttribute[Any], old: str, new: str, *also: ColumnElement[bool]) -> int:
    """``column = new`` wherever it is ``old`` (and ``also`` holds); how many rows."""
    result = session.execute(
        update(column.class_).where(and_(column == old, *also)).values({column.key: new})
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _move_customer_channel(session: Session, old: str, new: str) -> int:
    """The channel's row under its new id; when one is there already (a message under the
    new id came first), it keeps what it has and takes what it lacks from the old."""
    row = session.get(CustomerChannel, old, with_for_update=True)
    if row is None:
        return 0
    there = session.get(CustomerChannel, new, with_for_update=True)
    if there is None:
        return _set(session, CustomerChannel.channel, old, new)
    there.account_id = there.account_id or row.account_id
    there.ack_text = there.ack_text or row.ack_text
    session.delete(row)
    return 1
