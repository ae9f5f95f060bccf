"""The customer channel modal (Slack Connect), opened from the Admin section of the Home tab."""

from __future__ import annotations

from typing import Any

from bot.views.admin import _input, _modal, _plain
from bot.views.text import escaped_within

CUSTOMER_CHANNEL_VIEW = "admin_customer_channel_view"
MARK, UNMARK = "customer", "internal"


def customer_channel_modal(count: int) -> dict[str, Any]:
    """Mark a channel a customer channel (with its own acknowledgment) or no longer one."""
    options = [
        {"text": _plain("A customer channel: its external members open cases"), "value": MARK},
        {"text": _plain("Not a customer channel"), "value": UNMARK},
    ]
    blocks = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "In a customer channel (shared with another organisation through Slack Connect) the bot says only "
                f"the acknowledgment, public replies and the resolution. {count} channel{'s' if count != 1 else ''} "
                "marked so far.",
            },
        },
        _input("channel", "Channel", {"type": "conversations_select", "filter": {"include": ["public", "private"]}}),
        _input("mode", "This channel is", {"type": "static_select", "options": options, "initial_option": options[0]}),
        _input(
            "ack",
            "Acknowledgment",
            {"type": "plain_text_input", "multiline": True, "max_length": 1000},
            optional=True,
            hint="What the customer reads when their message opens a case (the case's number follows). Empty: the desk's own.",
        ),
    ]
    return _modal(CUSTOMER_CHANNEL_VIEW, "Customer channel", blocks, "Save", {})


def customer_channels_context(channels: list[tuple[str, str | None]]) -> dict[str, Any]:
    """The Admin section's line of customer channels, each with its account."""
    listed = ", ".join(f"<#{c}>" + (f" ({escaped_within(a, 80)})" if a else "") for c, a in channels)
    text = f"*Customer channels* (Slack Connect): {listed or 'none yet'}"
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}
