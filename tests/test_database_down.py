"""The database being down delays or refuses work, with a clear word; it loses nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.app import Casedesk, create_app
from bot.handlers import outcome
from bot.settings import Settings
from bot.views.ticket_card import card_summary, ticket_card
from db.session import make_engine
from slack_double import SlackDouble
from tests.conftest import REPORTER, SUPPORT, People, connected
from tests.factories import make_record


@pytest.fixture
def broken_desk(settings: Settings, double: SlackDouble, monkeypatch: pytest.MonkeyPatch) -> Iterator[Casedesk]:
    monkeypatch.setattr(outcome, "DB_RETRY_DELAYS", (0.05, 0.05))
    # Nothing listens on port 1: every connection is refused at once.
    yield from connected(create_app(settings, engine=make_engine("postgresql://postgres@127.0.0.1:1/casedesk")), double)


def test_a_ticket_that_cannot_be_stored_keeps_its_form_open(
    broken_desk: Casedesk, double: SlackDouble, people: People
) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High")
    modal.type("Details", "Invoices <b>vanish</b> & nobody knows why")
    env = double.socket.send("interactive", modal.submission_payload())
    double.socket.wait_ack(env)
    # Acked well inside Slack's 3 s, with the form kept open and the person told to press Submit again.
    assert env.ack_latency is not None and env.ack_latency < 2.5
    assert env.ack_payload and env.ack_payload["response_action"] == "errors"
    assert "press Submit again" in env.ack_payload["errors"]["details"]
    assert double.messages(SUPPORT) == []


def test_a_click_while_the_database_is_down_says_so(broken_desk: Casedesk, double: SlackDouble, people: People) -> None:
    ticket = make_record(id=7, reporter_id=REPORTER)
    web = WebClient(token=double.bot_token, base_url=double.api_url)
    web.chat_postMessage(channel=SUPPORT, text=card_summary(ticket), blocks=ticket_card(ticket, broken_desk.deps.settings.tz))
    card = double.wait_message(SUPPORT, "TCK-000007")
    people.agent.click(card, "Close")
    assert "nothing changed" in people.agent.wait_ephemeral("database is not answering")
