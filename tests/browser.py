"""Headless Chromium for the sandbox page's tests: Debian's browser driven by Playwright
(its driver ships in the wheel; no browser is ever downloaded), and the moves a person
makes on the page, found by role and name as they see them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Locator, Page, ViewportSize, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver"
# The machine has no network: no background fetches, updates, sync or QUIC probes.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = ViewportSize(width=1400, height=900)
MAIL_SECONDS = 30  # a mail goes through SMTP/IMAP and the desk's poll


def skip_on_postgresql() -> None:
    """The sandbox keeps its own SQLite file whatever TEST_DATABASE_URL names: the SQLite
    pass has run these already, and a PostgreSQL pass would only repeat them."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the sandbox runs on a SQLite file of its own: its tests run in the SQLite pass", allow_module_level=True)


def skip_without_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Chromium at {CHROMIUM}: {INSTALL}", allow_module_level=True)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What the page did that it never should: raise a dialog, throw, fetch off the machine."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


@contextmanager
def open_page(browser: Browser, url: str) -> Iterator[tuple[Page, Watch]]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    watch = Watch()
    page.on("dialog", watch.on_dialog)
    page.on("pageerror", lambda err: watch.errors.append(str(err)))
    page.on("request", lambda request: None if request.url.startswith(url) or request.url.startswith("data:") else watch.outside.append(request.url))
    try:
        page.goto(url)
        expect(page.locator("body[data-ready=true]")).to_be_attached()
        yield page, watch
    finally:
        context.close()


# ---- what a person does ---------------------------------------------------------------


def act_as(page: Page, person_id: str) -> None:
    switcher = page.get_by_label("Acting as")
    switcher.select_option(person_id)
    expect(switcher).to_have_value(person_id)


def go_to(page: Page, channel: str) -> None:
    page.get_by_role("navigation").get_by_role("button", name=f"#{channel}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"#{channel}")


def composer(page: Page, channel: str) -> Locator:
    return page.get_by_role("textbox", name=f"Message #{channel}", exact=True)


def say(page: Page, channel: str, text: str) -> None:
    box = composer(page, channel)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def messages(page: Page) -> Locator:
    """The messages of the open channel (not the thread pane's)."""
    return page.get_by_role("log").get_by_role("article")


def card(page: Page, number: str) -> Locator:
    """A ticket's card in the open channel, found by its header."""
    return messages(page).filter(has=page.get_by_role("heading", name=re.compile(rf"\b{re.escape(number)}$")))


def card_with(page: Page, text: str) -> Locator:
    return messages(page).filter(has=page.get_by_role("heading", name=re.compile(r"TCK-\d+"))).filter(has_text=text)


def file_ticket(page: Page, details: str) -> None:
    """/new-ticket in #support-tickets, the modal filled by its labels, filed."""
    say(page, "support-tickets", "/new-ticket")
    dialog = page.get_by_role("dialog", name="New ticket")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Campaign").select_option(index=1)
    dialog.get_by_label("Issue type").select_option(index=1)
    dialog.get_by_label("Priority").select_option(index=1)
    dialog.get_by_label("Details").fill(details)
    dialog.get_by_role("button", name="File ticket").click()
    expect(dialog).to_be_hidden()


JOB_SECONDS = 45


def run_job(page: Page, label: str) -> None:
    page.get_by_role("button", name="Jobs").click()
    page.get_by_role("menuitem", name=label).click()
    # A job is `python -m bot jobs run NAME` in a process of its own that waits for its posts
    # to be sent: on a busy machine, several seconds.
    expect(page.get_by_role("status").filter(has_text=f"{label}: done")).to_be_visible(timeout=JOB_SECONDS * 1000)


def send_mail(page: Page, subject: str, body: str) -> Locator:
    """Write to the desk from the inbox pane; the pane, for reading what comes back."""
    toggle = page.get_by_role("button", name=re.compile(r"^Inbox"))
    if toggle.get_attribute("aria-pressed") != "true":
        toggle.click()
    inbox = page.get_by_role("complementary", name="Inbox")
    inbox.get_by_label("Subject").fill(subject)
    inbox.get_by_label("Message", exact=True).fill(body)
    inbox.get_by_role("button", name="Send email").click()
    expect(inbox.get_by_role("article", name=f"To the desk: {subject}")).to_be_visible()
    return inbox
