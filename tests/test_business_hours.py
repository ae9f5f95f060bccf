"""Business time: days, split hours, holidays, closed periods and both daylight-saving
changes, in New York and Berlin; whole days walked, never minutes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.business_hours import BusinessCalendar, Hours

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)

MON_FRI = range(5)


def calendar(
    zone: str = "America/New_York", hours: tuple[tuple[time, time | None], ...] = ((time(9), time(18)),), **kw: object
) -> BusinessCalendar:
    days = kw.pop("days", MON_FRI)
    holidays = kw.pop("holidays", ())
    return BusinessCalendar.build(zone, days, hours, holidays)  # type: ignore[arg-type]


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


# ---- the Friday 17:55 ticket ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "friday", "monday_utc"),
    [
        # an ordinary weekend
        ("America/New_York", (2026, 1, 9), datetime(2026, 1, 12, 14, 55, tzinfo=UTC)),
        # clocks go forward on Sunday 8 March (EST → EDT)
        ("America/New_York", (2026, 3, 6), datetime(2026, 3, 9, 13, 55, tzinfo=UTC)),
        # clocks go back on Sunday 1 November (EDT → EST)
        ("America/New_York", (2026, 10, 30), datetime(2026, 11, 2, 14, 55, tzinfo=UTC)),
        # forward on Sunday 29 March (CET → CEST)
        ("Europe/Berlin", (2026, 3, 27), datetime(2026, 3, 30, 7, 55, tzinfo=UTC)),
        # back on Sunday 25 October (CEST → CET)
        ("Europe/Berlin", (2026, 10, 23), datetime(2026, 10, 26, 8, 55, tzinfo=UTC)),
    ],
)
def test_friday_1755_with_one_business_hour_is_due_monday_0955(
    zone: str, friday: tuple[int, int, int], monday_utc: datetime
) -> None:
    cal = calendar(zone)
    filed = local(ZoneInfo(zone), *friday, 17, 55)
    due = cal.add(filed, H)
    assert due == monday_utc
    assert due.tzinfo is filed.tzinfo  # answered in the caller's zone
    assert (due.weekday(), due.hour, due.minute) == (0, 9, 55)  # on Monday's clock
    assert cal.between(filed, due) == H
    assert not cal.is_open(due - timedelta(hours=15)) and cal.is_open(due)


def test_holidays_are_skipped() -> None:
    cal = calendar(holidays=[date(2026, 1, 12), date(2026, 1, 13)])  # Monday and Tuesday off
    due = cal.add(local(NY, 2026, 1, 9, 17, 55), H)
    assert due == local(NY, 2026, 1, 14, 9, 55)
    assert cal.between(local(NY, 2026, 1, 9, 12), local(NY, 2026, 1, 14, 12)) == 9 * H  # 6 h Friday, 3 h Wednesday
    assert not cal.is_open(local(NY, 2026, 1, 12, 12))


def test_a_ticket_filed_while_closed_counts_from_the_next_opening() -> None:
    cal = calendar()
    saturday = local(NY, 2026, 1, 10, 10)
    assert cal.add(saturday, H) == local(NY, 2026, 1, 12, 10)
    assert cal.between(saturday, local(NY, 2026, 1, 12, 9)) == timedelta(0)
    early = local(NY, 2026, 1, 13, 7, 30)
    assert cal.add(early, 90 * M) == local(NY, 2026, 1, 13, 10, 30)
    late = local(NY, 2026, 1, 13, 22)
    assert cal.add(late, 9 * H) == local(NY, 2026, 1, 14, 18)  # a whole day, due at its close
    assert cal.next_open(saturday) == local(NY, 2026, 1, 12, 9)
    assert cal.next_open(early) == local(NY, 2026, 1, 13, 9)


def test_a_target_that_ends_at_closing_is_due_at_closing() -> None:
    cal = calendar()
    assert cal.add(local(NY, 2026, 1, 9, 17), H) == local(NY, 2026, 1, 9, 18)
    assert cal.add(local(NY, 2026, 1, 9, 17), H + timedelta(seconds=1)) == local(NY, 2026, 1, 12, 9, 0, 1)


def test_split_business_hours() -> None:
    cal = calendar(hours=((time(9), time(12)), (time(13), time(17, 30))))
    assert cal.add(local(NY, 2026, 1, 6, 11, 30), H) == local(NY, 2026, 1, 6, 13, 30)
    assert cal.add(local(NY, 2026, 1, 6, 12, 15), 30 * M) == local(NY, 2026, 1, 6, 13, 30)  # filed at lunch
    assert cal.between(local(NY, 2026, 1, 6, 8), local(NY, 2026, 1, 6, 20)) == 7.5 * H
    assert cal.between(local(NY, 2026, 1, 5, 0), local(NY, 2026, 1, 12, 0)) == 5 * 7.5 * H
    lunch = local(NY, 2026, 1, 6, 12, 30)
    assert not cal.is_open(lunch)
    assert cal.next_open(lunch) == local(NY, 2026, 1, 6, 13)
    assert cal.next_close(local(NY, 2026, 1, 6, 10)) == local(NY, 2026, 1, 6, 12)
    assert cal.is_open(local(NY, 2026, 1, 6, 12) - timedelta(microseconds=1))
    assert not cal.is_open(local(NY, 2026, 1, 6, 12))  # an interval's end is outside it
    assert cal.is_open(local(NY, 2026, 1, 6, 13))


def test_between_is_signed_and_zero_for_an_instant() -> None:
    cal = calendar()
    a, b = local(NY, 2026, 1, 5, 10), local(NY, 2026, 1, 6, 11)
    assert cal.between(a, b) == 10 * H
    assert cal.between(b, a) == -10 * H
    assert cal.between(a, a) == timedelta(0)
    assert cal.add(a, timedelta(0)) == a


@pytest.mark.parametrize(
    ("zone", "saturday", "hours"),
    [
        ("America/New_York", date(2026, 3, 7), 47),  # the spring weekend lasts 47 hours
        ("America/New_York", date(2026, 10, 31), 49),  # the autumn one 49
        ("Europe/Berlin", date(2026, 3, 28), 47),
        ("Europe/Berlin", date(2026, 10, 24), 49),
    ],
)
def test_round_the_clock_desk_counts_real_time_across_the_change(zone: str, saturday: date, hours: int) -> None:
    cal = calendar(zone, hours=((time(0), None),), days=range(7))
    tz = ZoneInfo(zone)
    start = datetime.combine(saturday, time(), tz)
    end = datetime.combine(saturday + timedelta(days=2), time(), tz)
    assert cal.between(start, end) == hours * H
    assert cal.add(start, hours * H) == end
    assert cal.is_open(start + timedelta(hours=26))


def test_hours_that_meet_the_skipped_and_the_repeated_hour() -> None:
    # 01:00-02:30 New York time: in spring the clock jumps 02:00 → 03:00, in autumn 02:00 → 01:00
    cal = calendar(hours=((time(1), time(2, 30)),), days=range(7))
    assert cal.between(local(NY, 2026, 3, 8, 0), local(NY, 2026, 3, 8, 12)) == H  # 01:00-02:00, then 03:00
    assert cal.between(local(NY, 2026, 11, 1, 0), local(NY, 2026, 11, 1, 12)) == 2.5 * H  # 01:00 twice
    assert cal.between(local(NY, 2026, 3, 9, 0), local(NY, 2026, 3, 9, 12)) == 1.5 * H  # an ordinary day
    # hours that start in the skipped hour open when the clock jumps
    skipped = calendar(hours=((time(2, 30), time(4)),), days=range(7))
    assert skipped.next_open(local(NY, 2026, 3, 8, 0)) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT
    assert skipped.between(local(NY, 2026, 3, 8, 0), local(NY, 2026, 3, 8, 12)) == H


def test_refusals() -> None:
    with pytest.raises(ValueError, match="overlap"):
        calendar(hours=((time(9), time(12)), (time(11), time(17))))
    with pytest.raises(ValueError, match="start before it ends"):
        Hours.of(time(17), time(9))
    with pytest.raises(ValueError, match="days"):
        calendar(days=())
    with pytest.raises(ValueError, match="aware"):
        calendar().add(datetime(2026, 1, 5, 10), H)
    with pytest.raises(ValueError, match="negative"):
        calendar().add(local(NY, 2026, 1, 5, 10), -H)
    every_day_off = calendar(days=[0], holidays=[date(2026, 1, 5) + timedelta(weeks=w) for w in range(400)])
    with pytest.raises(ValueError, match="stays closed"):
        every_day_off.add(local(NY, 2026, 1, 5, 10), H)


def test_long_durations_walk_days_not_minutes() -> None:
    start = local(NY, 2026, 1, 9, 17, 55)
    cal = calendar()
    looked_at: list[date] = []
    original = cal.day_spans

    def counting(day: date) -> tuple[tuple[datetime, datetime], ...]:
        looked_at.append(day)
        return original(day)

    object.__setattr__(cal, "day_spans", counting)
    due = cal.add(start, 72 * H)  # 8 working days of 9 hours
    assert due == local(NY, 2026, 1, 21, 17, 55)
    assert len(looked_at) <= 14  # one look per calendar day on the way


# ---- properties -----------------------------------------------------------------------------

CALENDARS = [
    calendar("America/New_York"),
    calendar("Europe/Berlin", hours=((time(9), time(12)), (time(13), time(17, 30))), holidays=[date(2026, 12, 25)]),
    calendar("Europe/Berlin", hours=((time(0), None),), days=range(7)),
    calendar("America/New_York", hours=((time(1), time(2, 30)), (time(22), None)), days=[0, 2, 6]),
]
instants = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC))
durations = st.integers(min_value=1, max_value=200 * 3600).map(lambda s: timedelta(seconds=s))


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(CALENDARS), instants, durations)
def test_between_undoes_add(cal: BusinessCalendar, start: datetime, duration: timedelta) -> None:
    due = cal.add(start, duration)
    assert due > start
    assert cal.between(start, due) == duration
    assert cal.is_open(due - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(CALENDARS), instants, instants)
def test_add_undoes_between_at_open_instants(cal: BusinessCalendar, a: datetime, b: datetime) -> None:
    start, x = min(a, b), max(a, b)
    elapsed = cal.between(start, x)
    if cal.is_open(x) and elapsed > timedelta(0):
        assert cal.add(start, elapsed) == x
    assert elapsed >= timedelta(0)
    assert elapsed <= x - start  # never more than the time that passed


@settings(max_examples=200, deadline=None, database=None)
@given(st.sampled_from(CALENDARS), instants, instants, instants)
def test_between_adds_up(cal: BusinessCalendar, a: datetime, b: datetime, c: datetime) -> None:
    assert cal.between(a, c) == cal.between(a, b) + cal.between(b, c)
    assert cal.next_open(a) >= a
    assert cal.is_open(cal.next_open(a))
