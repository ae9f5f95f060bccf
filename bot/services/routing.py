"""Routing a new ticket to a team, and choosing its owner when the team assigns automatically.

Both run inside the transaction that files the ticket, in a few indexed statements: the
first rule that matches (by position) names the team, the default team catches the rest; a
team with automatic assignment gives the ticket to one of its available members,
round-robin (after the member who had the last one) or to whoever holds the fewest open
tickets. The choice is written to the team's row (its round-robin place) by the same
statement that makes it, which holds the row locked until the filing commits, so two
tickets filed at once never both read the same place or the same counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Result, Table, and_, bindparam, case, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from bot.services.status import ACTIVE
from db.models import Person, RoutingRule, Team, TeamMember, Ticket

# The actor of what the desk does on its own (automatic assignment), in the audit trail.
DESK = "casedesk"
_TEAMS: Table = Team.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Routed:
    team_id: int
    name: str
    channel: str | None  # the team's triage channel; None: the support channel
    auto_assign: str


@dataclass(frozen=True)
class Criteria:
    """What a new ticket is routed by; a road leaves out what it does not know."""

    issue_type: str | None = None
    campaign: str | None = None
    intake_channel: str | None = None
    mailboxes: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()  # a customer organisation's team id and, once known, its name


_COLUMNS = (Team.id, Team.name, Team.triage_channel, Team.auto_assign)
_ACTIVE = [s.value for s in ACTIVE]

# The statements are built once: on a filing's path, building and keying them cost more
# than running them. A criterion the ticket does not have is NULL and matches no rule.
_ROUTE = (
    select(*_COLUMNS)
    .select_from(Team)
    .outerjoin(
        RoutingRule,
        and_(
            RoutingRule.team_id == Team.id,
            or_(
                and_(RoutingRule.field == "issue_type", func.lower(RoutingRule.value) == bindparam("issue_type")),
                and_(RoutingRule.field == "campaign", func.lower(RoutingRule.value) == bindparam("campaign")),
                and_(RoutingRule.field == "intake_channel", func.lower(RoutingRule.value) == bindparam("intake_channel")),
                and_(RoutingRule.field == "mailbox", func.lower(RoutingRule.value).in_(bindparam("mailboxes", expanding=True))),
                and_(RoutingRule.field == "account", func.lower(RoutingRule.value).in_(bindparam("accounts", expanding=True))),
            ),
        ),
    )
    .where(or_(RoutingRule.id.is_not(None), Team.is_default.is_(True)))
    .order_by(case((RoutingRule.id.is_(None), 1), else_=0), RoutingRule.position, RoutingRule.id)
    .limit(1)
)
# A member who may be given a new ticket (team_members joined to people): in the team, and
# not away, or away until a time that has passed.
_AVAILABLE = and_(
    TeamMember.team_id == bindparam("team_id"),
    Person.away.is_(False),
    or_(Person.away_until.is_(None), Person.away_until <= bindparam("now")),
)
_ANYONE = select(TeamMember.user_id).join(Person, Person.user_id == TeamMember.user_id).where(_AVAILABLE).exists()
# Round-robin in one statement: move the team's place to the first available member after
# it (by user ID), wrapping round to the first, and return it. The UPDATE locks the team's
# row; one that waited for another filing's commit is re-evaluated by PostgreSQL on the row
# that filing left, the place after its choice included, since the choice reads the
# place from the row being updated. Nobody available: no row, the place stays.
_AFTER = (
    select(func.min(TeamMember.user_id))
    .join(Person, Person.user_id == TeamMember.user_id)
    .where(_AVAILABLE, TeamMember.user_id > _TEAMS.c.last_assigned_id)
    .scalar_subquery()
)
_FIRST = select(func.min(TeamMember.user_id)).join(Person, Person.user_id == TeamMember.user_id).where(_AVAILABLE)
_ROUND_ROBIN = (
    update(_TEAMS)
    .where(_TEAMS.c.id == bindparam("team_id"), _ANYONE)
    .values(last_assigned_id=func.coalesce(_AFTER, _FIRST.scalar_subquery()))
    .returning(_TEAMS.c.last_assigned_id)
)
# Least open tickets: one statement counts each available member's Open or In Progress
# tickets (index-only, on (assignee_id, status, ...)), picks the fewest (ties by user ID)
# and records the choice. The counts must see every ticket assigned by a filing that held
# the team's lock before this one, but a statement reads the tickets as they were when it
# began: on PostgreSQL, one that had to wait for another filing's lock would count without
# that filing's ticket. So the UPDATE is made only if the team's row is still the version
# the statement began with (its xmin, the transaction that wrote it, unchanged: no
# assignment committed meanwhile); otherwise the row is locked first (FOR NO KEY UPDATE:
# the ticket's insert already holds a key-share lock on it, which a plain FOR UPDATE would
# deadlock against) and the choice made again, reading after the lock.
_LOCK = select(_TEAMS.c.id).where(_TEAMS.c.id == bindparam("team_id")).with_for_update(key_share=True)
_LOAD = (
    select(func.count())
    .select_from(Ticket)
    .where(Ticket.assignee_id == TeamMember.user_id, Ticket.status.in_(_ACTIVE))
    .correlate(TeamMember)
    .scalar_subquery()
)
_FEWEST = (
    select(TeamMember.user_id)
    .join(Person, Person.user_id == TeamMember.user_id)
    .where(_AVAILABLE)
    .order_by(_LOAD, TeamMember.user_id)
    .limit(1)
    .scalar_subquery()
)
_LEAST_OPEN = (
    update(_TEAMS)
    .where(_TEAMS.c.id == bindparam("team_id"), _ANYONE)
    .values(last_assigned_id=_FEWEST)
    .returning(_TEAMS.c.last_assigned_id)
)
_SEEN = _TEAMS.alias("seen")
_LEAST_OPEN_IF_UNCHANGED = _LEAST_OPEN.where(
    literal_column("teams.xmin")
    == select(literal_column("seen.xmin")).select_from(_SEEN).where(_SEEN.c.id == bindparam("team_id")).scalar_subquery()
)


def _criterion(value: str | None) -> str | None:
    return value.strip().lower() or None if value else None


def route(session: Session, criteria: Criteria) -> Routed | None:
    """The team of a new ticket: the first matching rule's, else the default team (None only
    on a desk with no teams at all, whose tickets go to the support channel). One query:
    the teams of the matching rules, by position, then the default team."""
    found = session.execute(
        _ROUTE,
        {
            "issue_type": _criterion(criteria.issue_type),
            "campaign": _criterion(criteria.campaign),
            "intake_channel": _criterion(criteria.intake_channel),
            "mailboxes": sorted({m.strip().lower() for m in criteria.mailboxes if m.strip()}),
            "accounts": sorted({a.strip().lower() for a in criteria.accounts if a.strip()}),
        },
    ).first()
    if found is None:
        return None
    return Routed(int(found[0]), str(found[1]), found[2], str(found[3] or "off"))


def choose_owner(session: Session, team: Routed, now: datetime) -> str | None:
    """The member who gets a new ticket of ``team`` (None: assignment is off, or nobody is
    available and it waits in the queue). Moves the team's round-robin place to the one
    chosen, holding the team's row locked until the caller commits."""
    params = {"team_id": team.team_id, "now": now}
    if team.auto_assign == "round_robin":
        chosen = _run(session, _ROUND_ROBIN, params).scalar()
    elif team.auto_assign == "least_open":
        chosen = _least_open(session, params)
    else:
        return None
    return str(chosen) if chosen is not None else None


def _least_open(session: Session, params: dict[str, object]) -> str | None:
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: the filing's transaction began with the write lock (BEGIN IMMEDIATE), so
        # no other filing can assign between its statements.
        return _run(session, _LEAST_OPEN, params).scalar()
    chosen = _run(session, _LEAST_OPEN_IF_UNCHANGED, params).scalar()
    if chosen is None:  # another filing assigned meanwhile (or nobody is available)
        _run(session, _LOCK, params)
        chosen = _run(session, _LEAST_OPEN, params).scalar()
    return chosen


def _run(session: Session, statement: Executable, params: dict[str, object]) -> Result[Any]:
    """Run one of the statements above on the session's connection, in its transaction.
    Session.execute would add the ORM's handling of an UPDATE (matching it against the
    objects the session holds), which cost more CPU than the round trip it saved; none of
    these statements reads or writes what this session has pending."""
    return session.connection().execute(statement, params)
