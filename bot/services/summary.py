"""The desk at a glance: counts and medians, all computed in SQL, over what the viewer may
see (an agent: their teams' tickets and those assigned to them; an admin: all), for one
team when asked."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from bot.services.errors import PermissionDenied
from bot.services.queries import scope_of
from bot.services.records import TicketRecord
from bot.services.sla_report import ServiceFigures, service_figures
from bot.services.sql_stats import median, seconds_between
from bot.services.status import ACTIVE, Priority, Status
from db.models import Account, Team, Ticket, TicketEvent
from db.session import Database

WEEK = timedelta(days=7)
MEDIAN_WINDOW = timedelta(days=30)
RESPONSE_KINDS = ("assigned", "reassigned", "status", "commented", "first_response")


@dataclass(frozen=True)
class Summary:
    by_status: dict[Status, int]
    open_by_priority: dict[Priority, int]
    open_by_assignee: list[tuple[str, int]]
    unassigned_high: int
    opened_week: int
    resolved_week: int
    closed_week: int
    median_first_response: timedelta | None
    median_resolution: timedelta | None
    oldest_open: TicketRecord | None
    team_name: str | None = None  # the team asked for (team:NAME); None: every team the viewer sees
    service: ServiceFigures | None = None  # service levels and satisfaction of the last 7 days
    by_account: tuple[AccountFigures, ...] = ()  # customer organisations (Slack Connect), busiest first


@dataclass(frozen=True)
class AccountFigures:
    """A customer organisation's cases: open now, opened in the last 30 days, and the mean
    business time to their first response."""

    account_id: str
    name: str | None
    open: int
    opened: int
    mean_first_response: timedelta | None

    @property
    def label(self) -> str:
        return self.name or self.account_id


def finished_between(
    session: Session, since: datetime, until: datetime | None = None, scope: ColumnElement[bool] | None = None
) -> dict[str, int]:
    """How many tickets (of ``scope``) were resolved and closed (status → count) in [since, until)."""
    where: list[ColumnElement[bool]] = [
        TicketEvent.kind == "status",
        TicketEvent.to_value.in_([Status.RESOLVED.value, Status.CLOSED.value]),
        TicketEvent.created_at >= since,
    ]
    if until is not None:
        where.append(TicketEvent.created_at < until)
    query = select(TicketEvent.to_value, func.count(func.distinct(TicketEvent.ticket_id))).where(*where)
    if scope is not None:
        query = query.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(scope)
    rows = session.execute(query.group_by(TicketEvent.to_value)).all()
    return {str(status): int(n) for status, n in rows}


class SummaryQueries:
    def __init__(self, db: Database, system_users: Collection[str]) -> None:
        self._db = db
        self._system_users = system_users

    def summary(self, viewer: str, now: datetime, team_id: int | None = None) -> Summary:
        """``team_id``: that team's tickets only."""
        active = [s.value for s in ACTIVE]
        week_ago, window = now - WEEK, now - MEDIAN_WINDOW
        with self._db.read() as s:
            try:
                seen = scope_of(s, viewer, self._system_users)
            except PermissionDenied:
                raise PermissionDenied("see the summary of") from None
            parts = [c for c in (seen, Ticket.team_id == team_id if team_id is not None else None) if c is not None]
            scope = and_(*parts) if parts else None
            mine: ColumnElement[bool] = scope if scope is not None else true()
            by_status = dict(s.execute(select(Ticket.status, func.count()).where(mine).group_by(Ticket.status)).all())
            per_assignee = s.execute(
                select(Ticket.assignee_id, func.count().label("n"))
                .where(mine, Ticket.status.in_(active), Ticket.assignee_id.is_not(None))
                .group_by(Ticket.assignee_id)
                .order_by(func.count().desc(), Ticket.assignee_id)
                .limit(10)
            ).all()
            unassigned_high = s.scalar(
                select(func.count()).where(
                    mine, Ticket.status.in_(active), Ticket.priority == Priority.HIGH.value, Ticket.assignee_id.is_(None)
                )
            )
            opened = s.scalar(select(func.count()).where(mine, Ticket.created_at >= week_ago))
            moved = finished_between(s, week_ago, scope=scope)
            first = (
                select(TicketEvent.ticket_id, func.min(TicketEvent.created_at).label("at"))
                .where(TicketEvent.kind.in_(RESPONSE_KINDS), TicketEvent.actor_id.in_(sorted(self._system_users)))
                .group_by(TicketEvent.ticket_id)
                .subquery()
            )
            first_response = median(
                s,
                select(seconds_between(s, first.c.at, Ticket.created_at)).join(first, first.c.ticket_id == Ticket.id).where(
                    mine, Ticket.created_at >= window
                ),
            )
            resolution = median(
                s,
                select(seconds_between(s, Ticket.resolved_at, Ticket.created_at)).where(
                    mine, Ticket.resolved_at.is_not(None), Ticket.created_at >= window
                ),
            )
            oldest = s.scalars(select(Ticket).where(mine, Ticket.status.in_(active)).order_by(Ticket.created_at, Ticket.id).limit(1)).first()
            return Summary(
                by_status={st: int(by_status.get(st.value, 0)) for st in Status},
                open_by_priority=_open_by_priority(s, mine),
                open_by_assignee=[(str(a), int(n)) for a, n in per_assignee],
                unassigned_high=int(unassigned_high or 0),
                opened_week=int(opened or 0),
                resolved_week=int(moved.get(Status.RESOLVED.value, 0)),
                closed_week=int(moved.get(Status.CLOSED.value, 0)),
                median_first_response=first_response,
                median_resolution=resolution,
                oldest_open=TicketRecord.of(oldest) if oldest else None,
                team_name=s.scalar(select(Team.name).where(Team.id == team_id)) if team_id is not None else None,
                service=service_figures(s, week_ago, now, scope),
                by_account=_by_account(s, mine, window),
            )


def _by_account(session: Session, scope: ColumnElement[bool], window: datetime, limit: int = 10) -> tuple[AccountFigures, ...]:
    """The customer organisations with cases open or opened since ``window``, busiest first."""
    is_open = Ticket.status.in_([st.value for st in ACTIVE])
    recent = Ticket.created_at >= window
    opened = func.sum(case((recent, 1), else_=0))
    open_now = func.sum(case((is_open, 1), else_=0))
    rows = session.execute(
        select(Ticket.account_id, Account.name, open_now, opened, func.avg(case((recent, Ticket.first_response_seconds))))
        .outerjoin(Account, Account.id == Ticket.account_id)
        .where(scope, Ticket.account_id.is_not(None), or_(is_open, recent))
        .group_by(Ticket.account_id, Account.name)
        .order_by(open_now.desc(), opened.desc(), Ticket.account_id)
        .limit(limit)
    ).all()
    return tuple(
        AccountFigures(str(a), n, int(o or 0), int(r or 0), timedelta(seconds=float(f)) if f is not None else None)
        for a, n, o, r, f in rows
    )


def _open_by_priority(session: Session, scope: ColumnElement[bool]) -> dict[Priority, int]:
    rows = dict(
        session.execute(
            select(Ticket.priority, func.count()).where(scope, Ticket.status.in_([st.value for st in ACTIVE])).group_by(Ticket.priority)
        ).all()
    )
    return {p: int(rows.get(p.value, 0)) for p in Priority}
