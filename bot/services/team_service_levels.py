"""A team's own service levels: its business calendar (time zone, working days, hours,
holidays) and its SLA targets per priority, each overriding the desk's when set.

Admins write them in the team's modal in the same forms as the desk's settings
(``Europe/Berlin``, ``mon-fri``, ``09:00-12:00,13:00-17:00``, ``2026-12-24``, ``1h/8h``);
they are checked by the same parsers, stored as written (trimmed), and read back into a
ServiceLevels whenever a ticket of the team gets its due times: at filing, when it moves
to the team, when its priority changes and when a wait on the customer ends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import lru_cache, partial
from typing import overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.business_hours import BusinessCalendar
from bot.services.sla import SlaPolicy
from bot.services.status import Priority
from bot.settings.service_levels import (
    DEFAULT_POLICIES,
    ServiceLevels,
    business_days,
    business_hours,
    holiday_dates,
    sla_policy,
    timezone_name,
)
from bot.settings.values import ConfigError
from db.models import TeamServiceLevels

log = logging.getLogger(__name__)

# The modal's inputs, by what they hold.
TIMEZONE, DAYS, HOURS, HOLIDAYS = "sla_timezone", "sla_days", "sla_hours", "sla_holidays"
POLICY_INPUTS: dict[Priority, str] = {p: f"sla_{p.value}" for p in Priority}
# As the columns hold them (a target's, 40: the policy columns).
MAX_LENGTHS = {TIMEZONE: 64, DAYS: 80, HOURS: 200, HOLIDAYS: 2000}
LABELS = {TIMEZONE: "Time zone", DAYS: "Working days", HOURS: "Working hours", HOLIDAYS: "Holidays"} | {
    block: f"{p.label} priority targets" for p, block in POLICY_INPUTS.items()
}


@dataclass(frozen=True)
class TeamLevels:
    """A team's overrides as written; "" keeps the desk's."""

    timezone: str = ""
    days: str = ""
    hours: str = ""
    holidays: str = ""
    policies: dict[Priority, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.timezone or self.days or self.hours or self.holidays or any(self.policies.values()))

    def policy(self, priority: Priority) -> str:
        return self.policies.get(priority, "")

    def key(self) -> tuple[str, ...]:
        return (self.timezone, self.days, self.hours, self.holidays, *(self.policy(p) for p in Priority))

    def summary(self) -> str:
        """One line for the Admin section and the doctor: only what the team overrides."""
        parts = [p for p in (self.timezone, self.days, self.hours) if p]
        if self.holidays:
            count = len(self.holidays.split(","))
            parts.append(f"{count} holiday{'s' if count != 1 else ''}")
        parts += [f"{p.label} {self.policy(p)}" for p in Priority if self.policy(p)]
        return ", ".join(parts)


def check_team_levels(written: TeamLevels) -> tuple[TeamLevels, dict[str, str]]:
    """The overrides trimmed and the holidays in date order, and what is wrong with them:
    {modal input: the problem}, by the rules the desk's settings follow (hours that overlap
    or end before they start, a date that is not one, a target of 0 or less)."""
    errors: dict[str, str] = {}

    def read(block: str, check: Callable[[], object]) -> None:
        try:
            check()
        except ConfigError as err:
            errors[block] = str(err)

    zone, days, hours = written.timezone.strip(), written.days.strip().lower(), written.hours.strip()
    if zone:
        try:
            timezone_name({"TIMEZONE": zone})
        except ConfigError:
            errors[TIMEZONE] = "Time zone is not one: expected an IANA time zone such as Europe/London, or leave it empty."
    if days:
        read(DAYS, lambda: business_days(days, LABELS[DAYS]))
    if hours:
        read(HOURS, lambda: business_hours(hours, LABELS[HOURS]))
    found: frozenset[date] = frozenset()
    if written.holidays.strip():
        try:
            found = holiday_dates(written.holidays.replace("\n", ","), LABELS[HOLIDAYS])
        except ConfigError as err:
            errors[HOLIDAYS] = str(err)
    policies: dict[Priority, str] = {}
    for priority, block in POLICY_INPUTS.items():
        text = written.policy(priority).strip().lower().replace(" ", "")
        if text:
            read(block, partial(sla_policy, text, LABELS[block], DEFAULT_POLICIES[priority]))
            policies[priority] = text
    holidays = ",".join(d.isoformat() for d in sorted(found))
    return TeamLevels(zone, days, hours, holidays, policies), errors


def read_team_levels(session: Session, team_id: int) -> TeamLevels:
    row = session.get(TeamServiceLevels, team_id)
    return _of(row) if row is not None else TeamLevels()


def all_team_levels(session: Session) -> dict[int, TeamLevels]:
    return {row.team_id: _of(row) for row in session.scalars(select(TeamServiceLevels))}


def store_team_levels(session: Session, team_id: int, levels: TeamLevels, now: datetime) -> tuple[str, str] | None:
    """Store a team's overrides (checked already); (before, after) as summaries when they
    changed, for the audit trail."""
    row = session.get(TeamServiceLevels, team_id)
    before = _of(row) if row is not None else TeamLevels()
    if before.key() == levels.key():
        return None
    if levels.empty:
        if row is not None:
            session.delete(row)
    else:
        if row is None:
            row = TeamServiceLevels(team_id=team_id)
            session.add(row)
        row.timezone, row.days, row.hours = levels.timezone or None, levels.days or None, levels.hours or None
        row.holidays = levels.holidays or None
        row.policy_high = levels.policy(Priority.HIGH) or None
        row.policy_medium = levels.policy(Priority.MEDIUM) or None
        row.policy_low = levels.policy(Priority.LOW) or None
        row.updated_at = now
    return before.summary() or "the desk's", levels.summary() or "the desk's"


@overload
def team_levels(session: Session, team_id: int | None, desk: ServiceLevels) -> ServiceLevels: ...
@overload
def team_levels(session: Session, team_id: int | None, desk: None) -> None: ...
def team_levels(session: Session, team_id: int | None, desk: ServiceLevels | None) -> ServiceLevels | None:
    """The service levels of a team's tickets: the desk's ``desk`` with the team's
    overrides (``desk`` itself for no team, none set, or no service levels at all)."""
    if desk is None or team_id is None:
        return desk
    row = session.get(TeamServiceLevels, team_id)
    if row is None:
        return desk
    return merged(desk, _of(row))


def merged(desk: ServiceLevels, team: TeamLevels) -> ServiceLevels:
    policies = dict(desk.policies)
    for priority in Priority:
        written = team.policy(priority)
        if written:
            policies[priority] = _policy(written, policies[priority])
    return replace(desk, calendar=_calendar(desk.calendar, team.timezone, team.days, team.hours, team.holidays), policies=policies)


@lru_cache(maxsize=256)
def _calendar(desk: BusinessCalendar, zone: str, days: str, hours: str, holidays: str) -> BusinessCalendar:
    """One calendar per team's overrides, kept: it remembers the days it has worked out."""
    if not (zone or days or hours or holidays):
        return desk
    try:
        return BusinessCalendar(
            zone or desk.timezone,
            business_days(days) if days else desk.days,
            business_hours(hours) if hours else desk.hours,
            holiday_dates(holidays) if holidays else desk.holidays,
        )
    except (ConfigError, ValueError):  # stored before a check this version makes: the desk's then
        log.warning("a team's business calendar cannot be read; the desk's is used")
        return desk


@lru_cache(maxsize=256)
def _policy(written: str, desk: SlaPolicy) -> SlaPolicy:
    try:
        return sla_policy(written, "team policy", desk)
    except ConfigError:
        log.warning("a team's SLA policy cannot be read; the desk's is used")
        return desk


def _of(row: TeamServiceLevels) -> TeamLevels:
    policies = {Priority.HIGH: row.policy_high or "", Priority.MEDIUM: row.policy_medium or "", Priority.LOW: row.policy_low or ""}
    return TeamLevels(row.timezone or "", row.days or "", row.hours or "", row.holidays or "", {p: v for p, v in policies.items() if v})
