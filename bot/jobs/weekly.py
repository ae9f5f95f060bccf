"""The weekly summary, posted to the support channel (Mondays 09:00 in TIMEZONE by default),
followed by its chart: tickets opened and resolved per day over four weeks, and the backlog."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.deps import Deps
from bot.jobs.slots import latest_slot, trigger_for
from bot.views.reports import chart_data, weekly_summary, weekly_summary_text


def week_before(end: datetime, tz: object) -> datetime:
    """The same wall-clock time a week earlier in the desk's zone (a DST week is 167 or 169 h)."""
    local = end.astimezone(tz)  # type: ignore[arg-type]
    return (local.replace(tzinfo=None) - timedelta(days=7)).replace(tzinfo=tz).astimezone(end.tzinfo)  # type: ignore[arg-type]


def weekly_summary_job(deps: Deps, end: datetime | None = None) -> str:
    tz = deps.settings.tz
    # The week ends at its scheduled time (Monday 09:00), also when run by hand later.
    end = end or latest_slot(trigger_for(deps.settings, "weekly-summary"), deps.clock()) or deps.clock()
    start = week_before(end, tz)
    week = deps.reports.week(start, end)
    prior = deps.reports.week(week_before(start, tz), start)
    # The chart itself is drawn and uploaded by the sender, after the summary: its figures
    # are in the summary as text, which is posted even when the upload is refused.
    chart = chart_data(deps.reports.chart(end, tz))
    deps.sender.outbox.announce(
        deps.settings.support_channel,
        weekly_summary_text(week),
        deps.clock(),
        blocks=weekly_summary(week, prior, tz, deps.workspace_url.get(deps.client), chart),
        chart_until=end,
    )
    return f"weekly-summary: posted ({week.new} new, {week.resolved} resolved, {week.closed} closed, {week.still_open} open)"
