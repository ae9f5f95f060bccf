"""Routing a new ticket to a team, and choosing its owner when the team assigns automatically.

Both run inside the transaction that files the ticket, in a few indexed queries: the first
rule that matches (by position) names the team, the default team catches the rest; a team
with automatic assignment gives the ticket to one of its available members, round-robin
(after the member who had the last one) or to whoever holds the fewest open tickets. The
team's row is locked while it chooses, so two tickets filed at once never both read the
same round-robin place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, and_, case, false, func, or_, select, update
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


_COLUMNS = (Team.id, Team.name, Team.triage_channel, Team.auto_assign)


def route(session: Session, criteria: Criteria) -> Routed | None:
    """The team of a new ticket: the first matching rule's, else the default team (None only
    on a desk with no teams at all, whose tickets go to the support channel)."""
    matches = []
    for field, value in (
        ("issue_type", criteria.issue_type),
        ("campaign", criteria.campaign),
        ("intake_channel", criteria.intake_channel),
    ):
        if value:
            matches.append(and_(RoutingRule.field == field, func.lower(RoutingRule.value) == value.strip().lower()))
    mailboxes = sorted({m.strip().lower() for m in criteria.mailboxes if m.strip()})
    if mailboxes:
        matches.append(and_(RoutingRule.field == "mailbox", func.lower(RoutingRule.value).in_(mailboxes)))
    # One query: the teams of the matching rules, by position, then the default team.
    matched = and_(RoutingRule.team_id == Team.id, or_(*matches)) if matches else false()
    found = session.execute(
        select(*_COLUMNS)
        .select_from(Team)
        .outerjoin(RoutingRule, matched)
        .where(or_(RoutingRule.id.is_not(None), Team.is_default.is_(True)))
        .order_by(case((RoutingRule.id.is_(None), 1), else_=0), RoutingRule.position, RoutingRule.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    return Routed(int(found[0]), str(found[1]), found[2], str(found[3] or "off"))


def choose_owner(session: Session, team: Routed, now: datetime) -> str | None:
    """The member who gets a new ticket of ``team`` (None: assignment is off, or nobody is
    available and it waits in the queue). Locks the team's row until the caller commits and
    moves its round-robin place to the one chosen."""
    if team.auto_assign not in ("round_robin", "least_open"):
        return None
    # FOR NO KEY UPDATE on PostgreSQL: the ticket's insert already holds a key-share lock on
    # this row (its foreign key), which a plain FOR UPDATE would deadlock against.
    # One query locks the team and reads its available members.
    available = and_(
        Person.user_id == TeamMember.user_id, Person.away.is_(False), or_(Person.away_until.is_(None), Person.away_until <= now)
    )
    rows = session.execute(
        select(Team.last_assigned_id, Person.user_id)
        .select_from(Team)
        .outerjoin(TeamMember, TeamMember.team_id == Team.id)
        .outerjoin(Person, available)
        .where(Team.id == team.team_id)
        .with_for_update(of=Team, key_share=True)
    ).all()
    last = rows[0][0] if rows else None
    members = sorted({str(user) for _, user in rows if user})
    if not members:
        return None
    if team.auto_assign == "round_robin":
        after = [m for m in members if last is None or m > last]
        chosen = (after or members)[0]
    else:
        chosen = least_loaded(session, members)
    # A Core update: the desk's own bookkeeping must not count as an admin's edit of the team
    # (the row's version guards admins' forms against each other).
    session.execute(update(_TEAMS).where(_TEAMS.c.id == team.team_id).values(last_assigned_id=chosen))
    return chosen


def least_loaded(session: Session, members: Iterable[str]) -> str:
    """Of ``members`` (in order), the one who owns the fewest Open or In Progress tickets."""
    ordered = list(members)
    counts = dict(
        session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.assignee_id.in_(ordered), Ticket.status.in_([s.value for s in ACTIVE]))
            .group_by(Ticket.assignee_id)
        ).all()
    )
    return min(ordered, key=lambda m: (int(counts.get(m, 0)), m))
