"""Retrying work when the database connection fails (a restart, a failover, a blip)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

T = TypeVar("T")
log = logging.getLogger(__name__)


def with_db_retries(work: Callable[[], T], delays: Sequence[float]) -> T:
    """Run ``work``; on a connection-level error wait and try again, once per delay.

    Only connection errors are retried: a transaction that failed there was not
    committed, so running it again cannot apply it twice.
    """
    for delay in delays:
        try:
            return work()
        except (OperationalError, InterfaceError) as err:
            log.warning("database unavailable (%s); retrying in %.1f s", type(err.orig).__name__, delay)
            time.sleep(delay)
    return work()
