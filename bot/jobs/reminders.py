"""Daily reminders: stale tickets to the admin channel; overdue tickets to their assignees
(sent down the outbox, so a Slack outage delays them and loses none)."""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from bot.views.reports import overdue_report, stale_report


def stale(deps: Deps) -> str:
    now, days = deps.clock(), deps.settings.stale_days
    listing = deps.reports.stale(now - timedelta(days=days))
    if listing.total:
        deps.sender.outbox.announce(
            deps.settings.admin_channel, stale_report(listing, days, now, deps.workspace_url.get(deps.client)), now
        )
    return f"stale: {listing.total} tickets without an update for {days:g}+ days" + (" (listed)" if listing.total else "")


def overdue(deps: Deps) -> str:
    now, days = deps.clock(), deps.settings.overdue_days
    by_person = deps.reports.overdue(now - timedelta(days=days))
    team_url = deps.workspace_url.get(deps.client)
    for person, listing in by_person.items():
        channel = person or deps.settings.admin_channel
        text = overdue_report(listing, days, now, team_url, yours=person is not None)
        deps.sender.outbox.announce(channel, text, now)
    assignees = sum(1 for p in by_person if p)
    total = sum(listing.total for listing in by_person.values())
    return f"overdue: {total} tickets; {assignees} assignees told" + (", unassigned to the admin channel" if None in by_person else "")
