"""Business time: working days and hours in a time zone, with holidays.

Pure arithmetic, no I/O. Every day is worked out in its local wall time and turned into
instants with zoneinfo, so a daylight-saving change never shifts the opening hours: a desk
open 09:00-18:00 opens at 09:00 on the clock on both sides of the change.

The open periods are walked a day (and an interval) at a time, never minute by minute, so
adding 72 business hours costs a dozen steps.

How an interval meets a daylight-saving change (only for hours set around 01:00-03:00):
an interval runs from the first instant the wall clock shows its start to the last
instant it shows its end; a wall time that does not exist (the hour skipped in spring)
stands for the instant the clock jumps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = timedelta(days=1)
ZERO = timedelta(0)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar that never opens again (every day a holiday) is refused, not walked forever.
MAX_CLOSED_DAYS = 3 * 366
_CACHE_DAYS = 4096

Span = tuple[datetime, datetime]  # [start, end) in UTC


@dataclass(frozen=True)
class Hours:
    """One daily open interval, as offsets from local midnight (24:00 is the day's end)."""

    start: timedelta
    end: timedelta

    def __post_init__(self) -> None:
        if not ZERO <= self.start < self.end <= DAY:
            raise ValueError("an interval must start before it ends, within 00:00-24:00")

    @classmethod
    def of(cls, start: time, end: time | None) -> Hours:
        """From wall times; ``end=None`` stands for 24:00."""
        return cls(_offset(start), DAY if end is None else _offset(end))

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


@dataclass(frozen=True)
class BusinessCalendar:
    """When the desk is open: ``days`` (0 = Monday … 6 = Sunday), each with the same daily
    ``hours`` (one or more intervals, e.g. 09:00-12:00 and 13:00-17:30) in ``timezone``,
    except on ``holidays`` (local dates)."""

    timezone: str = "UTC"
    days: frozenset[int] = frozenset(range(5))
    hours: tuple[Hours, ...] = (Hours(timedelta(hours=9), timedelta(hours=17)),)
    holidays: frozenset[date] = frozenset()
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _spans: dict[date, tuple[Span, ...]] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", ZoneInfo(self.timezone))
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError("days must be a non-empty set of weekdays 0-6")
        if not self.hours:
            raise ValueError("at least one interval of hours is needed")
        ordered = tuple(sorted(self.hours, key=lambda h: h.start))
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.start < before.end:
                raise ValueError(f"intervals {before} and {after} overlap")
        object.__setattr__(self, "hours", ordered)

    @classmethod
    def build(
        cls,
        timezone: str,
        days: Iterable[int],
        hours: Iterable[tuple[time, time | None]],
        holidays: Iterable[date] = (),
    ) -> BusinessCalendar:
        return cls(timezone, frozenset(days), tuple(Hours.of(s, e) for s, e in hours), frozenset(holidays))

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    # ---- the questions ----------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        moment = _utc(at)
        start, end = next(self._spans_from(moment))
        return start <= moment < end

    def next_open(self, at: datetime) -> datetime:
        """``at`` if the desk is open then, else the instant it next opens."""
        moment = _utc(at)
        start, _ = next(self._spans_from(moment))
        return max(start, moment).astimezone(at.tzinfo)

    def next_close(self, at: datetime) -> datetime:
        """The end of the open period that ``at`` is in, or of the next one."""
        _, end = next(self._spans_from(_utc(at)))
        return end.astimezone(at.tzinfo)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has elapsed after ``start``.

        Counting begins at ``start`` if the desk is open then, else at its next opening; a
        duration that ends exactly at a closing is due at that closing. The answer is in
        ``start``'s time zone."""
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        moment = _utc(start)
        if not duration:
            return start
        left = duration
        for span_start, span_end in self._spans_from(moment):
            open_from = max(span_start, moment)
            length = span_end - open_from
            if left <= length:
                return (open_from + left).astimezone(start.tzinfo)
            left -= length
        raise AssertionError("unreachable")  # pragma: no cover

    def between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
        first, last = _utc(a), _utc(b)
        if last < first:
            return -self.between(b, a)
        total = ZERO
        for span_start, span_end in self._spans_from(first):
            if span_start >= last:
                break
            total += min(span_end, last) - max(span_start, first)
        return total

    def open_spans(self, a: datetime, b: datetime) -> Iterator[Span]:
        """The open periods overlapping [a, b), clipped to it, in UTC."""
        first, last = _utc(a), _utc(b)
        for span_start, span_end in self._spans_from(first):
            if span_start >= last:
                return
            yield max(span_start, first), min(span_end, last)

    # ---- the walk -----------------------------------------------------------------------

    def _spans_from(self, moment: datetime) -> Iterator[Span]:
        """Every open period that ends after ``moment``, in order, without end."""
        day = moment.astimezone(self._tz).date() - DAY  # the day before: its hours may reach past midnight
        closed_days = 0
        last_end: datetime | None = None
        while True:
            spans = self.day_spans(day)
            day += DAY
            if not spans:
                closed_days += 1
                if closed_days > MAX_CLOSED_DAYS:
                    raise ValueError(f"the calendar stays closed for more than {MAX_CLOSED_DAYS} days")
                continue
            closed_days = 0
            for start, end in spans:
                if last_end is not None and start < last_end:
                    start = last_end  # never count an instant twice (a clock turned back)
                if end <= moment or end <= start:
                    continue
                last_end = end
                yield start, end

    def day_spans(self, day: date) -> tuple[Span, ...]:
        """The open periods of one local date, in UTC (none on a closed day or holiday)."""
        cached = self._spans.get(day)
        if cached is not None:
            return cached
        spans: tuple[Span, ...] = ()
        if day.weekday() in self.days and day not in self.holidays:
            midnight = datetime.combine(day, time())
            found = []
            for hours in self.hours:
                start = self._instant(midnight + hours.start, first=True)
                end = self._instant(midnight + hours.end, first=hours.end == DAY)
                if start < end:
                    found.append((start, end))
            spans = tuple(found)
        if len(self._spans) >= _CACHE_DAYS:
            self._spans.clear()
        self._spans[day] = spans
        return spans

    def _instant(self, wall: datetime, *, first: bool) -> datetime:
        """The UTC instant of a local wall time: its first occurrence (``first``) or its last
        when the clock was turned back; the jump itself when the clock skipped it."""
        aware = wall.replace(tzinfo=self._tz, fold=0 if first else 1)
        instant = aware.astimezone(UTC)
        if instant.astimezone(self._tz).replace(tzinfo=None) == wall:
            return instant
        # Skipped: fold 1 reads it with the offset after the jump (earlier), fold 0 with the
        # one before (later); the jump, the first instant whose wall time is past it, lies
        # between. Found to the second (zone changes fall on whole seconds).
        early = wall.replace(tzinfo=self._tz, fold=1).astimezone(UTC)
        late = wall.replace(tzinfo=self._tz, fold=0).astimezone(UTC)
        early, late = min(early, late), max(early, late)
        low, high = 0, int((late - early).total_seconds())
        while low < high:
            middle = (low + high) // 2
            if (early + timedelta(seconds=middle)).astimezone(self._tz).replace(tzinfo=None) >= wall:
                high = middle
            else:
                low = middle + 1
        return early + timedelta(seconds=low)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("an aware datetime is needed (with a time zone)")
    return at.astimezone(UTC)


def _offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)


def _clock(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
