"""Every envelope is acked, whether a listener takes it or not; a channel message is
stored before its ack, and one that cannot be stored is left unacked for Slack to redeliver."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, text

from bot.app import Casedesk, create_app
from bot.handlers import messages
from bot.settings import Settings
from db.models import CaseMessage, Ticket
from db.session import make_engine
from slack_double import Envelope, Message, SlackDouble, events
from tests.conftest import ADMIN, GENERAL, REPORTER, SUPPORT, People, connected
from tests.test_conversations import INTAKE, count, settings  # noqa: F401 - the intake channel's settings

OTHER_BOT = "B0OTHERBOT"


def another_bots_post(double: SlackDouble, channel: str) -> Envelope:
    ws = double.workspace
    post = ws.add_message(Message(channel, ws.next_ts(), "Deploy finished", None, None, OTHER_BOT))
    return double.deliver(events.bot_message_event(ws, post))


def edit_of(double: SlackDouble, people: People, channel: str) -> Envelope:
    said = people.reporter.say(channel, "Lunch at noon?")
    people.reporter.edit(said, "Lunch at one?")
    return last_envelope(double)


def last_envelope(double: SlackDouble) -> Envelope:
    return list(double.socket.envelopes.values())[-1]


IGNORED: dict[str, Callable[[SlackDouble, People], Envelope]] = {
    "another bot's message": lambda d, p: another_bots_post(d, INTAKE),
    "another bot's message in a DM": lambda d, p: another_bots_post(d, d.workspace.dm_channel(REPORTER).id),
    "a channel join": lambda d, p: d.deliver(events.join_event(d.workspace, INTAKE, REPORTER)),
    "an edit of a message that is no case's": lambda d, p: edit_of(d, p, GENERAL),
    "an edit in the bot's DM": lambda d, p: edit_of(d, p, d.workspace.dm_channel(REPORTER).id),
    "an event type nobody listens to": lambda d, p: p.reporter.react(Message(GENERAL, "1790000000.000100", "hi"), "eyes"),
}


@pytest.mark.parametrize("what", IGNORED)
def test_an_event_no_listener_takes_is_acked_once(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine, what: str
) -> None:
    env = IGNORED[what](double, people)  # delivering waits for the ack
    assert env.acks == 1 and not env.ack_payload
    assert not double.socket.unacked()
    assert count(engine, Ticket) == 0 and count(engine, CaseMessage) == 0


def test_a_channel_message_is_stored_by_the_time_it_is_acked(desk: Casedesk, double: SlackDouble, people: People) -> None:
    # No waiting here, on purpose: each step returns at its ack, and what it says must be stored by then.
    asked = people.reporter.say(INTAKE, "The printer is jammed.")
    assert desk.deps.tickets.get(1).origin_ts == asked.ts
    reply = people.reporter.say(INTAKE, "Still jammed.", thread=asked)
    assert [m.slack_ts for m in desk.deps.conversations.messages(1)] == [asked.ts, reply.ts]
    people.reporter.edit(reply, "Unjammed it myself.")
    assert desk.deps.conversations.messages(1)[1].body == "Unjammed it myself."
    people.reporter.delete(reply)
    assert desk.deps.conversations.messages(1)[1].deleted_at is not None


@contextmanager
def database_busy(engine: Engine) -> Iterator[None]:
    """Another writer holds the tickets table: the bot's new cases wait behind it."""
    with engine.begin() as conn:  # on SQLite this BEGIN IMMEDIATE takes the write lock
        if engine.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE tickets IN EXCLUSIVE MODE"))
        yield


def send_unacked(double: SlackDouble, channel: str, said: str) -> tuple[Message, Envelope]:
    """A person posts; the event goes out without waiting for its ack."""
    ws = double.workspace
    msg = ws.add_message(Message(channel, ws.next_ts(), said, None, REPORTER))
    return msg, double.socket.send("events_api", events.event_callback(ws, events.message_event(ws, msg)))


def wait_until_given_up(double: SlackDouble, caplog: pytest.LogCaptureFixture) -> None:
    double.wait_for(
        lambda: any("not stored" in r.getMessage() for r in caplog.records), what="the bot to give up storing"
    )


def test_a_message_not_stored_in_time_is_not_acked_and_its_redelivery_stores_it_once(
    desk: Casedesk,
    double: SlackDouble,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(messages, "STORE_WAIT", 0.5)
    caplog.set_level(logging.WARNING, logger=messages.__name__)
    with database_busy(engine):
        asked, env = send_unacked(double, INTAKE, "Filed while the database was busy.")
        wait_until_given_up(double, caplog)
    assert env.acks == 0
    # The redelivery meets a free database: it gets the bot's usual wait, so a busy machine
    # cannot make it time out as well.
    monkeypatch.undo()
    double.redeliver(env.payload, retry_attempt=1)
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 1
    double.wait_thread_reply(asked, "TCK-000001")
    double.wait_message(SUPPORT, "TCK-000001")
    assert len(double.messages(SUPPORT)) == 1 and len(double.thread(asked)) == 1


def test_a_command_is_not_queued_behind_messages_waiting_for_the_database(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=messages.__name__)
    with database_busy(engine):
        waiting = [send_unacked(double, INTAKE, f"Case {n}")[1] for n in range(12)]
        env = people.reporter.run("/new-ticket")
        assert env.ack_latency is not None and env.ack_latency < 1.0
        people.reporter.modal_from(env.payload["trigger_id"])
        wait_until_given_up(double, caplog)
    assert not any(e.acked_at for e in waiting)


@pytest.fixture
def broken_desk(settings: Settings, double: SlackDouble, monkeypatch: pytest.MonkeyPatch) -> Iterator[Casedesk]:  # noqa: F811
    monkeypatch.setattr(messages, "STORE_DB_RETRY_DELAYS", (0.05,))
    # Nothing listens on port 1: every connection is refused at once.
    yield from connected(create_app(settings, engine=make_engine("postgresql://postgres@127.0.0.1:1/casedesk")), double)


def test_a_message_while_the_database_is_down_is_not_acked_and_the_last_redelivery_is_reported(
    broken_desk: Casedesk, double: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=messages.__name__)
    _, env = send_unacked(double, INTAKE, "Filed while the database was down.")
    wait_until_given_up(double, caplog)
    last = double.socket.send("events_api", env.payload, retry_attempt=3, retry_reason="timeout")
    report = double.wait_message(ADMIN, "Unexpected error")
    assert "storing a channel message" in report.text and "OperationalError" in report.text
    assert env.acks == 0 and last.acks == 0
