"""Settings of the bot's public face: the address people reach its HTTP server at (for the
rating page's links) and the secret that signs those links."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from bot.settings.values import ConfigError

_URL = re.compile(r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
MIN_SECRET = 16


def public_url(env: Mapping[str, str]) -> str | None:
    """PUBLIC_URL without its trailing slash, or None when unset."""
    raw = (env.get("PUBLIC_URL") or "").strip()
    if not raw:
        return None
    if not _URL.match(raw):
        raise ConfigError("PUBLIC_URL is malformed: expected the address of the bot's HTTP server such as https://desk.example.com")
    if not (env.get("PORT") or "").strip():
        raise ConfigError("PUBLIC_URL is set but PORT is not: the rating page is served by the bot's HTTP server on PORT")
    return raw.rstrip("/")


def survey_secret(env: Mapping[str, str], app_token: str) -> str:
    """CSAT_SECRET, or one derived from the app token (a secret the desk has anyway; a new
    token makes links already mailed invalid, which then show the page of a link that is not valid)."""
    raw = (env.get("CSAT_SECRET") or "").strip()
    if raw:
        if len(raw) < MIN_SECRET:
            raise ConfigError(f"CSAT_SECRET is malformed: expected a random string of at least {MIN_SECRET} characters")
        return raw
    if not app_token:
        return ""
    return hmac.new(app_token.encode(), b"casedesk rating links", hashlib.sha256).hexdigest()
