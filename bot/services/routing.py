"""Routing a new ticket to a team, and choosing its owner when the team assigns automatically.

Both run inside the transaction that files the ticket (on PostgreSQL as one prepared
statement, on SQLite as two): the first rule that matches (by position) names the team,
the default team catches the rest; a team with automatic assignment gives the ticket to
one of its available members, round-robin (after the member who had the last one) or to
whoever holds the fewest open tickets. The choice is written to the team's row (its round-robin place) by the same
statement that makes it, which holds the row locked until the filing commits, so two
tickets filed at once never both read the same place or the same counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    Result,
    Row,
    Select,
    String,
    Table,
    Update,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, array
from sqlalchemy.orm import Session

from bot.services.status import ACTIVE
from db.models import Person, RoutingRule, Team, TeamMember, Ticket
from db.prepared import Prepared
from db.types import UTCDateTime

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
_ACTIVE = sorted(s.value for s in ACTIVE)
Listed = Callable[[ColumnElement[Any], str], ColumnElement[bool]]
AnySelect = Select[*tuple[Any, ...]]


def _in_list(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    return column.in_(bindparam(name, expanding=True))


def _any_of(column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column`` among an array's values: one statement for any number of them, as a
    prepared statement needs (an IN list's length is part of its text)."""
    return column == any_(bindparam(name, type_=ARRAY(String)))


# The statements are built once: on a filing's path, building and keying them cost more
# than running them. A criterion the ticket does not have is NULL and matches no rule.
def _route(listed: Listed) -> AnySelect:
    value = func.lower(RoutingRule.value)
    return (
        select(*_COLUMNS)
        .select_from(Team)
        .outerjoin(
            RoutingRule,
            and_(
                RoutingRule.team_id == Team.id,
                or_(
                    and_(RoutingRule.field == "issue_type", value == bindparam("issue_type", type_=String)),
                    and_(RoutingRule.field == "campaign", value == bindparam("campaign", type_=String)),
                    and_(RoutingRule.field == "intake_channel", value == bindparam("intake_channel", type_=String)),
                    and_(RoutingRule.field == "mailbox", listed(value, "mailboxes")),
                    and_(RoutingRule.field == "account", listed(value, "accounts")),
                ),
            ),
        )
        .where(or_(RoutingRule.id.is_not(None), Team.is_default.is_(True)))
        .order_by(case((RoutingRule.id.is_(None), 1), else_=0), RoutingRule.position, RoutingRule.id)
        .limit(1)
    )


_ROUTE = _route(_in_list)


def _members(team: ColumnElement[int], *columns: Any) -> AnySelect:
    """Of the team's members (team_members joined to people), those who may be given a new
    ticket: not away, or away until a time that has passed."""
    return (
        select(*columns)
        .select_from(TeamMember)
        .join(Person, Person.user_id == TeamMember.user_id)
        .where(
            TeamMember.team_id == team,
            Person.away.is_(False),
            or_(Person.away_until.is_(None), Person.away_until <= bindparam("now", type_=UTCDateTime)),
        )
    )


# Round-robin: the team's place moves to the first available member after it (by user
# ID), wrapping round to the first. Written by an UPDATE of the team's row that reads the
# place from the row being updated: the UPDATE locks the row, and one that waited for
# another filing's commit is re-evaluated by PostgreSQL on the row that filing left, the
# place after its choice included. Nobody available: no row, the place stays.
def _next_in_turn(team: ColumnElement[int]) -> ColumnElement[Any]:
    after = _members(team, func.min(TeamMember.user_id)).where(TeamMember.user_id > _TEAMS.c.last_assigned_id)
    return func.coalesce(after.scalar_subquery(), _members(team, func.min(TeamMember.user_id)).scalar_subquery())


# Least open tickets: each available member's Open or In Progress tickets counted
# (index-only, on (assignee_id, status, ...)), the fewest chosen (ties by user ID). The
# counts must see every ticket assigned by a filing that held the team's lock before this
# one, but a statement reads the tickets as they were when it began: on PostgreSQL, one
# that had to wait for another filing's lock would count without that filing's ticket. So
# there the UPDATE is made only if the team's row is still the version the statement
# began with (its xmin, the transaction that wrote it, unchanged: no assignment committed
# meanwhile); otherwise the row is locked first (FOR NO KEY UPDATE: the ticket's insert
# already holds a key-share lock on it, which a plain FOR UPDATE would deadlock against)
# and the choice made again, reading after the lock.
def _fewest(team: ColumnElement[int], active: ColumnElement[bool]) -> ColumnElement[Any]:
    load = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.assignee_id == TeamMember.user_id, active)
        .correlate(TeamMember)
        .scalar_subquery()
    )
    return _members(team, TeamMember.user_id).order_by(load, TeamMember.user_id).limit(1).scalar_subquery()


def _choose(how: ColumnElement[Any]) -> Update:
    team: ColumnElement[int] = bindparam("team_id", type_=Integer)
    return (
        update(_TEAMS)
        .where(_TEAMS.c.id == team, _members(team, TeamMember.user_id).exists())
        .values(last_assigned_id=how)
        .returning(_TEAMS.c.last_assigned_id)
    )


_ROUND_ROBIN = _choose(_next_in_turn(bindparam("team_id")))
_LEAST_OPEN = _choose(_fewest(bindparam("team_id"), Ticket.status.in_(_ACTIVE)))
_LOCK = select(_TEAMS.c.id).where(_TEAMS.c.id == bindparam("team_id")).with_for_update(key_share=True)


def _route_and_choose() -> AnySelect:
    """PostgreSQL's filing path in one statement: the rule match, then, for a team that
    assigns, its choice (round-robin, or least open if the team's row is unchanged since
    the statement began, as above), written by an UPDATE in a WITH clause. The team's id
    and auto_assign come back with what the UPDATE returned (NULL: nobody chosen)."""
    routed = _route(_any_of).add_columns(literal_column("teams.xmin").label("seen")).cte("routed")
    team: ColumnElement[int] = _TEAMS.c.id
    active = Ticket.status == any_(array(_ACTIVE))
    chosen = (
        update(_TEAMS)
        .where(
            team == select(routed.c.id).scalar_subquery(),
            _TEAMS.c.auto_assign == any_(array(["round_robin", "least_open"])),
            or_(
                _TEAMS.c.auto_assign == "round_robin",
                literal_column("teams.xmin") == select(routed.c.seen).scalar_subquery(),
            ),
            _members(team, TeamMember.user_id).exists(),
        )
        .values(
            last_assigned_id=case(
                (_TEAMS.c.auto_assign == "round_robin", _next_in_turn(team)), else_=_fewest(team, active)
            )
        )
        .returning(_TEAMS.c.last_assigned_id, _TEAMS.c.auto_assign)
        .cte("chosen")
    )
    return select(
        routed.c.id, routed.c.name, routed.c.triage_channel, routed.c.auto_assign,
        chosen.c.last_assigned_id, chosen.c.auto_assign.label("assigned_by"),
    ).select_from(routed.outerjoin(chosen, true()))


_ROUTE_AND_CHOOSE = Prepared("route_and_choose", _route_and_choose())


def _criterion(value: str | None) -> str | None:
    return value.strip().lower() or None if value else None


def _values(criteria: Criteria) -> dict[str, Any]:
    return {
        "issue_type": _criterion(criteria.issue_type),
        "campaign": _criterion(criteria.campaign),
        "intake_channel": _criterion(criteria.intake_channel),
        "mailboxes": sorted({m.strip().lower() for m in criteria.mailboxes if m.strip()}),
        "accounts": sorted({a.strip().lower() for a in criteria.accounts if a.strip()}),
    }


def _routed(found: Row[*tuple[Any, ...]], auto_assign: str | None) -> Routed:
    return Routed(int(found[0]), str(found[1]), found[2], str(auto_assign or "off"))


def route(session: Session, criteria: Criteria) -> Routed | None:
    """The team of a new ticket: the first matching rule's, else the default team (None only
    on a desk with no teams at all, whose tickets go to the support channel). One query:
    the teams of the matching rules, by position, then the default team."""
    found = session.execute(_ROUTE, _values(criteria)).first()
    return _routed(found, found[3]) if found is not None else None


def route_and_choose(session: Session, criteria: Criteria, now: datetime) -> tuple[Routed | None, str | None]:
    """The team of a new ticket (as ``route``) and, when it assigns automatically, its owner
    (as ``choose_owner``). On PostgreSQL in one prepared statement, round trip and planning
    being most of what routing and assignment added to a filing there."""
    if session.get_bind().dialect.name != "postgresql":
        team = route(session, criteria)
        return team, choose_owner(session, team, now) if team is not None else None
    found = _ROUTE_AND_CHOOSE.execute(session.connection(), {**_values(criteria), "now": now}).first()
    if found is None:
        return None, None
    chosen, assigned_by = found[4], found[5]
    team = _routed(found, assigned_by or found[3])
    if chosen is None and team.auto_assign == "least_open":
        # Another filing assigned since the statement began (or nobody is available):
        # choose again once the team's row is locked.
        chosen = _least_open(session, {"team_id": team.team_id, "now": now})
    return team, str(chosen) if chosen is not None else None


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
    if session.get_bind().dialect.name == "postgresql":
        # SQLite needs no lock: the filing's transaction began with the write lock (BEGIN
        # IMMEDIATE), so no other filing can assign between its statements.
        _run(session, _LOCK, params)
    return _run(session, _LEAST_OPEN, params).scalar()


def _run(session: Session, statement: Executable, params: dict[str, object]) -> Result[Any]:
    """Run one of the statements above on the session's connection, in its transaction.
    Session.execute would add the ORM's handling of an UPDATE (matching it against the
    objects the session holds), which cost more CPU than the round trip it saved; none of
    these statements reads or writes what this session has pending."""
    return session.connection().execute(statement, params)
