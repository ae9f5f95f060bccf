"""The SLA clock of one ticket: pure arithmetic over its timeline, in business time.

Given when a ticket was created, first answered, paused (Waiting on the customer) and
resolved, a policy (first response and resolution targets) and the desk's business
calendar, it says when each target is due, how much of it is used, whether and since when
it is breached, and the line a card shows ("first response due in 2 h 10 m",
"resolution breached 35 m ago").

The first response clock runs from creation to the first response. The resolution clock
runs from creation to resolution, stopped while the ticket waits on the customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services.business_hours import BusinessCalendar

ZERO = timedelta(0)
WARNING_SHARE = 0.75  # a warning goes out once this share of a target is used

Pause = tuple[datetime, datetime | None]  # [start, end); end None while still waiting


class Target(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return "first response" if self is Target.FIRST_RESPONSE else "resolution"


@dataclass(frozen=True)
class SlaPolicy:
    """The targets of one priority, in business time."""

    first_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        if self.first_response <= ZERO or self.resolution <= ZERO:
            raise ValueError("SLA targets must be more than 0")

    def allowed(self, target: Target) -> timedelta:
        return self.first_response if target is Target.FIRST_RESPONSE else self.resolution

    def __str__(self) -> str:
        return f"{format_duration(self.first_response)} / {format_duration(self.resolution)}"


@dataclass(frozen=True)
class TicketTimes:
    """What the clock needs of a ticket's timeline (aware datetimes)."""

    created_at: datetime
    first_response_at: datetime | None = None
    # The periods the ticket waited on the customer; the last may still be open (end None).
    paused: Sequence[Pause] = ()
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class TargetState:
    """One target of one ticket as of ``now``."""

    target: Target
    allowed: timedelta
    used: timedelta  # business time counted so far (up to met_at once met)
    due_at: datetime | None  # None while paused and not yet due: it moves with the pause
    warning_at: datetime | None  # when WARNING_SHARE of the target is used (same rule)
    met_at: datetime | None
    paused: bool  # the clock is stopped now (Waiting), and the target is not met

    @property
    def met(self) -> bool:
        return self.met_at is not None

    @property
    def breached(self) -> bool:
        return self.used > self.allowed

    @property
    def breached_at(self) -> datetime | None:
        """The instant the target was breached (its due time), if it was."""
        return self.due_at if self.breached else None

    @property
    def percent(self) -> float:
        """The share of the target used, in percent (past 100 once breached)."""
        return 100 * (self.used / self.allowed)

    @property
    def remaining(self) -> timedelta:
        """Business time left before the target is due (negative once breached)."""
        return self.allowed - self.used

    @property
    def warned(self) -> bool:
        return self.used >= self.allowed * WARNING_SHARE

    def text(self) -> str:
        """The line a card shows, in business time."""
        name = self.target.label
        if self.met:
            if self.breached:
                return f"{name} met {format_duration(-self.remaining)} late"
            return f"{name} met in {format_duration(self.used)}"
        if self.breached:
            over = -self.remaining
            ago = "just now" if over < timedelta(minutes=1) else f"{format_duration(over)} ago"
            return f"{name} breached {ago}" + (" (paused: waiting on the customer)" if self.paused else "")
        left = format_duration(self.remaining, floor=True)
        if self.paused:
            return f"{name} paused (waiting on the customer), {left} left"
        return f"{name} due in {left}"


@dataclass(frozen=True)
class SlaClock:
    first_response: TargetState
    resolution: TargetState

    @property
    def targets(self) -> tuple[TargetState, TargetState]:
        return self.first_response, self.resolution

    @property
    def breached(self) -> bool:
        return any(t.breached for t in self.targets)

    def lines(self) -> list[str]:
        return [t.text() for t in self.targets]


def sla_clock(times: TicketTimes, policy: SlaPolicy, calendar: BusinessCalendar, now: datetime) -> SlaClock:
    """Both targets of a ticket as of ``now``."""
    return SlaClock(
        first_response=target_state(Target.FIRST_RESPONSE, policy, calendar, times.created_at, times.first_response_at, (), now),
        resolution=target_state(Target.RESOLUTION, policy, calendar, times.created_at, times.resolved_at, times.paused, now),
    )


def target_state(
    target: Target,
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    start: datetime,
    met_at: datetime | None,
    pauses: Sequence[Pause],
    now: datetime,
) -> TargetState:
    allowed = policy.allowed(target)
    pauses = normalise_pauses(pauses, start)
    until = met_at if met_at is not None and met_at <= now else now
    met = met_at if met_at is not None and met_at <= now else None
    until = max(until, start)
    paused = met is None and bool(pauses) and _in_pause(pauses, until)
    return TargetState(
        target=target,
        allowed=allowed,
        used=business_elapsed(calendar, start, until, pauses),
        due_at=due_instant(calendar, start, allowed, pauses),
        warning_at=due_instant(calendar, start, allowed * WARNING_SHARE, pauses),
        met_at=met,
        paused=paused,
    )


def normalise_pauses(pauses: Iterable[Pause], start: datetime) -> tuple[Pause, ...]:
    """Pauses sorted, merged where they overlap, clipped to begin at ``start``; only the
    last may be open."""
    ordered = sorted(pauses, key=lambda p: p[0])
    merged: list[Pause] = []
    for number, (begin, end) in enumerate(ordered):
        if end is None and number != len(ordered) - 1:
            raise ValueError("only the last pause may still be open")
        if end is not None and end < begin:
            raise ValueError("a pause ends before it begins")
        begin = max(begin, start)
        if end is not None and end <= begin:
            continue
        if merged and (merged[-1][1] is None or begin <= merged[-1][1]):
            last_begin, last_end = merged[-1]
            merged[-1] = (last_begin, None if end is None or last_end is None else max(last_end, end))
            continue
        merged.append((begin, end))
    return tuple(merged)


def business_elapsed(calendar: BusinessCalendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()) -> timedelta:
    """Business time from ``start`` to ``end``, less the (normalised) pauses."""
    if end <= start:
        return ZERO
    total = calendar.between(start, end)
    for begin, finish in pauses:
        if begin >= end:
            break
        stop = end if finish is None else min(finish, end)
        if stop > begin:
            total -= calendar.between(begin, stop)
    return total


def due_instant(calendar: BusinessCalendar, start: datetime, allowed: timedelta, pauses: Sequence[Pause] = ()) -> datetime | None:
    """The instant ``allowed`` business time, less the (normalised) pauses, has run from
    ``start``; None when an open pause comes first (the time is not known yet)."""
    cursor, left = start, allowed
    for begin, finish in pauses:
        if begin > cursor:
            run = calendar.between(cursor, begin)
            if run >= left:
                return calendar.add(cursor, left)
            left -= run
        if finish is None:
            return None
        cursor = max(cursor, finish)
    return calendar.add(cursor, left)


def _in_pause(pauses: Sequence[Pause], at: datetime) -> bool:
    return any(begin <= at and (end is None or at < end) for begin, end in pauses)


def target_label(span: timedelta) -> str:
    """A target as a rule names it: ``1 business hour``, ``8 business hours``,
    ``30 business minutes``, ``1 h 30 m of business time``."""
    minutes = round(span.total_seconds() / 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} business hour" + ("" if hours == 1 else "s")
    if minutes < 60:
        return f"{minutes} business minute" + ("" if minutes == 1 else "s")
    return f"{format_duration(span)} of business time"


def format_duration(span: timedelta, *, floor: bool = False) -> str:
    """``2 h 10 m``, ``35 m``, ``8 h``; under a minute ``under 1 m``. Rounded to the
    nearest minute, or down with ``floor`` (time left is never overstated)."""
    seconds = span.total_seconds()
    minutes = int(seconds // 60) if floor else int((seconds + 30) // 60)
    if minutes < 1:
        return "under 1 m"
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} m"
    return f"{hours} h {minutes} m" if minutes else f"{hours} h"


# ---- a ticket's stored due times ---------------------------------------------------------


@dataclass(frozen=True)
class DueTimes:
    """What a ticket stores so the sweep can find it by index: each target's due time and
    the instant its warning share is used."""

    first_response_due_at: datetime
    first_response_warn_at: datetime
    resolution_due_at: datetime
    resolution_warn_at: datetime


def due_times(policy: SlaPolicy, calendar: BusinessCalendar, created_at: datetime, paused: timedelta = ZERO) -> DueTimes:
    """The due times of a ticket filed at ``created_at`` whose resolution clock has been
    paused for ``paused`` business time so far (pauses move only the resolution target)."""
    return DueTimes(
        first_response_due_at=calendar.add(created_at, policy.first_response),
        first_response_warn_at=calendar.add(created_at, policy.first_response * WARNING_SHARE),
        resolution_due_at=calendar.add(created_at, policy.resolution + paused),
        resolution_warn_at=calendar.add(created_at, policy.resolution * WARNING_SHARE + paused),
    )


def pause_counted(calendar: BusinessCalendar, paused_at: datetime, resumed_at: datetime, due_at: datetime | None) -> timedelta:
    """The business time a pause moves the resolution target by: all of it, unless the
    target was already breached when the pause began (a breach is not undone by waiting)."""
    if due_at is not None and paused_at >= due_at:
        return ZERO
    return max(ZERO, calendar.between(paused_at, resumed_at))


def due_line(
    target: Target,
    due_at: datetime,
    calendar: BusinessCalendar,
    now: datetime,
    paused_at: datetime | None = None,
) -> str:
    """What a card says of one target not met yet, in business time: ``First response due
    in 2 h 10 m``, ``Resolution breached 35 m ago``, ``Resolution paused (waiting on the
    customer), 5 h left``. ``paused_at``: the clock stopped then (Waiting)."""
    name = target.label.capitalize()
    until = now if paused_at is None else min(paused_at, now)
    left = calendar.between(until, due_at)
    if left > ZERO:
        if paused_at is not None:
            return f"{name} paused (waiting on the customer), {format_duration(left, floor=True)} left"
        return f"{name} due in {format_duration(left, floor=True)}"
    over = -left
    if over >= timedelta(minutes=1):
        ago = f" {format_duration(over)} ago"
    else:  # under a business minute: just now, or the desk has been closed since
        ago = " just now" if until - due_at < timedelta(minutes=1) else ""
    return f"{name} breached{ago}" + (" (paused: waiting on the customer)" if paused_at is not None else "")
