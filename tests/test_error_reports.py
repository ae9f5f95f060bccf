"""Error reports carry no data: the admin channel learns an error's type and the place in
the desk's code where it happened, never its message (which may quote customer text, SQL
parameters or a token); database errors hide their parameters in the logs as well."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from bot.app import Casedesk
from slack_double import SlackDouble
from tests.conftest import ADMIN, People
from tests.test_ticket_flow import file_ticket

CUSTOMER_TEXT = "my card number is 4111 1111 1111 1111"
TOKEN = "xoxb-2718281828-3141592653-AbCdEfGhIjKlMnOpQrStUv"
ORIGIN = re.compile(r"at `bot\.[\w.]+:[\w&;]+:\d+`")


def report_of(double: SlackDouble) -> str:
    return double.wait_message(ADMIN, "Unexpected error").text


def test_an_error_quoting_customer_text_and_a_token_reports_neither(
    desk: Casedesk, double: SlackDouble, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = file_ticket(double, people)

    def broken(ticket_id: int, actor: str, note: str | None = None) -> None:
        raise ValueError(f"could not close: the customer wrote {CUSTOMER_TEXT!r} with {TOKEN}")

    monkeypatch.setattr(desk.deps.tickets, "close", broken)
    people.agent.click(card, "Close")
    report = report_of(double)
    assert "`ValueError`" in report and ORIGIN.search(report), report
    assert "block_actions" in report
    for leaked in (CUSTOMER_TEXT, "4111", TOKEN, "xoxb-", "could not close"):
        assert leaked not in report
    assert "Sorry, something went wrong" in people.agent.wait_ephemeral("Sorry")


def test_a_database_error_reports_its_type_and_place_and_logs_no_parameters(
    desk: Casedesk, double: SlackDouble, people: People, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object) -> None:
        with desk.engine.connect() as conn:
            conn.execute(text("SELECT id FROM no_such_table WHERE details = :words"), {"words": f"{CUSTOMER_TEXT} {TOKEN}"})

    monkeypatch.setattr(desk.deps.queries, "page", broken)
    people.agent.run("/system-tickets", "printer")
    report = report_of(double)
    assert re.search(r"`sqlalchemy\.exc\.(OperationalError|ProgrammingError)`", report) and ORIGIN.search(report), report
    assert "/system-tickets" in report and "no_such_table" not in report and "SELECT" not in report
    for leaked in (CUSTOMER_TEXT, TOKEN):
        assert leaked not in report
    assert "SQL parameters hidden" in caplog.text  # the traceback is logged, its parameters are not
    assert CUSTOMER_TEXT not in caplog.text and TOKEN not in caplog.text
