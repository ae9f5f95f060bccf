"""One road to Slack: every post a change owes lands once, through lost answers, 429s,
refusals and outages (the real bot on the double; crashes are in test_crash.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk
from bot.delivery import slack as sender_module
from bot.services.outbox import PostKind, enqueue
from db.session import Database
from slack_double import SlackDouble
from slack_double.workspace import Message
from tests.conftest import ADMIN, AGENT, SUPPORT, People
from tests.test_ticket_flow import file_ticket


def cards_of(double: SlackDouble, number: str) -> list[Message]:
    return [m for m in double.messages(SUPPORT) if m.text.startswith(("🔴", "🟡", "🟢")) and number in m.text]


def test_a_card_whose_answer_was_lost_is_found_and_recorded_not_posted_again(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    double.web_api.lose_answers("chat.postMessage")  # Slack posts the card; the bot never hears so
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High").type("Details", "x")
    assert modal.submit() is None
    people.reporter.wait_dm("TCK-000001", timeout=15)  # sent only once the card is recorded
    assert len(cards_of(double, "TCK-000001")) == 1
    [card] = cards_of(double, "TCK-000001")
    assert desk.deps.tickets.get(1).card_ts == card.ts
    assert [c for c in double.workspace.calls_to("conversations.history") if c.ok], "the retry looked first"
    assert len(people.reporter.dms()) == 1


def test_a_thread_line_whose_answer_was_lost_is_not_written_twice(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    card = file_ticket(double, people)
    double.wait_for(lambda: desk.deps.sender.outbox.unsent() == 0, what="the filing's posts to be answered")
    double.web_api.lose_answers("chat.postMessage")
    people.agent.click(card, "Assign to Me")
    double.wait_thread_reply(card, "assigned TCK-000001", timeout=15)
    double.wait_for(lambda: [c for c in double.workspace.calls_to("conversations.replies") if c.ok], timeout=15)
    double.wait_for(lambda: desk.deps.sender.outbox.unsent() == 0, timeout=15, what="the outbox to empty")
    assert [m.text for m in double.thread(card)].count(f"👤 <@{AGENT}> assigned TCK-000001 to themselves.") == 1


def test_a_card_update_through_repeated_429s_lands(
    desk: Casedesk, double: SlackDouble, people: People, quick_retries: None
) -> None:
    card = file_ticket(double, people)
    # More 429s in a row than the client waits out by itself: the outbox tries again.
    # (Retry-After: 0: the client still waits up to a second each; waiting it out is
    # test_rate_limited_post_is_retried_after_retry_after's subject.)
    double.web_api.rate_limit("chat.update", times=5, retry_after=0)
    people.agent.click(card, "Assign to Me")
    shown = double.wait_for(
        lambda: shown if "In Progress" in (shown := double.current(card)).text else None, timeout=30, what="the card update"
    )
    assert "In Progress" in shown.text
    assert [c.error for c in double.workspace.calls_to("chat.update")].count("ratelimited") == 5


def test_a_slack_outage_delays_every_post_and_loses_none(
    desk: Casedesk, double: SlackDouble, people: People, quick_retries: None
) -> None:
    first = file_ticket(double, people)
    modals = []
    for _ in range(3):
        modal = people.reporter.open_modal("/new-ticket")
        modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🟡 Medium").type("Details", "y")
        modals.append(modal)
    double.web_api.outage(2.5)
    for modal in modals:
        assert modal.submit() is None  # stored and acked while Slack's Web API is down
    people.agent.click(first, "Close")
    numbers = ["TCK-000002", "TCK-000003", "TCK-000004"]
    for number in numbers:
        double.wait_message(SUPPORT, number, timeout=45)
        people.reporter.wait_dm(f"Your ticket {number} was filed", timeout=45)
    double.wait_thread_reply(first, "closed TCK-000001", timeout=45)
    people.reporter.wait_dm("TCK-000001 was closed", timeout=45)
    double.wait_for(lambda: desk.deps.sender.outbox.unsent() == 0, timeout=45, what="the outbox to empty")
    assert "Closed" in double.current(first).text
    for number in ["TCK-000001", *numbers]:
        assert len(cards_of(double, number)) == 1, number
        assert len([m for m in double.messages(ADMIN) if number in m.text]) == 1, number
    assert len(people.reporter.dms()) == 5  # four confirmations and one "closed"
    assert [m.text for m in double.thread(first)].count(f"🔒 <@{AGENT}> closed TCK-000001.") == 1
    assert any(c.error == "service_unavailable" for c in double.workspace.calls), "the outage was felt"


def test_a_post_slack_keeps_refusing_is_given_up_and_reported_once(
    desk: Casedesk, double: SlackDouble, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "MAX_BACKOFF", 0.05)
    # Every attempt within the channel's burst: the count given up after is the subject, not the pace.
    monkeypatch.setattr(sender_module, "POST_BURST", sender_module.DEAD_AFTER)
    with Database(engine).write() as session:  # a post to a channel that does not exist
        enqueue(session, PostKind.POST, desk.deps.clock(), channel="C0NOWHERE", text="hello")
    report = double.wait_message(ADMIN, "gave up on a Slack post", timeout=30)
    assert "channel_not_found" in report.text
    [(row_id, kind, channel, error, _when)] = desk.deps.sender.outbox.dead()
    assert (kind, channel, error) == ("post", "C0NOWHERE", "channel_not_found")
    attempts = [c for c in double.workspace.calls_to("chat.postMessage") if c.args.get("channel") == "C0NOWHERE"]
    assert len(attempts) == sender_module.DEAD_AFTER
    assert len([m for m in double.messages(ADMIN) if "gave up" in m.text]) == 1
    assert f"outbox row {row_id}" in report.text
