"""Service levels wired into the desk: due times per ticket, the card's due lines, Waiting on
the customer (pausing the resolution clock, resumed by their next message by mail or in
Slack) and the SLA warnings and breach alerts of the escalation sweep, once each; through
the real bot and the Slack double, with a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from bot.app import Casedesk, create_app
from bot.jobs.email_poll import email_poll
from bot.jobs.escalate import escalate
from bot.services.status import Status
from bot.services.tickets import NewTicket
from bot.settings import Settings, load_settings
from db.models import OutboxPost
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER, SUPPORT, People, base_env, connected, email_env
from tests.factories import FrozenClock
from tests.mail_samples import mail
from tests.test_cli import run_bot
from tests.test_first_hour import one_line

ALERTS = "C0ALERTS"
NY = ZoneInfo("America/New_York")
FRIDAY_1755 = datetime(2026, 11, 20, 17, 55, tzinfo=NY)
MONDAY = datetime(2026, 11, 23, tzinfo=NY)
SLA_ENV = {"ALERTING_SLACK_CHANNEL": ALERTS, "BUSINESS_HOURS": "09:00-18:00", "SLA_POLICY_HIGH": "1h/8h"}


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(FRIDAY_1755)


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(ALERTS, "alerts")
    return load_settings(base_env(double.api_url) | SLA_ENV)


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def file_high(desk: Casedesk) -> int:
    ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "high", "The export button does nothing."))
    return ticket.id


def settle(desk: Casedesk, double: SlackDouble) -> None:
    """Wait until every post owed is sent, before the clock moves: a redraw in flight when
    the clock jumps would look unclaimed, and a later change might leave its redraw to it."""

    def sent() -> bool:
        with desk.engine.connect() as conn:
            left = conn.scalar(
                select(func.count()).select_from(OutboxPost).where(OutboxPost.sent_at.is_(None), OutboxPost.dead_at.is_(None))
            )
        return left == 0

    double.wait_for(sent, what="the outbox to drain")


def sla_part(result: str) -> str:
    return result.partition("; SLA: ")[2]


def test_filed_friday_1755_the_first_response_warns_at_0940_and_breaches_monday_0955_once_each(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    ticket_id = file_high(desk)
    ticket = desk.deps.tickets.get(ticket_id)
    assert ticket.first_response_due_at == at(MONDAY, 9, 55)  # 5 business minutes on Friday, 55 on Monday
    assert ticket.resolution_due_at == at(MONDAY, 16, 55)
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert "⏱ First response due in 1 h" in card.all_text() and "⏱ Resolution due in 8 h" in card.all_text()
    people.agent.click(card, "Assign to Me")
    double.wait_thread_reply(card, "assigned TCK-000001")

    settle(desk, double)
    clock.now = at(MONDAY, 9, 39)
    assert sla_part(escalate(desk.deps)) == ""
    settle(desk, double)
    clock.now = at(MONDAY, 9, 40)  # 75 % of the hour: 5 minutes on Friday, 40 on Monday
    assert sla_part(escalate(desk.deps)) == "TCK-000001 (first_warned)"
    dm = people.agent.wait_dm("75 % of the First response SLA (High, 1 business hour)")
    for expected in ("TCK-000001", "The export button does nothing.", "High priority", f"<@{REPORTER}>", f"<@{AGENT}>"):
        assert expected in dm.text
    double.wait_thread_reply(card, "⏱ First response SLA (High, 1 business hour): 75 % used.")
    settle(desk, double)
    clock.now = at(MONDAY, 9, 54)
    assert sla_part(escalate(desk.deps)) == ""

    settle(desk, double)
    clock.now = at(MONDAY, 9, 55)
    assert sla_part(escalate(desk.deps)) == "TCK-000001 (first_breached)"
    alert = double.wait_message(ALERTS, "First response SLA (High, 1 business hour) breached")
    for expected in (
        "TCK-000001",
        "The export button does nothing.",
        "High priority",
        f"requested by <@{REPORTER}>",
        f"assigned to <@{AGENT}>",
    ):
        assert expected in alert.text
    double.wait_thread_reply(card, "⏱ First response SLA (High, 1 business hour) breached.")
    double.wait_for(lambda: "⏱ First response breached" in double.current(card).all_text(), what="the card's due line")
    settle(desk, double)
    clock.now = at(MONDAY, 10, 30)
    assert sla_part(escalate(desk.deps)) == ""
    assert [m.text for m in double.messages(ALERTS) if "SLA" in m.text] == [alert.text]
    assert len([m for m in people.agent.dms() if "SLA" in m.text]) == 1
    sla_events = [(e.kind, e.to_value) for e in desk.deps.tickets.events(ticket_id) if e.kind == "sla"]
    assert sla_events == [("sla", "first_warned"), ("sla", "first_breached")]


def test_an_answered_ticket_never_breaches_its_first_response(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    file_high(desk)
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: desk.deps.tickets.get(1).card_ts == card.ts, what="the card's place to be recorded")
    people.agent.say(SUPPORT, "Looking at it now.", thread=card)
    double.wait_for(lambda: desk.deps.tickets.get(1).first_response_at is not None, what="the first response")
    settle(desk, double)
    clock.now = at(MONDAY, 12)
    assert sla_part(escalate(desk.deps)) == ""


def test_waiting_pauses_the_resolution_clock_and_the_customers_thread_reply_resumes_it(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    settle(desk, double)
    clock.now = at(MONDAY, 9)
    file_high(desk)  # resolution due 17:00 (8 business hours)
    card = double.wait_message(SUPPORT, "TCK-000001")
    people.agent.click(card, "Assign to Me")
    double.wait_for(lambda: "Waiting on customer" in double.current(card).button_labels(), what="the Waiting button")
    settle(desk, double)
    clock.now = at(MONDAY, 11)
    people.agent.click(double.current(card), "Waiting on customer")
    double.wait_thread_reply(card, "set TCK-000001 to Waiting on the customer")
    double.wait_for(
        lambda: "⏱ Resolution paused (waiting on the customer), 6 h left" in double.current(card).all_text(),
        what="the paused resolution line",
    )
    assert desk.deps.tickets.get(1).status is Status.WAITING
    assert double.current(card).button_labels()[0] == "Resume"

    settle(desk, double)
    clock.now = at(MONDAY, 17, 30)  # the target's 17:00 passes while paused: nothing fires
    assert "resolution" not in sla_part(escalate(desk.deps))
    settle(desk, double)
    clock.now = at(MONDAY + timedelta(days=1), 10)
    people.reporter.say(SUPPORT, "Here is the export file you asked for.", thread=card)
    double.wait_thread_reply(card, "Resumed: the customer replied in the thread.")
    ticket = desk.deps.tickets.get(1)
    assert ticket.status is Status.IN_PROGRESS and ticket.paused_at is None
    # 11:00-18:00 Monday (7 h) and 09:00-10:00 Tuesday (1 h) waited: due 17:00 Monday + 8 business hours.
    assert ticket.resolution_due_at == at(MONDAY + timedelta(days=1), 16)
    double.wait_for(lambda: "⏱ Resolution due in 6 h" in double.current(card).all_text(), what="the running resolution line")
    statuses = [(e.from_value, e.to_value, e.note) for e in desk.deps.tickets.events(1) if e.kind == "status"]
    assert statuses[-2:] == [("in_progress", "waiting", None), ("waiting", "in_progress", "resumed: the customer replied")]
    settle(desk, double)
    clock.now = at(MONDAY + timedelta(days=1), 16)
    assert sla_part(escalate(desk.deps)) == "TCK-000001 (resolution_breached)"


def test_an_agent_resumes_a_waiting_ticket_and_a_resolved_one_leaves_waiting(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    settle(desk, double)
    clock.now = at(MONDAY, 9)
    file_high(desk)
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.set_waiting(1, AGENT)
    settle(desk, double)
    clock.now = at(MONDAY, 10)
    change = desk.deps.tickets.resume(1, AGENT)
    assert change.ticket.status is Status.IN_PROGRESS and change.ticket.resolution_due_at == at(MONDAY, 18)
    desk.deps.tickets.set_waiting(1, AGENT)
    settle(desk, double)
    clock.now = at(MONDAY, 12)
    resolved = desk.deps.tickets.resolve(1, AGENT, "Fixed meanwhile.")
    assert resolved.ticket.status is Status.RESOLVED and resolved.ticket.paused_at is None


# ---- by mail ---------------------------------------------------------------------------------


@pytest.fixture
def mail_settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    double.channel(ALERTS, "alerts")
    return load_settings(base_env(double.api_url) | email_env(*mail_servers) | SLA_ENV)


@pytest.fixture
def mail_desk(mail_settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(mail_settings, engine=engine, clock=clock), double)


def test_the_customers_mail_resumes_a_waiting_case(
    mail_desk: Casedesk, double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer], clock: FrozenClock
) -> None:
    imap, smtp = mail_servers
    settle(mail_desk, double)
    clock.now = at(MONDAY, 9)
    imap.append(mail())
    email_poll(mail_desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")
    [ack] = smtp.wait(1)
    ticket = mail_desk.deps.tickets.get(1)
    assert ticket.resolution_due_at == at(MONDAY + timedelta(days=2), 15)  # Medium: 24 business hours, 9 a day
    mail_desk.deps.tickets.assign_to_self(1, AGENT)
    settle(mail_desk, double)
    clock.now = at(MONDAY, 10)
    mail_desk.deps.tickets.set_waiting(1, AGENT)
    settle(mail_desk, double)
    clock.now = at(MONDAY + timedelta(days=1), 9, 30)  # 8 h 30 m of business time waited
    imap.append(mail(ack.message["Subject"], "Serial number is 42.", message_id="<again@customer.test>"))
    email_poll(mail_desk.deps)
    double.wait_thread_reply(card, "Resumed: the customer replied by email.")
    ticket = mail_desk.deps.tickets.get(1)
    assert ticket.status is Status.IN_PROGRESS
    # 10:00-18:00 Monday and 09:00-09:30 Tuesday waited: Wednesday 15:00 + 8 h 30 m of business time.
    assert ticket.resolution_due_at == at(MONDAY + timedelta(days=3), 14, 30)
    events = [(e.kind, e.to_value, e.note) for e in mail_desk.deps.tickets.events(1) if e.kind == "status"]
    assert events[-1] == ("status", "in_progress", "resumed: the customer replied")


# ---- settings --------------------------------------------------------------------------------


def test_a_bad_sla_setting_stops_the_start_in_one_line(tmp_path: Path) -> None:
    line = one_line(run_bot([], base_env() | {"SLA_POLICY_HIGH": "0h/8h"}, tmp_path))
    assert line == (
        "casedesk: configuration error: SLA_POLICY_HIGH is malformed: targets must be more than 0; "
        "expected first response/resolution targets in business hours such as 1h/8h or 30m/4h"
    )


def test_every_bad_service_level_setting_is_its_own_line_beside_the_others() -> None:
    from bot.settings.values import ConfigErrors

    env = base_env() | {
        "BUSINESS_HOURS": "17:00-09:00",
        "HOLIDAYS": "2026-13-01",
        "SLA_POLICY_URGENT": "1h/2h",
        "STALE_DAYS": "-1",
    }
    with pytest.raises(ConfigErrors) as err:
        load_settings(env)
    named = sorted(line.split(" ")[0] for line in err.value.problems)
    assert named == ["BUSINESS_HOURS", "HOLIDAYS", "SLA_POLICY_URGENT", "STALE_DAYS"]


def test_an_escalation_to_high_priority_brings_the_high_targets(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    clock.now = at(MONDAY, 9)
    ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "low", "Slow page."))
    assert ticket.first_response_due_at == at(MONDAY, 17)  # Low: 8 business hours
    card = double.wait_message(SUPPORT, "TCK-000001")
    # A reply is matched to its case by the card's ts, which the desk records once Slack answers the post.
    double.wait_for(lambda: desk.deps.tickets.get(1).card_ts == card.ts, what="the card's place to be recorded")
    people.reporter.say(SUPPORT, "This is urgent, customers are waiting.", thread=card)
    double.wait_for(lambda: desk.deps.tickets.get(1).keyword == "urgent", what="the keyword flagged")
    settle(desk, double)
    clock.now = at(MONDAY, 9, 30)
    assert "TCK-000001 (keyword)" in escalate(desk.deps)
    ticket = desk.deps.tickets.get(1)
    assert ticket.priority.value == "high"
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (at(MONDAY, 10), at(MONDAY, 17))


def test_a_case_whose_sla_alert_cannot_be_written_does_not_hold_back_the_others(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = file_high(desk)
    file_high(desk)  # TCK-000002, whose alert goes through
    service = desk.deps.escalations
    real_raise = service._sla_raise

    def failing_for_one(session, row, holding, people, now):  # type: ignore[no-untyped-def]
        if row.id == broken:  # the write for this case fails in the database
            raise OperationalError("INSERT INTO ticket_events", {}, Exception("disk I/O error"))
        return real_raise(session, row, holding, people, now)

    monkeypatch.setattr(service, "_sla_raise", failing_for_one)
    settle(desk, double)
    clock.now = at(MONDAY, 9, 55)
    assert sla_part(escalate(desk.deps)) == "TCK-000002 (first_breached)"
    assert service.failed == 1
    double.wait_message(ALERTS, "TCK-000002")
    monkeypatch.setattr(service, "_sla_raise", real_raise)
    settle(desk, double)
    assert sla_part(escalate(desk.deps)) == "TCK-000001 (first_breached)"  # the next sweep tries it again
