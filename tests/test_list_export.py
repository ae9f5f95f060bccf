"""`/system-tickets … export` through the double: an agent's list arrives as a CSV file in
their DM (the same words as the list, team:/account:/search words included), uploaded as
files.uploadV2 does it; a reporter is refused; text with commas, quotes, newlines and
emoji reads back as written; a cell a spreadsheet would run as a formula is text; a list
longer than the cap is cut to its newest cases and the DM says so; an agent of one team
exports only what they may see; the file is written beside the sender's passes, so other
posts do not wait for it."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest

from bot.app import Casedesk
from bot.delivery import slack as slack_delivery
from bot.services import export
from bot.services.tickets import NewTicket
from slack_double import SlackDouble
from slack_double.workspace import Upload
from tests.conftest import AGENT, REPORTER, SUPPORT, People
from tests.desk_teams import CARLA, FRANK, make_teams


def seed(desk: Casedesk, details: list[str], **fields: str) -> list[int]:
    return [
        desk.deps.tickets.create(
            NewTicket(
                reporter_id=fields.get("reporter", REPORTER), campaign=fields.get("campaign", "Billing"),
                issue_type="Bug", priority=fields.get("priority", "high"), details=text, title=fields.get("title"),
            )
        )[0].id
        for text in details
    ]


def wait_file(double: SlackDouble, user: str, count: int = 1) -> Upload:
    dm = double.workspace.dm_channel(user).id
    files = double.wait_for(lambda: double.workspace.files_in(dm)[count - 1:] or None, timeout=10, what="the export in the DM")
    return files[0]


def rows_of(upload: Upload) -> list[dict[str, str]]:
    assert upload.data is not None
    assert upload.data.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, as spreadsheets read it
    return list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"), newline="")))


def test_an_agent_gets_the_filtered_list_as_csv_in_their_dm(desk: Casedesk, double: SlackDouble, people: People) -> None:
    printers = seed(desk, ["The printer jams", "A printer is out of toner"])
    seed(desk, ["The printer smokes"], priority="low")
    seed(desk, ["VPN is down"])
    people.agent.run("/system-tickets", "high printer export")
    people.agent.wait_ephemeral("Preparing your export of `high printer`")

    upload = wait_file(double, AGENT)
    rows = rows_of(upload)
    assert [r["number"] for r in rows] == [f"TCK-{i:06d}" for i in reversed(printers)]  # newest first
    assert rows[0]["details"] == "A printer is out of toner" and rows[0]["priority"] == "high"
    assert list(rows[0]) == export.COLUMNS
    assert upload.filename.endswith(".csv") and upload.filename.startswith("cases-")
    message = people.agent.wait_dm("Your export of `high printer`")
    assert "2 cases" in message.all_text() and message.ts == upload.message_ts


def test_team_and_account_words_narrow_the_export(desk: Casedesk, double: SlackDouble, people: People) -> None:
    team = desk.deps.directory.create_team(AGENT, "Billing desk")
    ids = seed(desk, ["one", "two", "three"])
    desk.deps.tickets.move(ids[1], AGENT, team.id)
    people.agent.run("/system-tickets", "team:Billing_desk export")
    assert [r["number"] for r in rows_of(wait_file(double, AGENT))] == [f"TCK-{ids[1]:06d}"]
    people.agent.run("/system-tickets", "account:Nobody_Inc export")
    rows = rows_of(wait_file(double, AGENT, 2))
    assert rows == []
    people.agent.wait_dm("no case matches")


def test_a_reporter_is_refused_and_gets_no_file(desk: Casedesk, double: SlackDouble, people: People) -> None:
    seed(desk, ["mine"])
    people.reporter.run("/system-tickets", "export")
    people.reporter.wait_ephemeral("Only support agents can export tickets.")
    people.agent.run("/system-tickets", "export")  # a later export reaches its agent, and the reporter still has none
    wait_file(double, AGENT)
    assert double.workspace.files_in(double.workspace.dm_channel(REPORTER).id) == []


def test_awkward_text_reads_back_as_written_and_formulas_are_text(desk: Casedesk, double: SlackDouble, people: People) -> None:
    awkward = 'Tom, "Jerry" & co\nsecond line — ünïcödé 🎫, tab\there'
    seed(desk, [awkward], title="Commas, \"quotes\"")
    seed(desk, ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1 555 0100", "-2+3", "@SUM(A1:A2)", "plain - text"])
    people.agent.run("/system-tickets", "export")
    by_number = {r["number"]: r for r in rows_of(wait_file(double, AGENT))}
    first = by_number["TCK-000001"]
    assert first["details"] == awkward and first["title"] == 'Commas, "quotes"'
    assert [by_number[f"TCK-{i:06d}"]["details"] for i in range(2, 7)] == [
        "'=HYPERLINK(\"http://evil.example\",\"click\")", "'+1 555 0100", "'-2+3", "'@SUM(A1:A2)", "plain - text",
    ]


def test_a_list_longer_than_the_cap_is_cut_to_its_newest_and_the_dm_says_so(
    desk: Casedesk, double: SlackDouble, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "CAP", 3)
    ids = seed(desk, [f"case {n}" for n in range(5)])
    people.agent.run("/system-tickets", "export")
    rows = rows_of(wait_file(double, AGENT))
    assert [r["number"] for r in rows] == [f"TCK-{i:06d}" for i in reversed(ids[2:])]
    people.agent.wait_dm("the newest 3 cases, the most one file holds")


def test_an_agent_of_one_team_exports_only_what_they_may_see(desk: Casedesk, double: SlackDouble, people: People) -> None:
    teams = make_teams(desk, double)
    for issue_type in ("Data problem", "Data problem", "Bug"):  # TCK-1 and TCK-2 routed to Billing, TCK-3 to Support
        desk.deps.tickets.create(NewTicket(REPORTER, "Billing", issue_type, "medium", f"a {issue_type}"))
    teams.carla.run("/system-tickets", "export")
    assert [r["number"] for r in rows_of(wait_file(double, CARLA))] == ["TCK-000002", "TCK-000001"]
    teams.frank.run("/system-tickets", "export")
    assert [r["number"] for r in rows_of(wait_file(double, FRANK))] == ["TCK-000003"]


def test_an_export_being_written_holds_up_no_other_post(
    desk: Casedesk, double: SlackDouble, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    write = slack_delivery.spreadsheet_csv

    def slow_write(*args: Any, **kwargs: Any) -> export.ExportFile:
        started.set()
        release.wait(20)  # the test's gate: a file that takes long to write
        return write(*args, **kwargs)

    monkeypatch.setattr(slack_delivery, "spreadsheet_csv", slow_write)
    people.agent.run("/system-tickets", "export")
    double.wait_for(lambda: started.is_set() or None, what="the export to start")
    seed(desk, ["Filed while the export is written"])
    double.wait_message(SUPPORT, "TCK-000001")  # the card goes out meanwhile
    assert double.workspace.files_in(double.workspace.dm_channel(AGENT).id) == []
    release.set()
    assert [r["number"] for r in rows_of(wait_file(double, AGENT))] == ["TCK-000001"]
