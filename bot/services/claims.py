"""Claiming due rows of an outbox (Slack posts, mail) so that of several processes one sends each.

A row is due when it is unsent and not given up (dead-lettered), its time has come and
no live claim holds it. A claim is
a conditional update: of two processes claiming one row, one wins; a claim left by a
crashed process runs out and the row is due again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from db.session import Database

T = TypeVar("T")


def due(model: Any, now: datetime) -> ColumnElement[bool]:
    return and_(
        model.sent_at.is_(None),
        model.dead_at.is_(None),
        model.due_at <= now,
        or_(model.claimed_until.is_(None), model.claimed_until < now),
    )


def claim_due(
    db: Database,
    model: Any,
    now: datetime,
    hold: timedelta,
    limit: int,
    snapshot: Callable[[Any], T],
    *where: ColumnElement[bool],
    stamp: Any = None,
) -> list[T]:
    """Up to ``limit`` due rows, oldest first, claimed for ``hold``; each as ``snapshot(row)``.

    ``stamp``: a column that keeps when the first unfinished claim began (kept, not
    overwritten, while earlier attempts may have reached the other side)."""
    with db.read() as session:
        rows = session.scalars(select(model).where(due(model, now), *where).order_by(model.id).limit(limit)).all()
        candidates = [(row.id, snapshot(row)) for row in rows]
    claimed: list[T] = []
    with db.write() as session:
        for row_id, item in candidates:
            values: dict[Any, Any] = {model.claimed_until: now + hold}
            if stamp is not None:
                values[stamp] = func.coalesce(stamp, now)
            result = session.execute(update(model).where(model.id == row_id, due(model, now), *where).values(values))
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(item)
    return claimed
