"""Finding tickets: filtered, searched and paged in SQL, with who may see what enforced here:
reporters see their own tickets; agents their teams' tickets and those assigned to them;
admins all of them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, union, union_all
from sqlalchemy.orm import Session

from bot.services.errors import PermissionDenied
from bot.services.records import TicketRecord, parse_number
from bot.services.status import ACTIVE, Priority, Status
from db.models import Person, TeamMember, Ticket, TicketAssignee
from db.session import Database

PAGE_SIZE = 20


@dataclass(frozen=True)
class TicketFilter:
    """What to list. Empty fields do not filter."""

    reporter_id: str | None = None
    assignee_id: str | None = None
    statuses: tuple[Status, ...] = ()
    priorities: tuple[Priority, ...] = ()
    campaign: str | None = None
    issue_type: str | None = None
    text: str | None = None
    unassigned: bool = False
    team_id: int | None = None

    def is_own(self, viewer: str) -> bool:
        """Limited to tickets the viewer filed or is assigned."""
        return viewer in (self.reporter_id, self.assignee_id)


@dataclass(frozen=True)
class Page:
    tickets: list[TicketRecord]
    total: int
    offset: int
    limit: int = PAGE_SIZE

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.tickets) < self.total

    @property
    def has_previous(self) -> bool:
        return self.offset > 0


def _apply(query: Select[Any], flt: TicketFilter) -> Select[Any]:
    if flt.reporter_id:
        query = query.where(Ticket.reporter_id == flt.reporter_id)
    if flt.assignee_id:
        query = query.where(Ticket.assignee_id == flt.assignee_id)
    if flt.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    if flt.statuses:
        query = query.where(Ticket.status.in_([s.value for s in flt.statuses]))
    if flt.priorities:
        query = query.where(Ticket.priority.in_([p.value for p in flt.priorities]))
    if flt.team_id is not None:
        query = query.where(Ticket.team_id == flt.team_id)
    if flt.campaign:
        query = query.where(Ticket.campaign == flt.campaign)
    if flt.issue_type:
        query = query.where(Ticket.issue_type == flt.issue_type)
    if flt.text:
        words = flt.text.strip()
        number = parse_number(words)
        pattern = "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [func.lower(Ticket.details).like(pattern, escape="\\"), Ticket.reporter_id == words.upper()]
        if number is not None:
            matches.append(Ticket.id == number)
        query = query.where(or_(*matches))
    return query


def open_by_priority(session: Session) -> dict[Priority, int]:
    """How many Open or In Progress tickets there are of each priority. Grouped by status
    and priority, so it is read from the (status, priority) index alone; grouped by priority
    only, SQLite walked the priority index and read every ticket."""
    counts = dict.fromkeys(Priority, 0)
    rows = session.execute(
        select(Ticket.status, Ticket.priority, func.count())
        .where(Ticket.status.in_([s.value for s in ACTIVE]))
        .group_by(Ticket.status, Ticket.priority)
    ).all()
    for _status, priority, n in rows:
        if priority in {p.value for p in Priority}:
            counts[Priority(priority)] += int(n)
    return counts


def _branches(user: str) -> list[ColumnElement[bool]]:
    """What an agent may see, one indexed condition each: their teams' tickets, those they
    own, those assigned to them beside the owner (the owner's own row is the ticket's
    assignee_id), and those they filed."""
    beside = select(TicketAssignee.ticket_id).where(TicketAssignee.user_id == user, TicketAssignee.is_owner.is_(False))
    return [
        Ticket.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == user)),
        Ticket.assignee_id == user,
        Ticket.id.in_(beside),
        Ticket.reporter_id == user,
    ]


def _newest(query: Select[Any]) -> Select[Any]:
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc())


def visible_to(user: str) -> ColumnElement[bool]:
    """The tickets an agent (not an admin) may see: their teams', those assigned to them,
    and their own. Each branch is an indexed lookup (team_members by user, ticket_assignees
    by (user, ticket), tickets by assignee and by reporter)."""
    return or_(*_branches(user))


def scope_of(session: Session, viewer: str, agents: Collection[str]) -> ColumnElement[bool] | None:
    """What ``viewer`` may see beyond their own tickets: None for everything (an admin, or
    an agent the directory does not hold); raises PermissionDenied for non-agents."""
    role = session.scalar(select(Person.role).where(Person.user_id == viewer))
    if role == "admin" or (role is None and viewer in agents):
        return None
    if role is None:
        raise PermissionDenied("see all")
    return visible_to(viewer)


@dataclass(frozen=True)
class HomeLists:
    own: list[TicketRecord]
    assigned: list[TicketRecord] | None = None  # None: not an agent
    queue: list[TicketRecord] | None = None
    open_by_priority: dict[Priority, int] | None = None


class TicketQueries:
    def __init__(self, db: Database, system_users: Collection[str]) -> None:
        self._db = db
        self._system_users = system_users

    def page(self, viewer: str, flt: TicketFilter, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
        """One page of tickets, newest first. Only agents may list beyond their own, and
        agents only what they may see."""
        offset = max(0, offset)
        with self._db.read() as session:
            scope = None if flt.is_own(viewer) else scope_of(session, viewer, self._system_users)
            if scope is None:
                base = _apply(select(Ticket), flt)
                total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
                rows = session.scalars(_newest(base).offset(offset).limit(limit))
                return Page([TicketRecord.of(r) for r in rows], int(total), offset, limit)
            # An agent sees their teams' tickets and, outside those teams, the ones assigned
            # to them or filed by them. An OR of these reads every ticket; apart, each is a
            # range of one index. The parts are disjoint, so the total is the sum of their
            # counts (the team part an index count); the page is the newest of each part's
            # newest (offset + limit), which holds it.
            teams = list(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == viewer)))
            mine = _apply(select(Ticket.id), flt)
            if flt.team_id is not None and flt.team_id in teams:
                return self._page(session, [mine], [], offset, limit)  # one of their own teams: all theirs to see
            outside = [or_(Ticket.team_id.is_(None), Ticket.team_id.not_in(teams))] if teams else []
            others = [mine.where(branch, *outside) for branch in _branches(viewer)[1:]]
            return self._page(session, [mine.where(Ticket.team_id.in_(teams))] if teams else [], others, offset, limit)

    @staticmethod
    def _page(session: Session, counted: list[Select[Any]], united: list[Select[Any]], offset: int, limit: int) -> Page:
        """A page of the tickets of disjoint ``counted`` parts and the union of ``united``."""
        total = sum(session.scalar(select(func.count()).select_from(p.subquery())) or 0 for p in counted)
        if united:
            total += session.scalar(select(func.count()).select_from(union(*united).subquery())) or 0
        parts = [*counted, *united]
        newest = union_all(*(select(_newest(p).limit(offset + limit).subquery().c.id) for p in parts))
        rows = session.scalars(_newest(select(Ticket).where(Ticket.id.in_(newest))).offset(offset).limit(limit))
        return Page([TicketRecord.of(r) for r in rows], int(total), offset, limit)

    def unassigned_queue(self, viewer: str, limit: int = 10) -> list[TicketRecord]:
        """Open, unassigned tickets, highest priority first, then oldest first (agents only:
        their teams' queues; admins: every queue)."""
        with self._db.read() as session:
            return self._queue(session, viewer, limit)

    def _queue(self, session: Session, viewer: str, limit: int) -> list[TicketRecord]:
        rank = case({Priority.HIGH.value: 0, Priority.MEDIUM.value: 1}, value=Ticket.priority, else_=2)
        query = (
            select(Ticket)
            .where(Ticket.status.in_([s.value for s in ACTIVE]), Ticket.assignee_id.is_(None))
            .order_by(rank, Ticket.created_at, Ticket.id)
            .limit(limit)
        )
        try:
            scope = scope_of(session, viewer, self._system_users)
        except PermissionDenied:
            raise PermissionDenied("see the queue of") from None
        if scope is not None:
            query = query.where(Ticket.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == viewer)))
        return [TicketRecord.of(r) for r in session.scalars(query)]

    def home_lists(
        self, viewer: str, limit: int, *, agent: bool, counts: dict[Priority, int] | None = None
    ) -> HomeLists:
        """What a Home tab lists, read in one session (each costs a connection check and
        round trips of its own), without the totals a list's pages need: the viewer's active
        tickets; for an agent also those they own, their queue and the desk's counts
        (``counts`` when the caller has them)."""
        active = [s.value for s in ACTIVE]

        def newest(*where: ColumnElement[bool]) -> list[TicketRecord]:
            query = _newest(select(Ticket).where(Ticket.status.in_(active), *where)).limit(limit)
            return [TicketRecord.of(r) for r in session.scalars(query)]

        with self._db.read() as session:
            own = newest(Ticket.reporter_id == viewer)
            if not agent:
                return HomeLists(own)
            return HomeLists(
                own,
                newest(Ticket.assignee_id == viewer),
                self._queue(session, viewer, limit),
                counts if counts is not None else open_by_priority(session),
            )

    def open_by_priority(self) -> dict[Priority, int]:
        with self._db.read() as session:
            return open_by_priority(session)
