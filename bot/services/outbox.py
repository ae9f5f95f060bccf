"""The outbox: Slack posts decided inside a transaction, sent after it commits.

A post is stored with the change that caused it, then the sender (bot/outbox_sender.py)
delivers it, paced per channel. A crash, a restart or Slack being down delays a post;
none is lost, and a claimed-but-unfinished post is picked up again when its claim runs out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.services.claims import claim_due, due
from db.models import OutboxPost
from db.session import Database

CLAIM = timedelta(seconds=60)


class PostKind(StrEnum):
    CARD = "card"  # the ticket's card, in the support channel
    ORIGIN_ACK = "origin_ack"  # "Case TCK-… opened" in the thread of the message that opened it
    CARD_THREAD = "card_thread"  # text in the card's thread (waits for the card)
    POST = "post"  # text in a channel, optionally in a thread
    CARD_REFRESH = "card_refresh"  # chat.update of the card
    FOLLOW_UP = "follow_up"  # a customer's message, shown in the card's thread
    ALERT = "alert"  # an escalation alert with a link to the card


def enqueue(
    session: Session,
    kind: PostKind,
    now: datetime,
    *,
    ticket_id: int | None = None,
    channel: str | None = None,
    thread_ts: str | None = None,
    text: str | None = None,
    message_id: int | None = None,
) -> None:
    session.add(
        OutboxPost(
            kind=kind.value,
            ticket_id=ticket_id,
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            message_id=message_id,
            created_at=now,
            due_at=now,
            attempts=0,
        )
    )


@dataclass(frozen=True)
class Pending:
    id: int
    kind: PostKind
    ticket_id: int | None
    channel: str | None
    thread_ts: str | None
    text: str | None
    message_id: int | None
    attempts: int


class Outbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def due_channels(self, now: datetime) -> list[str | None]:
        """Channels with posts due now (None: posts whose channel is decided when sent)."""
        with self._db.read() as session:
            return [
                c
                for c in session.scalars(
                    select(OutboxPost.channel).where(due(OutboxPost, now)).group_by(OutboxPost.channel).order_by(func.min(OutboxPost.id))
                )
            ]

    def claim(self, now: datetime, channel: str | None, limit: int) -> list[Pending]:
        """Up to ``limit`` due posts of one channel, oldest first, claimed for this process for CLAIM."""
        same_channel = OutboxPost.channel.is_(None) if channel is None else OutboxPost.channel == channel
        return claim_due(self._db, OutboxPost, now, CLAIM, limit, _pending, same_channel)

    def sent(self, post_id: int, now: datetime) -> None:
        with self._db.write() as session:
            session.execute(update(OutboxPost).where(OutboxPost.id == post_id).values(sent_at=now, error=None))

    def later(self, post_id: int, due: datetime, *, error: str | None = None, attempt: bool = False) -> None:
        """Give the post back, due again at ``due`` (pacing, a missing card, a failure)."""
        values: dict[str, object] = {"due_at": due, "claimed_until": None}
        if error is not None:
            values["error"] = error[:200]
        with self._db.write() as session:
            if attempt:
                values["attempts"] = OutboxPost.attempts + 1
            session.execute(update(OutboxPost).where(OutboxPost.id == post_id).values(**values))

    def release_waiting(self, ticket_id: int, now: datetime) -> None:
        """The ticket's card is up: posts that waited for it are due now."""
        with self._db.write() as session:
            session.execute(
                update(OutboxPost)
                .where(OutboxPost.ticket_id == ticket_id, OutboxPost.sent_at.is_(None), OutboxPost.kind != PostKind.CARD.value)
                .values(due_at=now)
            )


def _pending(r: OutboxPost) -> Pending:
    return Pending(r.id, PostKind(r.kind), r.ticket_id, r.channel, r.thread_ts, r.text, r.message_id, r.attempts)
