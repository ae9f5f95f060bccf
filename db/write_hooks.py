"""Work a write session owes for the rows it added, done in the same transaction just before
it commits: the notification mails, the satisfaction survey and the webhook deliveries a
change owes are queued with the change itself, whichever service made it.

A hook is served per :class:`~db.session.Database` (its write sessions carry the hook's
policy in their ``info``); rows undone by a rolled-back savepoint are left out, and a
rolled-back transaction owes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from db.session import Database

P = TypeVar("P")


class WriteHook(Generic[P]):
    """Calls ``owe(session, rows, policy)`` before a served session commits, with the rows
    it added that ``wants`` picks."""

    def __init__(self, name: str, wants: Callable[[object], bool], owe: Callable[[Session, list[Any], P], None]) -> None:
        self._policy_key = f"casedesk_{name}_policy"
        self._seen_key = f"casedesk_{name}_seen"
        self._wants = wants
        self._owe = owe
        event.listen(Session, "after_flush", self._after_flush)
        event.listen(Session, "before_commit", self._before_commit)
        event.listen(Session, "after_rollback", self._after_rollback)

    def serve(self, db: Database, policy: P | None) -> None:
        """Every later write session of ``db`` runs this hook under ``policy`` (None: not at all)."""
        if policy is not None:
            db.mark_writes(**{self._policy_key: policy})

    def policy(self, session: Session) -> P | None:
        found: P | None = session.info.get(self._policy_key)
        return found

    def _after_flush(self, session: Session, _context: Any) -> None:
        if self.policy(session) is None:
            return
        for obj in session.new:
            if self._wants(obj):
                session.info.setdefault(self._seen_key, []).append(obj)

    def _before_commit(self, session: Session) -> None:
        policy = self.policy(session)
        if policy is None:
            return
        session.flush()  # what the commit would flush: its rows are seen now
        seen = [obj for obj in session.info.pop(self._seen_key, []) if inspect(obj).persistent]
        if seen:
            self._owe(session, seen, policy)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(self._seen_key, None)
