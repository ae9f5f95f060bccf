"""The Link modal of a ticket's card: how it relates to another ticket, and which one."""

from __future__ import annotations

from typing import Any

from bot.services.case_links import LinkKind
from bot.views.modals import VALUE, _option, _plain, _select, _ticket_metadata
from bot.views.text import plain_within

LINK_TICKET = "link_ticket"  # the modal's callback_id


def link_modal(ticket_id: int, number: str, channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": LINK_TICKET,
        "title": _plain(plain_within(f"Link {number}", 24)),
        "submit": _plain("Link"),
        "close": _plain("Cancel"),
        "private_metadata": _ticket_metadata(ticket_id, channel, ts),
        "blocks": [
            _select("kind", "This ticket is", [_option(k.label, k.value) for k in LinkKind]),
            {
                "type": "input",
                "block_id": "other",
                "label": _plain("Ticket"),
                "hint": _plain("Its number, e.g. TCK-000042. A duplicate is merged into it and closed."),
                "element": {"type": "plain_text_input", "action_id": VALUE, "max_length": 20},
            },
        ],
    }
