"""A token bucket per channel: Slack's chat.postMessage allows about one post a second
per channel with short bursts, so a burst of new cases becomes a steady stream of posts
instead of a wall of HTTP 429s."""

from __future__ import annotations

import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._now = rate, float(burst), now
        self._tokens, self._at = float(burst), now()

    def available(self) -> int:
        self._refill()
        return int(self._tokens)

    def take(self) -> None:
        self._refill()
        self._tokens -= 1.0

    def wait(self) -> float:
        """Seconds until one token is there."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1.0 - self._tokens) / self._rate

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
