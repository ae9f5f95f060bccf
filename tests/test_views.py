"""Block Kit rendering: escaping, cutting, and staying inside Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.status import Status
from bot.views.modals import new_ticket_modal, reassign_modal, resolve_modal
from bot.views.text import escape, escaped_within, when
from bot.views.ticket_card import ticket_card
from slack_double.blockkit import message_errors, view_errors
from tests.factories import make_record

NY = ZoneInfo("America/New_York")


def test_escape_order_keeps_entities_intact() -> None:
    assert escape("a & <b> &lt;") == "a &amp; &lt;b&gt; &amp;lt;"


@pytest.mark.parametrize("limit", range(5, 40))
def test_escaped_within_never_splits_an_entity(limit: int) -> None:
    out = escaped_within("&&&&<<<<>>>> 😀😀 text " * 3, limit)
    assert len(out) <= limit
    body = out.removesuffix("…")
    assert body.count("&") == body.count(";")


def test_when_names_the_day_and_zone_across_dst() -> None:
    assert when(datetime(2026, 3, 8, 6, 30, tzinfo=UTC), NY) == "Sun 8 Mar 2026, 01:30 EST"
    assert when(datetime(2026, 3, 8, 7, 30, tzinfo=UTC), NY) == "Sun 8 Mar 2026, 03:30 EDT"


@pytest.mark.parametrize("status", list(Status))
def test_every_card_fits_slack_limits_with_huge_details(status: Status) -> None:
    details = ("😀 <!here> & émoji " * 400)[:20_000]
    card = ticket_card(
        make_record(
            status=status,
            details=details,
            screenshot_name="x" * 255,
            screenshot_url="https://files.example/" + "y" * 2000,
            resolved_by="U0AGENT",
            resolution_note="n" * 2000,
        ),
        NY,
    )
    assert message_errors(card) == []
    assert len(card) <= 50
    assert all("<!here>" not in str(b) for b in card)


def test_modals_fit_slack_limits() -> None:
    assert view_errors(new_ticket_modal(tuple(f"Campaign {i}" for i in range(100)), ("Bug",), "C1")) == []
    for build in (reassign_modal, resolve_modal):
        view = build(9_999_999, "TCK-9999999", "C0SUPPORT", "1795363610.000005")
        assert view_errors(view) == []
        assert len(view["title"]["text"]) <= 24
