"""The Admin section's API tokens modal: the tokens (never the tokens themselves) with a
Revoke button each, a form to create one, and the new token shown once."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.api_tokens import SCOPES, TokenRecord
from bot.views.admin import ADMIN_API_TOKENS, _button, _context, _input, _modal, _option, _plain, escape
from bot.views.text import when

__all__ = ["ADMIN_API_TOKENS", "API_TOKENS_VIEW", "API_TOKEN_REVOKE", "token_shown_modal", "tokens_modal"]
API_TOKENS_VIEW = "api_tokens"
API_TOKEN_REVOKE = "api_token_revoke"
TOKEN_SHOWN_VIEW = "api_token_shown"
SHOWN = 40  # tokens listed (a modal holds 100 blocks)


def tokens_modal(tokens: list[TokenRecord], tz: ZoneInfo, note: str | None = None) -> dict[str, Any]:
    live = [t for t in tokens if t.revoked_at is None]
    blocks: list[dict[str, Any]] = []
    if note:
        blocks.append(_context(escape(note)))
    for t in live[:SHOWN]:
        used = f"last used {when(t.last_used_at, tz)}" if t.last_used_at else "never used"
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{escape(t.name)}* · {t.scope} · `{escape(t.prefix)}…` · {used}"},
            "accessory": {**_button("Revoke", API_TOKEN_REVOKE, t.name, "danger"), "confirm": {
                "title": _plain("Revoke this token?"),
                "text": _plain(f"Calls with {t.name} are refused from now on."),
                "confirm": _plain("Revoke"),
                "deny": _plain("Keep it"),
            }},
        })
    if not live:
        blocks.append(_context("No API tokens yet."))
    revoked = len(tokens) - len(live)
    if revoked:
        blocks.append(_context(f"{revoked} revoked token{'s' if revoked != 1 else ''} not shown."))
    blocks.append({"type": "divider"})
    blocks.append(_input("token_name", "New token's name", {"type": "plain_text_input", "max_length": 28},
                         hint="Lowercase letters, digits, '.', '_' or '-': the audit trail shows its changes as api:NAME."))
    blocks.append(_input("token_scope", "Scope", {
        "type": "static_select", "options": [_option(s, s) for s in SCOPES], "initial_option": _option(SCOPES[0], SCOPES[0]),
    }))
    return _modal(API_TOKENS_VIEW, "API tokens", blocks, "Create token", {}, close="Done")


def token_shown_modal(record: TokenRecord, token: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(record.name)}* ({record.scope}), created {when(now, tz)}."}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{token}```"}},
        _context("Copy it now: it is shown this once and only its hash is kept. Send it as Authorization: Bearer <token>."),
    ]
    return _modal(TOKEN_SHOWN_VIEW, "API token created", blocks, None, {}, close="Done")
