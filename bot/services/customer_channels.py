"""Customers in Slack Connect channels: which intake channels are shared with another
organisation, who in them is one of the customer's people, and each organisation's name.

A person is external when their team is not ours: the message's ``user_team``, else the
team ``users.info`` gives. Never ``is_stranger`` (false for a channel's external members)
nor the envelope's outer ``team_id`` (it may name the organisation that created the
channel); "ours" is the installation's team (``auth.test``). A lookup that fails answers
"unknown": the message is stored all the same and nothing is cached of the failure.

An organisation's name comes from ``team.info(team=…)``, looked up off the message's path
and at most once an hour per organisation (a failed lookup is tried again after
``RETRY_FAILED``, not kept for ever); when a name arrives, the cards of its open cases
are redrawn.

Whether a channel is a customer channel (and its acknowledgment, and whether it is held) is
read from the database by its id and then believed for ``FRESH_FOR`` on the way of a
message (``current``): intake and the sender asked it once each per message. A change to
any customer channel committed in this process (an admin's, a share ending or starting, an
id changing) forgets what was believed at once; one made by another process (a replica,
the CLI) holds here within ``FRESH_FOR``. Whether an organisation's name is due a lookup is
remembered until it falls due: another process's lookup only puts it off further.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.services.errors import ServiceError
from bot.services.outbox import enqueue_refreshes
from bot.services.status import ACTIVE
from bot.services.tickets import Clock, utcnow
from db.commit_signals import CommitSignal
from db.models import Account, CustomerChannel, DeskEvent, Ticket
from db.session import Database

log = logging.getLogger(__name__)

REFRESH = timedelta(hours=1)
RETRY_FAILED = timedelta(minutes=5)
ACK_LIMIT = 1000  # characters of a channel's own acknowledgment
ACKS_PER_MINUTE = 10  # acknowledgments in one customer channel: a flood of cases is not echoed
DETECTED_BY = "slack"  # marked_by of a channel Slack reported shared
_ACTIVE = [s.value for s in ACTIVE]
FRESH_FOR = 5.0  # seconds a customer channel read on a message's way is believed

# Bumped by every commit that changed a customer channel: what was read before is stale.
_CHANGED = CommitSignal("customer_channels")
_generation = [0]


def _bump() -> None:
    _generation[0] += 1


_CHANGED.subscribe(_bump)


def channels_changed(session: Session) -> None:
    """Mark ``session``: it changes a customer channel, so its commit makes every process-local
    belief about customer channels stale."""
    _CHANGED.owed(session)


@dataclass(frozen=True)
class CustomerChannelRecord:
    channel: str
    account_id: str | None
    ack_text: str | None
    held: str | None = None  # why its share is gone, while it is (bot/services/channel_life.py)


@dataclass(frozen=True)
class AccountRecord:
    id: str
    name: str | None

    @property
    def label(self) -> str:
        """Its name once known, else its raw team id."""
        return self.name or self.id


class CustomerChannels:
    def __init__(self, db: Database, client: WebClient, *, is_admin: Callable[[str], bool], clock: Clock = utcnow) -> None:
        self._db = db
        self._client = client
        self._is_admin = is_admin
        self._clock = clock
        self._user_teams: dict[str, str] = {}  # a person's team never changes: kept once known
        self._looking: set[str] = set()  # organisations being looked up now (one lookup each)
        self._lock = threading.Lock()
        # channel -> (generation, monotonic time read, the record then)
        self._believed: dict[str, tuple[int, float, CustomerChannelRecord | None]] = {}
        self._not_due: dict[str, datetime] = {}  # organisation -> when its next lookup falls due

    # ---- channels ------------------------------------------------------------------

    def get(self, channel: str) -> CustomerChannelRecord | None:
        with self._db.read() as session:
            row = session.get(CustomerChannel, channel)
            if row is None:
                return None
            return CustomerChannelRecord(row.channel, row.account_id, row.ack_text, row.held_reason if row.held_at else None)

    def current(self, channel: str) -> CustomerChannelRecord | None:
        """``get`` as read lately (within ``FRESH_FOR``, and no change committed here since):
        what intake and the sender ask on every message."""
        generation = _generation[0]
        believed = self._believed.get(channel)
        if believed is not None and believed[0] == generation and time.monotonic() - believed[1] < FRESH_FOR:
            return believed[2]
        record = self.get(channel)
        if len(self._believed) >= 10_000:
            self._believed.clear()
        self._believed[channel] = (generation, time.monotonic(), record)
        return record

    def all(self) -> list[CustomerChannelRecord]:
        with self._db.read() as session:
            rows = session.scalars(select(CustomerChannel).order_by(CustomerChannel.marked_at))
            return [CustomerChannelRecord(r.channel, r.account_id, r.ack_text) for r in rows]

    def overview(self, limit: int = 10) -> list[tuple[str, str | None]]:
        """The customer channels (the first ``limit``) with their account's name, else its id."""
        with self._db.read() as session:
            rows = session.execute(
                select(CustomerChannel.channel, CustomerChannel.account_id, Account.name)
                .outerjoin(Account, Account.id == CustomerChannel.account_id)
                .order_by(CustomerChannel.marked_at, CustomerChannel.channel)
                .limit(limit)
            ).all()
            return [(str(c), (n or a) if (n or a) else None) for c, a, n in rows]

    def mark(self, actor: str, channel: str, *, account_id: str | None = None, ack_text: str | None = None) -> CustomerChannelRecord:
        """An admin makes ``channel`` a customer channel (or changes its acknowledgment)."""
        if not self._is_admin(actor):
            raise ServiceError("Only admins can choose the customer channels: ask one of them.")
        ack = (ack_text or "").strip() or None
        if ack is not None and len(ack) > ACK_LIMIT:
            raise ServiceError(f"The acknowledgment is {len(ack)} characters long: {ACK_LIMIT} at most.")
        return self._upsert(actor, channel, account_id, ack, keep_ack=False)

    def unmark(self, actor: str, channel: str) -> None:
        if not self._is_admin(actor):
            raise ServiceError("Only admins can choose the customer channels: ask one of them.")
        now = self._clock()
        with self._db.write() as session:
            row = session.get(CustomerChannel, channel)
            if row is not None:
                session.delete(row)
                channels_changed(session)
                session.add(DeskEvent(actor_id=actor, kind="customer_channel", subject=channel, from_value="customer",
                                      to_value=None, created_at=now))

    def detected(self, channel: str, account_id: str | None) -> CustomerChannelRecord:
        """Slack says ``channel`` is shared with another organisation: it is a customer channel."""
        return self._upsert(DETECTED_BY, channel, account_id, None, keep_ack=True)

    def _upsert(self, actor: str, channel: str, account_id: str | None, ack: str | None, *, keep_ack: bool) -> CustomerChannelRecord:
        now = self._clock()
        for _ in range(2):  # two processes may insert it at once: then update theirs
            try:
                with self._db.write() as session:
                    row = session.get(CustomerChannel, channel, with_for_update=True)
                    before = None if row is None else "customer"
                    if row is None:
                        row = CustomerChannel(channel=channel, marked_by=actor, marked_at=now)
                        session.add(row)
                    if account_id:
                        row.account_id = account_id
                    if not keep_ack:
                        row.ack_text = ack
                    session.add(DeskEvent(actor_id=actor, kind="customer_channel", subject=channel, from_value=before,
                                          to_value="customer", created_at=now))
                    channels_changed(session)
                    session.flush()
                    return CustomerChannelRecord(row.channel, row.account_id, row.ack_text)
            except IntegrityError:
                continue
        raise ServiceError("The channel could not be saved just now: try again.")

    # ---- people --------------------------------------------------------------------

    def team_of(self, user: str, user_team: str | None) -> str | None:
        """The sender's team: the message's ``user_team``, else ``users.info``; None when
        no lookup says (not remembered: the next message asks again)."""
        if user_team:
            return user_team
        known = self._user_teams.get(user)
        if known:
            return known
        try:
            found = self._client.users_info(user=user)["user"]
        except SlackApiError as err:
            log.info("users.info %s failed (%s): the message is kept with the raw id", user, err.response.get("error"))
            return None
        except Exception:  # Slack unreachable: the message is stored all the same
            log.warning("users.info %s failed; the message is kept with the raw id", user, exc_info=True)
            return None
        team = str(found.get("team_id") or (found.get("profile") or {}).get("team") or "")
        if team:
            self._user_teams[user] = team
        return team or None

    # ---- accounts ------------------------------------------------------------------

    def account(self, account_id: str) -> AccountRecord:
        with self._db.read() as session:
            row = session.get(Account, account_id)
            return AccountRecord(account_id, row.name if row else None)

    def names(self, account_ids: set[str]) -> dict[str, str]:
        """The known names of these organisations, by id."""
        if not account_ids:
            return {}
        with self._db.read() as session:
            rows = session.execute(select(Account.id, Account.name).where(Account.id.in_(account_ids), Account.name.is_not(None)))
            return {str(i): str(n) for i, n in rows}

    def named(self, name: str) -> list[str]:
        """The ids of the organisations with this name (any case), or with this id."""
        wanted = name.strip().lower()
        with self._db.read() as session:
            rows = session.scalars(select(Account.id).where((func.lower(Account.name) == wanted) | (Account.id == name.strip())))
            return [str(r) for r in rows] or [name.strip()]

    def due(self, account_id: str) -> bool:
        """Whether the organisation's name should be looked up now."""
        now = self._clock()
        not_due = self._not_due.get(account_id)
        if not_due is not None and now < not_due:
            return False
        with self._db.read() as session:
            row = session.get(Account, account_id)
            if row is None or row.checked_at is None:
                return True
            falls_due = row.checked_at + (RETRY_FAILED if row.error else REFRESH)
        if now >= falls_due:
            return True
        self._not_due[account_id] = falls_due
        return False

    def refresh(self, account_id: str) -> AccountRecord:
        """Look the organisation's name up (``team.info``) unless it was looked up lately
        or is being looked up now; the cards of its open cases are redrawn when a name
        arrives or changes."""
        with self._lock:
            if account_id in self._looking:
                return self.account(account_id)
            self._looking.add(account_id)
        try:
            if not self.due(account_id):
                return self.account(account_id)
            name, domain, error = None, None, None
            try:
                team = self._client.team_info(team=account_id)["team"]
                name, domain = str(team.get("name") or "") or None, str(team.get("domain") or "") or None
            except SlackApiError as err:
                error = str(err.response.get("error") or "error")[:60]
            except Exception as err:  # Slack unreachable: tried again later
                error = type(err).__name__[:60]
            if error:
                log.info("team.info %s failed (%s): its cases show the raw id until a lookup succeeds", account_id, error)
            return self._store_lookup(account_id, name, domain, error)
        finally:
            with self._lock:
                self._looking.discard(account_id)

    def _store_lookup(self, account_id: str, name: str | None, domain: str | None, error: str | None) -> AccountRecord:
        now = self._clock()
        for _ in range(2):
            try:
                with self._db.write() as session:
                    row = session.get(Account, account_id, with_for_update=True)
                    if row is None:
                        row = Account(id=account_id)
                        session.add(row)
                    changed = bool(name) and name != row.name
                    row.checked_at, row.error = now, error
                    if name:  # a failure keeps the name known before
                        row.name, row.domain = name, domain
                    if changed:
                        open_cases = session.scalars(
                            select(Ticket.id).where(Ticket.account_id == account_id, Ticket.status.in_(_ACTIVE)).limit(200)
                        )
                        enqueue_refreshes(session, list(open_cases), now)
                    session.flush()
                    stored = AccountRecord(account_id, row.name)
                self._not_due[account_id] = now + (RETRY_FAILED if error else REFRESH)
                return stored
            except IntegrityError:
                continue
        return self.account(account_id)


def our_team(authorize_team: str | None, authorizations: list[dict[str, object]] | None) -> str | None:
    """The installation's team: Bolt's (from ``auth.test``), else the event's first authorization."""
    if authorize_team:
        return authorize_team
    first = (authorizations or [{}])[0]
    return str(first.get("team_id") or "") or None


def is_external(team: str | None, ours: str | None) -> bool | None:
    """Whether a sender of ``team`` is one of another organisation's people (None: unknown)."""
    if not team or not ours:
        return None
    return team != ours
