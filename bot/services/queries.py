"""Finding tickets: filtered, searched and paged in SQL, with who may see what enforced here:
reporters see their own tickets; agents their teams' tickets and those assigned to them;
admins all of them.

Words are searched in full text (migration 0015): a ticket's title and details, stemmed
(English), all words required, the last also as the start of a longer one (what is being
typed); a ticket number or a reporter's id finds that ticket too. Found tickets rank by relevance (a word in
the title counts more), then newest first.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Float,
    Select,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    type_coerce,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from bot.services.errors import PermissionDenied
from bot.services.field_values import value_key
from bot.services.gin_search import newest_matches
from bot.services.records import TicketRecord, parse_number
from bot.services.status import ACTIVE, WITH_DESK, Priority, Status
from db.models import Person, TeamMember, Ticket, TicketAssignee, TicketField
from db.session import Database
from db.types import UTCDateTime

PAGE_SIZE = 20
# A search is its first words (letters and digits; anything else separates them).
MAX_SEARCH_WORDS = 16
_WORD = re.compile(r"[^\W_]+")
# A search scores the newest this many tickets its words find.
SEARCH_WINDOW = 1000
# An exact number outranks a reporter's id, which outranks any text match.
NUMBER_SCORE = 2e9
REPORTER_SCORE = 1e9
# SQLite: the FTS5 index over tickets (title, details); its hidden column of the table's name
# takes MATCH. A match scores 1, and 10 more for each of its words in the title (counted by
# highlight(), which reads the one ticket's positions). Not bm25(): it needs each word's
# count of tickets, and for a word in most of a million tickets FTS5 read that word's whole
# list to get it (1.4 s p50 for the commonest word).
_FTS = table("tickets_fts", column("rowid"), column("tickets_fts"))
_MARKED = "coalesce(highlight(tickets_fts, 0, char(1), ''), '')"
_TITLE_SCORE = f"1 + 10 * (length({_MARKED}) - length(replace({_MARKED}, char(1), '')))"
_ENGLISH: ColumnElement[Any] = literal_column("'english'::regconfig")


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
    # The next SLA target (first response while unanswered, else resolution while the desk
    # has the ball) falls before this: ``breached`` is now, ``due:today`` the day's end.
    due_before: datetime | None = None
    # Soonest next target first (those with none last), instead of newest or most relevant.
    by_due: bool = False
    # (key, value): filed with this value in an issue type's extra field (bot/services/forms.py).
    fields: tuple[tuple[str, str], ...] = ()
    # Opened by a member of one of these customer organisations (Slack team ids; account:NAME).
    account_ids: tuple[str, ...] = ()

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


def search_words(text: str) -> list[str]:
    """The words of a search, lowered: letters and digits only, so they never carry the
    query syntax of either database."""
    return _WORD.findall(text.lower())[:MAX_SEARCH_WORDS]


def search(text: str, session: Session) -> CTE:
    """The tickets ``text`` finds, as (id, score) rows, one per ticket, higher scores first:
    its number, its reporter's id, and a full-text match of every word (stemmed; the last
    also as a prefix) in the title or details. The one search behind every list's words.

    Text matches are the newest ``SEARCH_WINDOW`` (by number): relevance is scored on those
    alone, so a word in most tickets costs the same as a rare one, and a list's filters
    apply within them. A CTE: a statement that both counts and lists what it found finds
    it once."""
    words = search_words(text)
    found: list[Select[Any]] = []
    if words:
        if session.get_bind().dialect.name == "postgresql":
            query = func.to_tsquery(_ENGLISH, " & ".join([*words[:-1], f"{words[-1]}:*"]))
            newest = newest_matches(session, query, SEARCH_WINDOW)
            found.append(select(newest.c.id, func.ts_rank_cd(newest.c.vector, query).cast(Float).label("score")))
        else:
            found.append(_fts_newest(words))
    stripped = text.strip()
    reporter = select(Ticket.id.label("id"), literal(REPORTER_SCORE, Float).label("score"))
    found.append(reporter.where(Ticket.reporter_id == stripped.upper()).order_by(Ticket.id.desc()).limit(SEARCH_WINDOW))
    number = parse_number(stripped)
    if number is not None:
        numbered = select(Ticket.id.label("id"), literal(NUMBER_SCORE, Float).label("score"))
        found.append(numbered.where(Ticket.id == number))
    hits = union_all(*(f.subquery().select() for f in found)).subquery("hits")
    return select(hits.c.id, func.max(hits.c.score).label("score")).group_by(hits.c.id).cte("found")


def _fts_newest(words: list[str]) -> Select[Any]:
    """SQLite: the newest ``SEARCH_WINDOW`` tickets with every word, scored. The last word
    widens to longer words only when the words as typed fill less than the window: FTS5
    reads a prefix's whole list before it yields a row (a second for a prefix of a word in
    most of a million tickets), and a LIMIT of 0 never opens that query."""

    def newest(query: str, limit: int | ColumnElement[Any]) -> Select[Any]:
        return (
            select(_FTS.c.rowid.label("id"), literal_column(_TITLE_SCORE, Float).label("score"))
            .select_from(_FTS)
            .where(_FTS.c.tickets_fts.match(query))
            .order_by(_FTS.c.rowid.desc())
            .limit(limit)
        )

    whole = " ".join(f'"{w}"' for w in words)
    exact = newest(whole, SEARCH_WINDOW).cte("exact")
    room = SEARCH_WINDOW - select(func.count()).select_from(exact).scalar_subquery()
    widened = newest(f"{whole}*", room).subquery("widened")
    both = union(select(exact.c.id, exact.c.score), select(widened.c.id, widened.c.score)).subquery("both")
    return select(both.c.id, both.c.score).order_by(both.c.id.desc()).limit(SEARCH_WINDOW)


def next_due() -> ColumnElement[Any]:
    """When the ticket's next SLA target falls: its first response while unanswered (Waiting
    too: that clock runs on), else its resolution while it is with the desk (Waiting pauses
    it); NULL for a ticket with none (resolved, closed, older than the SLAs). The first
    response target never falls after the resolution target, so this is the sooner one."""
    due = case(
        (and_(Ticket.first_response_at.is_(None), Ticket.status.in_([s.value for s in ACTIVE])), Ticket.first_response_due_at),
        (Ticket.status.in_([s.value for s in WITH_DESK]), Ticket.resolution_due_at),
        else_=null(),
    )
    return type_coerce(due, UTCDateTime())  # compared with aware times as the columns are


def _apply(query: Select[Any], flt: TicketFilter, found: CTE | None = None) -> Select[Any]:
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
    if flt.account_ids:
        query = query.where(Ticket.account_id.in_(flt.account_ids))
    if flt.due_before is not None:
        query = query.where(next_due() < flt.due_before)
    for key, value in flt.fields:
        query = query.where(
            select(TicketField.id).where(TicketField.ticket_id == Ticket.id, TicketField.key == key, TicketField.value_key == value_key(value)).exists()
        )
    if found is not None:
        query = query.join(found, found.c.id == Ticket.id)
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


def _ranked(query: Select[Any], found: CTE | None, by_due: bool = False) -> Select[Any]:
    """By due: the soonest next target first; searched: the most relevant first, then the
    newest; listed: the newest first."""
    if by_due:
        due = next_due()
        return query.order_by(due.is_(None), due, Ticket.id)
    if found is None:
        return _newest(query)
    return query.order_by(found.c.score.desc(), Ticket.created_at.desc(), Ticket.id.desc())


def _read(
    session: Session, listed: Select[Any], counted: list[Select[Any] | CompoundSelect[Any]], offset: int, limit: int, found: CTE | None
) -> Page:
    """The page of ``listed`` (tickets) at ``offset``, and its total: the sum of the counts
    of the ``counted`` parts. A search's total is read by the page's own statement: counted
    apart, each statement ran the search again, the larger part of a page's time. Past the
    last ticket no row carries it, and it is counted apart."""
    counts = [select(func.count()).select_from(part.subquery()) for part in counted]
    if found is None:
        total = sum(session.scalar(count) or 0 for count in counts)
        return Page([TicketRecord.of(r) for r in session.scalars(listed.offset(offset).limit(limit))], int(total), offset, limit)
    together: ColumnElement[int] = counts[0].scalar_subquery()
    for count in counts[1:]:
        together = together + count.scalar_subquery()
    rows = session.execute(listed.add_columns(together.label("total")).offset(offset).limit(limit)).all()
    if rows:
        total = rows[0].total
    else:
        total = (session.scalar(select(together)) or 0) if offset else 0
    return Page([TicketRecord.of(r[0]) for r in rows], int(total), offset, limit)


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
            found = search(flt.text, session) if flt.text and flt.text.strip() else None
            scope = None if flt.is_own(viewer) else scope_of(session, viewer, self._system_users)
            if scope is None:
                base = _apply(select(Ticket), flt, found)
                return _read(session, _ranked(base, found, flt.by_due), [base], offset, limit, found)
            # An agent sees their teams' tickets and, outside those teams, the ones assigned
            # to them or filed by them. An OR of these reads every ticket; apart, each is a
            # range of one index. The parts are disjoint, so the total is the sum of their
            # counts (the team part an index count); the page is the newest of each part's
            # newest (offset + limit), which holds it.
            teams = list(session.scalars(select(TeamMember.team_id).where(TeamMember.user_id == viewer)))
            mine = _apply(select(Ticket.id), flt, found)
            if flt.team_id is not None and flt.team_id in teams:
                return self._page(session, [mine], [], offset, limit, found, flt.by_due)  # one of their own teams: all theirs
            outside = [or_(Ticket.team_id.is_(None), Ticket.team_id.not_in(teams))] if teams else []
            others = [mine.where(branch, *outside) for branch in _branches(viewer)[1:]]
            parts = [mine.where(Ticket.team_id.in_(teams))] if teams else []
            return self._page(session, parts, others, offset, limit, found, flt.by_due)

    @staticmethod
    def _page(
        session: Session,
        counted: list[Select[Any]],
        united: list[Select[Any]],
        offset: int,
        limit: int,
        found: CTE | None,
        by_due: bool = False,
    ) -> Page:
        """A page of the tickets of disjoint ``counted`` parts and the union of ``united``,
        in the order of ``_ranked``."""
        score = (found.c.score if found is not None else literal(0.0, Float)).label("score")
        tops = [_ranked(p.add_columns(score), found, by_due).limit(offset + limit).subquery() for p in [*counted, *united]]
        # A ticket in two parts has one score: the union keeps it once.
        best = union(*(select(top.c.id, top.c.score) for top in tops)).subquery()
        joined = select(Ticket).join(best, best.c.id == Ticket.id)
        if by_due:
            listed = _ranked(joined, None, by_due=True)
        else:
            listed = joined.order_by(best.c.score.desc(), Ticket.created_at.desc(), Ticket.id.desc())
        return _read(session, listed, [*counted, *([union(*united)] if united else [])], offset, limit, found)

    def unassigned_queue(self, viewer: str, limit: int = 10) -> list[TicketRecord]:
        """Open, unassigned tickets, highest priority first, then oldest first (agents only:
        their teams' queues; admins: every queue)."""
        with self._db.read() as session:
            return self._queue(session, viewer, limit)

    def _queue(self, session: Session, viewer: str, limit: int) -> list[TicketRecord]:
        rank = case({Priority.HIGH.value: 0, Priority.MEDIUM.value: 1}, value=Ticket.priority, else_=2).label("rank")
        try:
            scope = scope_of(session, viewer, self._system_users)
        except PermissionDenied:
            raise PermissionDenied("see the queue of") from None
        teams = [] if scope is None else [Ticket.team_id.in_(select(TeamMember.team_id).where(TeamMember.user_id == viewer))]
        # The first of each active status apart, then the first of those: each part is one
        # range of the (assignee_id, status, ...) index. With the statuses as one list,
        # PostgreSQL read every unassigned ticket, closed ones too, to keep the active ones
        # (an admin's queue over 100,000 tickets: 70 ms and more, against 0.5 ms apart).
        parts = [
            select(Ticket.id, rank, Ticket.created_at)
            .where(Ticket.status == status.value, Ticket.assignee_id.is_(None), *teams)
            .order_by(rank, Ticket.created_at, Ticket.id)
            .limit(limit)
            .subquery()
            for status in sorted(ACTIVE)
        ]
        top = union_all(*(select(part.c.id, part.c.rank, part.c.created_at) for part in parts)).subquery()
        query = select(Ticket).join(top, top.c.id == Ticket.id).order_by(top.c.rank, top.c.created_at, top.c.id).limit(limit)
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
