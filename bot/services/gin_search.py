"""PostgreSQL: the newest tickets a full-text query matches, read window by window.

A search scores the newest ``limit`` tickets its words match. Neither plan PostgreSQL has
for "the newest matches" costs little for every word: walking the primary key newest first
and testing each ticket reads 1 / share of the tickets per match (100,000 tickets for a
word in 1 % of them), and the GIN index reads every match, old ones too, each from its own
heap page (9,600 pages for that word at a million tickets), before sorting them by number.

So the search first counts its matches among the newest ``SAMPLE`` tickets (one short
walk), and from their share guesses how far back its ``limit`` matches reach. It then
reads the matches of the newest tickets in windows of ticket numbers: within a window
PostgreSQL ANDs the GIN index's matches with the range of the primary key and fetches only
that range's matches (about ``limit`` heap pages), or, for a common word, walks the short
range. Each further window (reaching ``GROWTH`` times as far back; the last reaches the
first ticket) runs only when the windows before it found fewer than ``limit``, so the result is exactly
the newest ``limit`` matches whatever the guess: a wrong one costs time, never tickets.

The windows' bounds are numbers in the statement, so the planner sees how many tickets
each holds; each window is materialised without an order or a limit, so its cost is its
range's, whatever the planner estimates of the words (statistics that do not hold a word
put it at 0.5 %, and with an ORDER BY and LIMIT the planner then walked a million tickets).
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, Subquery, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from db.models import Ticket

# The newest tickets whose matches guess the words' share.
SAMPLE = 2000
# The first window holds this many times the tickets the share guesses (a share drawn from
# 20 matches in the sample is within ±45 % of the true one 19 times in 20).
MARGIN = 1.5
# Each further window reaches this many times as far back as the one before it: the second
# costs what the first did, when the first fell short.
GROWTH = 2
# At most this many windows; the last reaches the first ticket.
MAX_WINDOWS = 4
# The generated, weighted tsvector (title A, details B) with its GIN index (migration 0015).
VECTOR: ColumnElement[Any] = literal_column("tickets.search_vector")


def newest_matches(session: Session, query: ColumnElement[Any], limit: int) -> Subquery:
    """The newest ``limit`` tickets ``query`` (a tsquery) matches, as (id, vector) rows."""
    recent = select(Ticket.id.label("id"), VECTOR.label("vector")).order_by(Ticket.id.desc()).limit(SAMPLE).subquery("recent")
    newest, hits = session.execute(
        select(func.max(recent.c.id), func.count().filter(recent.c.vector.op("@@")(query))).select_from(recent)
    ).one()
    windows: list[CTE] = []
    for number, (low, high) in enumerate(window_ranges(newest or 0, hits, limit)):
        matching = select(Ticket.id.label("id"), VECTOR.label("vector")).where(VECTOR.op("@@")(query))
        if low is not None:
            matching = matching.where(Ticket.id > low)
        if high is not None:
            matching = matching.where(Ticket.id <= high)
        if windows:
            # A condition on no column of the ticket: tested once, before the window is read.
            matching = matching.where(_count(windows) < limit)
        windows.append(matching.cte(f"window{number}").prefix_with("MATERIALIZED"))
    found = union_all(*(select(w.c.id, w.c.vector) for w in windows)).subquery("windows")
    return select(found.c.id, found.c.vector).order_by(found.c.id.desc()).limit(limit).subquery("matched")


def window_ranges(newest: int, hits: int, limit: int) -> list[tuple[int | None, int | None]]:
    """(above, up to) the ticket numbers of each window, newest first (None: no bound), for
    ``hits`` matches among the ``SAMPLE`` tickets up to ``newest``: the first guessed to hold
    ``limit`` matches with ``MARGIN`` to spare, each next reaching ``GROWTH`` times as far
    back, the last down to the first ticket. None found in the sample counts as half of one."""
    reach = math.ceil(limit * SAMPLE / max(hits, 0.5) * MARGIN)
    ranges: list[tuple[int | None, int | None]] = []
    high: int | None = None
    while newest - reach > 0 and len(ranges) < MAX_WINDOWS - 1:
        ranges.append((newest - reach, high))
        high, reach = newest - reach, reach * GROWTH
    ranges.append((None, high))
    return ranges


def _count(windows: list[CTE]) -> ColumnElement[int]:
    ids: Select[Any] = union_all(*(select(w.c.id) for w in windows)) if len(windows) > 1 else select(windows[0].c.id)  # type: ignore[assignment]
    return select(func.count()).select_from(ids.subquery()).scalar_subquery()
