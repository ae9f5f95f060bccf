"""A team's own service levels, set by an admin in the team's modal: its tickets are due by
its calendar and targets (across its own weekend and holiday), a move to another team or a
new priority works them out again, and bad input is refused on the input it is in; through
the real bot and the Slack double, with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.jobs.escalate import escalate
from bot.services.status import Priority
from bot.services.team_service_levels import TeamLevels
from bot.settings import Settings, load_settings
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People, base_env, connected
from tests.desk_teams import BILLING_CHANNEL, CARLA, choose_in_menu, file, make_teams
from tests.factories import FrozenClock
from tests.test_admin import kinds, open_from_home
from tests.test_service_levels import settle, sla_part

ALERTS = "C0ALERTS"
DUBAI = ZoneInfo("Asia/Dubai")
NEW_YORK = ZoneInfo("America/New_York")
# Thursday 15:50 in Dubai: ten minutes before Billing closes for its Friday-Saturday weekend
# (and Sunday the 29th is its holiday); 06:50 in New York, before the desk opens.
THURSDAY_1550 = datetime(2026, 11, 26, 15, 50, tzinfo=DUBAI)
MONDAY_DUBAI = datetime(2026, 11, 30, tzinfo=DUBAI)
# The 48 h rule kept out of the way: it would raise the ticket to High over the weekend.
DESK_ENV = {"ALERTING_SLACK_CHANNEL": ALERTS, "TIMEZONE": "America/New_York", "BUSINESS_HOURS": "09:00-18:00",
            "ESCALATION_HOURS": "500"}
BILLING_LEVELS = {
    "Time zone": "Asia/Dubai",
    "Working days": "sun-thu",
    "Working hours": "08:00-16:00",
    "Holidays": "2026-11-29",
    "Medium priority targets": "30m/4h",
    "High priority targets": "15m/2h",
}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(THURSDAY_1550)


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(ALERTS, "alerts")
    return load_settings(base_env(double.api_url) | DESK_ENV)


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def set_billing_levels(people: People, fields: dict[str, str]) -> dict[str, str]:
    """An admin types ``fields`` in Billing's modal and saves: the inline errors (none: saved)."""
    edit = open_from_home(people.agent, "Edit team", near="*Billing*")
    for label, text in fields.items():
        edit.type(label, text)
    edit.submit()
    return {} if edit.closed else edit.errors


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def test_a_ticket_of_a_team_is_due_by_its_calendar_and_moving_it_works_them_out_again(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    teams = make_teams(desk, double)
    assert set_billing_levels(people, BILLING_LEVELS) == {}
    assert "team_service_levels" in kinds(desk)
    saved = desk.deps.directory.service_levels_of(teams.billing.id)
    assert saved.summary() == "Asia/Dubai, sun-thu, 08:00-16:00, 1 holiday, High 15m/2h, Medium 30m/4h"
    shown = open_from_home(people.agent, "Edit team", near="*Billing*").opened.view["blocks"]
    initial = {b["label"]["text"]: b["element"].get("initial_value") for b in shown if b["type"] == "input"}
    assert {label: initial[label] for label in BILLING_LEVELS} == BILLING_LEVELS

    card = file(double, people.reporter, "Data problem", "VAT is wrong", "TCK-000001", BILLING_CHANNEL)
    ticket = desk.deps.tickets.get(1)
    # 10 business minutes on Thursday; Friday and Saturday are Billing's weekend and Sunday
    # its holiday; the other 20 minutes on Monday from 08:00, Dubai time.
    assert ticket.first_response_due_at == at(MONDAY_DUBAI, 8, 20)
    assert ticket.resolution_due_at == at(MONDAY_DUBAI, 11, 50)
    assert "⏱ First response due in 30 m" in card.all_text() and "⏱ Resolution due in 4 h" in card.all_text()

    settle(desk, double)
    clock.now = at(MONDAY_DUBAI, 8, 19)  # Sunday night in New York: the desk's calendar is not the one counting
    assert "first_breached" not in sla_part(escalate(desk.deps))
    settle(desk, double)
    clock.now = at(MONDAY_DUBAI, 8, 20)
    assert sla_part(escalate(desk.deps)) == "TCK-000001 (first_breached)"
    double.wait_message(ALERTS, "First response SLA (Medium, 30 business minutes) breached")

    # A new priority takes the team's targets for it.
    settle(desk, double)
    desk.deps.tickets.set_priority(1, CARLA, Priority.HIGH)
    ticket = desk.deps.tickets.get(1)
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (at(MONDAY_DUBAI, 8, 5), at(MONDAY_DUBAI, 9, 50))

    # Moved to Support, it is due by the desk's hours and High targets, counted from its
    # filing before the desk opened on Thursday in New York.
    settle(desk, double)
    env = choose_in_menu(double, teams.carla, card, "Move to team…")
    assert teams.carla.modal_from(env.payload["trigger_id"]).choose("Team", "Support").submit() is None
    double.wait_message(SUPPORT, "TCK-000001")
    ticket = desk.deps.tickets.get(1)
    assert ticket.team_name == "Support"
    assert ticket.first_response_due_at == datetime(2026, 11, 26, 10, tzinfo=NEW_YORK)  # High at the desk: 1 h
    assert ticket.resolution_due_at == datetime(2026, 11, 26, 17, tzinfo=NEW_YORK)  # and 8 h


def test_a_team_left_empty_keeps_the_desks_levels(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    assert set_billing_levels(people, {"Working hours": "10:00-12:00"}) == {}
    assert desk.deps.directory.service_levels_of(teams.billing.id).summary() == "10:00-12:00"
    assert set_billing_levels(people, {"Working hours": ""}) == {}
    assert desk.deps.directory.service_levels_of(teams.billing.id) == TeamLevels()
    file(double, people.reporter, "Data problem", "VAT is wrong", "TCK-000001", BILLING_CHANNEL)
    # The desk's Medium (4 h) in its hours: Thursday 09:00 to 13:00 in New York.
    assert desk.deps.tickets.get(1).first_response_due_at == datetime(2026, 11, 26, 13, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("label", "text", "block", "says"),
    [
        ("Working hours", "09:00-12:00,11:00-17:00", "sla_hours", "Working hours is malformed: intervals 1 and 2 overlap"),
        ("Working hours", "17:00-09:00", "sla_hours", "interval 1 does not end after it starts"),
        ("Working days", "mon-funday", "sla_days", "Working days is malformed: expected days such as mon-fri"),
        ("Holidays", "2026-12-25, 2027-02-30", "sla_holidays", "Holidays is malformed: item 2 is not a date"),
        ("Time zone", "Mars/Olympus", "sla_timezone", "Time zone is not one"),
        ("High priority targets", "0h/8h", "sla_high", "targets must be more than 0"),
        ("Low priority targets", "-1h/8h", "sla_low", "targets must be more than 0"),
        ("Medium priority targets", "8h/1h", "sla_medium", "the first response target is longer than the resolution target"),
        ("Medium priority targets", "soon", "sla_medium", "expected first response/resolution targets"),
    ],
)
def test_bad_service_levels_get_an_inline_error_and_nothing_is_saved(
    desk: Casedesk, double: SlackDouble, people: People, label: str, text: str, block: str, says: str
) -> None:
    teams = make_teams(desk, double)
    errors = set_billing_levels(people, {"Working hours": "08:00-16:00", label: text} if label != "Working hours" else {label: text})
    assert list(errors) == [block] and says in errors[block], errors
    assert desk.deps.directory.service_levels_of(teams.billing.id) == TeamLevels()
    assert "team_service_levels" not in kinds(desk)


LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("friday", "due_utc"),
    [
        # The clocks go back on Sunday 25 October 2026: 09:55 on Monday is GMT again.
        (datetime(2026, 10, 23, 16, 55, tzinfo=LONDON), datetime(2026, 10, 26, 9, 55, tzinfo=ZoneInfo("UTC"))),
        # They go forward on Sunday 28 March 2027: 09:55 on Monday is BST.
        (datetime(2027, 3, 26, 16, 55, tzinfo=LONDON), datetime(2027, 3, 29, 8, 55, tzinfo=ZoneInfo("UTC"))),
    ],
    ids=["autumn", "spring"],
)
def test_a_teams_ticket_breaches_at_the_right_minute_across_both_daylight_saving_changes(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock, friday: datetime, due_utc: datetime
) -> None:
    make_teams(desk, double)
    fields = {"Time zone": "Europe/London", "Working hours": "09:00-17:00", "Medium priority targets": "1h/8h"}
    assert set_billing_levels(people, fields) == {}
    clock.now = friday  # five business minutes before Billing closes for the weekend
    file(double, people.reporter, "Data problem", "VAT is wrong", "TCK-000001", BILLING_CHANNEL)
    assert desk.deps.tickets.get(1).first_response_due_at == due_utc
    settle(desk, double)
    clock.now = due_utc.replace(minute=54)
    assert "first_breached" not in sla_part(escalate(desk.deps))
    settle(desk, double)
    clock.now = due_utc
    assert "TCK-000001 (first_breached)" in sla_part(escalate(desk.deps))
    double.wait_message(ALERTS, "First response SLA (Medium, 1 business hour) breached")
