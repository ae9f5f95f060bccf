"""Scheduled jobs, run directly with a hand-moved clock against the Slack double."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.jobs import JOBS, JobSpec
from bot.jobs.escalate import escalate
from bot.jobs.pin import pin_high_priority
from bot.jobs.reminders import overdue, stale
from bot.jobs.scheduler import GuardedJob, start_scheduler
from bot.jobs.slots import latest_slot, trigger_for
from bot.jobs.weekly import week_before, weekly_summary_job
from bot.services.conversations import SlackMessage
from bot.services.status import Priority
from bot.services.tickets import NewTicket
from bot.settings import Settings, load_settings
from slack_double import SlackDouble
from tests.conftest import ADMIN, AGENT, AGENT2, REPORTER, SUPPORT, People, base_env, connected
from tests.factories import FrozenClock

ALERTS = "C0ALERTS"
INTAKE = "C0INTAKE"
NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)  # a Monday, 09:00 in New York


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(ALERTS, "alerts")
    double.channel(INTAKE, "help")
    return load_settings(base_env(double.api_url) | {"ALERTING_SLACK_CHANNEL": ALERTS, "INTAKE_SLACK_CHANNELS": INTAKE})


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def form_ticket(desk: Casedesk, priority: str = "high", details: str = "Broken") -> int:
    ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", priority, details))
    return ticket.id


def case(desk: Casedesk, text: str = "Help please", ts: str = "1790000000.000100") -> int:
    return desk.deps.conversations.open_case(SlackMessage(INTAKE, ts, REPORTER, text)).ticket.id


def reply(desk: Casedesk, ticket_id: int, user: str, text: str, ts: str) -> None:
    t = desk.deps.tickets.get(ticket_id)
    desk.deps.conversations.add_reply(SlackMessage(INTAKE, ts, user, text, thread_ts=t.origin_ts))


# ---- escalation ------------------------------------------------------------------------------

def escalated(desk: Casedesk) -> str:
    """What the escalation sweep says of the escalation rules (the SLA alerts it sends too
    are tested in test_service_levels)."""
    return escalate(desk.deps).partition("; SLA: ")[0]



def test_no_response_escalates_at_48_hours_not_before(desk: Casedesk, double: SlackDouble, clock: FrozenClock) -> None:
    ticket_id = form_ticket(desk, "low")
    clock.now = T0 + timedelta(hours=47, minutes=59)
    assert escalated(desk) == "escalate: 0 escalated"
    clock.now = T0 + timedelta(hours=48)
    assert escalated(desk) == "escalate: 1 escalated: TCK-000001 (no_response)"
    ticket = desk.deps.tickets.get(ticket_id)
    assert ticket.priority is Priority.HIGH and ticket.escalated_reasons == ("no_response",)
    alert = double.wait_message(ALERTS, "TCK-000001 escalated")
    assert "no agent response for 48 h" in alert.text
    assert [e.kind for e in desk.deps.tickets.events(ticket_id) if e.kind != "sla"][-2:] == ["priority", "escalated"]


def test_follow_ups_escalate_at_three_not_two(desk: Casedesk, clock: FrozenClock) -> None:
    ticket_id = case(desk)
    reply(desk, ticket_id, REPORTER, "any news?", "1790000000.000200")
    reply(desk, ticket_id, REPORTER, "hello?", "1790000000.000300")
    assert escalated(desk) == "escalate: 0 escalated"
    reply(desk, ticket_id, REPORTER, "anyone?", "1790000000.000400")
    assert escalated(desk) == "escalate: 1 escalated: TCK-000001 (followups)"


def test_keyword_escalates_whole_words_only(desk: Casedesk) -> None:
    case(desk, "Please fix this urgently", "1790000000.000100")
    case(desk, "This is URGENT", "1790000000.000200")
    assert escalated(desk) == "escalate: 1 escalated: TCK-000002 (keyword)"


def test_each_reason_alerts_once_per_episode(desk: Casedesk, double: SlackDouble, clock: FrozenClock) -> None:
    ticket_id = case(desk, "urgent: the site is down")
    assert "1 escalated" in escalate(desk.deps)
    assert escalated(desk) == "escalate: 0 escalated"
    clock.now = T0 + timedelta(hours=49)
    assert escalated(desk) == "escalate: 1 escalated: TCK-000001 (no_response)"  # a new reason
    assert escalated(desk) == "escalate: 0 escalated"
    reply(desk, ticket_id, AGENT, "Looking.", "1790000000.000500")  # an agent responds: a new episode
    assert escalated(desk) == "escalate: 0 escalated"
    reply(desk, ticket_id, REPORTER, "Still urgent!", "1790000000.000600")
    assert escalated(desk) == "escalate: 1 escalated: TCK-000001 (keyword)"
    double.wait_for(lambda: len([m for m in double.messages(ALERTS) if "escalated" in m.text]) == 3, what="three alerts")
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: "Escalated" in double.current(card).all_text(), what="the Escalated badge")
    double.wait_thread_reply(card, "🚨 Escalated")


def test_resolved_cases_do_not_escalate(desk: Casedesk, clock: FrozenClock) -> None:
    ticket_id = form_ticket(desk)
    desk.deps.tickets.resolve(ticket_id, AGENT)
    clock.now = T0 + timedelta(days=5)
    assert escalated(desk) == "escalate: 0 escalated"


# ---- the pinned list ---------------------------------------------------------------------------


def pinned(double: SlackDouble) -> list[str]:
    """What the channel's pin list shows (Slack drops the pin of a deleted message)."""
    ws = double.workspace
    return [ts for ts in ws.pins.get(SUPPORT, []) if not ws.find_message(SUPPORT, ts).deleted]  # type: ignore[union-attr]


def test_pinned_list_is_edited_in_place_across_restarts(desk: Casedesk, double: SlackDouble, engine: Engine, clock: FrozenClock) -> None:
    assert pin_high_priority(desk.deps) == "pin-high-priority: posted and pinned the list (0 tickets)"
    [ts] = pinned(double)
    assert "no open High ticket is unassigned" in double.current(double.messages(SUPPORT)[0]).all_text()
    form_ticket(desk, "high", "Payments down")
    form_ticket(desk, "low", "Typo")
    restarted = create_app(desk.deps.settings, engine=engine, clock=clock)
    assert pin_high_priority(restarted.deps) == "pin-high-priority: updated the list (1 tickets)"
    assert pinned(double) == [ts]
    text = double.workspace.find_message(SUPPORT, ts).all_text()  # type: ignore[union-attr]
    assert "TCK-000001" in text and "TCK-000002" not in text
    lists = [c for c in double.workspace.calls_to("chat.postMessage") if str(c.args.get("text", "")).startswith("Unassigned High")]
    assert len(lists) == 1


def test_a_deleted_or_unpinned_list_is_replaced_by_one_fresh_copy(desk: Casedesk, double: SlackDouble) -> None:
    pin_high_priority(desk.deps)
    [first] = pinned(double)
    double.workspace.find_message(SUPPORT, first).deleted = True  # type: ignore[union-attr]
    assert "posted and pinned" in pin_high_priority(desk.deps)
    [second] = pinned(double)
    assert second != first
    double.workspace.pins[SUPPORT].remove(second)  # someone unpinned it
    assert "posted and pinned" in pin_high_priority(desk.deps)
    [third] = pinned(double)
    assert third not in (first, second)
    assert double.workspace.find_message(SUPPORT, second).deleted  # type: ignore[union-attr]


# ---- reminders -----------------------------------------------------------------------------------


def test_stale_tickets_are_listed_for_the_admins(desk: Casedesk, double: SlackDouble, clock: FrozenClock) -> None:
    form_ticket(desk, details="Old")
    clock.now = T0 + timedelta(days=2, hours=23)
    form_ticket(desk, details="Newer")
    assert stale(desk.deps) == "stale: 0 tickets without an update for 3+ days"
    clock.now = T0 + timedelta(days=3, hours=1)
    assert stale(desk.deps) == "stale: 1 tickets without an update for 3+ days (listed)"
    report = double.wait_message(ADMIN, "without an update")
    assert "TCK-000001" in report.text and "TCK-000002" not in report.text


def test_overdue_tickets_go_to_their_assignees_once_each(desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock) -> None:
    for _ in range(3):
        form_ticket(desk)
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.assign_to_self(2, AGENT)
    clock.now = T0 + timedelta(days=7, minutes=1)
    assert overdue(desk.deps) == "overdue: 3 tickets; 1 assignees told, unassigned to the admin channel"
    dm = people.agent.wait_dm("open for more than 7 days")
    assert "TCK-000001" in dm.text and "TCK-000002" in dm.text and "TCK-000003" not in dm.text
    assert len(people.agent.dms()) == 1 and not people.agent2.dms()
    assert "TCK-000003" in double.wait_message(ADMIN, "unassigned tickets are open").text


# ---- the weekly summary --------------------------------------------------------------------------


def test_weekly_summary_counts_a_hand_built_week(desk: Casedesk, double: SlackDouble, clock: FrozenClock, engine: Engine) -> None:
    start = T0 - timedelta(days=7)
    clock.now = start - timedelta(days=2)
    form_ticket(desk, "low", "Before the week, still open")  # 1
    clock.now = start + timedelta(hours=1)
    form_ticket(desk, "high", "New, resolved in 2 h")  # 2
    form_ticket(desk, "medium", "New, closed")  # 3
    form_ticket(desk, "high", "New, open")  # 4
    clock.now = start + timedelta(hours=3)
    desk.deps.tickets.resolve(2, AGENT)
    desk.deps.tickets.close(3, AGENT2)
    clock.now = T0 + timedelta(minutes=5)
    form_ticket(desk, "high", "After the week ended")  # 5
    assert weekly_summary_job(desk.deps) == "weekly-summary: posted (3 new, 1 resolved, 1 closed, 2 open)"
    summary = double.wait_message(SUPPORT, "Weekly summary", timeout=15)  # after the cards, at Slack's pace
    text = summary.all_text()
    assert "New              3  ▲  2  (prior week 1)" in text
    assert "Resolved         1  ▲  1  (prior week 0)" in text
    assert "Still open       2  ▲  1  (prior week 1)" in text
    assert "🔴 High    new     2   open     1" in text
    assert "Median resolution: *2h 00m*" in text
    assert f"<@{AGENT}>: 1 resolved" in text
    assert "Mon 9 Nov 2026, 09:00 EST → Mon 16 Nov 2026, 09:00 EST" in text


def test_weekly_summary_weeks_across_dst_in_new_york(desk: Casedesk) -> None:
    trigger = trigger_for(desk.deps.settings, "weekly-summary")
    utc = UTC
    # Clocks went back on Sunday 1 Nov 2026: the Monday runs stay at 09:00 local, 169 h apart.
    nov2 = latest_slot(trigger, datetime(2026, 11, 2, 15, 0, tzinfo=utc))
    oct26 = latest_slot(trigger, datetime(2026, 10, 26, 15, 0, tzinfo=utc))
    assert nov2 and oct26 and nov2.astimezone(NY).hour == 9 and oct26.astimezone(NY).hour == 9
    assert nov2.astimezone(utc) == datetime(2026, 11, 2, 14, 0, tzinfo=utc)
    assert oct26.astimezone(utc) == datetime(2026, 10, 26, 13, 0, tzinfo=utc)
    assert week_before(nov2, NY).astimezone(utc) == oct26.astimezone(utc)
    assert nov2.astimezone(utc) - week_before(nov2, NY).astimezone(utc) == timedelta(hours=169)
    # Clocks go forward on Sunday 14 Mar 2027: a 167-hour week.
    mar15 = latest_slot(trigger, datetime(2027, 3, 15, 14, 0, tzinfo=utc))
    assert mar15 and mar15.astimezone(utc) == datetime(2027, 3, 15, 13, 0, tzinfo=utc)
    assert mar15.astimezone(utc) - week_before(mar15, NY).astimezone(utc) == timedelta(hours=167)
    # Just before 09:00 EDT on 15 March the latest run is still the week before's.
    earlier = latest_slot(trigger, datetime(2027, 3, 15, 12, 59, tzinfo=utc))
    assert earlier and earlier.astimezone(utc) == datetime(2027, 3, 8, 14, 0, tzinfo=utc)


def test_weekly_summary_window_follows_local_time_across_dst(desk: Casedesk, double: SlackDouble, clock: FrozenClock) -> None:
    """Tickets on either side of the window edges of the DST week of 2 Nov 2026 (169 h)."""
    end = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # Mon 2 Nov 09:00 EST
    start = datetime(2026, 10, 26, 13, 0, tzinfo=UTC)  # Mon 26 Oct 09:00 EDT
    for moment in (start - timedelta(minutes=1), start, end - timedelta(minutes=1), end):
        clock.now = moment
        form_ticket(desk, "low")
    clock.now = end + timedelta(minutes=3)
    assert weekly_summary_job(desk.deps).startswith("weekly-summary: posted (2 new,")


# ---- runs once -------------------------------------------------------------------------------------


def test_a_slot_runs_once_however_many_processes_claim_it(desk: Casedesk, engine: Engine, clock: FrozenClock) -> None:
    others = [create_app(desk.deps.settings, engine=engine, clock=clock) for _ in range(3)]
    runs: list[str] = []
    def run(deps: object) -> str:
        runs.append("ran")
        return "ran"

    spec = JobSpec(run)
    jobs = [GuardedJob(d.deps, "probe", spec, IntervalTrigger(minutes=5, start_date=T0)) for d in others]
    barrier = threading.Barrier(len(jobs))

    def fire(job: GuardedJob) -> None:
        barrier.wait()
        job()

    threads = [threading.Thread(target=fire, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert runs == ["ran"]
    clock.now = T0 + timedelta(minutes=4)
    assert all(j() is None for j in jobs) and runs == ["ran"]  # the same slot
    clock.now = T0 + timedelta(minutes=5)
    assert [j() for j in jobs].count("ran") == 1 and len(runs) == 2


def test_a_missed_monday_run_is_made_up_once_within_grace(desk: Casedesk, double: SlackDouble, engine: Engine, clock: FrozenClock) -> None:
    clock.now = T0 + timedelta(minutes=20)  # deployed at 09:20: the 09:00 run was missed
    job = GuardedJob(desk.deps, "weekly-summary", JOBS["weekly-summary"], trigger_for(desk.deps.settings, "weekly-summary"))
    assert job.catch_up() is not None
    other = create_app(desk.deps.settings, engine=engine, clock=clock)
    again = GuardedJob(other.deps, "weekly-summary", JOBS["weekly-summary"], trigger_for(other.deps.settings, "weekly-summary"))
    assert again.catch_up() is None
    clock.now = T0 + timedelta(hours=13)  # back only at 22:00: beyond the grace, wait for next week
    assert desk.deps.ledger.runs("weekly-summary") == 1
    late = create_app(desk.deps.settings, engine=engine, clock=clock)
    assert GuardedJob(late.deps, "weekly-summary", JOBS["weekly-summary"], trigger_for(late.deps.settings, "weekly-summary")).catch_up() is None
    assert len([m for m in double.messages(SUPPORT) if "Weekly summary" in m.text]) == 1


@pytest.mark.skipif("postgresql" not in (__import__("os").environ.get("TEST_DATABASE_URL") or ""), reason="PostgreSQL only")
def test_two_real_schedulers_run_each_slot_once(desk: Casedesk, engine: Engine) -> None:
    """Two APScheduler instances in real time, as two bot processes would, on one PostgreSQL."""
    runs: list[datetime] = []
    lock = threading.Lock()

    def probe(deps: object) -> str:
        with lock:
            runs.append(datetime.now(UTC))
        return "probe ran"

    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    apps = [create_app(desk.deps.settings, engine=engine) for _ in range(2)]
    schedulers = [
        start_scheduler(a.deps, [GuardedJob(a.deps, "probe", JobSpec(probe), IntervalTrigger(seconds=1, start_date=start))])
        for a in apps
    ]
    threading.Event().wait(4.5)
    for s in schedulers:
        s.shutdown(wait=True)
    slots = desk.deps.ledger.runs("probe")
    assert slots >= 3 and len(runs) == slots


def test_a_second_bot_process_on_one_sqlite_file_is_refused(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path

    from db.session import SecondProcess, sqlite_single_process

    url = f"sqlite:///{Path(str(tmp_path)) / 'desk.db'}"
    held = sqlite_single_process(url)
    assert held is not None
    with pytest.raises(SecondProcess, match="with SQLite run one bot process only"):
        sqlite_single_process(url)
    env = {**base_env("http://127.0.0.1:9/api/"), "DATABASE_URL": url, "PATH": __import__("os").environ["PATH"]}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    result = subprocess.run([sys.executable, "-m", "bot"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("casedesk: another Casedesk process is already using desk.db")
    held.close()
    assert sqlite_single_process(url) is not None
    assert sqlite_single_process("postgresql://postgres@127.0.0.1/test") is None


def test_run_records_older_than_a_month_are_pruned(desk: Casedesk) -> None:
    ledger = desk.deps.ledger
    old, recent = T0 - timedelta(days=31), T0 - timedelta(days=29)
    for slot in (old, recent, T0):
        assert ledger.claim("probe", slot)
    ledger.finish("probe", T0, "ran")
    assert ledger.runs("probe") == 2
    assert not ledger.claim("probe", recent)  # still decides its slot
