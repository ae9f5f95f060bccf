"""A ticket from any message: a reaction (TICKET_REACTION) or the "Create ticket" message
shortcut, on a message in any channel the bot is in.

The message becomes the case's first message, its author the reporter, its thread the
case's customer thread (replies there are the case's messages, as for intake cases), and
its permalink the card's way back. One message, one case: both ways key the case on the
message's (channel, ts), as intake cases are keyed, so two reactions, a reaction and the
shortcut, or a redelivery, file it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.services.conversations import ConversationService, Opened, Origin, SlackMessage, source_key
from bot.services.outbox import PostKind, enqueue
from bot.services.records import TicketRecord
from bot.services.tickets import Clock, NewTicket, TicketService, utcnow
from bot.views.text import unescape
from db.models import CaseMessage, Ticket
from db.session import Database

BOTS_MESSAGE = "That message was posted by an app, not a person, so there is nobody to file a ticket for."
EMPTY_MESSAGE = "That message has no text to file a ticket with."


@dataclass(frozen=True)
class MessageRef:
    """A message someone wants a ticket of, as Slack described it."""

    channel: str
    ts: str
    user: str | None
    text: str
    thread_ts: str | None
    bot: bool

    @classmethod
    def of(cls, channel: str, message: dict[str, Any]) -> MessageRef:
        return cls(
            channel=channel,
            ts=str(message.get("ts") or ""),
            user=message.get("user"),
            text=unescape(str(message.get("text") or "")),  # stored as written, escaped once when shown
            thread_ts=message.get("thread_ts"),
            bot=bool(message.get("bot_id")) or message.get("subtype") == "bot_message" or not message.get("user"),
        )

    @property
    def thread_root(self) -> str:
        """The thread replies to it go in: its own, or the one it was written in."""
        return self.thread_ts or self.ts


class MessageTickets:
    def __init__(self, db: Database, tickets: TicketService, conversations: ConversationService, clock: Clock = utcnow) -> None:
        self._db = db
        self._tickets = tickets
        self._conversations = conversations
        self._clock = clock

    def refusal(self, ref: MessageRef) -> str | None:
        """Why no ticket can be made of this message (None: it can)."""
        if ref.bot:
            return BOTS_MESSAGE
        if not ref.text.strip():
            return EMPTY_MESSAGE
        existing = self._conversations.case_of_message(ref.channel, ref.ts) or self._conversations.case_for_thread(
            ref.channel, ref.thread_root
        )
        if existing is not None:
            return f"That message is already part of {existing.number}: no new ticket was filed."
        return None

    def from_reaction(self, ref: MessageRef, reactor: str, link: str | None) -> Opened:
        """A case as an intake message opens one (unsorted, for agents to sort)."""
        msg = SlackMessage(channel=ref.channel, ts=ref.ts, user=ref.user or "", text=ref.text, thread_ts=ref.thread_ts)
        return self._conversations.open_case(msg, origin=Origin(thread_ts=ref.thread_root, link=link, filed_by=reactor))

    def from_form(self, new: NewTicket, ref: MessageRef, link: str | None) -> tuple[TicketRecord, bool]:
        """The shortcut's form, filed: a form ticket tied to the message it was made from."""
        ticket, created = self._tickets.create(new)
        return self._tie(ticket.id, ref, link), created

    def _tie(self, ticket_id: int, ref: MessageRef, link: str | None) -> TicketRecord:
        """The message's thread becomes the case's; done once (a resubmission finds it done)."""
        now = self._clock()
        with self._db.write() as session:
            row = session.get_one(Ticket, ticket_id, with_for_update=True)
            if row.origin_channel is None:
                row.origin_channel, row.origin_ts, row.origin_link = ref.channel, ref.thread_root, link
                try:
                    with session.begin_nested():
                        session.add(CaseMessage(
                            ticket_id=row.id, via="slack", role="customer", author_id=ref.user or "", body=ref.text,
                            created_at=row.created_at, slack_channel=ref.channel, slack_ts=ref.ts,
                        ))
                except IntegrityError:
                    pass  # stored before as some case's message: the ticket still points back to it
                enqueue(session, PostKind.ORIGIN_ACK, now, ticket_id=row.id, channel=ref.channel, thread_ts=ref.thread_root)
                enqueue(session, PostKind.CARD_REFRESH, now, ticket_id=row.id, channel=row.card_channel)
            session.flush()
            return TicketRecord.of(row)


def message_source_key(ref: MessageRef) -> str:
    return source_key(ref.channel, ref.ts)
