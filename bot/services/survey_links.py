"""Signed rating links: ``<rating id>.<score>.<expiry>.<signature>``, an HMAC-SHA256 of the
rest under the survey secret. A link cannot be made for another rating, score or expiry
without the secret; that it counts once is the rating row's business (``rated_at``)."""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_TOKEN = re.compile(r"^(\d{1,12})\.([1-5])\.(\d{1,12})\.([0-9a-f]{64})$")
SCORES = range(1, 6)


class BadLink(Exception):
    """Not a link the desk made (mistyped, cut short, or forged)."""


class ExpiredLink(Exception):
    """A genuine link whose time is up."""


@dataclass(frozen=True)
class RatingLink:
    rating_id: int
    score: int
    expires_at: datetime


def _signature(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), f"rating:{body}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, rating_id: int, score: int, expires_at: datetime) -> str:
    body = f"{rating_id}.{score}.{int(expires_at.timestamp())}"
    return f"{body}.{_signature(secret, body)}"


def verify(secret: str, token: str, now: datetime) -> RatingLink:
    """The link ``token`` stands for; BadLink when the desk did not sign it, ExpiredLink when
    its time is up (checked after the signature, so a forged expiry is never believed)."""
    match = _TOKEN.match(token)
    if not secret or not match:
        raise BadLink(token)
    body = ".".join(match.group(1, 2, 3))
    if not hmac.compare_digest(_signature(secret, body), match[4]):
        raise BadLink(token)
    expires_at = datetime.fromtimestamp(int(match[3]), UTC)
    if now >= expires_at:
        raise ExpiredLink(token)
    return RatingLink(int(match[1]), int(match[2]), expires_at)
