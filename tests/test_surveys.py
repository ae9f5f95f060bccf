"""Satisfaction surveys through the real bot: a Slack requester rates by a DM button (and
adds a comment in a modal), an email requester by a signed link to the rating page served by
the bot's HTTP server; each rating is recorded once, said in the card's thread and kept in
the audit trail; replayed, forged and expired links get a page that says so."""

from __future__ import annotations

import copy
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import Engine, select

from bot.app import Casedesk, create_app
from bot.jobs.email_poll import email_poll
from bot.ops.health import HealthServer
from bot.ops.rating_page import rating_routes
from bot.services.surveys import serve
from bot.services.tickets import NewTicket, audit_event
from bot.settings import Settings, load_settings
from bot.settings.values import ConfigErrors
from db.models import SatisfactionRating
from db.session import Database
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER, SUPPORT, People, base_env, connected, email_env
from tests.factories import FrozenClock
from tests.mail_samples import CUSTOMER, mail
from tests.test_auto_close import body, mailed

START = datetime(2026, 11, 2, 10, tzinfo=UTC)
PUBLIC = "https://desk.example.test"
LINK = re.compile(r"https://desk\.example\.test/rate/\S+")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    return load_settings(base_env(double.api_url))


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble, clock: FrozenClock) -> Iterator[Casedesk]:
    yield from connected(create_app(settings, engine=engine, clock=clock), double)


def resolved(desk: Casedesk, double: SlackDouble, reporter: str = REPORTER, text: str = "The invoice total is wrong.") -> int:
    ticket, _ = desk.deps.tickets.create(NewTicket(reporter, "Billing", "Bug", "medium", text))
    desk.deps.tickets.assign_to_self(ticket.id, AGENT)
    desk.deps.tickets.resolve(ticket.id, AGENT, "Recalculated.")
    return ticket.id


def ratings(engine: Engine) -> list[tuple[int, int | None, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(SatisfactionRating.ticket_id, SatisfactionRating.score, SatisfactionRating.comment))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_slack_requester_rates_by_button_once_and_adds_a_comment(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    ticket_id = resolved(desk, double)
    card = double.wait_message(SUPPORT, "TCK-000001")
    survey = people.reporter.wait_dm("How did we do?")
    assert survey.button_labels() == ["😞 1", "🙁 2", "😐 3", "🙂 4", "😄 5"]
    shown = copy.deepcopy(survey)  # the DM as first shown (the double updates its message in place)

    people.reporter.click(survey, "🙂 4")
    double.wait_for(lambda: "You rated TCK-000001 *4/5*" in double.current(survey).all_text(), what="the thanks")
    double.wait_thread_reply(card, f"⭐ Rated 4/5 by <@{REPORTER}>")
    # The same DM clicked again as it was first shown (a stale copy): nothing recorded again.
    people.reporter.click(shown, "😄 5", as_shown=True)
    people.reporter.wait_ephemeral("TCK-000001 was rated already (4/5)")
    assert ratings(engine) == [(ticket_id, 4, None)]

    envelope = people.reporter.click(double.current(survey), "Add a comment")
    modal = people.reporter.modal_from(envelope.payload["trigger_id"])
    modal.type("Comment", "Quick & <friendly>.").submit()
    double.wait_thread_reply(card, "added to their 4/5 rating: “Quick &amp; &lt;friendly&gt;.”")
    double.wait_for(lambda: double.current(survey).button_labels() == [], what="the DM without its comment button")
    assert ratings(engine) == [(ticket_id, 4, "Quick & <friendly>.")]
    trail = [(e.kind, e.actor_id, e.to_value) for e in desk.deps.tickets.events(ticket_id) if e.kind in ("rated", "rating_comment")]
    assert trail == [("rated", REPORTER, "4"), ("rating_comment", REPORTER, "4")]


def test_someone_else_cannot_rate_a_requesters_survey(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    resolved(desk, double)
    survey = people.reporter.wait_dm("How did we do?")
    people.outsider.click(survey, "😞 1", as_shown=True)
    people.outsider.wait_ephemeral("Only the person who asked for help can rate it.")
    assert ratings(engine) == [(1, None, None)]


def test_a_requester_is_asked_once_within_the_cooldown(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    resolved(desk, double)
    people.reporter.wait_dm("How did we do on TCK-000001")
    resolved(desk, double, text="Another problem.")
    desk.deps.tickets.reopen(1, AGENT)
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.resolve(1, AGENT)  # resolved again: asked once per ticket
    double.wait_thread_reply(double.wait_message(SUPPORT, "TCK-000002"), "resolved")
    assert [t for t, _, _ in ratings(engine)] == [1]
    assert len([m for m in people.reporter.dms() if "How did we do" in m.text]) == 1


def test_no_survey_at_a_sample_of_zero(double: SlackDouble, people: People, engine: Engine, clock: FrozenClock) -> None:
    settings = load_settings(base_env(double.api_url) | {"CSAT_SAMPLE": "0"})
    for desk in connected(create_app(settings, engine=engine, clock=clock), double):
        resolved(desk, double)
        people.reporter.wait_dm("was resolved")
        assert ratings(engine) == []


# ---- by mail and the rating page --------------------------------------------------------------


@pytest.fixture
def mail_desk(
    double: SlackDouble, people: People, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer], clock: FrozenClock
) -> Iterator[tuple[Casedesk, str]]:
    env = base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_ACK": "false", "PUBLIC_URL": PUBLIC, "PORT": "8080"}
    for desk in connected(create_app(load_settings(env), engine=engine, clock=clock), double):
        assert desk.deps.surveys is not None
        server = HealthServer(0, engine, lambda: True, routes=rating_routes(desk.deps.surveys)).start()
        try:
            yield desk, f"http://127.0.0.1:{server.port}"
        finally:
            server.stop()


def fetch(url: str, base: str, comment: str | None = None) -> tuple[int, str]:
    """GET the link (POST with ``comment``) at the bot's server, as a proxy at PUBLIC_URL would pass it."""
    path = urlsplit(url).path
    data = urlencode({"comment": comment}).encode() if comment is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_an_email_requester_rates_by_link_once(
    mail_desk: tuple[Casedesk, str], double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer], engine: Engine
) -> None:
    desk, base = mail_desk
    imap, smtp = mail_servers
    imap.append(mail())
    email_poll(desk.deps)
    card = double.wait_message(SUPPORT, "TCK-000001")
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.resolve(1, AGENT, "Replaced the drum.")
    email_poll(desk.deps)
    survey = mailed(double, smtp, "How did we do? TCK-000001")
    assert survey.message["To"] == CUSTOMER
    links = LINK.findall(body(survey))
    assert len(links) == 5 and [urlsplit(u).path.split("/")[2].split(".")[1] for u in links] == ["1", "2", "3", "4", "5"]

    status, page = fetch(links[3], base)  # opening the link records nothing (mail scanners open links too)
    assert status == 200 and "You chose <strong>4/5" in page and "<form" in page
    assert ratings(engine) == [(1, None, None)]
    status, page = fetch(links[3], base, comment="Fast, thank you")
    assert status == 200 and "Your rating of 4/5 for TCK-000001 is recorded." in page
    double.wait_thread_reply(card, f"⭐ Rated 4/5 by {CUSTOMER}: “Fast, thank you”")

    status, page = fetch(links[3], base, comment="Again")  # replayed
    assert status == 409 and "was rated already (4/5)" in page
    status, page = fetch(links[0], base)  # another score's link of the same survey
    assert status == 409 and "Already rated" in page
    assert ratings(engine) == [(1, 4, "Fast, thank you")]
    assert [e.to_value for e in desk.deps.tickets.events(1) if e.kind == "rated"] == ["4"]


def test_forged_and_expired_links_record_nothing(
    mail_desk: tuple[Casedesk, str],
    double: SlackDouble,
    mail_servers: tuple[ImapServer, SmtpServer],
    engine: Engine,
    clock: FrozenClock,
) -> None:
    desk, base = mail_desk
    imap, smtp = mail_servers
    imap.append(mail())
    email_poll(desk.deps)
    double.wait_message(SUPPORT, "TCK-000001")
    desk.deps.tickets.assign_to_self(1, AGENT)
    desk.deps.tickets.resolve(1, AGENT)
    email_poll(desk.deps)
    links = LINK.findall(body(mailed(double, smtp, "How did we do? TCK-000001")))

    rating_id, score, expiry, signature = urlsplit(links[1]).path.split("/")[2].split(".")
    forged = [
        f"{PUBLIC}/rate/{rating_id}.5.{expiry}.{signature}",  # another score under the 2's signature
        f"{PUBLIC}/rate/{rating_id}.2.{int(expiry) + 86400}.{signature}",  # a longer life
        f"{PUBLIC}/rate/{rating_id}.2.{expiry}.{'0' * 64}",
        f"{PUBLIC}/rate/{rating_id}.2.{expiry}",
    ]
    for url in forged:
        for comment in (None, "forged"):
            status, page = fetch(url, base, comment)
            assert status == 404 and "This link is not valid" in page, url
    assert ratings(engine) == [(1, None, None)]

    clock.now = START + timedelta(days=14)  # CSAT_LINK_DAYS: 14 by default
    for comment in (None, "late"):
        status, page = fetch(links[1], base, comment)
        assert status == 410 and "This link has expired" in page
    assert ratings(engine) == [(1, None, None)]
    assert not [e for e in desk.deps.tickets.events(1) if e.kind == "rated"]


# ---- settings and sampling --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"PUBLIC_URL": "desk.example.com", "PORT": "8080"}, "PUBLIC_URL is malformed: expected the address of the bot's HTTP server"),
        ({"PUBLIC_URL": PUBLIC}, "PUBLIC_URL is set but PORT is not: the rating page is served by the bot's HTTP server on PORT"),
        ({"CSAT_SECRET": "short"}, "CSAT_SECRET is malformed: expected a random string of at least 16 characters"),
        ({"CSAT_LINK_DAYS": "0"}, "CSAT_LINK_DAYS is malformed: expected a number of days such as 14 (more than 0)"),
    ],
)
def test_a_bad_survey_setting_is_one_line_naming_it(env: dict[str, str], line: str) -> None:
    with pytest.raises(ConfigErrors) as err:
        load_settings(base_env() | env)
    [problem] = err.value.problems
    assert problem.startswith(line)


def test_the_sample_decides_who_is_asked(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    """CSAT_SAMPLE 0.5 with the coin's draws given: 0.7 passes the first resolution by, 0.3 asks the second."""
    assert desk.deps.surveys is not None
    draws = iter([0.7, 0.3])
    policy = replace(desk.deps.surveys.policy, sample=0.5, cooldown=timedelta(0), draw=lambda: next(draws))
    db = Database(engine)
    serve(db, policy)  # the desk's own writes keep their policy; these use this one
    for text in ("First", "Second"):
        ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "medium", text))
        with db.write() as session:
            session.add(audit_event(ticket.id, AGENT, "status", "open", "resolved", None, START))
    assert ratings(engine) == [(2, None, None)]
