"""The sandbox page in a real browser (headless Chromium), driven as a person drives it:
by the roles and names they see. One sandbox (``python -m bot sandbox``, as a person starts
it) serves the whole module; each test opens the page afresh and leaves marks of its own,
and the last one resets the desk."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from sandbox import cast
from sandbox.client import ROOT, SandboxProcess, running_sandbox
from tests.browser import (
    MAIL_SECONDS,
    Watch,
    act_as,
    card,
    card_with,
    chromium,
    file_ticket,
    go_to,
    messages,
    open_page,
    run_job,
    say,
    send_mail,
    skip_on_postgresql,
    skip_without_chromium,
)

skip_without_chromium()
skip_on_postgresql()

# The README's picture: rewritten when SANDBOX_SCREENSHOT=1 (or when it is missing), so an
# ordinary test run leaves the checkout as it found it.
SCREENSHOT = ROOT / "docs" / "sandbox.png"
UPDATE_SCREENSHOT = os.environ.get("SANDBOX_SCREENSHOT") == "1" or not SCREENSHOT.exists()
HOSTILE = "<script>alert(1)</script> <!channel> <img src=x onerror=alert(2)> &amp; Tom & Jerry"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox-browser")) as running:
        assert running.get("/api/bootstrap")["people"], "the sandbox printed its address but /api/bootstrap is empty"
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def watched(browser: Browser, sandbox: SandboxProcess) -> Iterator[tuple[Page, Watch]]:
    with open_page(browser, sandbox.url) as (page, watch):
        yield page, watch
        assert not watch.dialogs, f"the page raised dialogs: {watch.dialogs}"
        assert not watch.errors, f"the page threw: {watch.errors}"
        assert not watch.outside, f"the page fetched from off the sandbox: {watch.outside}"


@pytest.fixture
def page(watched: tuple[Page, Watch]) -> Page:
    return watched[0]


def test_the_demo_desk_with_its_cards_and_a_thread_is_what_the_readme_shows(page: Page, tmp_path: Path) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("#support-tickets")
    for number in ("TCK-000001", "TCK-000002", "TCK-000003"):
        expect(card(page, number)).to_be_visible()
    expect(page.get_by_label("Acting as")).to_have_value(cast.REPORTER.id)
    for name in ("#support-tickets", "#help", "#admin-notifications", "#alerts"):
        expect(page.get_by_role("navigation").get_by_role("button", name=name, exact=True)).to_be_visible()
    working = card(page, "TCK-000002")
    working.get_by_role("button", name=re.compile(r"^\d+ repl")).click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread.get_by_text("assigned TCK-000002 to themselves")).to_be_visible()
    expect(page.get_by_role("textbox", name="Reply in thread")).to_be_focused()
    card(page, "TCK-000001").scroll_into_view_if_needed()
    shot = SCREENSHOT if UPDATE_SCREENSHOT else tmp_path / "sandbox.png"
    shot.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_a_reporter_files_a_ticket_through_the_modal_and_sees_its_card(page: Page) -> None:
    say(page, "support-tickets", "/new-ticket")
    dialog = page.get_by_role("dialog", name="New ticket")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="File ticket").click()
    # The bot's validation errors, under the inputs they are about, and the modal stays.
    expect(dialog.get_by_label("Details")).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_role("alert").first).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    file_ticket(page, "The export button does nothing in Firefox (browser test)")
    filed = card_with(page, "The export button does nothing in Firefox")
    expect(filed).to_be_visible()
    expect(filed).to_contain_text("Open")
    expect(filed.get_by_role("button", name="Assign to Me")).to_be_visible()
    expect(filed.get_by_text("APP", exact=True)).to_be_visible()

    # The bot's confirmation reaches the reporter in the app's Messages tab.
    page.get_by_role("navigation").get_by_role("button", name=re.compile("casedesk")).click()
    page.get_by_role("tab", name="Messages").click()
    expect(messages(page).filter(has_text="Thanks! Your ticket").first).to_be_visible()


def test_an_outsider_is_refused_and_an_agent_assigns_the_ticket_to_herself(page: Page) -> None:
    ticket = card(page, "TCK-000001")
    expect(ticket).to_contain_text("unassigned")

    act_as(page, cast.OUTSIDER.id)
    ticket.get_by_role("button", name="Assign to Me").click()
    refusal = messages(page).filter(has_text="Only visible to you").filter(has_text="Only support agents")
    expect(refusal).to_be_visible()
    expect(ticket).to_contain_text("unassigned")

    act_as(page, cast.AGENT.id)
    expect(refusal).to_be_hidden()  # it was the outsider's alone
    ticket.get_by_role("button", name="Assign to Me").click()
    expect(ticket).to_contain_text("In Progress")
    expect(ticket).to_contain_text(f"@{cast.AGENT.real_name}")
    expect(ticket).to_contain_text("(edited)")
    expect(ticket.get_by_role("button", name=re.compile(r"^\d+ repl"))).to_be_visible()


def test_an_agent_replies_in_a_cards_thread(page: Page) -> None:
    act_as(page, cast.AGENT2.id)
    ticket = card(page, "TCK-000002")
    ticket.get_by_role("button", name="Reply", exact=True).click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread.get_by_role("heading", name="TCK-000002")).to_be_visible()
    reply = page.get_by_role("textbox", name="Reply in thread")
    reply.fill("Pinged the data team again: <b>not</b> bold & *this* is")
    reply.press("Enter")
    expect(reply).to_have_value("")
    said = thread.get_by_role("article").filter(has_text="Pinged the data team again")
    expect(said).to_contain_text("<b>not</b> bold & this is")
    expect(said.locator("strong")).to_have_text("this")
    expect(said).to_contain_text(cast.AGENT2.real_name)
    page.get_by_role("button", name="Close thread").click()
    expect(thread).to_be_hidden()


def test_an_email_from_the_inbox_opens_a_case_and_the_desk_writes_back(page: Page) -> None:
    act_as(page, cast.AGENT.id)
    subject = "Printer on fire in room 4"
    inbox = send_mail(page, subject, "Smoke is coming out of the printer on the fourth floor.")
    case = card_with(page, subject)
    expect(case).to_be_visible(timeout=MAIL_SECONDS * 1000)
    expect(case).to_contain_text("By email from")
    expect(case.get_by_role("button", name="Reply by email")).to_be_visible()
    expect(inbox.get_by_role("article", name=re.compile(rf"^From the desk: Re: {re.escape(subject)}"))).to_be_visible(timeout=MAIL_SECONDS * 1000)


def test_an_email_case_is_worked_from_filing_to_closing_in_the_page(page: Page) -> None:
    """The newcomer's whole tour by email: the customer writes, an agent takes the case and
    answers by mail, the customer answers back, the agent resolves and closes it."""
    act_as(page, cast.AGENT.id)
    subject = "Locked out after the update"
    inbox = send_mail(page, subject, "Since the update my account says it is locked.")
    case = card_with(page, subject)
    expect(case).to_be_visible(timeout=MAIL_SECONDS * 1000)
    case.get_by_role("button", name="Assign to Me").click()
    expect(case).to_contain_text("In Progress")

    case.get_by_role("button", name="Reply by email").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Your reply").fill("Unlocked it: please sign in again and tell us if it works.")
    dialog.get_by_role("button", name=re.compile("^Send")).click()
    expect(dialog).to_be_hidden()
    answer = inbox.get_by_role("article", name=re.compile(rf"^From the desk: .*{re.escape(subject)}")).filter(
        has_text="please sign in again"
    )
    expect(answer).to_be_visible(timeout=MAIL_SECONDS * 1000)

    answer.get_by_role("button", name="Reply").click()
    inbox.get_by_label("Message", exact=True).fill("It works again, thank you!")
    inbox.get_by_role("button", name="Send email").click()
    case.get_by_role("button", name="Reply", exact=True).click()
    thread = page.get_by_role("complementary", name="Thread")
    expect(thread.get_by_text("It works again, thank you!")).to_be_visible(timeout=MAIL_SECONDS * 1000)

    case.get_by_role("button", name="Resolve").click()
    dialog = page.get_by_role("dialog", name=re.compile("^Resolve TCK-"))
    dialog.get_by_label("Resolution note").fill("Account unlocked.")
    dialog.get_by_role("button", name="Resolve").click()
    expect(case).to_contain_text("Resolved")
    case.get_by_role("button", name="Close").click()
    expect(case).to_contain_text("Closed")
    expect(case.get_by_role("button", name="Reopen")).to_be_visible()


def test_the_escalation_job_alerts_on_an_urgent_case_from_help(page: Page) -> None:
    go_to(page, "help")
    say(page, "help", "The VPN drops every five minutes for the whole team, urgent")
    asked = messages(page).filter(has_text="The VPN drops every five minutes")
    expect(asked.get_by_role("button", name=re.compile(r"^\d+ repl"))).to_be_visible()
    go_to(page, "support-tickets")
    case = card_with(page, "The VPN drops every five minutes")
    expect(case).to_be_visible()
    expect(case).not_to_contain_text("Escalated")

    run_job(page, "Escalation check")
    expect(case).to_contain_text("Escalated")
    go_to(page, "alerts")
    alert = messages(page).filter(has_text="The VPN drops every five minutes")
    expect(alert).to_contain_text("escalated")
    expect(alert).to_contain_text("urgent")


def test_hostile_text_in_a_ticket_and_in_a_mails_subject_shows_as_text(watched: tuple[Page, Watch]) -> None:
    page, watch = watched
    file_ticket(page, f"Broken page {HOSTILE}")
    filed = card_with(page, "Broken page")
    expect(filed).to_contain_text(HOSTILE)

    inbox = send_mail(page, f"Help {HOSTILE}", "The subject says it all.")
    case = card_with(page, "The subject says it all.")
    expect(case).to_be_visible(timeout=MAIL_SECONDS * 1000)
    expect(case.locator("strong").filter(has_text="Help <script>")).to_have_text(f"Help {HOSTILE}")
    expect(inbox.get_by_role("article", name=f"To the desk: Help {HOSTILE}")).to_be_visible()

    for shown in (filed, case):
        expect(shown.locator("script, img, [onerror]")).to_have_count(0)
        expect(shown.get_by_text("@channel", exact=True)).to_have_count(0)
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    assert not watch.dialogs


def test_the_home_tab_lists_the_queue_and_opens_the_new_ticket_modal(page: Page) -> None:
    act_as(page, cast.AGENT.id)
    page.get_by_role("navigation").get_by_role("button", name=re.compile("casedesk")).click()
    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("heading", name="Unassigned queue")).to_be_visible()
    page.get_by_role("button", name="New ticket").click()
    dialog = page.get_by_role("dialog", name="New ticket")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_reset_brings_back_the_demo_desk(page: Page) -> None:
    go_to(page, "admin-notifications")
    say(page, "admin-notifications", "Written before the reset")
    expect(messages(page).filter(has_text="Written before the reset")).to_be_visible()
    page.get_by_role("button", name="Reset", exact=True).click()
    confirm = page.get_by_role("alertdialog", name="Reset the sandbox?")
    confirm.get_by_role("button", name="Yes, reset").click()
    expect(page.get_by_role("status").filter(has_text="reset with fresh demo data")).to_be_visible(timeout=60_000)
    expect(messages(page).filter(has_text="Written before the reset")).to_have_count(0)
    expect(messages(page).filter(has_text="New ticket").first).to_be_visible()
    go_to(page, "support-tickets")
    expect(card_with(page, "The export button does nothing in Firefox")).to_have_count(0)
    first = card(page, "TCK-000001")
    expect(first).to_contain_text("unassigned", timeout=30_000)  # the demo cards come through the bot's outbox
    expect(first.get_by_role("button", name="Assign to Me")).to_be_visible()

