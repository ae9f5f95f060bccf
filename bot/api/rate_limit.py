"""A token bucket per API token, in this process's memory.

Each token may make ``burst`` calls at once and ``per_second`` calls a second after that.
Kept in memory, per process: with several bot processes each allows its own share, and a
restart refills the buckets, which is acceptable for a guard against runaway clients (not
a quota to bill by).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from bot.delivery.pacing import TokenBucket

PER_SECOND = 10.0
BURST = 20


class RateLimiter:
    def __init__(self, per_second: float = PER_SECOND, burst: int = BURST, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second, self.burst = per_second, burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """0 when the call may go ahead (and it is counted); else the seconds to wait."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self.per_second, self.burst, self._clock)
            wait = bucket.wait()
            if wait <= 0:
                bucket.take()
                return 0
        return max(1, math.ceil(wait))
