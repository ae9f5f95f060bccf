"""/ticket-summary: numbers checked against a hand-built week, and the modal through the double."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine

from bot.app import Casedesk
from bot.services.effects import Channels
from bot.services.errors import PermissionDenied
from bot.services.status import Priority, Status
from bot.services.summary import SummaryQueries
from bot.services.tickets import NewTicket, TicketService, utcnow
from bot.views.summary import summary_view
from db.session import Database
from slack_double import SlackDouble
from slack_double.blockkit import view_errors
from tests.conftest import People
from tests.factories import FrozenClock

A1, A2 = "U0AGENT1", "U0AGENT2"
AGENTS = frozenset({A1, A2})
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def build_week(engine: Engine) -> tuple[TicketService, FrozenClock]:
    """A hand-built desk:

    t1 high, 10 days ago, A1 assigns after 1 h, resolves after 5 h  (resolved; outside the week)
    t2 high, 3 days ago, unassigned                                  (open)
    t3 medium, 2 days ago, A2 assigns after 3 h                      (in progress)
    t4 low, 1 day ago, A1 assigns after 2 h, resolves after 4 h, A1 closes (closed in the week)
    t5 high, 40 days ago, never touched                              (open; oldest; outside medians)
    """
    clock = FrozenClock(NOW)
    service = TicketService(Database(engine), AGENTS, campaigns=("General",), issue_types=("Bug",), channels=Channels("C0SUPPORT"), clock=clock)

    def at(delta: timedelta) -> None:
        clock.now = NOW - delta

    def new(priority: str) -> int:
        return service.create(NewTicket("U0REPORT", "General", "Bug", priority, "x"))[0].id

    at(timedelta(days=40))
    t5 = new("high")
    at(timedelta(days=10))
    t1 = new("high")
    at(timedelta(days=10) - timedelta(hours=1))
    service.assign_to_self(t1, A1)
    at(timedelta(days=10) - timedelta(hours=5))
    service.resolve(t1, A1)
    at(timedelta(days=3))
    new("high")
    at(timedelta(days=2))
    t3 = new("medium")
    at(timedelta(days=2) - timedelta(hours=3))
    service.assign_to_self(t3, A2)
    at(timedelta(days=1))
    t4 = new("low")
    at(timedelta(days=1) - timedelta(hours=2))
    service.assign_to_self(t4, A1)
    at(timedelta(days=1) - timedelta(hours=4))
    service.resolve(t4, A1)
    at(timedelta(hours=1))
    service.close(t4, A1)
    assert t5 == 1
    return service, clock


def test_summary_numbers_on_a_hand_built_week(engine: Engine) -> None:
    build_week(engine)
    s = SummaryQueries(Database(engine), AGENTS).summary(A1, NOW)
    assert s.by_status == {Status.OPEN: 2, Status.IN_PROGRESS: 1, Status.WAITING: 0, Status.RESOLVED: 1, Status.CLOSED: 1}
    assert s.open_by_priority == {Priority.HIGH: 2, Priority.MEDIUM: 1, Priority.LOW: 0}
    assert s.open_by_assignee == [(A2, 1)]
    assert s.unassigned_high == 2
    assert (s.opened_week, s.resolved_week, s.closed_week) == (3, 1, 1)
    # first responses: t1 1 h, t3 3 h, t4 2 h → median 2 h (t2, t5 have none; t5 is outside 30 days)
    assert s.median_first_response == timedelta(hours=2)
    # resolutions: t1 5 h, t4 4 h (closed keeps resolved_at) → median 4.5 h
    assert s.median_resolution == timedelta(hours=4, minutes=30)
    assert s.oldest_open is not None and s.oldest_open.number == "TCK-000001"


def test_an_empty_desk_has_no_medians(engine: Engine) -> None:
    s = SummaryQueries(Database(engine), AGENTS).summary(A1, NOW)
    assert s.median_first_response is None and s.median_resolution is None and s.oldest_open is None
    assert sum(s.by_status.values()) == 0


def test_only_agents_get_the_summary(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        SummaryQueries(Database(engine), AGENTS).summary("U0REPORT", NOW)


def test_the_summary_modal_through_slack(desk: Casedesk, double: SlackDouble, people: People) -> None:
    for priority in ("high", "high", "low"):
        desk.deps.tickets.create(NewTicket(people.reporter.id, "Billing", "Bug", priority, "x"))
    modal = people.agent.open_modal("/ticket-summary")
    double.wait_for(lambda: modal.title == "Ticket summary" and "Loading" not in str(modal.view), what="the summary")
    text = str(modal.view)
    assert "🚨 Unassigned high*\\n2" in text and "🆕 Open*\\n3" in text and "Oldest open: *TCK-000001*" in text
    assert view_errors(modal.view) == []

    env = people.outsider.run("/ticket-summary")
    assert "Only support agents" in people.outsider.wait_ephemeral("Only support agents")
    assert not any(v.trigger_id == env.payload["trigger_id"] for v in double.workspace.views.values())


def test_the_summary_reads_at_a_glance_at_a_frozen_moment(engine: Engine) -> None:
    build_week(engine)
    with freeze_time(NOW):
        now = utcnow()
        view = summary_view(SummaryQueries(Database(engine), AGENTS).summary(A1, now), now, ZoneInfo("America/New_York"))
    text = str(view)
    assert "Median first response*\\n2h 00m" in text and "Median time to resolve*\\n4h 30m" in text
    assert "Oldest open: *TCK-000001* 🔴, opened Wed 14 Oct 2026, 08:00 EDT (40d ago)" in text
    assert view_errors(view) == []
