"""Service-level settings: defaults, the forms each setting takes, and one exact line for
every refusal, naming the setting and never echoing its value."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.services.business_hours import Hours
from bot.services.sla import SlaPolicy
from bot.services.status import Priority
from bot.settings.service_levels import ServiceLevels, service_level_settings
from bot.settings.values import ConfigError, ConfigErrors

H = timedelta(hours=1)


def hours(*spans: tuple[time, time | None]) -> tuple[Hours, ...]:
    return tuple(Hours.of(start, end) for start, end in spans)


def test_defaults() -> None:
    levels = service_level_settings({})
    assert levels == ServiceLevels()
    cal = levels.calendar
    assert cal.timezone == "UTC" and cal.days == frozenset(range(5)) and not cal.holidays
    assert cal.hours == hours((time(9), time(17)))
    assert levels.policy("high") == SlaPolicy(1 * H, 8 * H)
    assert levels.policy("medium") == SlaPolicy(4 * H, 24 * H)
    assert levels.policy("low") == SlaPolicy(8 * H, 72 * H)
    assert (levels.auto_close_days, levels.waiting_close_days) == (7, 14)
    assert (levels.csat_sample, levels.csat_cooldown_days) == (1, 30)


def test_every_setting_read() -> None:
    levels = service_level_settings(
        {
            "TIMEZONE": "Europe/Berlin",
            "BUSINESS_DAYS": "mon,tue,wed",
            "BUSINESS_HOURS": "13:00-17:30, 09:00-12:00",
            "HOLIDAYS": "2026-12-25, 2026-12-26,2027-01-01",
            "SLA_POLICY_HIGH": "30m/4h",
            "SLA_POLICY_MEDIUM": "2h30m/16h",
            "SLA_POLICY_LOW": " 8H / 72H ",
            "AUTO_CLOSE_DAYS": "3",
            "WAITING_CLOSE_DAYS": "10.5",
            "CSAT_SAMPLE": "0.25",
            "CSAT_COOLDOWN_DAYS": "0",
        }
    )
    cal = levels.calendar
    assert cal.timezone == "Europe/Berlin" and cal.days == frozenset({0, 1, 2})
    assert cal.hours == hours((time(9), time(12)), (time(13), time(17, 30)))  # in order of the day
    assert cal.holidays == {date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)}
    assert levels.policies == {
        Priority.HIGH: SlaPolicy(timedelta(minutes=30), 4 * H),
        Priority.MEDIUM: SlaPolicy(timedelta(hours=2, minutes=30), 16 * H),
        Priority.LOW: SlaPolicy(8 * H, 72 * H),
    }
    assert (levels.auto_close_days, levels.waiting_close_days) == (3, 10.5)
    assert (levels.csat_sample, levels.csat_cooldown_days) == (0.25, 0)


@pytest.mark.parametrize(
    ("raw", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("Mon-Wed,FRI", {0, 1, 2, 4}),
        ("sun-thu", {6, 0, 1, 2, 3}),  # a range may wrap round the week
        ("saturday,sunday", {5, 6}),
        ("mon-sun", set(range(7))),
        ("tue", {1}),
    ],
)
def test_business_days(raw: str, days: set[int]) -> None:
    assert service_level_settings({"BUSINESS_DAYS": raw}).calendar.days == days


def test_hours_to_midnight_and_the_timezone_given() -> None:
    levels = service_level_settings({"BUSINESS_HOURS": "00:00-24:00", "TIMEZONE": "nowhere"}, timezone="America/New_York")
    assert levels.calendar.hours == hours((time(0), None))
    assert levels.calendar.timezone == "America/New_York"  # the desk's TIMEZONE, read once elsewhere


DAYS = "BUSINESS_DAYS is malformed: expected days such as mon-fri or mon,tue,wed"
HOURS = "expected start-end times such as 09:00-17:30 or 09:00-12:00,13:00-17:30"
HOLIDAYS = "expected comma-separated dates such as 2026-12-25,2027-01-01"
POLICY = "expected first response/resolution targets in business hours such as 1h/8h or 30m/4h"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE is malformed: expected an IANA time zone such as Europe/London"),
        ({"BUSINESS_DAYS": "mon-fry"}, DAYS),
        ({"BUSINESS_DAYS": "weekdays"}, DAYS),
        ({"BUSINESS_DAYS": "mon-"}, DAYS),
        ({"BUSINESS_HOURS": "9-17"}, f"BUSINESS_HOURS is malformed: {HOURS}"),
        ({"BUSINESS_HOURS": "10:00"}, f"BUSINESS_HOURS is malformed: {HOURS}"),
        ({"BUSINESS_HOURS": "09:00-25:00"}, f"BUSINESS_HOURS is malformed: {HOURS}"),
        ({"BUSINESS_HOURS": "09:60-17:00"}, f"BUSINESS_HOURS is malformed: {HOURS}"),
        ({"BUSINESS_HOURS": "24:00-24:00"}, f"BUSINESS_HOURS is malformed: {HOURS}"),
        ({"BUSINESS_HOURS": "17:30-09:00"}, f"BUSINESS_HOURS is malformed: interval 1 does not end after it starts; {HOURS}"),
        (
            {"BUSINESS_HOURS": "09:00-12:00,13:00-13:00"},
            f"BUSINESS_HOURS is malformed: interval 2 does not end after it starts; {HOURS}",
        ),
        ({"BUSINESS_HOURS": "09:00-12:00,11:30-17:30"}, f"BUSINESS_HOURS is malformed: intervals 1 and 2 overlap; {HOURS}"),
        (
            {"BUSINESS_HOURS": "13:00-17:00,08:00-09:00,08:30-12:00"},
            f"BUSINESS_HOURS is malformed: intervals 2 and 3 overlap; {HOURS}",
        ),
        ({"HOLIDAYS": "2026-12-25,2026-02-30"}, f"HOLIDAYS is malformed: item 2 is not a date; {HOLIDAYS}"),
        ({"HOLIDAYS": "25/12/2026"}, f"HOLIDAYS is malformed: item 1 is not a date; {HOLIDAYS}"),
        ({"HOLIDAYS": "20261225"}, f"HOLIDAYS is malformed: item 1 is not a date; {HOLIDAYS}"),
        ({"SLA_POLICY_HIGH": "1h"}, f"SLA_POLICY_HIGH is malformed: {POLICY}"),
        ({"SLA_POLICY_HIGH": "1 hour/8 hours"}, f"SLA_POLICY_HIGH is malformed: {POLICY}"),
        ({"SLA_POLICY_MEDIUM": "4h/1d"}, f"SLA_POLICY_MEDIUM is malformed: {POLICY}"),
        ({"SLA_POLICY_LOW": "/72h"}, f"SLA_POLICY_LOW is malformed: {POLICY}"),
        ({"SLA_POLICY_HIGH": "0h/8h"}, f"SLA_POLICY_HIGH is malformed: targets must be more than 0; {POLICY}"),
        ({"SLA_POLICY_HIGH": "1h/0m"}, f"SLA_POLICY_HIGH is malformed: targets must be more than 0; {POLICY}"),
        ({"SLA_POLICY_LOW": "-8h/72h"}, f"SLA_POLICY_LOW is malformed: targets must be more than 0; {POLICY}"),
        (
            {"SLA_POLICY_MEDIUM": "24h/4h"},
            "SLA_POLICY_MEDIUM is malformed: the first response target is longer than the resolution target",
        ),
        (
            {"SLA_POLICY_URGENT": "15m/2h"},
            "SLA_POLICY_URGENT is not a setting: SLA policies are set per priority, as "
            "SLA_POLICY_HIGH, SLA_POLICY_MEDIUM, SLA_POLICY_LOW",
        ),
        ({"AUTO_CLOSE_DAYS": "seven"}, "AUTO_CLOSE_DAYS is malformed: expected a number of days such as 7"),
        ({"AUTO_CLOSE_DAYS": "0"}, "AUTO_CLOSE_DAYS is malformed: expected a number of days such as 7 (more than 0)"),
        ({"WAITING_CLOSE_DAYS": "-1"}, "WAITING_CLOSE_DAYS is malformed: expected a number of days such as 14 (more than 0)"),
        ({"WAITING_CLOSE_DAYS": "inf"}, "WAITING_CLOSE_DAYS is malformed: expected a number of days such as 14 (more than 0)"),
        (
            {"CSAT_COOLDOWN_DAYS": "-3"},
            "CSAT_COOLDOWN_DAYS is malformed: expected a number of days such as 30, or 0 (asked every time)",
        ),
        (
            {"CSAT_SAMPLE": "1.5"},
            "CSAT_SAMPLE is malformed: expected a share from 0 to 1 such as 0.25 (0: never, 1: every ticket)",
        ),
        (
            {"CSAT_SAMPLE": "50%"},
            "CSAT_SAMPLE is malformed: expected a share from 0 to 1 such as 0.25 (0: never, 1: every ticket)",
        ),
        (
            {"CSAT_SAMPLE": "nan"},
            "CSAT_SAMPLE is malformed: expected a share from 0 to 1 such as 0.25 (0: never, 1: every ticket)",
        ),
    ],
)
def test_refusals_name_the_setting_in_one_line(env: dict[str, str], line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        service_level_settings(env)
    assert str(caught.value) == line
    assert not [value for value in env.values() if len(value) > 4 and value in line]  # no value echoed


def test_every_problem_reported_at_once() -> None:
    with pytest.raises(ConfigErrors) as caught:
        service_level_settings({"BUSINESS_DAYS": "someday", "HOLIDAYS": "soon", "SLA_POLICY_URGENT": "1h/2h", "CSAT_SAMPLE": "2"})
    assert [line.split(" ", 1)[0] for line in caught.value.problems] == [
        "BUSINESS_DAYS",
        "HOLIDAYS",
        "SLA_POLICY_URGENT",
        "CSAT_SAMPLE",
    ]
