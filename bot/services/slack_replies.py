"""An answer to a case's Slack requester written outside Slack (the API): stored on the
case as the agent's message, counted as the desk's response, and posted where the
requester reads it (the thread their message opened, or a DM), with the card's thread
showing it as it shows any message of the case."""

from __future__ import annotations

from bot.services.conversations import record_agent_response
from bot.services.errors import ActionNotAllowed, TicketNotFound
from bot.services.outbox import PostKind, enqueue
from bot.services.records import MessageRecord, TicketRecord
from bot.services.tickets import Clock, NotYours, TicketService, _outside, utcnow
from bot.views.text import escape, is_slack_user
from db.models import CaseMessage, Ticket
from db.session import Database

MAX_REPLY = 20_000


class SlackReplies:
    def __init__(self, db: Database, tickets: TicketService, support_channel: str, clock: Clock = utcnow) -> None:
        self._db = db
        self._tickets = tickets
        self._support = support_channel
        self._clock = clock

    def reply(self, ticket_id: int, agent: str, body: str) -> MessageRecord:
        if not self._tickets.is_agent(agent):
            raise NotYours("Only agents can answer a case's requester.")
        now = self._clock()
        with self._db.write() as session:
            row = session.get(Ticket, ticket_id, with_for_update=True)
            if row is None:
                raise TicketNotFound(ticket_id)
            why = _outside(session, row, agent)
            if why:
                raise NotYours(why)
            if not is_slack_user(row.reporter_id):
                raise ActionNotAllowed(f"{TicketRecord.of(row).number}'s requester is not a Slack user.", TicketRecord.of(row))
            stored = CaseMessage(
                ticket_id=row.id, via="slack", role="agent", author_id=agent, body=body.strip()[:MAX_REPLY], created_at=now
            )
            session.add(stored)
            record_agent_response(session, row, agent, now, self._tickets.levels)
            row.updated_at = now
            session.flush()
            text = f"💬 About {TicketRecord.of(row).number}:\n{escape(stored.body)}"
            if row.origin_channel and row.origin_ts:
                enqueue(session, PostKind.POST, now, ticket_id=row.id, channel=row.origin_channel, thread_ts=row.origin_ts, text=text)
            else:
                enqueue(session, PostKind.POST, now, ticket_id=row.id, channel=row.reporter_id, text=text)
            enqueue(session, PostKind.FOLLOW_UP, now, ticket_id=row.id, channel=row.card_channel or self._support, message_id=stored.id)
            return MessageRecord.of(stored)
