"""Exporting cases: every case a list's filter finds, read from the database in batches
(a server-side cursor on PostgreSQL) and written row by row as CSV or JSON lines, so any
number of cases costs the same memory. The columns are the REST API's case
(bot/services/case_json.py) without its extra fields, oldest case first.

``/system-tickets … export`` asks for the same rows as a CSV file in the agent's DM
(``ExportRequests``): the request is an outbox row holding the list's filter, and the sender
writes the file when it uploads it (``spreadsheet_csv``), newest case first, at most
``CAP`` rows. That file is meant for spreadsheets: UTF-8 with a byte-order mark (so Excel
reads accents and emoji as such), and a text cell that a spreadsheet would take as a
formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
with a leading apostrophe, which spreadsheets show as text and do not evaluate (OWASP's
advice for CSV injection). The command-line export writes the values as stored, for programs.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import tempfile
from collections.abc import Collection, Generator, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO, Any, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from bot.services.case_json import case_json
from bot.services.errors import PermissionDenied
from bot.services.outbox import PostKind, enqueue
from bot.services.queries import TicketFilter, _apply, scope_of, search
from bot.services.status import Priority, Status
from bot.services.tickets import Clock, utcnow
from db.models import Team, Ticket
from db.session import READ_ONLY, Database

BATCH = 1000
CAP = 100_000  # rows in a file sent to Slack; the command-line export has no cap
# What makes a spreadsheet read a cell as a formula (or split it into one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
IN_MEMORY = 4 * 1024 * 1024  # a file larger than this is spooled to a temporary file while written
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
    db: Database, flt: TicketFilter, *, scope: ColumnElement[bool] | None = None, limit: int | None = None,
    newest_first: bool = False,
) -> Generator[dict[str, Any], None, None]:
    """The cases ``flt`` finds (within ``scope``, None for all), oldest first (or newest),
    at most ``limit``, as the API's case without its extra fields."""
    # A server-side cursor lives in a transaction: not the read sessions' autocommit.
    with Session(db.engine.execution_options(**{READ_ONLY: True})) as session:
        found = search(flt.text, session) if flt.text and flt.text.strip() else None
        # The columns a case shows, not whole ORM objects: several times faster to read.
        query = _apply(select(*READ), flt, found).add_columns(Team.name).outerjoin(Team, Team.id == Ticket.team_id)
        if scope is not None:
            query = query.where(scope)
        query = query.order_by(Ticket.id.desc() if newest_first else Ticket.id).execution_options(stream_results=True, yield_per=BATCH)
        if limit is not None:
            query = query.limit(limit)
        for found_row in session.execute(query):
            row = case_json(cast(Ticket, found_row), found_row.name)
            del row["fields"]
            yield row


def write_csv(rows: Iterable[dict[str, Any]], out: IO[str], *, for_spreadsheets: bool = False) -> int:
    """A header line, then one line per row; how many rows were written. ``for_spreadsheets``:
    text that a spreadsheet would run as a formula is written as text (see the module)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    cell = spreadsheet_cell if for_spreadsheets else _plain_cell
    count = 0
    for row in rows:
        writer.writerow([cell(row[name]) for name in COLUMNS])
        count += 1
    return count


def _plain_cell(value: Any) -> Any:
    return "" if value is None else value


def spreadsheet_cell(value: Any) -> Any:
    """A cell as a spreadsheet should show it: text starting like a formula gets a leading
    apostrophe (shown as text, never evaluated); numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_jsonl(rows: Iterable[dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line; how many rows were written."""
    encode = json.JSONEncoder(ensure_ascii=False).encode
    count = 0
    for row in rows:
        out.write(encode(row) + "\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "jsonl": write_jsonl}


# ---- the file sent to an agent's DM -------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    rows: int
    cut: bool  # the list had more than the cap: the file holds the newest ``rows``


def filter_to_json(flt: TicketFilter) -> str:
    """A list's filter as JSON, to keep in an outbox row until the file is written."""
    body = asdict(flt)
    body["due_before"] = flt.due_before.isoformat() if flt.due_before else None
    return json.dumps(body, separators=(",", ":"))


def filter_from_json(text: str) -> TicketFilter:
    body = json.loads(text)
    return TicketFilter(
        reporter_id=body["reporter_id"], assignee_id=body["assignee_id"],
        statuses=tuple(Status(s) for s in body["statuses"]), priorities=tuple(Priority(p) for p in body["priorities"]),
        campaign=body["campaign"], issue_type=body["issue_type"], text=body["text"], unassigned=body["unassigned"],
        team_id=body["team_id"], due_before=datetime.fromisoformat(body["due_before"]) if body["due_before"] else None,
        by_due=body["by_due"], fields=tuple((k, v) for k, v in body["fields"]), account_ids=tuple(body["account_ids"]),
    )


def spreadsheet_csv(db: Database, flt: TicketFilter, viewer: str, agents: Collection[str], cap: int | None = None) -> ExportFile:
    """The cases ``flt`` finds that ``viewer`` may see, newest first, at most ``cap``, as a
    CSV file for spreadsheets. Rows are read in batches and written to a file spooled to
    disk past IN_MEMORY; PermissionDenied when ``viewer`` is no agent (any more)."""
    cap = CAP if cap is None else cap
    with db.read() as session:
        scope = scope_of(session, viewer, agents)
    rows = export_rows(db, flt, scope=scope, limit=cap + 1, newest_first=True)
    try:
        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as raw:
            out = io.TextIOWrapper(cast(IO[bytes], raw), encoding="utf-8-sig", newline="")
            count = write_csv(itertools.islice(rows, cap), out, for_spreadsheets=True)
            cut = next(rows, None) is not None  # the row past the cap is read only to know there are more
            out.flush()
            raw.seek(0)
            content = raw.read()
            out.detach()
    finally:
        rows.close()  # its read session too, when writing failed
    return ExportFile(content, count, cut)


class ExportRequests:
    """``/system-tickets … export``: the file is owed to the agent's DM through the outbox,
    written by the sender when it uploads it."""

    def __init__(self, db: Database, agents: Collection[str], clock: Clock = utcnow) -> None:
        self._db = db
        self._agents = agents
        self._clock = clock

    def request(self, viewer: str, flt: TicketFilter, words: str) -> None:
        """Owe ``viewer`` the file of the list ``flt`` (``words``: as they asked, for its
        message); PermissionDenied when they are no agent."""
        with self._db.write() as session:
            try:
                scope_of(session, viewer, self._agents)
            except PermissionDenied:
                raise PermissionDenied("export") from None
            body = json.dumps({"words": words, "filter": filter_to_json(flt)}, separators=(",", ":"))
            enqueue(session, PostKind.EXPORT, self._clock(), channel=viewer, user_id=viewer, text=body)


def export_request(text: str) -> tuple[str, TicketFilter]:
    """The words and the filter an export's outbox row holds."""
    body = json.loads(text)
    return str(body["words"]), filter_from_json(body["filter"])
