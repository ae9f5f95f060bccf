"""The pinned list of open, unassigned High tickets in the support channel.

One message, pinned once and edited in place. Where it is lives in the database, so a
restart edits the same message; if it was deleted or unpinned a fresh one is posted and
pinned, and any other pinned copy of the list is unpinned: never two.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.views.reports import PINNED_BLOCK_ID, pinned_high_priority

STATE_KEY = "pinned_high_priority"


def _pinned_lists(deps: Deps, channel: str) -> list[str]:
    """ts of every pinned message in the channel that is one of our lists."""
    items: list[dict[str, Any]] = deps.client.pins_list(channel=channel).get("items") or []
    return [
        str(item["message"]["ts"])
        for item in items
        if item.get("type") == "message"
        and any(b.get("block_id") == PINNED_BLOCK_ID for b in item["message"].get("blocks") or [])
    ]


def pin_high_priority(deps: Deps) -> str:
    channel = deps.settings.support_channel
    now = deps.clock()
    listing = deps.reports.unassigned_high()
    blocks = pinned_high_priority(listing, now, deps.settings.tz, deps.workspace_url.get(deps.client))
    text = f"Unassigned High tickets: {listing.total}"
    stored = deps.state.get(STATE_KEY)
    pinned = _pinned_lists(deps, channel)
    action = "updated"
    ts = stored if stored in pinned else None
    if ts is not None:
        try:
            deps.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        except SlackApiError as err:
            if err.response.get("error") != "message_not_found":
                raise
            ts = None
    if ts is None:
        if stored:  # unpinned by someone, or deleted: the fresh copy replaces it
            try:
                deps.client.chat_delete(channel=channel, ts=stored)
            except SlackApiError:
                pass
        posted = deps.client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        ts = str(posted["ts"])
        deps.client.pins_add(channel=channel, timestamp=ts)
        deps.state.set(STATE_KEY, ts)
        action = "posted and pinned"
    for other in pinned:
        if other != ts:
            deps.client.pins_remove(channel=channel, timestamp=other)
    return f"pin-high-priority: {action} the list ({listing.total} tickets)"
