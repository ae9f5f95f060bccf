"""Waking a sender when a transaction that owes it work commits.

A change and the rows it owes (Slack posts, webhook deliveries) are written in one
transaction; the sender that delivers them sleeps until such a commit instead of polling.
A rolled-back transaction owes nothing and wakes no one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session


class CommitSignal:
    """Wakers called after each commit of a session marked with :meth:`owed`."""

    def __init__(self, name: str) -> None:
        self._key = f"casedesk_owes_{name}"
        self._wakers: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        event.listen(Session, "after_commit", self._after_commit)
        event.listen(Session, "after_rollback", self._after_rollback)

    def owed(self, session: Session) -> None:
        """Mark ``session``: its commit wakes the subscribers."""
        session.info[self._key] = True

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` after every marked commit; returns the unsubscribe."""
        with self._lock:
            self._wakers.append(wake)

        def unsubscribe() -> None:
            with self._lock:
                if wake in self._wakers:
                    self._wakers.remove(wake)

        return unsubscribe

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(self._key, False):
            with self._lock:
                wakers = list(self._wakers)
            for wake in wakers:
                wake()

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(self._key, None)
