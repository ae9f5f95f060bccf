"""/metrics: what the bot did (envelopes, acks, Slack calls, mail, jobs) and what the database
holds (outbox, tickets by status), scraped over HTTP from the health server and parsed with
prometheus_client's own parser."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.jobs import JobSpec
from bot.jobs.email_poll import email_poll
from bot.jobs.scheduler import GuardedJob
from bot.ops.health import HealthServer
from bot.services.tickets import NewTicket
from bot.settings import Settings, load_settings
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import REPORTER, SUPPORT, People, base_env, connected, email_env
from tests.factories import FrozenClock
from tests.mail_samples import mail, raw
from tests.test_ticket_flow import file_ticket

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
T0 = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)
KINDS = ("slash_commands", "interactive")


@pytest.fixture
def metrics_server(desk: Casedesk, engine: Engine) -> Iterator[HealthServer]:
    server = HealthServer(0, engine, lambda: True, host="127.0.0.1", metrics=desk.deps.metrics).start()
    yield server
    server.stop()


def scrape(server: HealthServer) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(response.read().decode())


def parse(body: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_a_ticket_filed_and_taken_shows_in_envelopes_acks_slack_calls_and_ticket_counts(
    desk: Casedesk, double: SlackDouble, people: People, metrics_server: HealthServer
) -> None:
    double.web_api.rate_limit("chat.postMessage", times=1, retry_after=0)  # one 429, waited out
    card = file_ticket(double, people)
    filed = scrape(metrics_server)
    people.agent.click(card, "Assign to Me")
    double.wait_for(lambda: "🛠️ In Progress" in double.current(card).all_text(), what="the card to follow")

    # A counter moves once Slack's answer (or the ack) is out, a moment after the double saw it.
    def settled() -> Samples | None:
        now = scrape(metrics_server)
        acked = all(value(now, "casedesk_acks_total", type=k) == value(now, "casedesk_envelopes_total", type=k) for k in KINDS)
        redrawn = value(now, "casedesk_slack_calls_total", method="chat.update", outcome="ok") >= 1
        return now if acked and redrawn else None

    samples = double.wait_for(settled, what="the redraw and the last ack to be counted")
    # /new-ticket, then the form's actions and its submission (all received before their
    # acks reached the double); the click is one more.
    assert value(filed, "casedesk_envelopes_total", type="slash_commands") == 1
    assert value(filed, "casedesk_envelopes_total", type="interactive") >= 1
    interactive = value(filed, "casedesk_envelopes_total", type="interactive") + 1
    assert value(samples, "casedesk_envelopes_total", type="interactive") == interactive
    # Every envelope acked, each ack timed, all well inside Slack's 3 s.
    for kind in KINDS:
        received = value(samples, "casedesk_envelopes_total", type=kind)
        assert value(samples, "casedesk_acks_total", type=kind) == received
        assert value(samples, "casedesk_ack_seconds_count", type=kind) == received
        assert value(samples, "casedesk_ack_seconds_bucket", type=kind, le="3.0") == received
    assert 0 < value(samples, "casedesk_ack_seconds_sum", type="interactive") < 3 * interactive
    # The listener's views.open, the sender's posts and the card's redraw; the 429 counted
    # apart, and its call still ended ok once waited out.
    assert value(samples, "casedesk_slack_calls_total", method="views.open", outcome="ok") == 1
    assert value(samples, "casedesk_slack_calls_total", method="chat.postMessage", outcome="ok") >= 3
    assert value(samples, "casedesk_slack_calls_total", method="chat.update", outcome="ok") >= 1
    assert value(samples, "casedesk_slack_rate_limited_total", method="chat.postMessage") == 1
    assert value(samples, "casedesk_slack_calls_total", method="chat.postMessage", outcome="rate_limited") == 0
    assert value(samples, "casedesk_tickets", status="in_progress") == 1
    assert value(samples, "casedesk_tickets", status="open") == 0
    assert value(samples, "casedesk_database_up") == 1


def test_a_call_slack_refuses_is_counted_as_an_error(
    desk: Casedesk, double: SlackDouble, people: People, metrics_server: HealthServer
) -> None:
    double.web_api.fail("views.open", "expired_trigger_id")
    people.reporter.run("/new-ticket")
    double.wait_for(lambda: double.workspace.calls_to("views.open"), what="the form's views.open")
    double.wait_for(
        lambda: value(scrape(metrics_server), "casedesk_slack_calls_total", method="views.open", outcome="error") == 1,
        what="the refused call to be counted",
    )


def test_outbox_depth_and_age_and_tickets_by_status_are_read_when_scraped(settings: Settings, engine: Engine) -> None:
    clock = FrozenClock(T0)
    built = create_app(settings, engine=engine, clock=clock)  # no sender running: the posts wait
    server = HealthServer(0, engine, lambda: True, host="127.0.0.1", metrics=built.deps.metrics).start()
    try:
        assert value(scrape(server), "casedesk_outbox_pending") == 0
        assert value(scrape(server), "casedesk_outbox_oldest_pending_age_seconds") == 0
        built.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "high", "The printer jams"))
        clock.now = T0 + timedelta(seconds=90)
        built.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "low", "The screen flickers"))
        clock.now = T0 + timedelta(seconds=150)
        samples = scrape(server)
    finally:
        server.stop()
    assert value(samples, "casedesk_outbox_pending") >= 2  # at least each ticket's card
    assert value(samples, "casedesk_outbox_oldest_pending_age_seconds") == 150
    assert value(samples, "casedesk_tickets", status="open") == 2


def test_jobs_are_counted_by_outcome(desk: Casedesk, metrics_server: HealthServer) -> None:
    def works(_deps: object) -> str:
        return "done"

    def breaks(_deps: object) -> str:
        raise RuntimeError("the job broke")

    trigger = IntervalTrigger(minutes=5, start_date=T0)
    GuardedJob(desk.deps, "works", JobSpec(works, once_per_slot=False), trigger)()
    GuardedJob(desk.deps, "works", JobSpec(works, once_per_slot=False), trigger)()
    assert GuardedJob(desk.deps, "breaks", JobSpec(breaks, once_per_slot=False), trigger)() is None  # reported, not raised
    samples = scrape(metrics_server)
    assert value(samples, "casedesk_job_runs_total", job="works", outcome="ok") == 2
    assert value(samples, "casedesk_job_runs_total", job="breaks", outcome="failed") == 1
    assert value(samples, "casedesk_job_runs_total", job="breaks", outcome="ok") == 0


@pytest.fixture
def mail_desk(engine: Engine, double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Iterator[Casedesk]:
    yield from connected(create_app(load_settings(base_env(double.api_url) | email_env(*mail_servers)), engine=engine), double)


def test_mail_polled_and_quarantined_are_counted(
    mail_desk: Casedesk, engine: Engine, double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap = mail_servers[0]
    imap.append(mail())
    imap.append(raw("To: support@example.com\nSubject: who am I\nMessage-ID: <anon@x.test>\n\nNo From line."))
    assert "2 read (1 opened, 1 quarantined)" in email_poll(mail_desk.deps)
    double.wait_message(SUPPORT, "TCK-000001")
    server = HealthServer(0, engine, lambda: True, host="127.0.0.1", metrics=mail_desk.deps.metrics).start()
    try:
        samples = scrape(server)
    finally:
        server.stop()
    assert value(samples, "casedesk_mail_polled_total", outcome="opened") == 1
    assert value(samples, "casedesk_mail_polled_total", outcome="quarantined") == 1


def test_each_desk_counts_in_its_own_registry(desk: Casedesk, settings: Settings, engine: Engine) -> None:
    other = create_app(settings, engine=engine)
    desk.deps.metrics.jobs.labels("probe", "ok").inc()
    assert value(parse(desk.deps.metrics.render().decode()), "casedesk_job_runs_total", job="probe", outcome="ok") == 1
    assert value(parse(other.deps.metrics.render().decode()), "casedesk_job_runs_total", job="probe", outcome="ok") == 0
