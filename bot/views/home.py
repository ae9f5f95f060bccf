"""The App Home tab: your open tickets; for agents their availability, teams, work and the
queue; for admins the desk's people and teams."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.records import TicketRecord
from bot.services.status import Priority
from bot.views.ticket_card import PRIORITY_ICON
from bot.views.ticket_list import ticket_row

HOME_NEW_TICKET = "home_new_ticket"
HOME_SEARCH = "home_search"
SEARCH_MAX = 200  # characters of a Home search; a list's words need no more


def _section(title: str, tickets: list[TicketRecord], empty: str, now: datetime, team_url: str | None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": title}}]
    blocks += [ticket_row(t, now, team_url) for t in tickets]
    if not tickets:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": empty}]})
    return blocks


def _search_input() -> dict[str, Any]:
    """An agent's search: Enter lists what the words find, as /system-tickets with them."""
    return {
        "type": "input",
        "block_id": "home_search",
        # Enter runs the search at once: a Home tab has no submit button.
        "dispatch_action": True,
        "label": {"type": "plain_text", "text": "Search tickets"},
        "element": {
            "type": "plain_text_input",
            "action_id": HOME_SEARCH,
            "max_length": SEARCH_MAX,
            "placeholder": {"type": "plain_text", "text": "Words or a ticket number, then Enter"},
            "dispatch_action_config": {"trigger_actions_on": ["on_enter_pressed"]},
        },
    }


def home_view(
    now: datetime,
    team_url: str | None,
    own_open: list[TicketRecord],
    assigned: list[TicketRecord] | None = None,
    queue: list[TicketRecord] | None = None,
    open_by_priority: dict[Priority, int] | None = None,
    desk: list[dict[str, Any]] | None = None,
    admin: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``assigned``, ``queue`` and ``open_by_priority`` are for agents only (None otherwise),
    as is ``desk`` (their availability and teams, shown first); ``admin`` for admins."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "actions",
            "block_id": "home_actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": HOME_NEW_TICKET,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "New ticket"},
                    "value": "new",
                }
            ],
        }
    ]
    if assigned is not None:
        blocks.append(_search_input())
    blocks += desk or []
    blocks += _section("Your open tickets", own_open, "None open. File one with *New ticket*.", now, team_url)
    if assigned is not None:
        blocks += _section("Assigned to you", assigned, "Nothing assigned to you.", now, team_url)
    if queue is not None:
        blocks += _section("Unassigned queue", queue, "The queue is empty. 🎉", now, team_url)
    if open_by_priority is not None:
        counts = " · ".join(f"{PRIORITY_ICON[p]} {p.label}: {open_by_priority.get(p, 0)}" for p in Priority)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Open tickets: {counts}"}]})
    if admin:
        blocks += [{"type": "divider"}, *admin]
    return {"type": "home", "blocks": blocks}
