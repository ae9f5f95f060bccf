"""An agent answers an email case from Slack: the reply is stored on the case, counts as
the agent's response, and is queued for SMTP in the same transaction, threaded to the
customer's last mail with the case's token (its number and reply key) in the subject."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.mail.compose import new_message_id, reply_subject
from bot.mail.reply_key import ReplyKeys
from bot.services.conversations import record_agent_response
from bot.services.errors import ActionNotAllowed, PermissionDenied, TicketNotFound
from bot.services.mail_outbox import queue_mail
from bot.services.outbox import PostKind, enqueue
from bot.services.records import MessageRecord, TicketRecord, format_number
from bot.services.status import Status
from bot.services.tickets import Clock, NotYours, TicketService, _outside, utcnow
from db.models import CaseMessage, Ticket
from db.session import Database

MAX_REPLY = 20_000
REFERENCES_KEPT = 20  # the thread's latest Message-IDs; long References lines get cut by servers


@dataclass(frozen=True)
class EmailReply:
    ticket: TicketRecord
    message: MessageRecord
    status_note: str | None = None  # the status chosen with the reply, when it could not be set


class EmailReplies:
    def __init__(self, db: Database, tickets: TicketService, support_channel: str, clock: Clock = utcnow) -> None:
        self._db = db
        self._tickets = tickets
        self._support = support_channel
        self._clock = clock
        self._keys = ReplyKeys(db)

    def reply(
        self, ticket_id: int, agent: str, body: str, from_addr: str, *,
        posted: tuple[str, str] | None = None, then: Status | None = None,
    ) -> EmailReply:
        """``posted``: the card-thread message (channel, ts) that asked for this reply (``reply:``);
        kept on the stored reply, so a redelivery of that message mails nothing twice.
        ``then``: the status to set with the reply, in the same transaction."""
        if not self._tickets.is_agent(agent):
            raise PermissionDenied("reply by email on")
        body = body.strip()
        now = self._clock()
        key = self._keys.key(format_number(ticket_id))  # before the transaction: it may need one of its own
        with self._db.write() as session:
            row = session.get(Ticket, ticket_id, with_for_update=True)
            if row is None:
                raise TicketNotFound(ticket_id)
            record = TicketRecord.of(row)
            why = _outside(session, row, agent)  # agents answer their teams' cases and their own; admins all
            if why:
                raise NotYours(why)
            if not (record.by_email or "@" in record.reporter_id):  # a form's or the API's case has no address
                raise ActionNotAllowed(f"{record.number} did not come by email, so there is no address to reply to.", record)
            thread = session.execute(
                select(CaseMessage.email_message_id, CaseMessage.role)
                .where(CaseMessage.ticket_id == row.id, CaseMessage.email_message_id.is_not(None))
                .order_by(CaseMessage.id.desc())
                .limit(REFERENCES_KEPT)
            ).all()[::-1]
            references = [str(mid) for mid, _ in thread]
            # The mail answered: the customer's latest (our own replies are in References).
            answered = next((str(mid) for mid, role in reversed(thread) if role == "customer"), references[-1] if references else None)
            message_id = new_message_id(from_addr)
            stored = CaseMessage(
                ticket_id=row.id, via="email", role="agent", author_id=agent, body=body[:MAX_REPLY],
                created_at=now, email_message_id=message_id,
                slack_channel=posted[0] if posted else None, slack_ts=posted[1] if posted else None,
            )
            session.add(stored)
            record_agent_response(session, row, agent, now, self._tickets.levels)
            row.updated_at = now
            session.flush()
            # Replies go to the requester on record, never to whoever wrote last.
            queue_mail(
                session, now, ticket_id=row.id, message_id=message_id, to_addr=row.reporter_id,
                subject=reply_subject(record.number, row.title, key), body=body[:MAX_REPLY],
                in_reply_to=answered, references=" ".join(references) or None, automatic=False,
            )
            enqueue(session, PostKind.FOLLOW_UP, now, ticket_id=row.id, channel=row.card_channel or self._support, message_id=stored.id)
            note = self._tickets.after_reply_in(session, row, agent, then) if then else None
            return EmailReply(TicketRecord.of(row), MessageRecord.of(stored), note)
