"""Posting the cards that never reached Slack (it was down or refused when the ticket was filed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.deps import Deps

# A card younger than this may still be on its way from the handler that filed it.
GRACE = timedelta(minutes=2)


def repair_cards(deps: Deps, now: datetime | None = None) -> str:
    missing = deps.tickets.tickets_without_card(created_before=(now or deps.clock()) - GRACE)
    posted = 0
    for ticket in missing:
        if deps.notifier.publish_new(ticket).card_ts:
            posted += 1
    return f"repair-cards: {posted} of {len(missing)} missing cards posted"
