"""Cases from conversations: a message in an intake channel opens a case; replies in
its threads become the case's messages.

Exactly once: a case's source key is its opening message's (channel, ts), and every
stored message is unique on (channel, ts), so a redelivered event, or the same event
reaching two bot processes, stores nothing twice. The database decides, not a check
before the insert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services import bursts
from bot.services.case_links import follow_merges
from bot.services.outbox import PostKind, enqueue
from bot.services.phrases import Keywords, is_closing_phrase
from bot.services.records import Change, MessageRecord, TicketRecord
from bot.services.routing import Criteria
from bot.services.status import Priority, Status
from bot.services.team_service_levels import team_levels
from bot.services.tickets import Clock, TicketService, audit_event, business_seconds, utcnow
from bot.settings.service_levels import ServiceLevels
from db.models import Account, Attachment, CaseMessage, FormerCard, Ticket
from db.session import Database

# Cases that come without a form have no campaign or issue type yet; agents see these.
INTAKE_CAMPAIGN = "Unsorted"
ISSUE_TYPE_BY_SOURCE = {"slack": "Message", "email": "Email"}
TITLE_LIMIT = 120


@dataclass(frozen=True)
class SlackFile:
    name: str
    permalink: str | None
    content_type: str | None = None
    size: int = 0


@dataclass(frozen=True)
class SlackMessage:
    channel: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    files: tuple[SlackFile, ...] = ()


@dataclass(frozen=True)
class Opened:
    ticket: TicketRecord
    created: bool
    joined: bool = False  # the message joined the case its author's burst opened


@dataclass(frozen=True)
class Origin:
    """Where a case made from any message (a reaction, the shortcut) lives, and who made it."""

    thread_ts: str  # the thread its replies are in: the message's own, or the one it is in
    link: str | None
    filed_by: str


@dataclass(frozen=True)
class Reply:
    """What storing a thread reply did."""

    ticket: TicketRecord
    message: MessageRecord | None  # None: this message was stored before (a redelivery)
    change: Change | None = None  # the case was closed or reopened by this message
    notes: tuple[str, ...] = field(default=())

    @property
    def duplicate(self) -> bool:
        return self.message is None


def slack_time(ts: str, fallback: datetime) -> datetime:
    """When Slack says the message was posted: events of one thread may be handled out of order."""
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError):
        return fallback


def title_of(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= TITLE_LIMIT else first[: TITLE_LIMIT - 1].rstrip() + "…"


class ConversationService:
    def __init__(
        self,
        db: Database,
        tickets: TicketService,
        *,
        support_channel: str,
        keywords: Keywords,
        clock: Clock = utcnow,
    ) -> None:
        self._db = db
        self._tickets = tickets
        self._support = support_channel
        self.keywords = keywords
        self._clock = clock

    # ---- opening ---------------------------------------------------------------

    def open_case(
        self, msg: SlackMessage, *, group_within: timedelta | None = None, origin: Origin | None = None, account: str | None = None,
        acks_per_minute: int | None = None,
    ) -> Opened:
        """A case from a message: an intake channel's (which, with ``group_within``, joins the
        case of its author's burst instead when it follows closely), or any message someone
        made a ticket of (``origin``). One case per message, however often it comes.
        ``account``: the external organisation (team id) of a customer channel's writer.
        ``acks_per_minute``: at most this many cases opened in the channel within a minute
        are acknowledged there; the others say so in their card's thread."""
        now = self._clock()
        key = source_key(msg.channel, msg.ts)
        text = msg.text.strip() or "(no text)"
        try:
            with self._db.write() as session:
                burst = bursts.burst_row(session, msg.channel, msg.user) if group_within else None
                joined = bursts.case_to_join(session, burst, msg.ts, group_within) if burst and group_within else None
                if burst is not None and joined is not None:
                    self._join(session, joined, msg, now)
                    bursts.remember(burst, joined.id, msg.ts)
                    session.flush()
                    return Opened(TicketRecord.of(joined), False, joined=True)
                keyword = self.keywords.find(text)
                acknowledge = acks_per_minute is None or _opened_within_minute(session, msg.channel, msg.ts) < acks_per_minute
                criteria = Criteria(intake_channel=msg.channel, accounts=account_keys(session, account))
                row = open_intake_case(
                    session, "slack", now, flush=False, reporter_id=msg.user, details=text, title=title_of(text),
                    source_key=key, keyword=keyword, origin_channel=msg.channel,
                    origin_ts=origin.thread_ts if origin else msg.ts, origin_link=origin.link if origin else None,
                    account_id=account,
                )
                # Routed before it is first written, so its team and due times go in with it
                # rather than in an UPDATE after.
                with session.no_autoflush:
                    card_channel = self._tickets.file_in(session, row, criteria, now)
                session.flush()  # its source key decides here: one case per message
                # The rest is written in one flush at the end (the message's own unique key
                # decides there; its id is needed before only for its files).
                stored = self._store(session, row, msg, "customer", now, opening=True, flush=bool(msg.files))
                filed_by = origin.filed_by if origin else msg.user
                note = f"from a message by {msg.user}" if filed_by != msg.user else None
                session.add(audit_event(row.id, filed_by, "created", None, Status.OPEN.value, note, now))
                if keyword:
                    session.add(audit_event(row.id, msg.user, "flagged", None, keyword, "escalation keyword", now))
                if msg.files:
                    self._attach(session, row.id, stored.id, msg.files)
                enqueue(session, PostKind.CARD, now, ticket_id=row.id, channel=card_channel)
                thread_ts = origin.thread_ts if origin else msg.ts
                if acknowledge:
                    enqueue(session, PostKind.ORIGIN_ACK, now, ticket_id=row.id, channel=msg.channel, thread_ts=thread_ts)
                else:
                    text = (f"🔇 Not acknowledged in <#{msg.channel}>: {acks_per_minute} cases or more opened there "
                            "within a minute. The customer hears from us when we answer in their thread.")
                    enqueue(session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=card_channel, text=text)
                if burst is not None:
                    bursts.remember(burst, row.id, msg.ts)
                session.flush()
                return Opened(TicketRecord.of(row), True)
        except IntegrityError:
            with self._db.read() as session:
                existing = case_of_message(session, msg.channel, msg.ts)
                if existing is None:
                    raise
                return Opened(TicketRecord.of(existing), False)

    def case_of_message(self, channel: str, ts: str) -> TicketRecord | None:
        """The case a message opened or is part of, if any."""
        with self._db.read() as session:
            row = case_of_message(session, channel, ts)
            return TicketRecord.of(row) if row else None

    def _join(self, session: Session, row: Ticket, msg: SlackMessage, now: datetime) -> None:
        """A burst's next message: one of the case's messages, shown in the card's thread."""
        stored = self._store(session, row, msg, "customer", now)
        if msg.files:
            self._attach(session, row.id, stored.id, msg.files)
        row.updated_at = now
        enqueue(session, PostKind.FOLLOW_UP, now, ticket_id=row.id, channel=row.card_channel or self._support, message_id=stored.id)

    # ---- replies ---------------------------------------------------------------

    def case_for_thread(self, channel: str, thread_ts: str) -> TicketRecord | None:
        with self._db.read() as session:
            row = follow_merges(session, _case_for_thread(session, channel, thread_ts))
            return TicketRecord.of(row) if row else None

    def add_reply(self, msg: SlackMessage, *, outsider: bool = False) -> Reply | None:
        """Store a reply in a case's thread; None when the thread is not a case's.
        ``outsider``: the writer is of another organisation, a customer even if listed as an agent."""
        if not msg.thread_ts:
            return None
        now = self._clock()
        is_agent = not outsider and self._tickets.is_agent(msg.user)
        role = "agent" if is_agent else "customer"
        notes: list[str] = []
        try:
            with self._db.write() as session:
                found = _case_for_thread(session, msg.channel, msg.thread_ts, lock=True)
                if found is None:
                    return None
                # What is written in the card's thread stays there: the requester never sees it.
                internal = _is_card_thread(session, found, msg.channel, msg.thread_ts)
                # A merged duplicate's threads go on in its primary.
                row = follow_merges(session, found, lock=True) or found
                stored = self._store(session, row, msg, role, now, kind="internal" if internal else "public")
                if msg.files:
                    self._attach(session, row.id, stored.id, msg.files)
                before = TicketRecord.of(row)
                if is_agent:
                    record_agent_response(session, row, msg.user, now, self._tickets.levels)
                    if not internal:  # written to the customer in their thread: the agents see it on the card
                        enqueue(
                            session, PostKind.FOLLOW_UP, now, ticket_id=row.id, channel=row.card_channel or self._support,
                            message_id=stored.id,
                        )
                else:
                    keyword = record_customer_message(session, row, msg.user, msg.text, now, self.keywords)
                    if keyword:
                        notes.append(f"flagged:{keyword}")
                    # Agents watch the card's thread: tell them what the customer wrote elsewhere.
                    if before.status is Status.CLOSED or not internal:
                        enqueue(
                            session,
                            PostKind.FOLLOW_UP,
                            now,
                            ticket_id=row.id,
                            channel=row.card_channel or self._support,
                            message_id=stored.id,
                        )
                row.updated_at = now
                session.flush()
                ticket, message = TicketRecord.of(row), MessageRecord.of(stored)
        except IntegrityError:
            existing = self.case_for_thread(msg.channel, msg.thread_ts)
            return Reply(existing, None) if existing else None
        change = self._act_on(ticket, msg.user, msg.text, is_agent)
        return Reply(change.ticket if change else ticket, message, change, tuple(notes))

    def _act_on(self, ticket: TicketRecord, user: str, text: str, is_agent: bool) -> Change | None:
        """Close on an agent's closing phrase; reopen a resolved case the reporter wrote on."""
        if is_agent and is_closing_phrase(text) and ticket.status is not Status.CLOSED:
            if self._tickets.refusal(ticket.id, user):
                return None  # an agent of another team: their words are stored, the case stays as it is
            return self._tickets.close(ticket.id, user, note="Closed in the case thread.")
        if not is_agent and user == ticket.reporter_id and ticket.status is Status.RESOLVED:
            return self._tickets.reopen(ticket.id, user, by_customer=True)
        if not is_agent and ticket.status is Status.WAITING:
            return self._tickets.resume(ticket.id, user, by_customer=True, line="▶️ Resumed: the customer replied in the thread.")
        return None

    # ---- edits and deletions --------------------------------------------------

    def edit(self, channel: str, ts: str, text: str, edited_ts: str) -> MessageRecord | None:
        """The stored message's new text; the case's details too when it opened the case.

        Two edits of one message may be handled in either order (two threads, two
        processes): the one with the newer ``edited_ts`` stays, decided by the UPDATE's
        condition on the row, not by a read before it. None when there is nothing to
        update: no such message, or a newer edit is stored already.
        """
        now = self._clock()
        with self._db.write() as session:
            edited_id = session.execute(
                update(CaseMessage)
                .where(
                    CaseMessage.slack_channel == channel,
                    CaseMessage.slack_ts == ts,
                    # Slack's ts strings all have 10 + 6 digits, so they compare as text.
                    or_(CaseMessage.edited_ts.is_(None), CaseMessage.edited_ts < edited_ts),
                )
                .values(body=text, edited_at=now, edited_ts=edited_ts)
                .returning(CaseMessage.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            if edited_id is None:
                return None
            stored = session.get_one(CaseMessage, edited_id)
            ticket = session.get(Ticket, stored.ticket_id)
            if ticket is not None and ticket.origin_channel == channel and ticket.origin_ts == ts:
                ticket.details, ticket.title, ticket.updated_at = text.strip() or "(no text)", title_of(text), now
                enqueue(session, PostKind.CARD_REFRESH, now, ticket_id=ticket.id, channel=ticket.card_channel)
            session.flush()
            return MessageRecord.of(stored)

    def delete(self, channel: str, ts: str) -> MessageRecord | None:
        """Mark the stored message deleted; the record is kept for the audit trail."""
        now = self._clock()
        with self._db.write() as session:
            stored = session.scalars(
                select(CaseMessage).where(CaseMessage.slack_channel == channel, CaseMessage.slack_ts == ts)
            ).one_or_none()
            if stored is None or stored.deleted_at is not None:
                return None
            stored.deleted_at = now
            session.flush()
            return MessageRecord.of(stored)

    def message(self, message_id: int) -> MessageRecord | None:
        with self._db.read() as session:
            row = session.get(CaseMessage, message_id)
            return MessageRecord.of(row) if row else None

    def messages(self, ticket_id: int) -> list[MessageRecord]:
        with self._db.read() as session:
            rows = session.scalars(
                select(CaseMessage)
                .where(CaseMessage.ticket_id == ticket_id)
                .order_by(CaseMessage.created_at, CaseMessage.id)
            )
            return [MessageRecord.of(r) for r in rows]

    # ---- internals -------------------------------------------------------------

    @staticmethod
    def _store(
        session: Session, row: Ticket, msg: SlackMessage, role: str, now: datetime, *, opening: bool = False,
        kind: str = "public", flush: bool = True,
    ) -> CaseMessage:
        stored = CaseMessage(
            ticket_id=row.id,
            via="slack",
            role=role,
            author_id=msg.user,
            body=msg.text,
            # The opening message is dated with its case, so the history starts with "opened".
            created_at=now if opening else slack_time(msg.ts, now),
            slack_channel=msg.channel,
            slack_ts=msg.ts,
            kind=kind,
        )
        session.add(stored)
        if flush:
            session.flush()  # the unique (channel, ts) decides here
        return stored

    @staticmethod
    def _attach(session: Session, ticket_id: int, message_id: int, files: tuple[SlackFile, ...]) -> None:
        for f in files:
            session.add(
                Attachment(
                    ticket_id=ticket_id,
                    message_id=message_id,
                    name=f.name[:300],
                    content_type=f.content_type,
                    size=f.size,
                    url=f.permalink,
                )
            )


def _opened_within_minute(session: Session, channel: str, ts: str) -> int:
    """Cases opened in the channel from messages of the minute before ``ts`` (by Slack's ts,
    whose 10 + 6 digits compare as text; the origin index answers it)."""
    try:
        since = f"{float(ts) - 60:.6f}"
    except ValueError:
        return 0
    counted = session.scalar(
        select(func.count()).select_from(Ticket).where(Ticket.origin_channel == channel, Ticket.origin_ts >= since, Ticket.origin_ts <= ts)
    )
    return int(counted or 0)


def open_intake_case(session: Session, source: str, now: datetime, *, flush: bool = True, **fields: object) -> Ticket:
    """A case that came without a form (a channel message, a mail): unsorted, Medium, waiting
    for its first response; ``fields`` say who, what and where from. ``flush``: written at
    once (else with the caller's next flush)."""
    row = Ticket(
        campaign=INTAKE_CAMPAIGN,
        issue_type=ISSUE_TYPE_BY_SOURCE[source],
        priority=Priority.MEDIUM.value,
        status=Status.OPEN.value,
        source=source,
        waiting_since=now,
        created_at=now,
        updated_at=now,
        **fields,
    )
    session.add(row)
    if flush:
        session.flush()
    return row


def record_agent_response(
    session: Session, row: Ticket, agent: str, now: datetime, levels: ServiceLevels | None
) -> None:
    """An agent answered: first response (with the business time it took, by ``levels``),
    and a new escalation episode from here on."""
    if row.first_response_at is None:
        row.first_response_at = now
        row.first_response_seconds = business_seconds(team_levels(session, row.team_id, levels), row.created_at, now)
        session.add(audit_event(row.id, agent, "first_response", None, None, None, now))
    row.last_agent_response_at = now
    row.waiting_since = None
    row.followups = 0
    row.keyword = None
    row.escalated_reasons = ""


def record_customer_message(
    session: Session, row: Ticket, author: str, text: str, now: datetime, keywords: Keywords
) -> str | None:
    """A customer follow-up: counted, starts the wait if none is running, flags keywords."""
    row.followups = (row.followups or 0) + 1
    if row.waiting_since is None:
        row.waiting_since = now
    keyword = keywords.find(text)
    if keyword and row.keyword is None:
        row.keyword = keyword
        session.add(audit_event(row.id, author, "flagged", None, keyword, "escalation keyword", now))
    return keyword


def _case_for_thread(session: Session, channel: str, thread_ts: str, *, lock: bool = False) -> Ticket | None:
    query = select(Ticket).where(
        or_(
            (Ticket.origin_channel == channel) & (Ticket.origin_ts == thread_ts),
            (Ticket.card_channel == channel) & (Ticket.card_ts == thread_ts),
        )
    )
    if lock:
        query = query.with_for_update()
    row = session.scalars(query.limit(1)).first()
    if row is not None:
        return row
    # The thread of a card left behind when its ticket moved to another team, or of a
    # message that joined the case (a burst's next message).
    moved = session.scalar(select(FormerCard.ticket_id).where(FormerCard.channel == channel, FormerCard.ts == thread_ts))
    if moved is None:
        moved = session.scalar(
            select(CaseMessage.ticket_id).where(CaseMessage.slack_channel == channel, CaseMessage.slack_ts == thread_ts)
        )
    return session.get(Ticket, moved, with_for_update=lock or None) if moved is not None else None


def _is_card_thread(session: Session, row: Ticket, channel: str, thread_ts: str) -> bool:
    """The thread is one of the case's cards' (the agents' room), not the requester's."""
    if (row.card_channel, row.card_ts) == (channel, thread_ts):
        return True
    if (row.origin_channel, row.origin_ts) == (channel, thread_ts):
        return False
    return session.scalar(select(FormerCard.ticket_id).where(FormerCard.channel == channel, FormerCard.ts == thread_ts)) is not None


def account_keys(session: Session, account: str | None) -> tuple[str, ...]:
    """What routing rules may name an organisation by: its team id, and its name once known."""
    if not account:
        return ()
    name = session.scalar(select(Account.name).where(Account.id == account))
    return (account, name) if name else (account,)


def source_key(channel: str, ts: str) -> str:
    """The key of a case made from a Slack message: one case per message, however it was made."""
    return f"slack:{channel}:{ts}"


def case_of_message(session: Session, channel: str, ts: str) -> Ticket | None:
    """The case a message opened, or the case it is one of the messages of."""
    opened = session.scalars(select(Ticket).where(Ticket.source_key == source_key(channel, ts))).first()
    if opened is not None:
        return opened
    part = session.scalar(select(CaseMessage.ticket_id).where(CaseMessage.slack_channel == channel, CaseMessage.slack_ts == ts))
    return session.get(Ticket, part) if part is not None else None
