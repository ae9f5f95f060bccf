"""TicketService: create (routed to a team, maybe assigned at once), assign, reassign to
several people, move to another team, resolve, close, reopen and comment.

This is the one place that changes tickets. Each change checks permissions (agents act on
their teams' tickets and those assigned to them, admins on all), applies the status
machine, writes the audit event in the same transaction, and guards against lost updates
(row lock on PostgreSQL, an immediate write lock on SQLite, and the row's version column
as a last line).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from copy import copy
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError

from bot.mail.addresses import address_errors, normalised
from bot.services.case_links import link_lines, merged_into
from bot.services.effects import (
    Channels,
    owe_assignee_dm,
    owe_auto_assigned,
    owe_card_refresh,
    owe_change,
    owe_line,
    owe_move,
    owe_new_ticket,
)
from bot.services.errors import ActionNotAllowed, PermissionDenied, ServiceError, TicketNotFound
from bot.services.field_values import FieldValue, values_of
from bot.services.field_values import store as store_fields
from bot.services.outbox import PostKind
from bot.services.records import Change, EventRecord, TicketRecord
from bot.services.routing import DESK, Criteria, Routed, choose_owner, route_and_choose
from bot.services.sla import due_times, pause_counted
from bot.services.status import ACTIVE, Priority, Status, can_transition
from bot.services.team_service_levels import team_levels
from bot.settings.service_levels import ServiceLevels
from bot.views.text import is_slack_user
from db.models import Account, Comment, FormerCard, OutboxPost, Person, Team, TeamMember, Ticket, TicketAssignee, TicketEvent
from db.session import Database

Clock = Callable[[], datetime]
V = TypeVar("V")
MAX_DETAILS = 20_000
PAST = {
    "assign": "assigned",
    "reassign": "reassigned",
    "resolve": "resolved",
    "close": "closed",
    "reopen": "reopened",
    "wait": "set Waiting on the customer",
    "resume": "resumed",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class NotYours(ServiceError):
    """An agent acting on a ticket of a team they are not in, and not assigned to it."""


class NotAnAgent(ServiceError):
    """Someone who is not an agent chosen as an assignee or owner."""


class TeamGone(ServiceError):
    """A team chosen in a form that was deleted meanwhile."""


@dataclass(frozen=True)
class NewTicket:
    reporter_id: str
    campaign: str
    issue_type: str
    priority: str
    details: str
    source: str = "slack_form"
    source_key: str | None = None
    screenshot_name: str | None = None
    screenshot_url: str | None = None
    # Extra addresses told of its creation and resolution (the form's "Notify (emails)").
    notify_emails: str | None = None
    title: str | None = None
    # The id another system gave the case (the API): the same id again answers the first case.
    external_id: str | None = None
    # Its issue type's extra fields, checked (bot/services/forms.py).
    fields: tuple[FieldValue, ...] = ()


class InvalidTicket(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate_new_ticket(new: NewTicket, campaigns: tuple[str, ...], issue_types: tuple[str, ...]) -> dict[str, str]:
    """Field name → a sentence for the person filling the form; empty when valid."""
    errors: dict[str, str] = {}
    if new.campaign not in campaigns:
        errors["campaign"] = "Choose one of the listed campaigns."
    if new.issue_type not in issue_types:
        errors["issue_type"] = "Choose one of the listed issue types."
    if new.priority not in {p.value for p in Priority}:
        errors["priority"] = "Choose High, Medium or Low."
    details = new.details.strip()
    if not details:
        errors["details"] = "Describe the problem: details cannot be empty."
    elif len(details) > MAX_DETAILS:
        errors["details"] = f"Keep the details under {MAX_DETAILS:,} characters (attach a file for logs)."
    bad_addresses = address_errors(new.notify_emails)
    if bad_addresses:
        errors["notify_emails"] = bad_addresses
    return errors


class TicketService:
    def __init__(
        self,
        db: Database,
        system_users: Collection[str],
        *,
        campaigns: tuple[str, ...],
        issue_types: tuple[str, ...],
        channels: Channels,
        clock: Clock = utcnow,
        levels: ServiceLevels | None = None,
    ) -> None:
        self._db = db
        # Business hours and SLA targets; None: tickets carry no due times (the 48 h rule alone).
        self.levels = levels
        self.channels = channels
        self._system_users = system_users
        self._campaigns = campaigns
        self._issue_types = issue_types
        self._clock = clock

    # ---- reads -------------------------------------------------------------

    def get(self, ticket_id: int) -> TicketRecord:
        """The ticket whole, as its card shows it: with its team's name and its assignees."""
        with self._db.read() as session:
            row = session.get(Ticket, ticket_id)
            if row is None:
                raise TicketNotFound(ticket_id)
            team = session.get(Team, row.team_id) if row.team_id is not None else None
            account = session.get(Account, row.account_id) if row.account_id is not None else None
            return replace(
                TicketRecord.of(row),
                account_name=account.name if account else None,
                links=link_lines(session, row.id),
                merged_into=merged_into(session, row.id),
                team_name=team.name if team else None, assignees=tuple(assignees_of(session, row.id)),
                fields=values_of(session, row.id),
            )

    def refusal(self, ticket_id: int, user: str) -> str | None:
        """Why ``user`` may not work on the ticket (None: they may), for a button that opens
        a modal; the change itself checks again."""
        with self._db.read() as session:
            row = load_ticket(session, ticket_id)
            if not self.is_agent(user):
                return str(PermissionDenied("change"))
            return _outside(session, row, user)

    def change_of(self, event_id: int) -> Change:
        """A past change as it was made: the ticket with the status the event gave it."""
        with self._db.read() as session:
            ev = session.get(TicketEvent, event_id)
            if ev is None:
                raise TicketNotFound(event_id)
            ticket = TicketRecord.of(load_ticket(session, ev.ticket_id))
            if ev.kind == "status" and ev.to_value:
                note = ev.note if ev.to_value == Status.RESOLVED.value else ticket.resolution_note
                ticket = replace(ticket, status=Status(ev.to_value), resolution_note=note)
            return Change(ticket, EventRecord.of(ev))

    def events(self, ticket_id: int) -> list[EventRecord]:
        with self._db.read() as session:
            rows = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))
            return [EventRecord.of(r) for r in rows]

    def is_agent(self, user_id: str) -> bool:
        return user_id in self._system_users

    def acting_for(self, agents: Collection[str]) -> TicketService:
        """This service with ``agents`` as the people who may act (the API adds its write
        tokens as actors); everything else shared."""
        other = copy(self)
        other._system_users = agents
        return other

    # ---- creation ----------------------------------------------------------

    def create(self, new: NewTicket) -> tuple[TicketRecord, bool]:
        """Store a new ticket with everything it owes Slack (its card, the notices).
        Returns (ticket, created); created is False when the same source_key was stored
        before (a redelivered or resubmitted form)."""
        return self.create_as(new, lambda _session, row, _created: TicketRecord.of(row))

    def create_as(self, new: NewTicket, view: Callable[[Session, Ticket, bool], V]) -> tuple[V, bool]:
        """:meth:`create`, returning ``view(session, ticket, created)``: taken in the
        transaction that stores it (what the caller shows costs no second read), or in a
        read of the one stored before."""
        errors = validate_new_ticket(new, self._campaigns, self._issue_types)
        if errors:
            raise InvalidTicket(errors)
        now = self._clock()
        try:
            with self._db.write() as session:
                team, owner = route_and_choose(session, Criteria(issue_type=new.issue_type, campaign=new.campaign), now)
                row = Ticket(
                    team_id=team.team_id if team else None,
                    assignee_id=owner,
                    campaign=new.campaign,
                    issue_type=new.issue_type,
                    priority=new.priority,
                    status=(Status.IN_PROGRESS if owner else Status.OPEN).value,
                    details=new.details.strip(),
                    reporter_id=new.reporter_id,
                    source=new.source,
                    source_key=new.source_key,
                    external_id=new.external_id,
                    title=new.title,
                    screenshot_name=new.screenshot_name,
                    screenshot_url=new.screenshot_url,
                    notify_emails=normalised(new.notify_emails) or None,
                    waiting_since=now,  # waiting for an agent's first response
                    created_at=now,
                    updated_at=now,
                )
                set_due_times(row, team_levels(session, row.team_id, self.levels))
                session.add(row)
                session.flush()
                session.add(self._event(row, new.reporter_id, "created", None, Status.OPEN.value, None, now))
                store_fields(session, row.id, new.fields)
                auto = self._assigned(session, row, team, owner, now) if team and owner else None
                channel = (team.channel if team else None) or self.channels.support
                owe_new_ticket(session, row, now, self.channels, channel)
                if auto is not None:
                    owe_auto_assigned(session, row, auto, now, channel)
                shown = view(session, row, True)
            return shown, True
        except IntegrityError:
            if new.source_key is None and new.external_id is None:
                raise
            key = Ticket.source_key == new.source_key if new.source_key else Ticket.external_id == new.external_id
            with self._db.read() as session:
                existing = session.scalars(select(Ticket).where(key)).one()
                return view(session, existing, False), False

    def file_in(self, session: Session, row: Ticket, criteria: Criteria, now: datetime) -> str:
        """Route a case opened without the form (a channel message, a mail) in the caller's
        transaction, assigning it when its team does; returns the channel for its card."""
        team, owner = route_and_choose(session, criteria, now)
        row.team_id = team.team_id if team is not None else row.team_id
        set_due_times(row, team_levels(session, row.team_id, self.levels))
        if team is None:
            return self.channels.support
        if owner is not None:
            session.flush()  # an assignment names the case by its id (the caller may not have written it yet)
        auto = self._auto_assign(session, row, team, owner, now) if owner is not None else None
        channel = team.channel or self.channels.support
        if auto is not None:
            owe_auto_assigned(session, row, auto, now, channel)
        return channel

    def _auto_assign(self, session: Session, row: Ticket, team: Routed, owner: str, now: datetime) -> TicketEvent:
        row.assignee_id, row.status, row.updated_at = owner, Status.IN_PROGRESS.value, now
        set_assignees(session, row.id, owner, [u for u in assignees_of(session, row.id) if u != owner], now)
        return self._assigned(session, row, team, owner, now, new=False)

    def _assigned(self, session: Session, row: Ticket, team: Routed, owner: str, now: datetime, *, new: bool = True) -> TicketEvent:
        """The audit trail of an automatic assignment (``new``: of a ticket just filed, with no assignees yet)."""
        if new:
            session.add(TicketAssignee(ticket_id=row.id, user_id=owner, is_owner=True, added_at=now))
        mode = "round-robin" if team.auto_assign == "round_robin" else "fewest open tickets"
        main = self._event(row, DESK, "auto_assigned", None, owner, f"{team.name} · {mode}", now)
        session.add(main)
        session.add(self._event(row, DESK, "status", Status.OPEN.value, Status.IN_PROGRESS.value, None, now))
        session.flush()
        return main

    def record_card(self, ticket_id: int, channel: str, ts: str) -> TicketRecord:
        """Remember where the ticket's card is; returns the ticket as stored."""
        with self._db.write() as session:
            return TicketRecord.of(self.record_card_in(session, ticket_id, channel, ts))

    def record_card_in(self, session: Session, ticket_id: int, channel: str, ts: str) -> Ticket:
        row = load_ticket(session, ticket_id, lock=True)
        row.card_channel, row.card_ts = channel, ts
        session.flush()
        return row

    def refresh_card(self, ticket_id: int) -> None:
        """Redraw the card as the ticket stands (someone clicked a stale one)."""
        with self._db.write() as session:
            owe_card_refresh(session, ticket_id, self._clock())

    # ---- changes by agents -------------------------------------------------

    def assign_to_self(self, ticket_id: int, actor: str) -> Change:
        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            if rec.assignee_id == actor and rec.status is Status.IN_PROGRESS:
                raise ActionNotAllowed(f"{rec.number} is already assigned to you.", rec)
            if rec.assignee_id and rec.assignee_id != actor and rec.status is Status.IN_PROGRESS:
                raise ActionNotAllowed(
                    f"{rec.number} is already assigned to <@{rec.assignee_id}>. Use Reassign to take it over.", rec
                )
            session = _session(row)
            others = [u for u in assignees_of(session, row.id)[1:] if u not in (actor, rec.assignee_id)]
            set_assignees(session, row.id, actor, others, self._clock())
            row.assignee_id = actor
            return "assigned", rec.assignee_id, actor, None

        return self._change(ticket_id, actor, "assign", apply, to_status=Status.IN_PROGRESS)

    def reassign(
        self, ticket_id: int, actor: str, assignee: str, comment: str | None = None, others: Collection[str] | None = None
    ) -> Change:
        """Give the ticket to ``assignee`` (its owner) with ``others`` assigned beside them
        (None: keep those assigned now). Everyone newly assigned is told by DM."""
        comment = (comment or "").strip() or None
        added: list[str] = []
        before_others: list[str] = []
        wanted: list[str] = []

        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            session = _session(row)
            current = assignees_of(session, row.id)
            before_others[:] = [u for u in current if u != rec.assignee_id]
            chosen = before_others if others is None else list(others)
            wanted[:] = [u for u in dict.fromkeys(chosen) if u != assignee]
            self._require_agents(session, [assignee, *wanted])
            same_owner = rec.assignee_id == assignee and rec.status is Status.IN_PROGRESS
            if same_owner and set(wanted) == set(before_others):
                raise ActionNotAllowed(f"{rec.number} is already assigned to <@{assignee}>.", rec)
            added[:] = [u for u in set_assignees(session, row.id, assignee, wanted, self._clock()) if u != assignee]
            row.assignee_id = assignee
            if same_owner:
                return "assignees", _csv(before_others), _csv(wanted), comment
            return "reassigned", rec.assignee_id, assignee, comment

        def after(session: Session, row: Ticket, main: TicketEvent) -> None:
            told = main
            if main.kind == "reassigned" and set(wanted) != set(before_others):
                told = self._event(row, actor, "assignees", _csv(before_others), _csv(wanted), None, main.created_at)
                session.add(told)
                session.flush()
                owe_line(session, row, told, main.created_at, self.channels)
            for user in added:
                if user != actor:
                    owe_assignee_dm(session, row, told, user, main.created_at)

        return self._change(ticket_id, actor, "reassign", apply, to_status=Status.IN_PROGRESS, comment=comment, after=after)

    def move(self, ticket_id: int, actor: str, team_id: int) -> Change:
        """Put the ticket in another team's queue: its card moves to that team's channel and
        both threads say so. Agents of its team, its assignees and admins may move it."""
        if not self.is_agent(actor):
            raise PermissionDenied("move")
        now = self._clock()
        with self._db.write() as session:
            row = load_ticket(session, ticket_id, lock=True)
            self._check(session, row, actor)
            before = TicketRecord.of(row)
            target = session.get(Team, team_id)
            if target is None:
                raise TeamGone("That team no longer exists: open Move to team again to see the teams there are.")
            if row.team_id == team_id:
                raise ActionNotAllowed(f"{before.number} is already in {target.name}. Nothing changed.", before)
            source = session.get(Team, row.team_id) if row.team_id is not None else None
            old_name = source.name if source else "no team"
            channel = target.triage_channel or self.channels.support
            old_card = (row.card_channel, row.card_ts) if row.card_channel and row.card_ts else None
            row.team_id, row.updated_at = team_id, now
            if row.first_response_due_at is not None:  # the SLA targets are those of its new team
                set_due_times(row, team_levels(session, team_id, self.levels))
            main = self._event(row, actor, "moved", old_name, target.name, None, now)
            session.add(main)
            if old_card is not None:
                row.card_channel = row.card_ts = None  # a new card is posted in the team's channel
                # Replies in the old card's thread still join the case.
                session.merge(FormerCard(channel=old_card[0], ts=old_card[1], ticket_id=row.id, moved_at=now))
            session.flush()
            if old_card is None:  # the card is not posted yet: post it in the new team's channel instead
                session.execute(
                    update(OutboxPost)
                    .where(OutboxPost.ticket_id == row.id, OutboxPost.kind == PostKind.CARD.value, OutboxPost.sent_at.is_(None))
                    .values(channel=channel)
                )
            line = f"🔀 {before.number} moved from *{_mrkdwn(old_name)}* to *{_mrkdwn(target.name)}* by {_who(actor)}."
            owe_move(session, row, main, old_card, channel, line, now, before.assignee_id)
            if row.assignee_id is None and row.status == Status.OPEN.value:
                routed = Routed(target.id, target.name, target.triage_channel, target.auto_assign)
                owner = choose_owner(session, routed, now)
                if owner is not None:
                    owe_auto_assigned(session, row, self._auto_assign(session, row, routed, owner, now), now, channel)
            return Change(TicketRecord.of(row), EventRecord.of(main))

    def set_priority(self, ticket_id: int, actor: str, priority: Priority) -> Change:
        """A new priority (its SLA targets follow it); the card and its thread say so."""
        if not self.is_agent(actor):
            raise PermissionDenied("change")
        now = self._clock()
        with self._db.write() as session:
            row = load_ticket(session, ticket_id, lock=True)
            self._check(session, row, actor)
            before = TicketRecord.of(row)
            if before.priority is priority:
                raise ActionNotAllowed(f"{before.number} is already {priority.label} priority. Nothing changed.", before)
            row.priority, row.updated_at = priority.value, now
            if row.first_response_due_at is not None:
                set_due_times(row, team_levels(session, row.team_id, self.levels))
            main = self._event(row, actor, "priority", before.priority.value, priority.value, None, now)
            session.add(main)
            session.flush()
            line = f"⚡ {_who(actor)} changed the priority of {before.number} from {before.priority.label} to {priority.label}."
            owe_change(session, row, main, before.assignee_id, now, self.channels, line)
            return Change(TicketRecord.of(row), EventRecord.of(main))

    def hand_back(self, session: Session, team_id: int, user_id: str, actor: str) -> None:
        """``user_id`` left the team (the directory's on_leave, in its transaction): they are
        no longer assigned to that team's open tickets. A ticket they owned goes to the next
        person assigned to it, or, with nobody left, back to the team's queue (Open, no owner).
        Each card's thread says so."""
        now = self._clock()
        team = session.get(Team, team_id)
        theirs = select(TicketAssignee.ticket_id).where(TicketAssignee.user_id == user_id)
        rows = session.scalars(
            select(Ticket)
            .where(
                Ticket.team_id == team_id,
                Ticket.status.in_([s.value for s in ACTIVE]),
                or_(Ticket.assignee_id == user_id, Ticket.id.in_(theirs)),
            )
            .order_by(Ticket.id)
            .with_for_update()
        ).all()
        for row in rows:
            before = TicketRecord.of(row)
            remaining = [u for u in assignees_of(session, row.id) if u != user_id]
            owned = row.assignee_id == user_id
            owner = (remaining[0] if remaining else None) if owned else row.assignee_id
            set_assignees(session, row.id, owner, [u for u in remaining if u != owner], now)
            row.assignee_id, row.updated_at = owner, now
            kind = "handed_back" if owned else "assignee_left"
            main = self._event(row, actor, kind, user_id, owner, team.name if team else None, now)
            session.add(main)
            if owned and owner is None and row.status != Status.OPEN.value:
                row.status = Status.OPEN.value
                self.pause_or_resume(row, before.status, Status.OPEN, now)
                session.add(self._event(row, actor, "status", before.status.value, Status.OPEN.value, None, now))
            session.flush()
            owe_change(session, row, main, before.assignee_id, now, self.channels)
            if owned and owner is not None:
                owe_assignee_dm(session, row, main, owner, now)

    def resolve(self, ticket_id: int, actor: str, note: str | None = None) -> Change:
        note = (note or "").strip() or None
        return self._change(ticket_id, actor, "resolve", self._resolving(actor, note), to_status=Status.RESOLVED, comment=note)

    def _resolving(self, actor: str, note: str | None) -> Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]]:
        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            row.resolved_at, row.resolved_by, row.resolution_note = self._clock(), actor, note
            return "status", rec.status.value, Status.RESOLVED.value, note

        return apply

    def solved_by_requester(self, ticket_id: int, user: str) -> Change:
        """The requester says their case is solved (the button in their thread): resolved in
        their name, as no agent's action. Only the person who asked may."""
        resolving = self._resolving(user, "Solved, says the requester.")

        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            if rec.reporter_id != user:  # decided on the locked row
                raise NotYours("Only the person who asked can mark this case solved.")
            return resolving(row, rec)

        return self._change(ticket_id, user, "resolve", apply, to_status=Status.RESOLVED, as_system=True)

    def after_reply_in(self, session: Session, row: Ticket, actor: str, to: Status) -> str | None:
        """The status an agent chose to set with a reply, in the reply's own transaction, so
        the two commit (and are retried) together. The reply never fails on it: a case
        already there is left as it is; a move the case cannot make is returned as the
        sentence to tell the agent, and nothing else changes."""
        current = Status(row.status)
        if current is to:
            return None
        if not can_transition(current, to):
            return f"The reply was sent; {TicketRecord.of(row).number} is {current.label}, so it was not set to {to.label}."
        action, apply = {
            Status.WAITING: ("wait", _waiting),
            Status.RESOLVED: ("resolve", self._resolving(actor, None)),
            Status.CLOSED: ("close", self._closing(None)),
        }[to]
        self._change_in(session, row.id, actor, action, apply, to, None, check=True)
        return None

    def close(self, ticket_id: int, actor: str, note: str | None = None) -> Change:
        return self._change(ticket_id, actor, "close", self._closing(note), to_status=Status.CLOSED)

    def close_in(
        self, session: Session, ticket_id: int, actor: str, note: str | None = None, line: str | None = None
    ) -> Change:
        """Close within the caller's transaction, for an actor already vouched for (an admin's
        address closing by email): the change commits with the mail that asked for it.
        ``line``: what the card's thread says, instead of the usual "who did what"."""
        return self._change_in(session, ticket_id, actor, "close", self._closing(note), Status.CLOSED, None, line)

    def _closing(self, note: str | None) -> Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]]:
        def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
            row.closed_at = self._clock()
            return "status", rec.status.value, Status.CLOSED.value, note

        return apply

    def reopen(self, ticket_id: int, actor: str, *, by_customer: bool = False) -> Change:
        """``by_customer``: the reporter wrote again on a resolved case (no agent needed)."""
        return self._change(ticket_id, actor, "reopen", _reopening, to_status=Status.OPEN, as_system=by_customer)

    def reopen_in(self, session: Session, ticket_id: int, actor: str, line: str | None = None) -> Change:
        """The reporter wrote again on a resolved case: reopen within the caller's transaction."""
        return self._change_in(session, ticket_id, actor, "reopen", _reopening, Status.OPEN, None, line)

    def set_waiting(self, ticket_id: int, actor: str) -> Change:
        """Waiting on the customer: the resolution clock stops until they write again (or
        an agent resumes it)."""

        return self._change(ticket_id, actor, "wait", _waiting, to_status=Status.WAITING)

    def resume(self, ticket_id: int, actor: str, *, by_customer: bool = False, line: str | None = None) -> Change:
        """Back to In Progress from Waiting: an agent's click, or (``by_customer``) the
        customer's next message, which needs no agent. The resolution target moves by the
        business time it waited."""
        note = "resumed: the customer replied" if by_customer else "resumed"
        return self._change(
            ticket_id, actor, "resume", _resuming(note), to_status=Status.IN_PROGRESS, as_system=by_customer, line=line
        )

    def resume_in(self, session: Session, ticket_id: int, actor: str, line: str | None = None) -> Change:
        """The customer wrote on a case Waiting on them: resume within the caller's transaction."""
        return self._change_in(
            session, ticket_id, actor, "resume", _resuming("resumed: the customer replied"), Status.IN_PROGRESS, None, line
        )

    def comment(self, ticket_id: int, author: str, body: str) -> None:
        if not self.is_agent(author):
            raise PermissionDenied("comment on")
        now = self._clock()
        with self._db.write() as session:
            row = load_ticket(session, ticket_id)
            self._check(session, row, author)
            session.add(Comment(ticket_id=row.id, author_id=author, body=body, created_at=now))
            session.add(self._event(row, author, "commented", None, None, body, now))
            row.updated_at = now

    # ---- internals ---------------------------------------------------------

    def _change(
        self,
        ticket_id: int,
        actor: str,
        action: str,
        apply: Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]],
        *,
        to_status: Status,
        comment: str | None = None,
        as_system: bool = False,
        after: Callable[[Session, Ticket, TicketEvent], None] | None = None,
        line: str | None = None,
    ) -> Change:
        if not (as_system or self.is_agent(actor)):
            raise PermissionDenied(action)
        for _ in range(3):
            try:
                with self._db.write() as session:
                    return self._change_in(
                        session, ticket_id, actor, action, apply, to_status, comment, line, check=not as_system, after=after
                    )
            except StaleDataError:
                continue  # someone else changed the row between our read and write: decide again
        raise ActionNotAllowed("The ticket is changing too quickly right now; try again.", self.get(ticket_id))

    def _change_in(
        self,
        session: Session,
        ticket_id: int,
        actor: str,
        action: str,
        apply: Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]],
        to_status: Status,
        comment: str | None,
        line: str | None = None,
        *,
        check: bool = False,
        after: Callable[[Session, Ticket, TicketEvent], None] | None = None,
    ) -> Change:
        now = self._clock()
        row = load_ticket(session, ticket_id, lock=True)
        if check:
            self._check(session, row, actor)
        before = TicketRecord.of(row)
        if before.status is not to_status and not can_transition(before.status, to_status):
            hint = " Reopen it first." if action in ("assign", "reassign") else ""
            raise ActionNotAllowed(
                f"{before.number} is {before.status.label}, so it cannot be {PAST[action]}. Nothing changed.{hint}",
                before,
            )
        kind, old, new, note = apply(row, before)
        if kind == "status" and before.status is to_status:
            raise ActionNotAllowed(f"{before.number} is already {to_status.label}. Nothing changed.", before)
        row.status = to_status.value
        row.updated_at = now
        self.pause_or_resume(row, before.status, to_status, now)
        if to_status is Status.RESOLVED:
            levels = team_levels(session, row.team_id, self.levels)
            row.resolution_seconds = business_seconds(levels, row.created_at, now, row.paused_seconds or 0)
        main = self._event(row, actor, kind, old, new, note, now)
        session.add(main)
        if kind != "status" and before.status is not to_status:
            session.add(self._event(row, actor, "status", before.status.value, to_status.value, None, now))
        if comment:
            session.add(Comment(ticket_id=row.id, author_id=actor, body=comment, created_at=now))
        session.flush()
        owe_change(session, row, main, before.assignee_id, now, self.channels, line)
        if after is not None:
            after(session, row, main)
        return Change(TicketRecord.of(row), EventRecord.of(main))

    def pause_or_resume(self, row: Ticket, before: Status, after: Status, now: datetime) -> None:
        """Waiting stops the resolution clock; leaving it (for any status) starts it again,
        the resolution target moved by the business time waited."""
        if after is Status.WAITING and before is not Status.WAITING:
            row.paused_at = now
        elif before is Status.WAITING and after is not Status.WAITING and row.paused_at is not None:
            levels = team_levels(_session(row), row.team_id, self.levels)
            if levels is not None:
                waited = pause_counted(levels.calendar, row.paused_at, now, row.resolution_due_at)
                row.paused_seconds = (row.paused_seconds or 0) + int(waited.total_seconds())
                if row.resolution_due_at is not None:
                    set_due_times(row, levels)
            row.paused_at = None

    def _require_agents(self, session: Session, users: list[str]) -> None:
        require_agents(session, users, self.is_agent)

    def _check(self, session: Session, row: Ticket, actor: str) -> None:
        """Agents work their teams' tickets and those assigned to them; admins work all."""
        if not self.is_agent(actor):
            raise PermissionDenied("change")
        why = _outside(session, row, actor)
        if why:
            raise NotYours(why)

    @staticmethod
    def _event(
        row: Ticket, actor: str, kind: str, old: str | None, new: str | None, note: str | None, now: datetime
    ) -> TicketEvent:
        return audit_event(row.id, actor, kind, old, new, note, now)


def load_ticket(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
    """The ticket's row (locked for the transaction with ``lock``), or TicketNotFound."""
    row = session.get(Ticket, ticket_id, with_for_update=lock or None)
    if row is None:
        raise TicketNotFound(ticket_id)
    return row


def _waiting(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
    return "status", rec.status.value, Status.WAITING.value, None


def _reopening(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
    if rec.status in ACTIVE:
        raise ActionNotAllowed(f"{rec.number} is already {rec.status.label}; nothing to reopen.", rec)
    row.resolved_at = row.resolved_by = row.resolution_note = row.closed_at = row.resolution_seconds = None
    return "status", rec.status.value, Status.OPEN.value, None


def _resuming(note: str) -> Callable[[Ticket, TicketRecord], tuple[str, str | None, str | None, str | None]]:
    def apply(row: Ticket, rec: TicketRecord) -> tuple[str, str | None, str | None, str | None]:
        if rec.status is not Status.WAITING:
            raise ActionNotAllowed(f"{rec.number} is {rec.status.label}, not Waiting; nothing to resume.", rec)
        return "status", rec.status.value, Status.IN_PROGRESS.value, note

    return apply


def set_due_times(row: Ticket, levels: ServiceLevels | None) -> None:
    """The ticket's SLA due times by its priority and the pauses so far (none without
    service levels: the 48 h escalation rule alone governs it)."""
    if levels is None:
        return
    due = due_times(
        levels.policy(row.priority), levels.calendar, row.created_at, timedelta(seconds=row.paused_seconds or 0)
    )
    row.first_response_due_at, row.first_response_warn_at = due.first_response_due_at, due.first_response_warn_at
    row.resolution_due_at, row.resolution_warn_at = due.resolution_due_at, due.resolution_warn_at


def business_seconds(levels: ServiceLevels | None, start: datetime, end: datetime, less: int = 0) -> int | None:
    """Business seconds from ``start`` to ``end`` less ``less`` (the waits on the customer),
    as the reports store them; None without service levels."""
    if levels is None:
        return None
    return max(0, int(levels.calendar.between(start, end).total_seconds()) - less)


def _session(row: Ticket) -> Session:
    session = object_session(row)
    assert session is not None
    return session


def _csv(users: list[str]) -> str | None:
    return ",".join(users) or None


def _who(actor: str) -> str:
    """An actor in a thread line: a person as a mention, the API's ``api:NAME`` as text."""
    return f"<@{actor}>" if is_slack_user(actor) else _mrkdwn(actor)


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", "")


def _role(session: Session, user: str) -> str | None:
    return session.scalar(select(Person.role).where(Person.user_id == user))


def _outside(session: Session, row: Ticket, user: str) -> str | None:
    """Why an agent may not work on this ticket (None: an admin, in its team, or assigned).
    An agent the directory does not hold (a service given its agents by hand) has no team
    to be kept to."""
    role = _role(session, user)
    if role in (None, "admin") or row.team_id is None or row.assignee_id == user:
        return None
    if session.get(TeamMember, (row.team_id, user)) is not None or session.get(TicketAssignee, (row.id, user)) is not None:
        return None
    team = session.get(Team, row.team_id)
    name = team.name if team else "another team"
    return (
        f"{TicketRecord.of(row).number} is in the {name} queue: only its team's agents, the people "
        "assigned to it and admins can work on it. Nothing changed."
    )


def assignees_of(session: Session, ticket_id: int) -> list[str]:
    """Everyone assigned to the ticket, the owner first, then in the order they were added."""
    return list(
        session.scalars(
            select(TicketAssignee.user_id)
            .where(TicketAssignee.ticket_id == ticket_id)
            .order_by(TicketAssignee.is_owner.desc(), TicketAssignee.added_at, TicketAssignee.user_id)
        )
    )


def set_assignees(session: Session, ticket_id: int, owner: str | None, others: list[str], now: datetime) -> list[str]:
    """Make ticket_assignees hold exactly ``owner`` and ``others``; returns who is new."""
    held = {a.user_id: a for a in session.scalars(select(TicketAssignee).where(TicketAssignee.ticket_id == ticket_id))}
    wanted = list(dict.fromkeys([*([owner] if owner else []), *others]))
    for user, assigned in held.items():
        if user not in wanted:
            session.delete(assigned)
    added = []
    for user in wanted:
        if user in held:
            held[user].is_owner = user == owner
        else:
            session.add(TicketAssignee(ticket_id=ticket_id, user_id=user, is_owner=user == owner, added_at=now))
            added.append(user)
    session.flush()
    return added


def require_agents(session: Session, users: list[str], is_agent: Callable[[str], bool]) -> None:
    known = set(session.scalars(select(Person.user_id).where(Person.user_id.in_(users))))
    strangers = [u for u in users if u not in known and not is_agent(u)]
    if strangers:
        who = ", ".join(f"<@{u}>" for u in strangers)
        raise NotAnAgent(f"{who} {'is not an agent' if len(strangers) == 1 else 'are not agents'}: choose agents of the desk.")


def audit_event(
    ticket_id: int, actor: str, kind: str, old: str | None, new: str | None, note: str | None, now: datetime
) -> TicketEvent:
    """One audit-trail row; every change writes one in its own transaction."""
    return TicketEvent(
        ticket_id=ticket_id, actor_id=actor, kind=kind, from_value=old, to_value=new, note=note, created_at=now
    )
