"""Service-level settings: business days, hours and holidays, the SLA targets per
priority, auto-close and satisfaction surveys.

Every problem is one line naming the setting; as with every setting, the value itself is
never echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.business_hours import WEEKDAYS, BusinessCalendar, Hours
from bot.services.sla import SlaPolicy
from bot.services.status import Priority
from bot.settings.values import ConfigError, Problems, listed

POLICY_PREFIX = "SLA_POLICY_"
DEFAULT_DAYS = "mon-fri"
DEFAULT_HOURS = "09:00-17:00"
DEFAULT_POLICIES: dict[Priority, SlaPolicy] = {
    Priority.HIGH: SlaPolicy(timedelta(hours=1), timedelta(hours=8)),
    Priority.MEDIUM: SlaPolicy(timedelta(hours=4), timedelta(hours=24)),
    Priority.LOW: SlaPolicy(timedelta(hours=8), timedelta(hours=72)),
}
DEFAULT_AUTO_CLOSE_DAYS = 7.0
DEFAULT_WAITING_CLOSE_DAYS = 14.0
DEFAULT_CSAT_SAMPLE = 1.0
DEFAULT_CSAT_COOLDOWN_DAYS = 30.0
DEFAULT_AUTO_CLOSE_WARN_DAYS = 2.0
DEFAULT_CSAT_LINK_DAYS = 14.0

_DAY_NAMES = {name: i for i, name in enumerate(WEEKDAYS)} | {
    full: i for i, full in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TARGET = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+)m)?$")

DAYS_EXPECTED = "days such as mon-fri or mon,tue,wed"
HOURS_EXPECTED = "start-end times such as 09:00-17:30 or 09:00-12:00,13:00-17:30"
HOLIDAYS_EXPECTED = "comma-separated dates such as 2026-12-25,2027-01-01"
POLICY_EXPECTED = "first response/resolution targets in business hours such as 1h/8h or 30m/4h"


@dataclass(frozen=True)
class ServiceLevels:
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    policies: Mapping[Priority, SlaPolicy] = field(default_factory=lambda: dict(DEFAULT_POLICIES))
    # A Resolved ticket with no reply for this long is closed (after a warning).
    auto_close_days: float = DEFAULT_AUTO_CLOSE_DAYS
    # A ticket Waiting on the customer for this long is closed the same way.
    waiting_close_days: float = DEFAULT_WAITING_CLOSE_DAYS
    # The share of resolved tickets whose requester is asked "How did we do?" (0 to 1).
    csat_sample: float = DEFAULT_CSAT_SAMPLE
    # A requester asked once is not asked again for this long (0: asked every time).
    csat_cooldown_days: float = DEFAULT_CSAT_COOLDOWN_DAYS
    # The requester is told this long before an automatic close ("closes in 2 days unless you reply").
    auto_close_warn_days: float = DEFAULT_AUTO_CLOSE_WARN_DAYS
    # How long a mailed survey's rating links stay good.
    csat_link_days: float = DEFAULT_CSAT_LINK_DAYS

    def policy(self, priority: str) -> SlaPolicy:
        return self.policies[Priority(priority)]


def service_level_settings(
    env: Mapping[str, str], *, timezone: str | None = None, problems: Problems | None = None
) -> ServiceLevels:
    """ServiceLevels from the environment, or ConfigErrors listing every problem, one line
    each. ``timezone`` is the desk's TIMEZONE when it has been read already (it is read
    from ``env`` otherwise). ``problems``: the caller's list, to which every problem is
    added (nothing is raised then: the caller raises them all together)."""
    p = problems if problems is not None else Problems()
    zone = timezone if timezone is not None else p.read(lambda: timezone_name(env), "UTC")
    days = p.read(lambda: business_days(env.get("BUSINESS_DAYS")), frozenset(range(5)))
    default_hours: tuple[Hours, ...] = (Hours.of(time(9), time(17)),)
    hours = p.read(lambda: business_hours(env.get("BUSINESS_HOURS")), default_hours)
    holidays = p.read(lambda: holiday_dates(env.get("HOLIDAYS")), frozenset[date]())
    policies = p.read(lambda: sla_policies(env), dict(DEFAULT_POLICIES))
    levels = ServiceLevels(
        calendar=BusinessCalendar(zone, days, hours, holidays),
        policies=policies,
        auto_close_days=p.read(lambda: _days(env, "AUTO_CLOSE_DAYS", DEFAULT_AUTO_CLOSE_DAYS), DEFAULT_AUTO_CLOSE_DAYS),
        waiting_close_days=p.read(
            lambda: _days(env, "WAITING_CLOSE_DAYS", DEFAULT_WAITING_CLOSE_DAYS), DEFAULT_WAITING_CLOSE_DAYS
        ),
        csat_sample=p.read(lambda: _share(env, "CSAT_SAMPLE", DEFAULT_CSAT_SAMPLE), DEFAULT_CSAT_SAMPLE),
        csat_cooldown_days=p.read(
            lambda: _days(env, "CSAT_COOLDOWN_DAYS", DEFAULT_CSAT_COOLDOWN_DAYS, zero="asked every time"),
            DEFAULT_CSAT_COOLDOWN_DAYS,
        ),
        csat_link_days=p.read(lambda: _days(env, "CSAT_LINK_DAYS", DEFAULT_CSAT_LINK_DAYS), DEFAULT_CSAT_LINK_DAYS),
    )
    warn = p.read(lambda: _warn_days(env, levels), DEFAULT_AUTO_CLOSE_WARN_DAYS)
    levels = replace(levels, auto_close_warn_days=warn)
    if problems is None:
        p.raise_any()
    return levels


# ---- business time ----------------------------------------------------------------------


def business_days(raw: str | None, name: str = "BUSINESS_DAYS") -> frozenset[int]:
    """``mon-fri``, ``mon,tue,wed``, ``sun-thu`` (a range may wrap round the week)."""
    parts = listed((raw or "").strip().lower() or DEFAULT_DAYS)
    days: set[int] = set()
    for part in parts:
        first, sep, last = (s.strip() for s in part.partition("-"))
        if first not in _DAY_NAMES or (sep and last not in _DAY_NAMES):
            raise ConfigError(f"{name} is malformed: expected {DAYS_EXPECTED}")
        start, end = _DAY_NAMES[first], _DAY_NAMES[last] if sep else _DAY_NAMES[first]
        days.update((start + i) % 7 for i in range((end - start) % 7 + 1))
    return frozenset(days)


def business_hours(raw: str | None, name: str = "BUSINESS_HOURS") -> tuple[Hours, ...]:
    """``09:00-17:30`` or ``09:00-12:00,13:00-17:30``; 24:00 ends a day."""
    parts = listed((raw or "").strip() or DEFAULT_HOURS)
    intervals: list[tuple[int, Hours]] = []
    for number, part in enumerate(parts, start=1):
        first, sep, last = (s.strip() for s in part.partition("-"))
        start, end = _clock(first), _clock(last) if sep else None
        if start is None or end is None or start == timedelta(days=1):
            raise ConfigError(f"{name} is malformed: expected {HOURS_EXPECTED}")
        if end <= start:
            raise ConfigError(f"{name} is malformed: interval {number} does not end after it starts; expected {HOURS_EXPECTED}")
        intervals.append((number, Hours(start, end)))
    intervals.sort(key=lambda item: item[1].start)
    for (n1, before), (n2, after) in zip(intervals, intervals[1:], strict=False):
        if after.start < before.end:
            a, b = sorted((n1, n2))
            raise ConfigError(f"{name} is malformed: intervals {a} and {b} overlap; expected {HOURS_EXPECTED}")
    return tuple(hours for _, hours in intervals)


def _clock(text: str) -> timedelta | None:
    match = _CLOCK.match(text)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return timedelta(hours=hour, minutes=minute)


def holiday_dates(raw: str | None, name: str = "HOLIDAYS") -> frozenset[date]:
    found = set()
    for number, part in enumerate(listed(raw), start=1):
        try:
            if not _ISO_DATE.match(part):
                raise ValueError(part)
            found.add(date.fromisoformat(part))
        except ValueError:
            raise ConfigError(f"{name} is malformed: item {number} is not a date; expected {HOLIDAYS_EXPECTED}") from None
    return frozenset(found)


def timezone_name(env: Mapping[str, str]) -> str:
    """TIMEZONE, checked against the IANA database (UTC when unset)."""
    timezone = (env.get("TIMEZONE") or "").strip() or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TIMEZONE is malformed: expected an IANA time zone such as Europe/London") from None
    return timezone


# ---- targets ------------------------------------------------------------------------------


def policy_name(priority: Priority) -> str:
    return POLICY_PREFIX + priority.name


def sla_policies(env: Mapping[str, str]) -> dict[Priority, SlaPolicy]:
    known = {policy_name(p) for p in Priority}
    for name in sorted(env):
        if name.startswith(POLICY_PREFIX) and name not in known:
            names = ", ".join(policy_name(p) for p in Priority)
            raise ConfigError(f"{name} is not a setting: SLA policies are set per priority, as {names}")
    return {p: sla_policy(env.get(policy_name(p)), policy_name(p), DEFAULT_POLICIES[p]) for p in Priority}


def sla_policy(raw: str | None, name: str, default: SlaPolicy) -> SlaPolicy:
    """``1h/8h``: the first response and the resolution targets, in business time."""
    text = (raw or "").strip().lower().replace(" ", "")
    if not text:
        return default
    first, sep, last = text.partition("/")
    if not sep:
        raise ConfigError(f"{name} is malformed: expected {POLICY_EXPECTED}")
    targets = [_target(part, name) for part in (first, last)]
    if targets[0] > targets[1]:
        raise ConfigError(f"{name} is malformed: the first response target is longer than the resolution target")
    return SlaPolicy(targets[0], targets[1])


def _target(text: str, name: str) -> timedelta:
    negative = text.startswith("-")
    match = _TARGET.match(text.lstrip("-"))
    if not match or not (match[1] or match[2]):
        raise ConfigError(f"{name} is malformed: expected {POLICY_EXPECTED}")
    value = timedelta(hours=float(match[1] or 0), minutes=int(match[2] or 0))
    if negative or value <= timedelta(0):
        raise ConfigError(f"{name} is malformed: targets must be more than 0; expected {POLICY_EXPECTED}")
    return value


# ---- the customer loop ----------------------------------------------------------------------


def _days(env: Mapping[str, str], name: str, default: float, *, zero: str | None = None) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    expected = f"a number of days such as {default:g}" + (f", or 0 ({zero})" if zero else "")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} is malformed: expected {expected}") from None
    if value != value or value in (float("inf"), float("-inf")) or value < 0 or (value == 0 and not zero):
        raise ConfigError(f"{name} is malformed: expected {expected}" + ("" if zero else " (more than 0)"))
    return value


def _warn_days(env: Mapping[str, str], levels: ServiceLevels) -> float:
    """The warning's lead: a close must leave time to warn first."""
    warn = _days(env, "AUTO_CLOSE_WARN_DAYS", DEFAULT_AUTO_CLOSE_WARN_DAYS)
    if warn >= min(levels.auto_close_days, levels.waiting_close_days):
        raise ConfigError(
            "AUTO_CLOSE_WARN_DAYS is malformed: expected fewer days than AUTO_CLOSE_DAYS and WAITING_CLOSE_DAYS"
        )
    return warn


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise ConfigError(f"{name} is malformed: expected a share from 0 to 1 such as 0.25 (0: never, 1: every ticket)")
    return value
