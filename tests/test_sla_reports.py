"""Reports people look at: the weekly summary and /ticket-summary carry SLA attainment (by
priority and by team), median business-hours times, breaches and satisfaction, counted
from tickets worked through the real bot at hand-set times; the weekly summary's chart is
uploaded to the Slack double with its alt text, after the summary, and a refused upload
does not hold the summary back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import Casedesk, create_app
from bot.jobs.weekly import weekly_summary_job
from bot.services.status import Priority
from bot.services.tickets import NewTicket
from bot.settings import Settings, load_settings
from db.models import OutboxPost
from slack_double import SlackDouble
from slack_double.blockkit import view_errors
from tests.conftest import AGENT, REPORTER, SUPPORT, People, base_env, connected
from tests.desk_teams import BILLING_CHANNEL, make_teams
from tests.factories import FrozenClock
from tests.test_service_levels import settle

NY = ZoneInfo("America/New_York")
MONDAY = datetime(2026, 11, 16, tzinfo=NY)  # the week runs Mon 16 Nov 09:00 to Mon 23 Nov 09:00
# Medium: 4 h / 24 h by default; every resolution asks its requester to rate it.
SLA_ENV = {"BUSINESS_HOURS": "09:00-18:00", "SLA_POLICY_HIGH": "1h/8h", "CSAT_COOLDOWN_DAYS": "0"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def at(days: int, hour: int, minute: int = 0) -> datetime:
    return (MONDAY + timedelta(days=days)).replace(hour=hour, minute=minute)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(at(0, 9, 30))


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    return load_settings(base_env(double.api_url) | SLA_ENV)


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def answered_high(desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock, reply: datetime) -> int:
    """A High ticket filed now (in the Support team), answered by an agent in its card's thread at ``reply``."""
    ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "high", "The export button does nothing."))
    card = double.wait_message(SUPPORT, ticket.number)
    double.wait_for(lambda: desk.deps.tickets.get(ticket.id).card_ts == card.ts, what="the card's place to be recorded")
    settle(desk, double)
    clock.now = reply
    people.agent.say(SUPPORT, "Looking at it now.", thread=card)
    double.wait_for(lambda: desk.deps.tickets.get(ticket.id).first_response_at is not None, what="the first response")
    settle(desk, double)
    return ticket.id


def rate(desk: Casedesk, double: SlackDouble, people: People, number: str, button: str) -> None:
    """The requester rates the ticket with a button of the survey DM the resolution sent."""
    survey = people.reporter.wait_dm(f"How did we do on {number}")
    people.reporter.click(survey, button)
    double.wait_for(lambda: f"You rated {number}" in double.current(survey).all_text(), what="the rating's thanks")
    settle(desk, double)


def retry_owed(desk: Casedesk, error: str = "missing_scope") -> bool:
    """The chart's row failed with ``error`` and waits for its retry."""
    with Session(desk.engine) as session:
        row = session.scalars(select(OutboxPost).where(OutboxPost.kind == "chart")).first()
        return row is not None and row.error == error and row.sent_at is None


def build_week(desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock) -> None:
    """The week of Mon 16 Nov, in business hours 09:00-18:00 New York:

    #1 High, Mon 10:00, answered 10:30 (met, 30 m), resolved 14:00 (met, 4 h), rated 5 at 15:00
    #2 High, Tue 10:00, answered 12:00 (due 11:00: breached, 2 h), resolved Wed 10:00
       (due Tue 18:00: breached, 9 business hours), rated 3 at 11:00
    #3 Medium, Billing team, Wed 10:00, never answered nor resolved: first response due
       Wed 14:00 and resolution due Fri 16:00, both breached within the week
    """
    make_teams(desk, double)
    clock.now = at(0, 10)
    first = answered_high(desk, double, people, clock, reply=at(0, 10, 30))
    clock.now = at(0, 14)
    desk.deps.tickets.resolve(first, AGENT)
    settle(desk, double)
    clock.now = at(0, 15)
    rate(desk, double, people, "TCK-000001", "😄 5")
    clock.now = at(1, 10)
    second = answered_high(desk, double, people, clock, reply=at(1, 12))
    clock.now = at(2, 10)
    desk.deps.tickets.resolve(second, AGENT)
    third, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Data problem", "medium", "The invoice total is wrong."))
    double.wait_message(BILLING_CHANNEL, third.number)
    settle(desk, double)
    clock.now = at(2, 11)
    rate(desk, double, people, "TCK-000002", "😐 3")
    assert third.first_response_due_at == at(2, 14) and third.resolution_due_at == at(4, 16)
    stored = desk.deps.tickets.get(second)
    assert (stored.first_response_due_at, stored.resolution_due_at) == (at(1, 11), at(1, 18))


FIGURES = (
    "SLA met: first response 33% (1/3), resolution 33% (1/3); breaches 4 (2 first response, 2 resolution); "
    "median business time to first response 1h 15m, to resolution 6h 30m; satisfaction 4.0 / 5 from 2 ratings, 50% rated 4–5."
)
TABLE = (
    "         First response    Resolution\n"
    "All      33% (1/3)         33% (1/3)\n"
    "High     50% (1/2)         50% (1/2)\n"
    "Medium   0% (0/1)          0% (0/1)\n"
    "Low      —                 —\n"
    "Billing  0% (0/1)          0% (0/1)\n"
    "Support  50% (1/2)         50% (1/2)"
)


def test_the_weekly_summary_posts_its_figures_and_uploads_its_chart(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    build_week(desk, double, people, clock)
    clock.now = at(7, 9, 5)
    assert weekly_summary_job(desk.deps).startswith("weekly-summary: posted (3 new, 2 resolved, 0 closed, 1 open)")

    summary = double.wait_message(SUPPORT, "Weekly summary", timeout=15)
    assert summary.text.endswith(FIGURES)
    text = summary.all_text()
    assert TABLE in text
    assert "*Median first response (business hours)*\n1h 15m" in text and "*Breaches*\n4 (2 first response, 2 resolution)" in text
    # What the chart shows, as text in the summary itself
    assert "Mon 16 Nov       3         2\n" in text and "Open backlog: High 0, Medium 1, Low 0 (1 in all)" in text

    shared = double.wait_message(SUPPORT, "📈 Tickets over the last 4 weeks", timeout=15)
    [upload] = double.workspace.files_in(SUPPORT)
    assert upload.message_ts == shared.ts and shared.files and shared.files[0]["alt_txt"] == upload.alt_txt
    assert upload.channel == SUPPORT and upload.thread_ts is None
    assert upload.data is not None and upload.data.startswith(PNG_SIGNATURE)
    assert upload.filename == "tickets-2026-10-26-to-2026-11-22.png"
    assert upload.title == "Tickets over the last 4 weeks: Mon 26 Oct to Sun 22 Nov"
    assert upload.alt_txt is not None and upload.alt_txt.startswith(
        "Line chart of tickets opened and resolved per day from Mon 26 Oct to Sun 22 Nov: 3 opened and 2 resolved; "
        "most opened on Mon 16 Nov (1)."
    )
    assert upload.alt_txt.endswith("Bar chart of the open backlog by priority: High 0, Medium 1, Low 0 (1 in all).")
    assert shared.text == "📈 Tickets over the last 4 weeks: Mon 26 Oct to Sun 22 Nov"
    assert float(shared.ts) > float(summary.ts)  # after the summary that explains it
    settle(desk, double)
    assert len(double.workspace.files_in(SUPPORT)) == 1  # sent once


def test_a_refused_upload_leaves_the_summary_posted_and_is_tried_again(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock, quick_retries: None
) -> None:
    build_week(desk, double, people, clock)
    double.web_api.fail("files.completeUploadExternal", "missing_scope")
    clock.now = at(7, 9, 5)
    weekly_summary_job(desk.deps)
    summary = double.wait_message(SUPPORT, "Weekly summary", timeout=15)
    assert summary.text.endswith(FIGURES)
    double.wait_for(lambda: retry_owed(desk), what="the refused upload to be put off")
    assert double.workspace.files_in(SUPPORT) == []
    clock.now += timedelta(seconds=1)  # past the retry's due time
    double.wait_message(SUPPORT, "📈 Tickets over the last 4 weeks", timeout=15)
    settle(desk, double)
    assert len(double.workspace.files_in(SUPPORT)) == 1


def test_ticket_summary_shows_the_service_levels(desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock) -> None:
    build_week(desk, double, people, clock)
    clock.now = at(7, 9, 5)  # the last 7 days: the whole week
    modal = people.agent.open_modal("/ticket-summary")
    double.wait_for(lambda: modal.title == "Ticket summary" and "Loading" not in str(modal.view), what="the summary")
    text = "\n".join(
        f["text"] for b in modal.view["blocks"] for f in ([b["text"]] if "text" in b else b.get("fields", [])) if isinstance(f, dict)
    )
    assert "Service levels (last 7 days)" in text
    assert "*First response SLA met*\n33% (1/3)" in text and "*Resolution SLA met*\n33% (1/3)" in text
    assert "*Median resolution (business hours)*\n6h 30m" in text
    assert "*Satisfaction*\n4.0 / 5 from 2 ratings, 50% rated 4–5" in text
    assert TABLE in text
    assert view_errors(modal.view) == []


def test_the_chart_counts_whole_local_days_across_the_dst_change(desk: Casedesk, clock: FrozenClock) -> None:
    """Four weeks of whole days in New York before the summary's Monday: the hours stored in
    UTC are put on the local day they fell in, before and after clocks went back on 1 Nov."""
    moments = [
        datetime(2026, 10, 25, 23, 59, tzinfo=NY),  # the day before the four weeks: left out
        datetime(2026, 10, 31, 23, 30, tzinfo=NY),  # 03:30 UTC on 1 Nov (EDT)
        datetime(2026, 11, 1, 23, 30, tzinfo=NY),  # 04:30 UTC on 2 Nov (EST)
        datetime(2026, 11, 22, 23, 59, tzinfo=NY),  # the last day
        datetime(2026, 11, 23, 0, 30, tzinfo=NY),  # the summary's own day: next week's chart
    ]
    for moment in moments:
        clock.now = moment
        desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "low", "Filed late at night."))
    clock.now = at(7, 9, 5)
    counts = desk.deps.reports.chart(at(7, 9), NY)
    assert counts.last_day.isoformat() == "2026-11-22" and counts.days == 28
    assert {day.isoformat(): n for day, n in counts.opened.items()} == {"2026-10-31": 1, "2026-11-01": 1, "2026-11-22": 1}
    assert not counts.resolved and counts.backlog == {Priority.HIGH: 0, Priority.MEDIUM: 0, Priority.LOW: 5}  # open at 09:00 on the 23rd


def test_an_upload_whose_answer_was_lost_is_not_uploaded_twice(
    desk: Casedesk, double: SlackDouble, clock: FrozenClock, quick_retries: None
) -> None:
    """Slack shared the chart but its answer never came: the retry finds the file in the
    channel and records it rather than uploading it again."""
    double.web_api.lose_answers("files.completeUploadExternal")
    clock.now = at(7, 9, 5)
    weekly_summary_job(desk.deps)
    double.wait_message(SUPPORT, "📈 Tickets over the last 4 weeks", timeout=15)
    double.wait_for(lambda: retry_owed(desk, "fatal_error"), what="the lost answer to be put off")
    clock.now += timedelta(seconds=1)  # past the retry's due time
    settle(desk, double)
    assert len(double.workspace.files_in(SUPPORT)) == 1
    assert len(double.workspace.calls_to("files.completeUploadExternal")) == 1
    assert double.workspace.calls_to("conversations.history")  # looked for it first
