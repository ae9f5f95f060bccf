"""/system-tickets by SLA: `sort:due` (the soonest next target first), `breached` and
`due:today`; and the daily stale and overdue reminders leaving out tickets Waiting on the
customer. Through the real bot and the double, with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.jobs.reminders import overdue, stale
from bot.services.tickets import NewTicket
from bot.settings import Settings, load_settings
from slack_double import SlackDouble
from tests.conftest import ADMIN, AGENT, REPORTER, People, base_env, connected
from tests.desk_teams import make_teams
from tests.factories import FrozenClock
from tests.test_mentions import header
from tests.test_ticket_lists import numbers, open_list

NY = ZoneInfo("America/New_York")  # the tests' TIMEZONE; business hours 09:00-17:00 by default
MONDAY_0900 = datetime(2026, 11, 2, 9, tzinfo=NY)
H = timedelta(hours=1)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_0900)


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    return load_settings(base_env(double.api_url) | {"CSAT_SAMPLE": "0"})


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def file(desk: Casedesk, priority: str, details: str, issue_type: str = "Bug") -> int:
    return desk.deps.tickets.create(NewTicket(REPORTER, "Billing", issue_type, priority, details))[0].id


def test_sort_by_due_breached_and_due_today(desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock) -> None:
    for priority, details in (("high", "Checkout is down"), ("low", "Typo on the pricing page"), ("medium", "Export is slow")):
        file(desk, priority, details)
    file(desk, "high", "Login loop")
    desk.deps.tickets.assign_to_self(4, AGENT)
    desk.deps.tickets.resolve(4, AGENT)
    clock.now = MONDAY_0900 + 90 * timedelta(minutes=1)  # 10:30: the high one's first response is 30 m late

    modal = open_list(people.agent, "/system-tickets", "sort:due")
    assert numbers(modal) == ["TCK-000001", "TCK-000003", "TCK-000002", "TCK-000004"]  # no target: last
    assert header(modal.view) == "1–4 of 4 · soonest due first"
    modal = open_list(people.agent, "/system-tickets", "breached")
    assert header(modal.view) == "1–1 of 1 · SLA breached"
    [row] = [b["text"]["text"] for b in modal.view["blocks"] if b.get("type") == "section"]
    assert row.split("\n")[0].endswith(" · ⏱ First response breached 30 m ago")
    assert numbers(modal) == ["TCK-000001"]
    assert header(modal.view) == "1–1 of 1 · SLA breached"
    modal = open_list(people.agent, "/system-tickets", "due:today sort:due")
    assert numbers(modal) == ["TCK-000001", "TCK-000003", "TCK-000002"]

    clock.now = MONDAY_0900 + 8 * H + timedelta(minutes=1)  # 17:01: all three first responses late
    modal = open_list(people.agent, "/system-tickets", "breached high")
    assert numbers(modal) == ["TCK-000001"]
    modal = open_list(people.agent, "/system-tickets", "breached sort:due")
    assert numbers(modal) == ["TCK-000001", "TCK-000003", "TCK-000002"]


def test_waiting_pauses_the_resolution_target_in_the_lists(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    file(desk, "high", "Checkout is down")
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.set_waiting(1, AGENT)
    clock.now = MONDAY_0900 + 2 * H
    # Waiting, but its first response is still unanswered: that clock runs on.
    assert numbers(open_list(people.agent, "/system-tickets", "breached")) == ["TCK-000001"]
    assert numbers(open_list(people.agent, "/system-tickets", "waiting sort:due")) == ["TCK-000001"]


def test_an_agent_of_a_team_sorts_what_they_may_see(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    teams = make_teams(desk, double)
    file(desk, "low", "Billing data wrong", issue_type="Data problem")  # 1: Billing, due 17:00
    file(desk, "high", "Support thing")  # 2: Support, due 10:00 (not Carla's to see)
    file(desk, "high", "Billing data gone", issue_type="Data problem")  # 3: Billing, due 10:00
    clock.now = MONDAY_0900 + 30 * timedelta(minutes=1)
    modal = open_list(teams.carla, "/system-tickets", "sort:due")
    assert numbers(modal) == ["TCK-000003", "TCK-000001"]
    modal = open_list(teams.carla, "/system-tickets", "sort:due team:Billing")
    assert numbers(modal) == ["TCK-000003", "TCK-000001"]


@pytest.mark.parametrize(
    ("text", "answer"),
    [("sort:oldest", "`sort:` takes `due`"), ("due:tomorrow", "`due:` takes `today` or `breached`")],
)
def test_a_bad_sort_or_due_word_is_explained(desk: Casedesk, double: SlackDouble, people: People, text: str, answer: str) -> None:
    people.agent.run("/system-tickets", text)
    assert answer in people.agent.wait_ephemeral(answer)
    assert not double.workspace.calls_to("views.open")


def test_reminders_leave_out_tickets_waiting_on_the_customer(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    file(desk, "medium", "Open and forgotten")
    file(desk, "medium", "Waiting for the customer")
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.assign_to_self(2, AGENT)
    desk.deps.tickets.set_waiting(2, AGENT)
    clock.now = MONDAY_0900 + timedelta(days=8)
    assert stale(desk.deps) == "stale: 1 tickets without an update for 3+ days (listed)"
    report = double.wait_message(ADMIN, "without an update")
    assert "TCK-000001" in report.text and "TCK-000002" not in report.text
    assert overdue(desk.deps) == "overdue: 1 tickets; 1 assignees told"
    dm = people.agent.wait_dm("open for more than 7 days")
    assert "TCK-000001" in dm.text and "TCK-000002" not in dm.text
