"""The service-level figures of a period, for the weekly summary and /ticket-summary: SLA
attainment (first response and resolution, by priority and by team), the median business
times, the breaches and the satisfaction ratings. Each is a few grouped SQL queries, each
read by an index; Python only adds up the few groups (priorities × teams).

A target counts in the period in which it was decided: met, when the response (or the
resolution) came by its due time; breached, at its due time, when nothing came by then.
So a target missed one week and answered late the next counts once, as a breach, in the
week it fell due. A ticket resolved or closed without a response before its first
response was due, and one waiting on the customer when its resolution fell due, had no
target to miss and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from bot.services.sql_stats import median
from bot.services.status import Priority
from db.models import SatisfactionRating, Team, Ticket

SATISFIED = 4  # a rating of 4 or 5 counts as satisfied


@dataclass(frozen=True)
class Attainment:
    """Targets decided in the period, and how many of them were met."""

    met: int = 0
    total: int = 0

    @property
    def breached(self) -> int:
        return self.total - self.met

    @property
    def percent(self) -> float | None:
        return 100.0 * self.met / self.total if self.total else None

    def __add__(self, other: Attainment) -> Attainment:
        return Attainment(self.met + other.met, self.total + other.total)


@dataclass(frozen=True)
class Stages:
    """First response and resolution attainment of one group of tickets."""

    first_response: Attainment = field(default_factory=Attainment)
    resolution: Attainment = field(default_factory=Attainment)

    def __add__(self, other: Stages) -> Stages:
        return Stages(self.first_response + other.first_response, self.resolution + other.resolution)

    @property
    def breaches(self) -> int:
        return self.first_response.breached + self.resolution.breached


@dataclass(frozen=True)
class Satisfaction:
    count: int = 0
    average: float | None = None
    satisfied: int = 0  # rated 4 or 5

    @property
    def satisfied_percent(self) -> float | None:
        return 100.0 * self.satisfied / self.count if self.count else None


@dataclass(frozen=True)
class ServiceFigures:
    start: datetime
    end: datetime
    overall: Stages
    by_priority: dict[Priority, Stages]
    by_team: list[tuple[str, Stages]]  # teams with targets decided, by name; "No team" last
    median_first_response: timedelta | None  # business time
    median_resolution: timedelta | None  # business time, less the waits on the customer
    satisfaction: Satisfaction


NO_TEAM = "No team"


def first_response_parts(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(met in [start, end), missed with its due time in [start, end)) of the first response
    target: disjoint, each a range of one index."""
    due, at = Ticket.first_response_due_at, Ticket.first_response_at
    finished = func.coalesce(Ticket.resolved_at, Ticket.closed_at)
    met = and_(at >= start, at < end, due.is_not(None), at <= due)
    missed = and_(
        due >= start,
        due < end,
        or_(at.is_(None), at > due),
        ~and_(at.is_(None), finished.is_not(None), finished <= due),  # done without a reply before it was due
    )
    return met, missed


def resolution_parts(start: datetime, end: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(met in [start, end), missed with its due time in [start, end)) of the resolution target."""
    due, at = Ticket.resolution_due_at, Ticket.resolved_at
    met = and_(at >= start, at < end, due.is_not(None), at <= due)
    missed = and_(
        due >= start,
        due < end,
        or_(at.is_(None), at > due),
        ~and_(at.is_(None), Ticket.closed_at.is_not(None), Ticket.closed_at <= due),  # closed unresolved in time
        ~and_(at.is_(None), Ticket.paused_at.is_not(None), Ticket.paused_at <= due),  # waiting on the customer
    )
    return met, missed


def service_figures(session: Session, start: datetime, end: datetime, scope: ColumnElement[bool] | None = None) -> ServiceFigures:
    """The figures of the tickets in ``scope`` (None: all) over [start, end)."""
    mine: ColumnElement[bool] = scope if scope is not None else true()
    groups: dict[tuple[str, int | None], Stages] = {}
    for stage, parts in (("first", first_response_parts(start, end)), ("resolution", resolution_parts(start, end))):
        # The met and the missed apart: an OR of the two ranges would read every ticket.
        for was_met, part in zip((True, False), parts, strict=True):
            rows = session.execute(
                select(Ticket.priority, Ticket.team_id, func.count()).where(mine, part).group_by(Ticket.priority, Ticket.team_id)
            ).all()
            for priority, team_id, n in rows:
                got = Attainment(int(n) if was_met else 0, int(n))
                stages = Stages(first_response=got) if stage == "first" else Stages(resolution=got)
                key = (str(priority), team_id)
                groups[key] = groups.get(key, Stages()) + stages
    by_priority = {p: Stages() for p in Priority}
    by_team_id: dict[int | None, Stages] = {}
    for (priority, team_id), stages in groups.items():
        if priority in by_priority:
            by_priority[Priority(priority)] = by_priority[Priority(priority)] + stages
        by_team_id[team_id] = by_team_id.get(team_id, Stages()) + stages
    names = dict(session.execute(select(Team.id, Team.name).where(Team.id.in_([t for t in by_team_id if t is not None]))).all())
    by_team = sorted(
        ((names.get(t, NO_TEAM) if t is not None else NO_TEAM, s) for t, s in by_team_id.items()),
        key=lambda pair: (pair[0] == NO_TEAM, pair[0].lower()),
    )
    overall = sum(groups.values(), Stages())
    return ServiceFigures(
        start=start,
        end=end,
        overall=overall,
        by_priority=by_priority,
        by_team=by_team,
        median_first_response=median(
            session,
            select(Ticket.first_response_seconds).where(
                mine, Ticket.first_response_at >= start, Ticket.first_response_at < end, Ticket.first_response_seconds.is_not(None)
            ),
        ),
        median_resolution=median(
            session,
            select(Ticket.resolution_seconds).where(
                mine, Ticket.resolved_at >= start, Ticket.resolved_at < end, Ticket.resolution_seconds.is_not(None)
            ),
        ),
        satisfaction=satisfaction(session, start, end, scope),
    )


def satisfaction(session: Session, start: datetime, end: datetime, scope: ColumnElement[bool] | None = None) -> Satisfaction:
    """The ratings given in [start, end) on the tickets of ``scope``."""
    query: Any = select(
        func.count(), func.avg(SatisfactionRating.score), func.sum(case((SatisfactionRating.score >= SATISFIED, 1), else_=0))
    ).where(SatisfactionRating.rated_at >= start, SatisfactionRating.rated_at < end, SatisfactionRating.score.is_not(None))
    if scope is not None:
        query = query.join(Ticket, Ticket.id == SatisfactionRating.ticket_id).where(scope)
    count, average, satisfied = session.execute(query).one()
    return Satisfaction(int(count or 0), float(average) if average is not None else None, int(satisfied or 0))
