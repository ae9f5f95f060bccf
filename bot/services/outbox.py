"""The outbox: everything a change owes Slack, written in the change's own transaction.

Services add rows here with the change that caused them; the one sender
(bot/delivery/slack.py) delivers them after the commit, paced per channel. A crash, a
restart or Slack being down delays a post; none is lost, and a claimed-but-unfinished
post is picked up again when its claim runs out (and looked for in Slack first, so it
is not posted twice).

Rows that show the card (a line in its thread, a link to it) are claimed only once the
card is recorded: they cannot overtake it, and no process has to postpone them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, Table, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import BindParameter

from db.commit_signals import CommitSignal
from db.models import CustomerChannel, OutboxPost, Ticket
from db.session import Database
from db.types import UTCDateTime

CLAIM = timedelta(seconds=60)
# Attempts after which a post Slack keeps refusing for a reason of its own (not a rate
# limit or an outage) is given up and reported.
DEAD_AFTER = 8


class PostKind(StrEnum):
    CARD = "card"  # the ticket's card, in its channel
    CARD_REFRESH = "card_refresh"  # chat.update of the card (coalesced: the latest state wins)
    CARD_THREAD = "card_thread"  # text in the card's thread
    CHANGE_LINE = "change_line"  # "who did what" in the card's thread, rendered from an audit event
    REPORTER_DM = "reporter_dm"  # the reporter told of a change (resolved, closed)
    ASSIGNEE_DM = "assignee_dm"  # a new assignee told they have the ticket
    FILED_DM = "filed_dm"  # the reporter's confirmation with a link to the card
    ADMIN_NEW = "admin_new"  # "New ticket …" in the admin channel
    REOPENED_NOTE = "reopened_note"  # the case was reopened: said in the thread the reporter wrote in
    HOME = "home"  # re-publish the App Home tabs that show a ticket
    ORIGIN_ACK = "origin_ack"  # "Case TCK-… opened" in the thread of the message that opened it
    POST = "post"  # text in a channel, optionally in a thread
    FOLLOW_UP = "follow_up"  # a case message (a customer's, a public reply), shown in the card's thread
    PUBLIC_REPLY = "public_reply"  # an agent's public reply (message_id), in the requester's thread or DM
    ALERT = "alert"  # an escalation alert with a link to the card
    CARD_MOVED = "card_moved"  # chat.update of a card left behind by a move (channel, thread_ts: where it is)
    SLA_WARNING = "sla_warning"  # an SLA target 75 % used: a DM to an assignee (text: the rule)
    SLA_ALERT = "sla_alert"  # an SLA target breached: in the alerting channel (text: the rule)
    CHART = "chart"  # the weekly chart, drawn when sent and uploaded (text: the end of its four weeks)
    EXPORT = "export"  # a list's cases as a CSV file, written when sent and uploaded to user_id's DM (text: the request)


# Kinds that show or link the card: claimable only once the card is recorded.
WAIT_FOR_CARD = frozenset(
    {
        PostKind.CARD_REFRESH,
        PostKind.CARD_THREAD,
        PostKind.CHANGE_LINE,
        PostKind.REPORTER_DM,
        PostKind.ASSIGNEE_DM,
        PostKind.FILED_DM,
        PostKind.ADMIN_NEW,
        PostKind.REOPENED_NOTE,
        PostKind.ORIGIN_ACK,
        PostKind.FOLLOW_UP,
        PostKind.ALERT,
        PostKind.SLA_WARNING,
        PostKind.SLA_ALERT,
    }
)
# Kinds that do not post a message (nothing to look for after a crash, no post pacing).
NOT_POSTS = frozenset({PostKind.CARD_REFRESH, PostKind.HOME})


# ---- waking the sender when a transaction with new rows commits --------------------

_ROWS_ADDED = CommitSignal("outbox_rows")
# Call a function after every commit that added outbox rows; returns the unsubscribe.
on_commit = _ROWS_ADDED.subscribe


# ---- writing rows ----------------------------------------------------------------------


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
    event_id: int | None = None,
    user_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    if kind is PostKind.CARD_REFRESH and ticket_id is not None and _same_waiting(session, kind, ticket_id, text, now):
        return  # one unclaimed redraw renders what is stored when it is sent: the latest state wins
    session.add(
        OutboxPost(
            kind=kind.value,
            ticket_id=ticket_id,
            channel=None if kind in NOT_POSTS else channel,
            thread_ts=thread_ts,
            text=text,
            message_id=message_id,
            event_id=event_id,
            user_id=user_id,
            blocks=json.dumps(blocks) if blocks is not None else None,
            created_at=now,
            due_at=now,
            attempts=0,
        )
    )
    _ROWS_ADDED.owed(session)


def enqueue_refreshes(session: Session, ticket_ids: list[int], now: datetime) -> None:
    """A card redraw for each of a batch's tickets (a sweep's), coalesced as ``enqueue``
    does, by one query for the whole batch rather than one a ticket."""
    if not ticket_ids:
        return
    session.flush()
    waiting = set(
        session.scalars(
            select(OutboxPost.ticket_id)
            .where(
                OutboxPost.ticket_id.in_(ticket_ids),
                OutboxPost.kind == PostKind.CARD_REFRESH.value,
                OutboxPost.text.is_(None),
                OutboxPost.sent_at.is_(None),
                OutboxPost.dead_at.is_(None),
                or_(OutboxPost.claimed_until.is_(None), OutboxPost.claimed_until < now),
            )
            .with_for_update()  # held until the sweep commits, as _same_waiting holds its row
        )
    )
    for ticket_id in dict.fromkeys(ticket_ids):
        if ticket_id not in waiting:
            session.add(OutboxPost(kind=PostKind.CARD_REFRESH.value, ticket_id=ticket_id, created_at=now, due_at=now, attempts=0))
    _ROWS_ADDED.owed(session)


def _same_waiting(session: Session, kind: PostKind, ticket_id: int, text: str | None, now: datetime) -> bool:
    session.flush()
    same_text = OutboxPost.text.is_(None) if text is None else OutboxPost.text == text
    return (
        session.scalar(
            select(OutboxPost.id)
            .where(
                OutboxPost.ticket_id == ticket_id,
                OutboxPost.kind == kind.value,
                same_text,
                OutboxPost.sent_at.is_(None),
                OutboxPost.dead_at.is_(None),
                or_(OutboxPost.claimed_until.is_(None), OutboxPost.claimed_until < now),
            )
            .limit(1)
            # Held until this change commits, so the sender (SKIP LOCKED) cannot draw the
            # card from the state before it and leave no redraw for this change.
            .with_for_update()
        )
        is not None
    )


# ---- reading and claiming ---------------------------------------------------------------


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
    event_id: int | None = None
    user_id: str | None = None
    # When an earlier claim of this row began, if it may have reached Slack.
    claimed_before: datetime | None = None
    blocks: list[dict[str, Any]] | None = None


_NOW = bindparam("now", type_=UTCDateTime)
_UNTIL = bindparam("until", type_=UTCDateTime)
_PAUSED: BindParameter[list[str]] = bindparam("paused", expanding=True)  # channels the sender may not post to just now (pacing)
CLAIM_BATCH = 20


def _ready() -> ColumnElement[bool]:
    """Due at :now, and not waiting for a card nor behind a card update of its ticket in flight."""
    other = aliased(OutboxPost)
    card_up = exists().where(Ticket.id == OutboxPost.ticket_id, Ticket.card_ts.is_not(None))
    # A customer channel's acknowledgment shows nothing of the card (the customer never
    # sees it): it goes beside the card rather than after it.
    customer_ack = and_(
        OutboxPost.kind == PostKind.ORIGIN_ACK.value, exists().where(CustomerChannel.channel == OutboxPost.channel)
    )
    refresh_in_flight = exists().where(
        other.ticket_id == OutboxPost.ticket_id,
        other.kind == PostKind.CARD_REFRESH.value,
        other.id != OutboxPost.id,
        other.sent_at.is_(None),
        other.claimed_until >= _NOW,
    )
    return and_(
        OutboxPost.sent_at.is_(None),
        OutboxPost.dead_at.is_(None),
        OutboxPost.due_at <= _NOW,
        or_(OutboxPost.claimed_until.is_(None), OutboxPost.claimed_until < _NOW),
        or_(OutboxPost.kind.not_in([k.value for k in WAIT_FOR_CARD]), card_up, customer_ack),
        or_(OutboxPost.kind != PostKind.CARD_REFRESH.value, ~refresh_in_flight),
    )


# Built once: a claim runs many times a second under load, and building the expression
# (not running it) was most of its cost. One statement picks and claims: of two processes
# claiming at once, PostgreSQL lets each skip the rows the other holds, and the outer
# condition is checked again on the row as it is after the other's commit.
_READY = _ready()
_CLAIM = (
    update(OutboxPost)
    .where(
        OutboxPost.id.in_(
            select(OutboxPost.id)
            .where(_READY, or_(OutboxPost.channel.is_(None), OutboxPost.channel.not_in(_PAUSED)))
            .order_by(OutboxPost.id)
            .limit(CLAIM_BATCH)
            .with_for_update(skip_locked=True)
        ),
        OutboxPost.sent_at.is_(None),
        or_(OutboxPost.claimed_until.is_(None), OutboxPost.claimed_until < _NOW),
    )
    .values(claimed_until=_UNTIL, claimed_at=func.coalesce(OutboxPost.claimed_at, _NOW))
    # Columns, not the entity: run on the connection it makes no ORM objects (a claim is on
    # the way of every post, and building them cost more CPU than the statement).
    .returning(
        OutboxPost.id, OutboxPost.kind, OutboxPost.ticket_id, OutboxPost.channel, OutboxPost.thread_ts, OutboxPost.text,
        OutboxPost.message_id, OutboxPost.attempts, OutboxPost.event_id, OutboxPost.user_id, OutboxPost.claimed_at,
        OutboxPost.blocks,
    )
    .execution_options(synchronize_session=False)
)
_OUTBOX: Table = OutboxPost.__table__  # type: ignore[assignment]
_MARK_SENT = (  # a Core statement: run for many rows it is one executemany, not the ORM's per-row bulk path
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("pid"))
    .values(sent_at=_NOW, error=None, claimed_until=None, posted_channel=bindparam("landed_channel"), posted_ts=bindparam("landed_ts"))
)
_NEXT = select(
    select(func.min(OutboxPost.due_at))
    .where(OutboxPost.sent_at.is_(None), OutboxPost.dead_at.is_(None), OutboxPost.due_at > _NOW)
    .scalar_subquery(),
    select(func.min(OutboxPost.claimed_until))
    .where(OutboxPost.sent_at.is_(None), OutboxPost.claimed_until > _NOW)
    .scalar_subquery(),
)


class Outbox:
    def __init__(self, db: Database, claim: timedelta = CLAIM) -> None:
        self._db = db
        self._claim = claim

    @property
    def claim_for(self) -> timedelta:
        return self._claim

    def has_ready(self, now: datetime) -> bool:
        with self._db.read() as session:
            return session.scalar(select(OutboxPost.id).where(_READY).limit(1), {"now": now}) is not None

    def next_due(self, now: datetime) -> datetime | None:
        """When the next row falls due or a claim runs out: the sender sleeps till then (rows
        ready now but waiting for a card are woken by the commit that records it)."""
        with self._db.read() as session:
            row = session.execute(_NEXT, {"now": now}).one()
            times = [t for t in row if t is not None]
            return min(times) if times else None

    def claim(self, now: datetime, paused: list[str] | None = None) -> list[Pending]:
        """Up to CLAIM_BATCH ready rows, oldest first, of channels not ``paused``, claimed for
        this process for a while."""
        with self._db.write() as session:
            params = {"now": now, "until": now + self._claim, "paused": paused or [""]}
            rows = session.connection().execute(_CLAIM, params).all()
            return sorted((_pending(r, now) for r in rows), key=lambda p: p.id)

    def announce(
        self,
        channel: str,
        text: str,
        now: datetime,
        blocks: list[dict[str, Any]] | None = None,
        chart_until: datetime | None = None,
    ) -> None:
        """A post of its own (a job's report, a reminder), sent down the same road;
        ``chart_until``: followed by the chart of the four weeks up to then, owed with it."""
        with self._db.write() as session:
            enqueue(session, PostKind.POST, now, channel=channel, text=text, blocks=blocks)
            if chart_until is not None:
                enqueue(session, PostKind.CHART, now, channel=channel, text=chart_until.isoformat())

    def hand_back(self, posts: list[Pending]) -> None:
        """Release claimed rows untouched (their channel's pace allows no more just now)."""
        if not posts:
            return
        with self._db.write() as session:
            for post in posts:
                session.execute(
                    update(OutboxPost)
                    .where(OutboxPost.id == post.id)
                    .values(claimed_until=None, claimed_at=post.claimed_before)
                )

    def sent_all(self, done: list[tuple[int, tuple[str | None, str | None]]], now: datetime) -> None:
        if not done:
            return
        with self._db.write() as session:
            session.connection().execute(
                _MARK_SENT,
                [{"pid": post_id, "now": now, "landed_channel": channel, "landed_ts": ts} for post_id, (channel, ts) in done],
            )

    def later(self, post_id: int, due_at: datetime, *, error: str | None = None, landed: bool = False) -> None:
        """Give a failed post back, due again at ``due_at``. ``landed``: Slack may have
        carried it out (the answer was lost), so the next claim looks for it first."""
        values: dict[str, object] = {"due_at": due_at, "claimed_until": None, "attempts": OutboxPost.attempts + 1}
        if error is not None:
            values["error"] = error[:200]
        if not landed:
            values["claimed_at"] = None
        with self._db.write() as session:
            session.execute(update(OutboxPost).where(OutboxPost.id == post_id).values(**values))

    def give_up(self, post: Pending, now: datetime, error: str, report_to: str | None) -> None:
        """Dead-letter a post Slack keeps refusing; tell the admins once, in the same transaction."""
        with self._db.write() as session:
            session.execute(
                update(OutboxPost).where(OutboxPost.id == post.id).values(dead_at=now, claimed_until=None, error=error[:200])
            )
            waiting = ""
            if post.kind is PostKind.CARD:  # what shows or links the card waits on it
                blocked = session.scalar(
                    select(func.count()).select_from(OutboxPost).where(
                        OutboxPost.ticket_id == post.ticket_id, OutboxPost.sent_at.is_(None), OutboxPost.id != post.id
                    )
                )
                waiting = f" {blocked or 0} more posts of that ticket wait for its card."
            if report_to and post.channel != report_to:
                enqueue(
                    session,
                    PostKind.POST,
                    now,
                    channel=report_to,
                    text=f"⚠️ Casedesk gave up on a Slack post ({post.kind.value}, outbox row {post.id}) after "
                    f"{post.attempts + 1} attempts: Slack answered `{error[:80]}`.{waiting} `python -m bot outbox dead` lists it.",
                )

    def dead(self, limit: int = 50) -> list[tuple[int, str, str | None, str | None, datetime | None]]:
        """Given-up posts, newest first: (id, kind, channel, error, when)."""
        with self._db.read() as session:
            rows = session.execute(
                select(OutboxPost.id, OutboxPost.kind, OutboxPost.channel, OutboxPost.error, OutboxPost.dead_at)
                .where(OutboxPost.dead_at.is_not(None))
                .order_by(OutboxPost.id.desc())
                .limit(limit)
            )
            return [tuple(r) for r in rows]  # type: ignore[misc]

    def retry_dead(self, now: datetime) -> int:
        """Give every dead-lettered post another round (after the cause was fixed)."""
        with self._db.write() as session:
            result = session.execute(
                update(OutboxPost)
                .where(OutboxPost.dead_at.is_not(None))
                .values(dead_at=None, attempts=0, due_at=now)
            )
            _ROWS_ADDED.owed(session)
            return int(result.rowcount)  # type: ignore[attr-defined]

    def unsent(self) -> int:
        with self._db.read() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(OutboxPost).where(OutboxPost.sent_at.is_(None), OutboxPost.dead_at.is_(None))
                )
                or 0
            )


def mark_sent(session: Session, post_id: int, now: datetime, channel: str | None, ts: str | None) -> None:
    session.execute(
        update(OutboxPost)
        .where(OutboxPost.id == post_id)
        .values(sent_at=now, error=None, claimed_until=None, posted_channel=channel, posted_ts=ts)
    )


def _pending(r: Row[*tuple[Any, ...]], now: datetime) -> Pending:  # a claimed row's columns
    # The claim keeps an earlier unfinished claim's start; a fresh claim stamps it with now.
    before = r.claimed_at if r.claimed_at is not None and r.claimed_at < now else None
    return Pending(
        r.id,
        PostKind(r.kind),
        r.ticket_id,
        r.channel,
        r.thread_ts,
        r.text,
        r.message_id,
        r.attempts,
        r.event_id,
        r.user_id,
        before,
        json.loads(r.blocks) if r.blocks else None,
    )
