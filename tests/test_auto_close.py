"""Auto-close through the real bot, the Slack double and the mail servers, with a hand-moved
clock: a Resolved ticket left without a reply is warned, then closed; a reply in between
reopens it; a ticket Waiting on the customer the same; each warning and close once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from bot.app import Casedesk, create_app
from bot.jobs.auto_close import auto_close
from bot.jobs.email_poll import email_poll
from bot.services.auto_close import AutoClose
from bot.services.effects import Channels
from bot.services.status import Status
from bot.services.tickets import NewTicket, TicketService
from bot.settings import Settings, load_settings
from bot.settings.values import ConfigErrors
from db.models import Ticket
from db.session import Database
from mail_double.servers import ImapServer, Received, SmtpServer
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER, SUPPORT, People, base_env, connected, email_env
from tests.factories import FrozenClock
from tests.mail_samples import CUSTOMER, mail
from tests.test_cli import run_bot
from tests.test_service_levels import settle

START = datetime(2026, 11, 2, 10, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
# No surveys here: the requester's DMs are the auto-close notes alone.
LOOP_ENV = {"CSAT_SAMPLE": "0"}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    return load_settings(base_env(double.api_url) | LOOP_ENV)


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def file_and_resolve(desk: Casedesk, double: SlackDouble) -> tuple[int, object]:
    ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "medium", "The invoice total is wrong."))
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: desk.deps.tickets.get(ticket.id).card_ts == card.ts, what="the card's place to be recorded")
    desk.deps.tickets.assign_to_self(ticket.id, AGENT)
    desk.deps.tickets.resolve(ticket.id, AGENT, "Recalculated.")
    return ticket.id, card


def run_at(desk: Casedesk, double: SlackDouble, clock: FrozenClock, when: datetime) -> str:
    settle(desk, double)
    clock.now = when
    return auto_close(desk.deps)


def test_a_resolved_ticket_is_warned_two_days_ahead_then_closed_once(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    ticket_id, card = file_and_resolve(desk, double)
    assert run_at(desk, double, clock, START + 5 * DAY - timedelta(minutes=1)) == "auto-close: 0 warned, 0 closed"
    assert run_at(desk, double, clock, START + 5 * DAY) == "auto-close: 1 warned, 0 closed"
    dm = people.reporter.wait_dm("will close in 2 days unless you reply")
    assert "TCK-000001 was resolved" in dm.text
    double.wait_thread_reply(card, "closes automatically on")  # type: ignore[arg-type]
    # Run again (a re-run, a second replica): warned once.
    assert run_at(desk, double, clock, START + 6 * DAY) == "auto-close: 0 warned, 0 closed"
    assert len([m for m in people.reporter.dms() if "unless you reply" in m.text]) == 1

    assert run_at(desk, double, clock, START + 7 * DAY) == "auto-close: 0 warned, 1 closed: closed TCK-000001"
    double.wait_thread_reply(card, "Closed automatically: resolved for 7 days without a reply.")  # type: ignore[arg-type]
    ticket = desk.deps.tickets.get(ticket_id)
    assert ticket.status is Status.CLOSED and ticket.closed_at == START + 7 * DAY
    assert run_at(desk, double, clock, START + 8 * DAY) == "auto-close: 0 warned, 0 closed"
    trail = [(e.kind, e.actor_id, e.to_value) for e in desk.deps.tickets.events(ticket_id) if e.actor_id == "casedesk"]
    assert trail[0][:2] == ("autoclose_warned", "casedesk")
    assert trail[-1] == ("status", "casedesk", "closed")


def test_a_reply_after_the_warning_reopens_the_ticket_and_it_is_not_closed(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    ticket_id, card = file_and_resolve(desk, double)
    assert run_at(desk, double, clock, START + 5 * DAY) == "auto-close: 1 warned, 0 closed"
    people.reporter.wait_dm("unless you reply")
    settle(desk, double)
    clock.now = START + 6 * DAY
    people.reporter.say(SUPPORT, "It is still wrong on the second page.", thread=card)  # type: ignore[arg-type]
    double.wait_for(lambda: desk.deps.tickets.get(ticket_id).status is Status.OPEN, what="the reply to reopen it")
    assert run_at(desk, double, clock, START + 8 * DAY) == "auto-close: 0 warned, 0 closed"
    assert desk.deps.tickets.get(ticket_id).status is Status.OPEN

    # Resolved again: a new spell, warned again (the old warning does not count for it).
    desk.deps.tickets.assign_to_self(ticket_id, AGENT)
    desk.deps.tickets.resolve(ticket_id, AGENT, "Second page fixed too.")
    assert run_at(desk, double, clock, START + 13 * DAY) == "auto-close: 1 warned, 0 closed"
    assert run_at(desk, double, clock, START + 15 * DAY) == "auto-close: 0 warned, 1 closed: closed TCK-000001"


def test_a_ticket_waiting_on_the_customer_is_warned_then_closed_and_a_reply_resumes_it(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock
) -> None:
    ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "medium", "Refund missing."))
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: desk.deps.tickets.get(ticket.id).card_ts == card.ts, what="the card's place to be recorded")
    desk.deps.tickets.assign_to_self(ticket.id, AGENT)
    desk.deps.tickets.set_waiting(ticket.id, AGENT)
    assert run_at(desk, double, clock, START + 11 * DAY) == "auto-close: 0 warned, 0 closed"
    assert run_at(desk, double, clock, START + 12 * DAY) == "auto-close: 1 warned, 0 closed"
    dm = people.reporter.wait_dm("is waiting for your answer and will close in 2 days unless you reply")
    assert "TCK-000001" in dm.text
    people.reporter.say(SUPPORT, "Here is the order number: 7781.", thread=card)
    double.wait_thread_reply(card, "Resumed: the customer replied in the thread.")
    assert run_at(desk, double, clock, START + 14 * DAY) == "auto-close: 0 warned, 0 closed"
    assert desk.deps.tickets.get(ticket.id).status is Status.IN_PROGRESS

    # Waiting again, and this time nobody answers.
    desk.deps.tickets.set_waiting(ticket.id, AGENT)
    assert run_at(desk, double, clock, START + 26 * DAY) == "auto-close: 1 warned, 0 closed"
    assert run_at(desk, double, clock, START + 28 * DAY) == "auto-close: 0 warned, 1 closed: closed TCK-000001"
    double.wait_thread_reply(card, "Closed automatically: waiting on the customer for 14 days without a reply.")
    assert desk.deps.tickets.get(ticket.id).status is Status.CLOSED


def test_one_ticket_that_cannot_be_closed_does_not_stop_the_others(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock, engine: Engine
) -> None:
    ids = []
    for text in ("First problem.", "Second problem.", "Third problem."):
        ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "low", text))
        desk.deps.tickets.assign_to_self(ticket.id, AGENT)
        desk.deps.tickets.resolve(ticket.id, AGENT)
        ids.append(ticket.id)
    assert run_at(desk, double, clock, START + 5 * DAY) == "auto-close: 3 warned, 0 closed"
    with engine.begin() as conn:  # a row no code of the desk can read (a priority it does not know)
        conn.execute(update(Ticket).where(Ticket.id == ids[1]).values(priority="urgent"))
    clock.now = START + 7 * DAY  # (the outbox cannot drain: the bad row's card cannot be drawn)
    result = auto_close(desk.deps)
    assert result == "auto-close: 0 warned, 2 closed, 1 failed (logged; tried again next run): closed TCK-000001, TCK-000003"
    with engine.connect() as conn:
        assert list(conn.execute(select(Ticket.id, Ticket.status).order_by(Ticket.id))) == [
            (ids[0], "closed"), (ids[1], "resolved"), (ids[2], "closed"),
        ]


def test_an_email_requester_is_warned_by_mail_and_their_answer_reopens_the_case(
    double: SlackDouble, people: People, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer], clock: FrozenClock
) -> None:
    imap, smtp = mail_servers
    settings = load_settings(base_env(double.api_url) | email_env(imap, smtp) | LOOP_ENV | {"EMAIL_ACK": "false"})
    for desk in connected(create_app(settings, engine=engine, clock=clock), double):
        imap.append(mail())
        email_poll(desk.deps)
        card = double.wait_message(SUPPORT, "TCK-000001")
        desk.deps.tickets.assign_to_self(1, AGENT)
        desk.deps.tickets.resolve(1, AGENT, "Replaced the drum.")
        email_poll(desk.deps)
        mailed(double, smtp, "Resolved TCK-000001")  # the requester's notice
        assert run_at(desk, double, clock, START + 5 * DAY) == "auto-close: 1 warned, 0 closed"
        email_poll(desk.deps)
        warning = mailed(double, smtp, "Closing soon TCK-000001: ")
        assert warning.message["To"] == CUSTOMER
        assert "It will close in 2 days unless you reply." in body(warning)
        double.wait_thread_reply(card, "told by mail")

        imap.append(mail("Re: " + " ".join(warning.message["Subject"].split()), "Still jamming.", message_id="<again@customer.test>"))
        email_poll(desk.deps)
        double.wait_thread_reply(card, "Reopened: the customer replied by email.")
        assert run_at(desk, double, clock, START + 8 * DAY) == "auto-close: 0 warned, 0 closed"
        assert desk.deps.tickets.get(1).status is Status.OPEN


def mailed(double: SlackDouble, smtp: SmtpServer, subject: str) -> Received:
    """The mail whose subject starts with ``subject``, once the SMTP server has it."""

    def found() -> Received | None:
        return next((m for m in smtp.received if " ".join(m.message["Subject"].split()).startswith(subject)), None)

    return double.wait_for(found, what=f"a mail {subject!r}")


def body(received: Received) -> str:
    return bytes(received.message.get_payload(decode=True)).decode()


def test_the_warning_must_come_before_the_close() -> None:
    with pytest.raises(ConfigErrors) as err:
        load_settings(base_env() | {"AUTO_CLOSE_DAYS": "2", "AUTO_CLOSE_WARN_DAYS": "2"})
    assert err.value.problems == [
        "AUTO_CLOSE_WARN_DAYS is malformed: expected fewer days than AUTO_CLOSE_DAYS and WAITING_CLOSE_DAYS"
    ]


def test_two_replicas_sweeping_together_warn_and_close_once(
    desk: Casedesk, double: SlackDouble, people: People, clock: FrozenClock, engine: Engine
) -> None:
    for text in ("First problem.", "Second problem."):
        ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "low", text))
        desk.deps.tickets.assign_to_self(ticket.id, AGENT)
        desk.deps.tickets.resolve(ticket.id, AGENT)
    settle(desk, double)
    # A second process: its own database handle and service on the same database.
    other_db = Database(engine)
    other = AutoClose(
        other_db,
        TicketService(other_db, [AGENT], campaigns=("Billing",), issue_types=("Bug",), channels=Channels(SUPPORT), clock=clock),
        desk.deps.settings.service_levels,
        support_channel=SUPPORT,
        mail_from=None,
        clock=clock,
    )
    assert desk.deps.auto_close is not None
    for day, what in ((5, "warned"), (7, "closed")):
        clock.now = START + day * DAY
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda closer: closer.sweep(), [desk.deps.auto_close, other]))
        done = [n for r in results for n in (r.warned if what == "warned" else r.closed)]
        assert sorted(done) == ["TCK-000001", "TCK-000002"] and sum(r.failed for r in results) == 0
    for ticket_id in (1, 2):
        kinds = [e.kind for e in desk.deps.tickets.events(ticket_id)]
        assert kinds.count("autoclose_warned") == 1
        assert [e.to_value for e in desk.deps.tickets.events(ticket_id) if e.kind == "status"][-1] == "closed"
    warnings = lambda: [m for m in people.reporter.dms() if "unless you reply" in m.text]  # noqa: E731
    double.wait_for(lambda: len(warnings()) >= 2, what="both warnings sent")  # the outbox sends them
    settle(desk, double)  # and nothing more is on its way
    assert len(warnings()) == 2


def test_auto_close_runs_from_the_cli(tmp_path: Path) -> None:
    double = SlackDouble().start()
    double.channel(SUPPORT, "support")
    try:
        listed = run_bot(["jobs", "list"], base_env(double.api_url), tmp_path)
        assert "auto-close" in listed.stdout.split()
        ran = run_bot(["jobs", "run", "auto-close"], base_env(double.api_url), tmp_path)
        assert ran.returncode == 0, ran.stderr
        assert "auto-close: 0 warned, 0 closed" in ran.stdout
    finally:
        double.stop()
