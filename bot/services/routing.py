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

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
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
# FOR NO KEY UPDATE on PostgreSQL: the ticket's insert already holds a key-share lock on
# the team's row (its foreign key), which a plain FOR UPDATE would deadlock against. One
# query locks the team and reads its available members.
_MEMBERS = (
    select(Team.last_assigned_id, Person.user_id)
    .select_from(Team)
    .outerjoin(TeamMember, TeamMember.team_id == Team.id)
    .outerjoin(
        Person,
        and_(
            Person.user_id == TeamMember.user_id,
            Person.away.is_(False),
            or_(Person.away_until.is_(None), Person.away_until <= bindparam("now")),
        ),
    )
    .where(Team.id == bindparam("team_id"))
    .with_for_update(of=Team, key_share=True)
)
# A Core update: the desk's own bookkeeping must not count as an admin's edit of the team
# (the row's version guards admins' forms against each other).
_PLACE = update(_TEAMS).where(_TEAMS.c.id == bindparam("team_id")).values(last_assigned_id=bindparam("chosen"))
# Each member's Open or In Progress tickets: one grouped count over the
# (assignee_id, status, ...) index, restricted to the members.
_LOADS = (
    select(Ticket.assignee_id, func.count())
    .where(Ticket.assignee_id.in_(bindparam("members", expanding=True)), Ticket.status.in_(_ACTIVE))
    .group_by(Ticket.assignee_id)
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
    available and it waits in the queue). Locks the team's row until the caller commits and
    moves its round-robin place to the one chosen."""
    if team.auto_assign not in ("round_robin", "least_open"):
        return None
    rows = session.execute(_MEMBERS, {"team_id": team.team_id, "now": now}).all()
    last = rows[0][0] if rows else None
    members = sorted({str(user) for _, user in rows if user})
    if not members:
        return None
    if team.auto_assign == "round_robin":
        after = [m for m in members if last is None or m > last]
        chosen = (after or members)[0]
    else:
        chosen = least_loaded(session, members)
    session.execute(_PLACE, {"team_id": team.team_id, "chosen": chosen})
    return chosen


def least_loaded(session: Session, members: Iterable[str]) -> str:
    """Of ``members`` (in order), the one who owns the fewest Open or In Progress tickets."""
    ordered = list(members)
    counts = dict(session.execute(_LOADS, {"members": ordered}).all())
    return min(ordered, key=lambda m: (int(counts.get(m, 0)), m))
