"""Scheduled reports: the pinned High list, stale and overdue lists, the weekly summary
(with its service levels and, as text, what its chart shows)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.records import TicketRecord
from bot.services.reports import ChartCounts, Listing, WeekFigures
from bot.services.status import Priority
from bot.views.charts import WeeklyChartData, text_fallback
from bot.views.sla_report import service_blocks, service_text
from bot.views.text import duration, escape, mention, plain_within, when
from bot.views.ticket_card import PRIORITY_ICON
from bot.views.ticket_list import age, card_link

PINNED_BLOCK_ID = "casedesk_pinned_high_priority"


def _line(t: TicketRecord, now: datetime, team_url: str | None, *, by: str = "created") -> str:
    moment = t.updated_at if by == "updated" else t.created_at
    excerpt = plain_within(t.title or (t.details.splitlines() or [""])[0], 60)
    return f"• *{card_link(team_url, t)}* · {age(moment, now)} · {mention(t.assignee_id)} · {escape(excerpt)}"


def _more(listing: Listing) -> str:
    rest = listing.total - len(listing.tickets)
    return f"\n…and {rest} more." if rest > 0 else ""


def pinned_high_priority(listing: Listing, now: datetime, tz: ZoneInfo, team_url: str | None) -> list[dict[str, Any]]:
    if listing.total:
        lines = "\n".join(_line(t, now, team_url) for t in listing.tickets) + _more(listing)
        head = f"🔴 *Unassigned High tickets: {listing.total}* (oldest first; age since opened)"
    else:
        lines, head = "Nothing waiting: no open High ticket is unassigned. 🎉", "🔴 *Unassigned High tickets: 0*"
    return [
        {"type": "section", "block_id": PINNED_BLOCK_ID, "text": {"type": "mrkdwn", "text": head}},
        {"type": "section", "text": {"type": "mrkdwn", "text": lines[:3000]}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Updated {when(now, tz)} · refreshed every hour"}]},
    ]


def stale_report(listing: Listing, days: float, now: datetime, team_url: str | None) -> str:
    if not listing.total:
        return f"🕸️ No open ticket has gone {days:g} days without an update."
    lines = "\n".join(_line(t, now, team_url, by="updated") for t in listing.tickets)
    return f"🕸️ *{listing.total} tickets without an update for {days:g}+ days* (age since the last update):\n{lines}{_more(listing)}"


def overdue_report(listing: Listing, days: float, now: datetime, team_url: str | None, *, yours: bool) -> str:
    whose = "of yours are" if yours else "unassigned tickets are"
    lines = "\n".join(_line(t, now, team_url) for t in listing.tickets)
    return f"⏰ *{listing.total} {whose} open for more than {days:g} days:*\n{lines}{_more(listing)}"


def _trend(now: int, before: int) -> str:
    if now == before:
        return "  ="
    return f"{'▲' if now > before else '▼'}{abs(now - before):>3}"


def _dur_trend(now: timedelta | None, before: timedelta | None) -> str:
    if now is None or before is None or now == before:
        return ""
    return " ▲" if now > before else " ▼"


def chart_data(counts: ChartCounts) -> WeeklyChartData:
    """What the weekly chart draws, from the counts the reports read."""
    backlog = {p.label: counts.backlog[p] for p in Priority}
    return WeeklyChartData.from_counts(counts.opened, counts.resolved, backlog, last_day=counts.last_day, days=counts.days)


def weekly_summary(
    week: WeekFigures, prior: WeekFigures, tz: ZoneInfo, team_url: str | None, chart: WeeklyChartData | None = None
) -> list[dict[str, Any]]:
    """``chart``: what the chart posted after the summary shows, given here as text too."""
    rows = [
        ("New", week.new, prior.new),
        ("Resolved", week.resolved, prior.resolved),
        ("Closed", week.closed, prior.closed),
        ("Still open", week.still_open, prior.still_open),
        ("Escalations", week.escalations, prior.escalations),
    ]
    table = "\n".join(f"{label:<12}{n:>6}  {_trend(n, b)}  (prior week {b})" for label, n, b in rows)
    prio = "\n".join(
        f"{PRIORITY_ICON[p]} {p.label:<8}new {week.new_by_priority[p]:>5}   open {week.open_by_priority[p]:>5}" for p in Priority
    )
    times = (
        f"Median first response: *{duration(week.median_first_response)}*"
        f"{_dur_trend(week.median_first_response, prior.median_first_response)}"
        f" (prior week {duration(prior.median_first_response)})\n"
        f"Median resolution: *{duration(week.median_resolution)}*"
        f"{_dur_trend(week.median_resolution, prior.median_resolution)}"
        f" (prior week {duration(prior.median_resolution)})"
    )
    people = "\n".join(f"• {mention(who)}: {n} open" for who, n in week.open_by_assignee) or "• nobody has open tickets"
    resolvers = "\n".join(f"• {mention(who)}: {n} resolved" for who, n in week.resolved_by) or "• none resolved"
    oldest = "\n".join(
        f"• *{card_link(team_url, t)}* {PRIORITY_ICON[t.priority]} · {age(t.created_at, week.end)} · {mention(t.assignee_id)}"
        for t in week.oldest_open
    ) or "• none open"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "📊 Weekly summary"}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"{when(week.start, tz)} → {when(week.end, tz)}"}],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{table}```"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*By priority*\n```{prio}```"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": times}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Open now, by assignee*\n{people}"[:2000]},
            {"type": "mrkdwn", "text": f"*Resolved this week*\n{resolvers}"[:2000]},
        ]},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Oldest open*\n{oldest}"}},
    ]
    if week.service is not None:
        blocks += service_blocks(week.service, "⏱ Service levels this week")
    if chart is not None:
        table = escape(text_fallback(chart))
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*The last 4 weeks* (the chart below)\n```{table}```"}})
    return blocks


def weekly_summary_text(week: WeekFigures) -> str:
    text = f"📊 Weekly summary: {week.new} new, {week.resolved} resolved, {week.closed} closed, {week.still_open} still open"
    return f"{text}. {service_text(week.service)}" if week.service is not None else text
