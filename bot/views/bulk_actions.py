"""The bulk actions of /system-tickets: a checkbox on each row of the page, one action
menu and an Apply button under them, and the per-ticket report of what happened."""

from __future__ import annotations

from typing import Any

from bot.services.bulk import Outcome
from bot.services.records import TicketRecord
from bot.services.status import Priority
from bot.views.text import escape, escaped_within, plain_within

BULK_PICK = "ticket_list_pick"  # each row's checkbox (block_id pick:<ticket id>)
BULK_ACTION = "ticket_list_bulk_action"
BULK_APPLY = "ticket_list_bulk_apply"
BULK_BLOCK = "ticket_list_bulk"
PICK_PREFIX = "pick:"
REPORT_LIMIT = 2900  # a section's text is at most 3,000 characters


def with_picks(rows: list[dict[str, Any]], tickets: list[TicketRecord]) -> list[dict[str, Any]]:
    """Each row's section with a one-option checkboxes element beside it."""
    return [
        {
            **row,
            "block_id": f"{PICK_PREFIX}{ticket.id}",
            "accessory": {
                "type": "checkboxes",
                "action_id": BULK_PICK,
                "options": [
                    {"text": {"type": "plain_text", "text": plain_within(f"Select {ticket.number}", 75)}, "value": str(ticket.id)}
                ],
            },
        }
        for row, ticket in zip(rows, tickets, strict=True)
    ]


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": plain_within(text, 75)}, "value": value}


def bulk_bar(teams: list[tuple[int, str]]) -> dict[str, Any]:
    """The action menu (≤ 100 options: teams beyond that are left out) and Apply."""
    options = [_option("Assign to me", "assign")]
    options += [_option(f"Priority: {p.label}", f"priority:{p.value}") for p in Priority]
    options += [_option("Resolve", "resolve"), _option("Close", "close")]
    options += [_option(f"Move to team: {name}", f"move:{team_id}") for team_id, name in teams][: 100 - len(options)]
    return {
        "type": "actions",
        "block_id": BULK_BLOCK,
        "elements": [
            {
                "type": "static_select",
                "action_id": BULK_ACTION,
                "placeholder": {"type": "plain_text", "text": "Action for the selected"},
                "options": options,
            },
            {
                "type": "button",
                "action_id": BULK_APPLY,
                "text": {"type": "plain_text", "text": "Apply to selected"},
                "value": "apply",
            },
        ],
    }


def report_block(text: str) -> dict[str, Any]:
    return {"type": "section", "block_id": "ticket_list_report", "text": {"type": "mrkdwn", "text": text[:REPORT_LIMIT]}}


def bulk_report(action_label: str, outcomes: list[Outcome]) -> str:
    """``*Close*: 2 done, 1 refused`` and a line per ticket (the refusals say why)."""
    done = sum(1 for o in outcomes if o.done)
    head = f"*{escape(action_label)}*: {done} done, {len(outcomes) - done} refused"
    lines = [f"✅ {o.number}: {escape(o.said)}" if o.done else f"⛔ {o.number}: {escaped_within(o.said, 200)}" for o in outcomes]
    return "\n".join([head, *lines])
