"""Durations and medians computed in SQL, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, cast, func, select
from sqlalchemy.orm import Session


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)  # type: ignore[return-value]
    return cast((func.julianday(later) - func.julianday(earlier)) * 86400.0, Float)


def median(session: Session, durations: Any) -> timedelta | None:
    """Median of a one-column subquery of seconds, by ORDER BY/OFFSET (portable SQL)."""
    sub = durations.subquery()
    column = sub.c[0]
    count = session.scalar(select(func.count()).select_from(sub)) or 0
    if count == 0:
        return None
    middle = list(session.scalars(select(column).order_by(column).offset((count - 1) // 2).limit(2 - count % 2)))
    # Whole seconds: SQLite's julianday arithmetic is off by microseconds.
    return timedelta(seconds=round(sum(float(v) for v in middle) / len(middle)))
