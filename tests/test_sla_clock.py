"""The SLA clock with frozen instants: due times, pauses while Waiting, breaches and the
card's line, across a weekend, a holiday and both daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.business_hours import BusinessCalendar
from bot.services.sla import (
    SlaPolicy,
    Target,
    TicketTimes,
    business_elapsed,
    due_instant,
    format_duration,
    normalise_pauses,
    sla_clock,
    target_label,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)
HIGH = SlaPolicy(1 * H, 8 * H)
MEDIUM = SlaPolicy(4 * H, 24 * H)

# Monday to Friday, 09:00-18:00 New York time; Monday 19 January 2026 (MLK day) off
DESK = BusinessCalendar.build("America/New_York", range(5), [(time(9), time(18))], [date(2026, 1, 19)])


def ny(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_friday_1755_high_ticket_breaches_monday_0955() -> None:
    times = TicketTimes(created_at=ny(1, 9, 17, 55))
    before = sla_clock(times, HIGH, DESK, ny(1, 9, 17, 58))
    assert before.first_response.due_at == ny(1, 12, 9, 55)
    assert before.first_response.text() == "first response due in 57 m"
    assert before.first_response.percent == pytest.approx(5)

    # Sunday: the weekend counts for nothing
    sunday = sla_clock(times, HIGH, DESK, ny(1, 11, 23))
    assert sunday.first_response.used == 5 * M
    assert sunday.first_response.text() == "first response due in 55 m"
    assert not sunday.breached

    at_due = sla_clock(times, HIGH, DESK, ny(1, 12, 9, 55))
    assert not at_due.first_response.breached and at_due.first_response.percent == 100

    after = sla_clock(times, HIGH, DESK, ny(1, 12, 9, 56))
    assert after.first_response.breached and after.breached
    assert after.first_response.breached_at == ny(1, 12, 9, 55)
    assert after.first_response.text() == "first response breached 1 m ago"
    later = sla_clock(times, HIGH, DESK, ny(1, 12, 10, 30))
    assert later.first_response.text() == "first response breached 35 m ago"
    assert later.first_response.percent == pytest.approx(100 * 95 / 60)


def test_warning_at_three_quarters() -> None:
    times = TicketTimes(created_at=ny(1, 9, 17, 55))
    state = sla_clock(times, HIGH, DESK, ny(1, 12, 9, 39)).first_response
    assert state.warning_at == ny(1, 12, 9, 40)  # 45 business minutes
    assert not state.warned
    assert sla_clock(times, HIGH, DESK, ny(1, 12, 9, 40)).first_response.warned


def test_a_holiday_monday_moves_the_due_time_to_tuesday() -> None:
    times = TicketTimes(created_at=ny(1, 16, 17, 55))  # the Friday before MLK day
    clock = sla_clock(times, HIGH, DESK, ny(1, 19, 12))
    assert clock.first_response.due_at == ny(1, 20, 9, 55)
    assert clock.first_response.text() == "first response due in 55 m"
    assert clock.resolution.due_at == ny(1, 20, 16, 55)  # 5 m Friday, 7 h 55 m Tuesday


@pytest.mark.parametrize(
    ("zone", "friday", "monday_due_utc"),
    [
        (NY, datetime(2026, 3, 6, 17, 55), datetime(2026, 3, 9, 13, 55, tzinfo=UTC)),  # EST → EDT
        (NY, datetime(2026, 10, 30, 17, 55), datetime(2026, 11, 2, 14, 55, tzinfo=UTC)),  # EDT → EST
        (BERLIN, datetime(2026, 3, 27, 17, 55), datetime(2026, 3, 30, 7, 55, tzinfo=UTC)),  # CET → CEST
        (BERLIN, datetime(2026, 10, 23, 17, 55), datetime(2026, 10, 26, 8, 55, tzinfo=UTC)),  # CEST → CET
    ],
)
def test_daylight_saving_weekends(zone: ZoneInfo, friday: datetime, monday_due_utc: datetime) -> None:
    desk = BusinessCalendar.build(str(zone), range(5), [(time(9), time(18))])
    created = friday.replace(tzinfo=zone)
    times = TicketTimes(created_at=created)
    breach = monday_due_utc + 35 * M
    clock = sla_clock(times, HIGH, desk, breach)
    assert clock.first_response.due_at == monday_due_utc
    assert clock.first_response.text() == "first response breached 35 m ago"
    # on the wall clock that is Monday 10:30 whatever the offset did over the weekend
    assert breach.astimezone(zone).replace(tzinfo=None) == (friday + timedelta(days=3)).replace(hour=10, minute=30)
    # answered in time on Monday: met, 55 + 5 minutes used
    answered = TicketTimes(created_at=created, first_response_at=monday_due_utc - 10 * M)
    met = sla_clock(answered, HIGH, desk, breach).first_response
    assert met.met and not met.breached and met.used == 50 * M
    assert met.text() == "first response met in 50 m"


def test_waiting_pauses_the_resolution_clock_only() -> None:
    created = ny(1, 5, 9)  # Monday 09:00
    times = TicketTimes(
        created_at=created,
        first_response_at=ny(1, 5, 9, 30),
        paused=[(ny(1, 5, 11), ny(1, 6, 11))],  # Waiting from Monday 11:00 to Tuesday 11:00
    )
    clock = sla_clock(times, HIGH, DESK, ny(1, 6, 12))
    # 2 h Monday + 1 h Tuesday: the 9 business hours waited do not count
    assert clock.resolution.used == 3 * H
    assert clock.resolution.due_at == ny(1, 6, 17)  # 2 h Monday, then 6 h from Tuesday 11:00
    assert clock.resolution.text() == "resolution due in 5 h"
    assert clock.first_response.text() == "first response met in 30 m"
    assert clock.lines() == ["first response met in 30 m", "resolution due in 5 h"]


def test_still_waiting_the_due_time_is_not_known() -> None:
    times = TicketTimes(created_at=ny(1, 5, 9), first_response_at=ny(1, 5, 9, 10), paused=[(ny(1, 5, 16), None)])
    state = sla_clock(times, HIGH, DESK, ny(1, 7, 15)).resolution
    assert state.paused and state.due_at is None and state.warning_at == ny(1, 5, 15)
    assert state.used == 7 * H
    assert state.text() == "resolution paused (waiting on the customer), 1 h left"
    # waiting since before the warning was due: neither time is known until the customer answers
    early = TicketTimes(created_at=ny(1, 5, 9), paused=[(ny(1, 5, 14), None)])
    state_early = sla_clock(early, HIGH, DESK, ny(1, 7, 15)).resolution
    assert state_early.due_at is None and state_early.warning_at is None and not state_early.warned
    # the customer answered: the clock runs again from their message
    resumed = TicketTimes(created_at=times.created_at, paused=[(ny(1, 5, 16), ny(1, 7, 15))])
    state = sla_clock(resumed, HIGH, DESK, ny(1, 7, 15)).resolution
    assert not state.paused and state.due_at == ny(1, 7, 16)


def test_breached_before_waiting_stays_breached_and_stops_growing() -> None:
    times = TicketTimes(created_at=ny(1, 5, 9), first_response_at=ny(1, 5, 9, 5), paused=[(ny(1, 6, 9, 30), None)])
    state = sla_clock(times, HIGH, DESK, ny(1, 8, 12)).resolution
    assert state.breached and state.breached_at == ny(1, 5, 17)
    assert state.text() == "resolution breached 1 h 30 m ago (paused: waiting on the customer)"


def test_resolved_late_and_in_time() -> None:
    late = TicketTimes(created_at=ny(1, 5, 9), first_response_at=ny(1, 5, 11), resolved_at=ny(1, 6, 10))
    clock = sla_clock(late, HIGH, DESK, ny(2, 1, 12))
    assert clock.first_response.text() == "first response met 1 h late"
    assert clock.resolution.text() == "resolution met 2 h late"
    assert clock.resolution.breached_at == ny(1, 5, 17)
    early = TicketTimes(created_at=ny(1, 5, 9), first_response_at=ny(1, 5, 9, 20), resolved_at=ny(1, 5, 13, 45))
    clock = sla_clock(early, MEDIUM, DESK, ny(2, 1, 12))
    assert clock.lines() == ["first response met in 20 m", "resolution met in 4 h 45 m"]
    assert not clock.breached


def test_a_resolution_recorded_after_now_is_not_met_yet() -> None:
    times = TicketTimes(created_at=ny(1, 5, 9), resolved_at=ny(1, 5, 15))
    state = sla_clock(times, HIGH, DESK, ny(1, 5, 12)).resolution
    assert not state.met and state.used == 3 * H


def test_pauses_are_sorted_merged_and_clipped() -> None:
    created = ny(1, 5, 9)
    pauses = normalise_pauses(
        [(ny(1, 5, 13), ny(1, 5, 14)), (ny(1, 5, 8), ny(1, 5, 10)), (ny(1, 5, 13, 30), ny(1, 5, 15))], created
    )
    assert pauses == ((created, ny(1, 5, 10)), (ny(1, 5, 13), ny(1, 5, 15)))
    assert business_elapsed(DESK, created, ny(1, 5, 18), pauses) == 6 * H
    assert due_instant(DESK, created, 6 * H, pauses) == ny(1, 5, 18)
    assert normalise_pauses([(ny(1, 5, 10), ny(1, 5, 11)), (ny(1, 5, 10, 30), None)], created) == ((ny(1, 5, 10), None),)
    with pytest.raises(ValueError, match="last pause"):
        normalise_pauses([(ny(1, 5, 10), None), (ny(1, 5, 12), ny(1, 5, 13))], created)
    with pytest.raises(ValueError, match="ends before"):
        normalise_pauses([(ny(1, 5, 12), ny(1, 5, 11))], created)


def test_durations_read_as_a_card_shows_them() -> None:
    assert format_duration(2 * H + 10 * M) == "2 h 10 m"
    assert format_duration(35 * M) == "35 m"
    assert format_duration(8 * H) == "8 h"
    assert format_duration(timedelta(seconds=20)) == "under 1 m"
    assert format_duration(timedelta(minutes=10, seconds=40)) == "11 m"
    assert format_duration(timedelta(minutes=10, seconds=40), floor=True) == "10 m"
    assert str(HIGH) == "1 h / 8 h"
    assert [target_label(t) for t in (H, 8 * H, 30 * M, M, 90 * M)] == [
        "1 business hour",
        "8 business hours",
        "30 business minutes",
        "1 business minute",
        "1 h 30 m of business time",
    ]
    assert Target.FIRST_RESPONSE.label == "first response"
    with pytest.raises(ValueError):
        SlaPolicy(timedelta(0), H)
