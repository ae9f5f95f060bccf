"""The /ticket-summary modal."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.status import Priority, Status
from bot.services.summary import Summary
from bot.views.sla_report import service_blocks
from bot.views.text import duration, escape, mention, when
from bot.views.ticket_card import PRIORITY_ICON, STATUS_BADGE
from bot.views.ticket_list import age


def _fields(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in pairs[:10]]}


def summary_view(s: Summary, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    scope = f"The *{escape(s.team_name)}* team's tickets" if s.team_name else "All the tickets you can see"
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": scope}]},
        {"type": "header", "text": {"type": "plain_text", "text": "By status"}},
        _fields([(STATUS_BADGE[st], str(s.by_status[st])) for st in Status]),
        {"type": "header", "text": {"type": "plain_text", "text": "Open, by priority"}},
        _fields(
            [(f"{PRIORITY_ICON[p]} {p.label}", str(s.open_by_priority[p])) for p in Priority]
            + [("🚨 Unassigned high", str(s.unassigned_high))]
        ),
        {"type": "header", "text": {"type": "plain_text", "text": "Last 7 days"}},
        _fields([("Opened", str(s.opened_week)), ("Resolved", str(s.resolved_week)), ("Closed", str(s.closed_week))]),
        {"type": "header", "text": {"type": "plain_text", "text": "Speed (tickets of the last 30 days)"}},
        _fields(
            [
                ("Median first response", duration(s.median_first_response)),
                ("Median time to resolve", duration(s.median_resolution)),
            ]
        ),
    ]
    if s.open_by_assignee:
        lines = "\n".join(f"{mention(a)}: {n}" for a, n in s.open_by_assignee)
        blocks += [
            {"type": "header", "text": {"type": "plain_text", "text": "Open, by assignee"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
        ]
    oldest = (
        f"Oldest open: *{s.oldest_open.number}* {PRIORITY_ICON[s.oldest_open.priority]}, opened "
        f"{when(s.oldest_open.created_at, tz)} ({age(s.oldest_open.created_at, now)} ago)"
        if s.oldest_open
        else "No open tickets. 🎉"
    )
    if s.by_account:
        lines = "\n".join(
            f"*{escape(a.label)}*: {a.open} open, {a.opened} opened · first response {duration(a.mean_first_response)} on average"
            for a in s.by_account
        )
        blocks += [
            {"type": "header", "text": {"type": "plain_text", "text": "Customer accounts (last 30 days)"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": lines}},
        ]
    if s.service is not None:
        blocks += service_blocks(s.service, "Service levels (last 7 days)")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": oldest}]})
    return {
        "type": "modal",
        "callback_id": "ticket_summary",
        "title": {"type": "plain_text", "text": "Ticket summary"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }
