"""Bursts in intake channels: a person's top-level messages close together are one case."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.services.conversations import SlackMessage
from bot.settings import Settings, load_settings
from db.models import CaseMessage, Ticket
from slack_double import Message, SlackDouble, events
from tests.conftest import AGENT, OUTSIDER, REPORTER, SUPPORT, People, base_env
from tests.test_conversations import INTAKE, count


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(INTAKE, "help")
    env = base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": INTAKE}
    del env["INTAKE_GROUP_MINUTES"]  # the default: 2 minutes
    return load_settings(env)


def say_at(double: SlackDouble, user: str, ts: float, text: str) -> Message:
    """A top-level message in the intake channel written at ``ts`` (Slack's clock)."""
    ws = double.workspace
    msg = ws.add_message(Message(INTAKE, f"{ts:.6f}", text, None, user))
    double.deliver(events.message_event(ws, msg))
    return msg


def test_a_burst_of_messages_is_one_case(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    assert desk.deps.settings.intake_group_minutes == 2
    first = people.reporter.say(INTAKE, "Hi team")
    card = double.wait_message(SUPPORT, "TCK-000001")
    second = people.reporter.say(INTAKE, "the CSV export fails")
    people.reporter.say(INTAKE, "since this morning", files=["error.png"])
    double.wait_thread_reply(card, "the CSV export fails")
    double.wait_thread_reply(card, "since this morning")
    assert count(engine, Ticket) == 1
    assert [m.body for m in desk.deps.conversations.messages(1)] == ["Hi team", "the CSV export fails", "since this morning"]
    assert desk.deps.tickets.get(1).origin_ts == first.ts
    # A reply under a later message of the burst joins the case too.
    people.agent.say(INTAKE, "Which report?", thread=second)
    double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == 4, what="the reply stored")
    assert desk.deps.conversations.messages(1)[-1].author_id == AGENT


def test_a_message_after_the_gap_or_by_someone_else_opens_its_own_case(desk: Casedesk, double: SlackDouble, engine: Engine) -> None:
    start = float(double.workspace.next_ts())
    say_at(double, REPORTER, start, "Printer on floor 2 is jammed.")
    say_at(double, OUTSIDER, start + 10, "Me too, my laptop won't boot.")
    say_at(double, REPORTER, start + 60, "Paper tray 3.")  # one minute after their last: the same burst
    say_at(double, REPORTER, start + 60 + 121, "Unrelated: I need a new badge.")  # more than two minutes later
    double.wait_message(SUPPORT, "TCK-000003")
    with engine.connect() as conn:
        cases = {t.id: (t.reporter_id, t.details) for t in conn.execute(Ticket.__table__.select())}
    assert sorted(cases.values()) == sorted([
        (REPORTER, "Printer on floor 2 is jammed."),
        (OUTSIDER, "Me too, my laptop won't boot."),
        (REPORTER, "Unrelated: I need a new badge."),
    ])
    printer = next(i for i, (_, d) in cases.items() if d.startswith("Printer"))
    assert [m.body for m in desk.deps.conversations.messages(printer)] == ["Printer on floor 2 is jammed.", "Paper tray 3."]


def test_a_finished_case_takes_no_more_of_the_burst(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    people.reporter.say(INTAKE, "VPN drops every hour.")
    double.wait_message(SUPPORT, "TCK-000001")
    desk.deps.tickets.resolve(1, AGENT, "Client updated.")
    people.reporter.say(INTAKE, "And the wifi password?")
    double.wait_message(SUPPORT, "TCK-000002")
    assert count(engine, Ticket) == 2


def test_a_redelivered_burst_message_is_stored_once(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    people.reporter.say(INTAKE, "Hello")
    card = double.wait_message(SUPPORT, "TCK-000001")
    ws = double.workspace
    later = ws.add_message(Message(INTAKE, ws.next_ts(), "my phone is locked", None, REPORTER))
    env = double.deliver(events.message_event(ws, later))
    double.redeliver(env.payload, retry_attempt=1)
    double.wait_thread_reply(card, "my phone is locked")
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 2


def test_two_processes_handling_one_burst_agree_on_one_case(desk: Casedesk, engine: Engine) -> None:
    other = create_app(desk.deps.settings, engine=engine)
    start = 1790000000.0
    messages = [SlackMessage(INTAKE, f"{start + n:.6f}", REPORTER, f"part {n}") for n in range(2)]
    within = timedelta(minutes=2)
    results = []
    gate = threading.Barrier(2)

    def receive(service: object, msg: SlackMessage) -> None:
        gate.wait()
        results.append(service.open_case(msg, group_within=within))  # type: ignore[attr-defined]

    threads = [
        threading.Thread(target=receive, args=(d.conversations, m)) for d, m in zip((desk.deps, other.deps), messages, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted((r.created, r.joined) for r in results) == [(False, True), (True, False)]
    assert len({r.ticket.id for r in results}) == 1
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 2
