"""Routing through the double: a ticket of a routed type, a message in a routed intake
channel and a mail to a routed mailbox land in their team's channel; the rest in the
default team's; automatic assignment round-robin (skipping whoever is away) and by the
fewest open tickets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.jobs.email_poll import email_poll
from bot.services.directory import NewRule
from bot.services.status import Status
from bot.services.tickets import NewTicket
from bot.settings import load_settings
from db.session import PLAIN, make_engine
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import AGENT, SUPPORT, People, base_env, connected, email_env
from tests.desk_teams import BILLING_CHANNEL, CARLA, DAVE, ERIN, file, make_teams
from tests.mail_samples import mail

HELP = "C0HELPDSK"


def test_a_routed_type_lands_in_its_team_and_is_assigned_round_robin_skipping_whoever_is_away(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    teams = make_teams(desk, double, auto_assign="round_robin")
    desk.deps.directory.set_away(DAVE, DAVE, True)
    owners = []
    for n in (1, 2, 3):
        card = file(double, people.reporter, "Data problem", f"Export {n} is wrong", f"TCK-00000{n}", BILLING_CHANNEL)
        line = double.wait_thread_reply(card, "automatically")
        owner = desk.deps.tickets.get(n).assignee_id
        assert line.text == f"🎯 TCK-00000{n} was assigned to <@{owner}> automatically (Billing · round-robin)."
        shown = f"*Assignee*\n<@{owner}>"
        double.wait_for(lambda: shown in double.current(card).all_text() and "🛠️ In Progress" in double.current(card).all_text())  # noqa: B023
        owners.append(owner)
    assert owners == [CARLA, ERIN, CARLA]  # Dave is away: passed over, never given one
    teams.carla.wait_dm("TCK-000001")
    teams.carla.wait_dm("TCK-000003")
    assert "assigned to you automatically" in teams.erin.wait_dm("TCK-000002").text
    assert teams.dave.dms() == []
    assert [m for m in double.messages(SUPPORT) if "TCK-" in m.text] == []  # no card in the support channel
    assert [e.kind for e in desk.deps.tickets.events(1)] == ["created", "auto_assigned", "status"]
    ticket = desk.deps.tickets.get(1)
    assert ticket.status is Status.IN_PROGRESS and ticket.team_name == "Billing" and ticket.assignees == (CARLA,)
    assert "*Team*\nBilling" in double.current(double.wait_message(BILLING_CHANNEL, "TCK-000001")).all_text()


def test_away_until_a_time_that_has_passed_is_available_again(desk: Casedesk, double: SlackDouble, people: People) -> None:
    make_teams(desk, double, auto_assign="round_robin")
    directory = desk.deps.directory
    for user in (CARLA, ERIN):
        directory.set_away(user, user, True)
    directory.set_away(DAVE, DAVE, True, until=desk.deps.clock() + timedelta(days=1))
    file(double, people.reporter, "Data problem", "Nobody is in", "TCK-000001", BILLING_CHANNEL)
    ticket = desk.deps.tickets.get(1)
    assert ticket.status is Status.OPEN and ticket.assignee_id is None  # it waits in the team's queue
    assert [e.kind for e in desk.deps.tickets.events(1)] == ["created"]


def test_least_open_gives_the_ticket_to_the_least_loaded_member(desk: Casedesk, double: SlackDouble, people: People) -> None:
    make_teams(desk, double, auto_assign="least_open")
    for n in (1, 2, 3):  # all even: ties go in member order
        file(double, people.reporter, "Data problem", f"Case {n}", f"TCK-00000{n}", BILLING_CHANNEL)
    assert [desk.deps.tickets.get(n).assignee_id for n in (1, 2, 3)] == [CARLA, DAVE, ERIN]
    desk.deps.tickets.resolve(2, DAVE, "done")  # Dave now holds none open; round-robin would pick Carla
    file(double, people.reporter, "Data problem", "Case 4", "TCK-000004", BILLING_CHANNEL)
    assert desk.deps.tickets.get(4).assignee_id == DAVE
    line = double.wait_thread_reply(double.wait_message(BILLING_CHANNEL, "TCK-000004"), "automatically")
    assert "(Billing · fewest open tickets)" in line.text


def test_unrouted_tickets_go_to_the_default_team_in_the_support_channel(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    make_teams(desk, double, auto_assign="round_robin")
    card = file(double, people.reporter, "Bug", "The export button does nothing.", "TCK-000001", SUPPORT)
    ticket = desk.deps.tickets.get(1)
    assert ticket.team_name == "Support" and ticket.assignee_id is None and ticket.status is Status.OPEN
    assert "*Team*\nSupport" in card.all_text()


def test_the_first_matching_rule_by_position_wins(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    directory = desk.deps.directory
    web = directory.create_team(AGENT, "Web")
    directory.set_rules(
        AGENT, [NewRule("campaign", "Billing", web.id), NewRule("issue_type", "Data problem", teams.billing.id)]
    )
    file(double, people.reporter, "Data problem", "Both rules match", "TCK-000001", SUPPORT)  # Web has no channel of its own
    assert desk.deps.tickets.get(1).team_name == "Web"


@pytest.fixture
def intake_desk(engine: Engine, double: SlackDouble) -> Iterator[Casedesk]:
    double.channel(HELP, "help")
    settings = load_settings(base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": HELP})
    yield from connected(create_app(settings, engine=engine), double)


def test_a_message_in_a_routed_intake_channel_opens_a_case_in_its_team(
    intake_desk: Casedesk, double: SlackDouble, people: People
) -> None:
    teams = make_teams(intake_desk, double)
    intake_desk.deps.directory.set_rules(AGENT, [NewRule("intake_channel", HELP, teams.billing.id)])
    people.reporter.say(HELP, "Invoices show the wrong VAT")
    double.wait_message(BILLING_CHANNEL, "TCK-000001")
    assert intake_desk.deps.tickets.get(1).team_name == "Billing"


@pytest.fixture
def mail_desk(engine: Engine, double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Iterator[Casedesk]:
    settings = load_settings(base_env(double.api_url) | email_env(*mail_servers))
    yield from connected(create_app(settings, engine=engine), double)


def test_a_mail_to_a_routed_mailbox_lands_in_its_team(
    mail_desk: Casedesk, double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap = mail_servers[0]
    teams = make_teams(mail_desk, double, auto_assign="round_robin")
    mail_desk.deps.directory.set_rules(AGENT, [NewRule("mailbox", "Billing@Example.com", teams.billing.id)])
    imap.append(mail(headers={"Delivered-To": "billing@example.com"}))
    imap.append(mail("Password reset", message_id="<second@customer.test>"))
    email_poll(mail_desk.deps)
    card = double.wait_message(BILLING_CHANNEL, "TCK-000001")
    double.wait_message(SUPPORT, "TCK-000002")
    tickets = mail_desk.deps.tickets
    assert tickets.get(1).team_name == "Billing" and tickets.get(2).team_name == "Support"
    assert tickets.get(1).assignee_id == CARLA
    double.wait_thread_reply(card, f"assigned to <@{CARLA}> automatically")


@pytest.mark.parametrize("mode", ["round_robin", "least_open"])
def test_tickets_filed_at_once_are_spread_two_each(desk: Casedesk, double: SlackDouble, people: People, mode: str) -> None:
    """The team's row is locked while an owner is chosen: no two tickets read the same
    round-robin place, and each least-open filing counts the tickets of those before it."""
    make_teams(desk, double, auto_assign=mode)
    start = threading.Barrier(6)

    def one(n: int) -> None:
        start.wait()
        desk.deps.tickets.create(NewTicket(people.reporter.id, "Billing", "Data problem", "medium", f"at once {n}"))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    owners = [str(desk.deps.tickets.get(n).assignee_id) for n in range(1, 7)]
    assert sorted(owners) == sorted([CARLA, DAVE, ERIN] * 2)  # two each, whichever order they committed in


@pytest.fixture
def pooled_desk(double: SlackDouble, engine: Engine) -> Iterator[Casedesk]:
    """A desk set up for a pooler in transaction mode: no statement prepared on a connection."""
    settings = load_settings(base_env(double.api_url) | {"DATABASE_PREPARED_STATEMENTS": "false"})
    plain = make_engine(engine.url.render_as_string(hide_password=False), prepared=settings.database_prepared)
    try:
        yield from connected(create_app(settings, engine=plain), double)
    finally:
        plain.dispose()


@pytest.mark.parametrize("mode", ["round_robin", "least_open"])
def test_without_prepared_statements_tickets_are_routed_and_assigned_alike(
    pooled_desk: Casedesk, double: SlackDouble, people: People, mode: str
) -> None:
    make_teams(pooled_desk, double, auto_assign=mode)
    for n in (1, 2, 3):
        pooled_desk.deps.tickets.create(NewTicket(people.reporter.id, "Billing", "Data problem", "medium", f"plain {n}"))
    assert sorted(str(pooled_desk.deps.tickets.get(n).assignee_id) for n in (1, 2, 3)) == sorted([CARLA, DAVE, ERIN])
    assert pooled_desk.deps.db is not None
    with pooled_desk.deps.db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # SQLite never prepares by hand
            assert conn.info.get(PLAIN) is True
            assert conn.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar() == 0
