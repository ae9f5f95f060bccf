"""Opaque page cursors: the id of the last case of a page. Cases are listed newest first
by id (ids grow as cases are created), so a cursor names a stable place whatever is
created or changed meanwhile, and the next page is one range of the primary key."""

from __future__ import annotations

import base64

from bot.api.problems import Problem

PREFIX = "c1:"


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{PREFIX}{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith(PREFIX) and raw[len(PREFIX):].isdigit() and len(raw) <= len(PREFIX) + 18:
            return int(raw[len(PREFIX):])
    except (ValueError, UnicodeDecodeError):
        pass
    raise Problem(400, "bad-cursor", "The cursor is not one this API gave: pass next_cursor from a previous page as it was.")
