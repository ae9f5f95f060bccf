"""Escaping, truncation, date and duration formatting for Slack text."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ELLIPSIS = "…"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def escape(text: str) -> str:
    """Escape Slack's control characters so user text cannot mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Text as the person wrote it, from Slack's wire format (which escapes only these three)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escaped_within(text: str, limit: int) -> str:
    """Escape ``text`` and cut it (with an ellipsis) so the result fits in ``limit``
    characters, never splitting an entity such as ``&amp;``."""
    out = escape(text)
    if len(out) <= limit:
        return out
    budget = limit - len(ELLIPSIS)
    pieces: list[str] = []
    used = 0
    for ch in text:
        piece = escape(ch)
        if used + len(piece) > budget:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces).rstrip() + ELLIPSIS


def plain_within(text: str, limit: int) -> str:
    """Cut plain_text (which Slack does not parse) to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


def when(moment: datetime, tz: ZoneInfo) -> str:
    """``Mon 23 Nov 2026, 14:05 EST``: day of week included, in the desk's zone."""
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def is_slack_user(user_id: str | None) -> bool:
    return user_id is not None and _USER_ID.fullmatch(user_id) is not None


def mention(user_id: str | None) -> str:
    """A Slack user ID as a mention; anything else (an email reporter's address, words typed
    where an ID was expected) as plain, escaped text that cannot mention or link."""
    if not user_id:
        return "_unassigned_"
    return f"<@{user_id}>" if is_slack_user(user_id) else escape(user_id)


def permalink(workspace_url: str | None, channel: str, ts: str) -> str | None:
    """A message's permalink, built as Slack builds it (saves a chat.getPermalink per post)."""
    if not workspace_url:
        return None
    return f"{workspace_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def duration(value: timedelta | None) -> str:
    """``2h 05m``, ``3d 4h``; ``—`` for none."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"
