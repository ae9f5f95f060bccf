"""Exporting cases: every case a list's filter finds, read from the database in batches
(a server-side cursor on PostgreSQL) and written row by row as CSV or JSON lines, so any
number of cases costs the same memory. The columns are the REST API's case
(bot/services/case_json.py) without its extra fields, oldest case first."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.services.case_json import case_json
from bot.services.queries import TicketFilter, _apply, search
from db.models import Team, Ticket
from db.session import READ_ONLY, Database

BATCH = 1000
COLUMNS = [name for name in case_json(Ticket(id=0)) if name != "fields"]
# What case_json reads of a ticket.
READ = [
    getattr(Ticket, name)
    for name in (
        "id", "title", "details", "status", "priority", "issue_type", "campaign", "source", "reporter_id", "reporter_name",
        "assignee_id", "team_id", "external_id", "created_at", "updated_at", "resolved_at", "closed_at",
        "first_response_due_at", "resolution_due_at",
    )
]


def export_rows(
    db: Database, flt: TicketFilter, *, scope: ColumnElement[bool] | None = None, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """The cases ``flt`` finds (within ``scope``, None for all), oldest first, at most
    ``limit``, as the API's case without its extra fields."""
    # A server-side cursor lives in a transaction: not the read sessions' autocommit.
    with Session(db.engine.execution_options(**{READ_ONLY: True})) as session:
        found = search(flt.text, session.get_bind().dialect.name) if flt.text and flt.text.strip() else None
        # The columns a case shows, not whole ORM objects: several times faster to read.
        query = _apply(select(*READ), flt, found).add_columns(Team.name).outerjoin(Team, Team.id == Ticket.team_id)
        if scope is not None:
            query = query.where(scope)
        query = query.order_by(Ticket.id).execution_options(stream_results=True, yield_per=BATCH)
        if limit is not None:
            query = query.limit(limit)
        for found_row in session.execute(query):
            row = case_json(cast(Ticket, found_row), found_row.name)
            del row["fields"]
            yield row


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """A header line, then one line per row; how many rows were written."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(["" if row[name] is None else row[name] for name in COLUMNS])
        count += 1
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line; how many rows were written."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    count = 0
    for row in rows:
        out.write(encode(row) + "\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl}
