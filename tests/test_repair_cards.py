"""Slack down when a ticket is filed: the ticket is kept, and its card is posted later."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Casedesk
from bot.jobs.cards import repair_cards
from bot.services.tickets import utcnow
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People


def test_a_card_that_failed_to_post_is_posted_by_the_repair_job(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.web_api.fail("chat.postMessage", "internal_error", times=1)
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔵 Low").type("Details", "kept")
    modal.submit()
    dm = people.reporter.wait_dm("TCK-000001")
    assert "appear in the support channel shortly" in dm.text
    assert double.messages(SUPPORT) == []
    assert desk.deps.tickets.get(1).card_ts is None

    assert "0 of 0" in repair_cards(desk.deps)  # too young: its handler may still be posting it
    assert "1 of 1" in repair_cards(desk.deps, now=utcnow() + timedelta(minutes=3))
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert desk.deps.tickets.get(1).card_ts == card.ts
    assert "0 of 0" in repair_cards(desk.deps, now=utcnow() + timedelta(minutes=3))
