"""Replies and internal notes, told apart.

Everything agents write in a card's thread is an internal note: stored with kind
"internal" and never sent to the requester. A public reply is explicit: the card's Reply
button (a modal) or a message in the card's thread that starts with ``reply:``. It is
stored with kind "public", counts as the agent's response, and is owed to the requester
in the same transaction: in the thread they wrote in (a case from a message), as a DM (a
case filed with the form), or by mail (a case that came by email, through EmailReplies).
The card's thread shows each public reply as one, so agents see which is which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.services.conversations import record_agent_response
from bot.services.email_replies import MAX_REPLY, EmailReplies
from bot.services.errors import PermissionDenied, ServiceError, TicketNotFound
from bot.services.outbox import PostKind, enqueue
from bot.services.records import MessageRecord, TicketRecord
from bot.services.status import Status
from bot.services.tickets import Clock, NotYours, TicketService, _outside, utcnow
from db.models import CaseMessage, FormerCard, Ticket
from db.session import Database

# "reply:" at the very start of the message, in any case; anywhere else it is just words.
REPLY_PREFIX = re.compile(r"\Areply:", re.IGNORECASE)


def reply_text(text: str) -> str | None:
    """The reply a card-thread message asks to send, or None for an internal note."""
    match = REPLY_PREFIX.match(text)
    return text[match.end():].strip() if match else None


class NotSetUp(ServiceError):
    pass


class NothingToSend(ServiceError):
    pass


EMAIL_NOT_SET_UP = "Email replies are not set up: ask an admin to set SMTP_HOST and SMTP_FROM."


@dataclass(frozen=True)
class SentReply:
    ticket: TicketRecord
    message: MessageRecord | None  # None: this card-thread message was sent before (a redelivery)
    by_email: bool
    status_note: str | None = None  # the status chosen with the reply, when it could not be set


class PublicReplies:
    def __init__(
        self, db: Database, tickets: TicketService, email: EmailReplies, support_channel: str, clock: Clock = utcnow
    ) -> None:
        self._db = db
        self._tickets = tickets
        self._email = email
        self._support = support_channel
        self._clock = clock

    def card_case(self, channel: str, thread_ts: str) -> TicketRecord | None:
        """The case whose card (or a card it left behind when it moved) this thread is under."""
        with self._db.read() as session:
            row = session.scalars(select(Ticket).where(Ticket.card_channel == channel, Ticket.card_ts == thread_ts)).first()
            if row is None:
                moved = session.scalar(select(FormerCard.ticket_id).where(FormerCard.channel == channel, FormerCard.ts == thread_ts))
                row = session.get(Ticket, moved) if moved is not None else None
            return TicketRecord.of(row) if row else None

    def reply(
        self, ticket_id: int, agent: str, text: str, *, from_addr: str | None,
        posted: tuple[str, str] | None = None, then: Status | None = None,
    ) -> SentReply:
        """Send ``text`` to the requester of the case. ``posted``: the (channel, ts) of the
        card-thread message that asked for it, which makes a redelivered one send nothing.
        ``then``: the status to set with it, committed with the reply (a retry after a
        failure sends once and sets once)."""
        if not self._tickets.is_agent(agent):
            raise PermissionDenied("reply on")
        body = text.strip()[:MAX_REPLY]
        if not body:
            raise NothingToSend("The reply is empty: write it after `reply:`.")
        ticket = self._tickets.get(ticket_id)
        try:
            if ticket.answered_by_email:
                if from_addr is None:
                    raise NotSetUp(EMAIL_NOT_SET_UP)
                mailed = self._email.reply(ticket_id, agent, body, from_addr, posted=posted, then=then)
                return SentReply(mailed.ticket, mailed.message, True, mailed.status_note)
            return self._in_slack(ticket_id, agent, body, posted, then)
        except IntegrityError:
            if posted is None:
                raise
            return SentReply(self._tickets.get(ticket_id), None, ticket.answered_by_email)

    def refused(self, ticket_id: int, why: str) -> None:
        """A ``reply:`` that could not be sent: said in the card's thread, where it was written."""
        now = self._clock()
        with self._db.write() as session:
            row = session.get(Ticket, ticket_id)
            if row is not None:
                text = f"⚠️ Not sent to the requester: {why} It is kept as an internal note."
                enqueue(session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=row.card_channel, text=text)

    def _in_slack(
        self, ticket_id: int, agent: str, body: str, posted: tuple[str, str] | None, then: Status | None
    ) -> SentReply:
        now = self._clock()
        with self._db.write() as session:
            row = session.get(Ticket, ticket_id, with_for_update=True)
            if row is None:
                raise TicketNotFound(ticket_id)
            why = _outside(session, row, agent)  # agents answer their teams' cases and their own; admins all
            if why:
                raise NotYours(why)
            stored = CaseMessage(
                ticket_id=row.id, via="slack", role="agent", author_id=agent, body=body, created_at=now, kind="public",
                slack_channel=posted[0] if posted else None, slack_ts=posted[1] if posted else None,
            )
            session.add(stored)
            session.flush()  # a redelivered card-thread message stops here, on (channel, ts)
            record_agent_response(session, row, agent, now, self._tickets.levels)
            row.updated_at = now
            # To the thread the requester wrote in; a form's requester has only their DMs.
            where = row.origin_channel or row.reporter_id
            enqueue(
                session, PostKind.PUBLIC_REPLY, now, ticket_id=row.id, channel=where, thread_ts=row.origin_ts,
                message_id=stored.id, user_id=row.reporter_id,
            )
            enqueue(session, PostKind.FOLLOW_UP, now, ticket_id=row.id, channel=row.card_channel or self._support, message_id=stored.id)
            note = self._tickets.after_reply_in(session, row, agent, then) if then else None
            session.flush()
            return SentReply(TicketRecord.of(row), MessageRecord.of(stored), False, note)
