"""The ticket list modal of /agent-tickets and /system-tickets, with its paging state."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from bot.services.business_hours import BusinessCalendar
from bot.services.queries import Page
from bot.services.records import TicketRecord
from bot.services.status import Priority, Status
from bot.views.bulk_actions import bulk_bar, report_block, with_picks
from bot.views.text import escape, escaped_within, mention, permalink, plain_within
from bot.views.ticket_card import PRIORITY_ICON, STATUS_BADGE, sla_lines

TICKET_LIST = "ticket_list"
PAGE_NEXT = "ticket_list_next"
PAGE_PREVIOUS = "ticket_list_previous"
TAB = "ticket_list_tab"
STATUS_FILTER = "ticket_list_status"
ALL_STATUSES = "all"
EXCERPT = 150


@dataclass(frozen=True)
class ListState:
    """Everything needed to draw a page again; kept in the modal's private_metadata."""

    scope: str = "mine"  # "mine" (/agent-tickets) or "all" (/system-tickets)
    tab: str = "submitted"  # for "mine": "submitted" or "assigned"
    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    campaign: str | None = None
    issue_type: str | None = None
    text: str | None = None
    assignee: str | None = None  # a user ID, or "none" for unassigned
    offset: int = 0
    team: str | None = None  # a team's name (team:NAME)
    sort: str | None = None  # "due": the soonest SLA target first; None: newest (or most relevant)
    due: str | None = None  # "breached" or "today": the next SLA target's time
    fields: tuple[tuple[str, str], ...] = ()  # (key, value) of issue types' extra fields (region:EMEA)
    account: str | None = None  # a customer organisation's name or Slack team id (account:NAME)

    def to_metadata(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_metadata(cls, raw: str) -> ListState:
        data = json.loads(raw or "{}")
        data["statuses"] = tuple(data.get("statuses") or ())
        data["priorities"] = tuple(data.get("priorities") or ())
        data["fields"] = tuple((str(k), str(v)) for k, v in data.get("fields") or ())
        return cls(**data)

    def moved(self, offset: int) -> ListState:
        return replace(self, offset=max(0, offset))


def age(created: datetime, now: datetime) -> str:
    seconds = max(0, int((now - created).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def card_link(team_url: str | None, ticket: TicketRecord) -> str:
    """The ticket number, linked to its card when it has one."""
    link = permalink(team_url, ticket.card_channel, ticket.card_ts) if ticket.card_channel and ticket.card_ts else None
    return f"<{link}|{ticket.number}>" if link else ticket.number


def ticket_row(
    ticket: TicketRecord, now: datetime, team_url: str | None, calendar: BusinessCalendar | None = None
) -> dict[str, Any]:
    """One ticket as a section: linked number, priority, status, type, assignee, age, excerpt;
    with ``calendar``, its next SLA target as the card says it (``⏱ First response due in 2 h``)."""
    head = (
        f"*{card_link(team_url, ticket)}* {PRIORITY_ICON[ticket.priority]} · {STATUS_BADGE[ticket.status]} · "
        f"{escape(ticket.issue_type)} · {mention(ticket.assignee_id)} · {age(ticket.created_at, now)} old"
    )
    due = sla_lines(ticket, calendar, now)[:1] if calendar is not None else []
    if due:
        head += f" · {due[0]}"
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"{head}\n{escaped_within(ticket.details, EXCERPT)}"}}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _controls(state: ListState) -> dict[str, Any]:
    status_options = [_option("Any status", ALL_STATUSES)] + [_option(s.label, s.value) for s in Status]
    current = state.statuses[0] if len(state.statuses) == 1 else ALL_STATUSES
    elements: list[dict[str, Any]] = []
    if state.scope == "mine":
        for tab, label in (("submitted", "Submitted by me"), ("assigned", "Assigned to me")):
            button: dict[str, Any] = {"type": "button", "action_id": f"{TAB}:{tab}", "text": {"type": "plain_text", "text": label}, "value": tab}
            if tab == state.tab:
                button["style"] = "primary"
            elements.append(button)
    elements.append(
        {
            "type": "static_select",
            "action_id": STATUS_FILTER,
            "placeholder": {"type": "plain_text", "text": "Status"},
            "options": status_options,
            "initial_option": next(o for o in status_options if o["value"] == current),
        }
    )
    return {"type": "actions", "block_id": "ticket_list_controls", "elements": elements}


def _describe(state: ListState, page: Page) -> str:
    parts = [f"{page.offset + 1}–{page.offset + len(page.tickets)} of {page.total}"] if page.tickets else ["No tickets"]
    if state.statuses:
        parts.append("status: " + ", ".join(Status(s).label for s in state.statuses))
    if state.priorities:
        parts.append("priority: " + ", ".join(Priority(p).label for p in state.priorities))
    if state.assignee:
        parts.append("assignee: " + ("nobody" if state.assignee == "none" else mention(state.assignee)))
    for label, value in (("campaign", state.campaign), ("type", state.issue_type), ("search", state.text)):
        if value:
            parts.append(f"{label}: {escape(value)}")
    if state.due:
        parts.append("SLA breached" if state.due == "breached" else "SLA due today")
    if state.sort == "due":
        parts.append("soonest due first")
    return " · ".join(parts)


def ticket_list_view(
    state: ListState,
    page: Page,
    now: datetime,
    team_url: str | None,
    calendar: BusinessCalendar | None = None,
    *,
    teams: list[tuple[int, str]] | None = None,
    report: str | None = None,
) -> dict[str, Any]:
    """``calendar``: the rows show their next SLA target when the list is by due or filtered by it.
    ``teams`` (the list of all tickets): each row has a checkbox, and the bulk action menu
    offers moving to these teams; ``report``: what the last bulk action did, on top."""
    title = "All tickets" if state.scope == "all" else "My tickets"
    blocks: list[dict[str, Any]] = [
        _controls(state),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _describe(state, page)}]},
        {"type": "divider"},
    ]
    by_due = calendar if state.sort == "due" or state.due else None
    rows = [ticket_row(t, now, team_url, by_due) for t in page.tickets]
    blocks += with_picks(rows, page.tickets) if teams is not None else rows
    if report:
        blocks.insert(0, report_block(report))
    if not page.tickets:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "Nothing here. File one with */new-ticket*."}})
    nav = []
    if page.has_previous:
        nav.append({"type": "button", "action_id": PAGE_PREVIOUS, "text": {"type": "plain_text", "text": "◀ Previous"}, "value": "previous"})
    if page.has_next:
        nav.append({"type": "button", "action_id": PAGE_NEXT, "text": {"type": "plain_text", "text": "Next ▶"}, "value": "next"})
    if nav:
        blocks.append({"type": "actions", "block_id": "ticket_list_paging", "elements": nav})
    if teams is not None and page.tickets:
        blocks.append(bulk_bar(teams))
    return {
        "type": "modal",
        "callback_id": TICKET_LIST,
        "title": {"type": "plain_text", "text": plain_within(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": state.to_metadata(),
        "blocks": blocks,
    }


def loading_view(title: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": TICKET_LIST,
        "title": {"type": "plain_text", "text": plain_within(title, 24)},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "⏳ Loading tickets…"}}],
    }
