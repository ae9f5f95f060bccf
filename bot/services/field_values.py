"""The values a ticket was filed with in its issue type's extra fields: stored typed, one
row per value (a multi select: one per option chosen), with the label and kind the field
had then, so that a form changed or removed later never changes how the ticket reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import TicketField

VALUE_KEY_LIMIT = 200


@dataclass(frozen=True)
class FieldValue:
    """One field as entered: its text(s) as written and, for numbers and dates, the typed value."""

    key: str
    label: str
    kind: str
    texts: tuple[str, ...]
    number: float | None = None
    day: date | None = None

    def shown(self) -> str:
        return ", ".join(self.texts)


def value_key(text: str) -> str:
    """What ``field:value`` compares: the value case-folded, spaces collapsed."""
    return " ".join(text.split()).casefold()[:VALUE_KEY_LIMIT]


def store(session: Session, ticket_id: int, values: Sequence[FieldValue]) -> None:
    """The ticket's values, in the caller's transaction (the one that files it)."""
    for position, value in enumerate(values):
        for text in value.texts:
            session.add(TicketField(
                ticket_id=ticket_id, key=value.key, label=value.label, kind=value.kind, position=position,
                value_text=text, value_key=value_key(text), value_number=value.number, value_date=value.day,
            ))


def values_of(session: Session, ticket_id: int) -> tuple[FieldValue, ...]:
    """The ticket's values as filed (labels as they were then), in the form's order."""
    rows = session.scalars(select(TicketField).where(TicketField.ticket_id == ticket_id).order_by(TicketField.position, TicketField.id))
    merged: dict[str, FieldValue] = {}
    for row in rows:
        before = merged.get(row.key)
        texts = (*before.texts, row.value_text) if before else (row.value_text,)
        merged[row.key] = FieldValue(row.key, row.label, row.kind, texts, row.value_number, row.value_date)
    return tuple(merged.values())


def values_by_ticket(session: Session, ticket_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """A page of tickets' values as JSON (one query), by ticket id."""
    if not ticket_ids:
        return {}
    rows = session.scalars(
        select(TicketField).where(TicketField.ticket_id.in_(ticket_ids)).order_by(TicketField.ticket_id, TicketField.position, TicketField.id)
    )
    merged: dict[int, dict[str, FieldValue]] = {}
    for row in rows:
        mine = merged.setdefault(row.ticket_id, {})
        before = mine.get(row.key)
        texts = (*before.texts, row.value_text) if before else (row.value_text,)
        mine[row.key] = FieldValue(row.key, row.label, row.kind, texts, row.value_number, row.value_date)
    return {ticket_id: as_json(list(values.values())) for ticket_id, values in merged.items()}


def as_json(values: Sequence[FieldValue]) -> dict[str, Any]:
    """key → value, typed: a number, an ISO date, a list for a multi select, else text."""
    out: dict[str, Any] = {}
    for v in values:
        if v.kind == "multi_select":
            out[v.key] = list(v.texts)
        elif v.kind == "number" and v.number is not None:
            out[v.key] = int(v.number) if v.number.is_integer() and abs(v.number) < 2**53 else v.number
        else:
            out[v.key] = v.texts[0]
    return out
