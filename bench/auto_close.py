"""Benchmark of the auto-close sweep over 100,000 tickets (PostgreSQL by default).

The seed makes a quarter of the tickets Resolved (resolved over the last AUTO_CLOSE_DAYS and
an hour), a quarter Waiting on the customer (over the last WAITING_CLOSE_DAYS and an hour),
the rest open or closed. As in the steady state of an hourly job, every ticket past its
warning time was warned at an earlier run, but for the last hour's: so a sweep warns about
an hour's worth of tickets and closes the hour's worth warned two days before, among all the
others, found by the (status, resolved_at) and (status, paused_at) indexes.

Reported: the sweep (warnings, closes with their outbox rows and audit events) and a sweep
with nothing due (median of ``--runs``), the Python heap's peak during each (tracemalloc),
and on PostgreSQL the indexes the sweep's queries read.

Usage: python -m bench.auto_close [--db postgresql|sqlite|both] [--tickets 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from sqlalchemy import select, text

from bench.foundation import database_urls, median_row, seed, timed
from bot.services.auto_close import AutoClose
from bot.services.effects import Channels
from bot.services.tickets import TicketService
from bot.settings.service_levels import ServiceLevels
from db.models import Ticket
from db.session import Database, make_engine

SUPPORT = "C0SUPPORT"


def shape(db: Database, now: datetime) -> None:
    pg = db.engine.dialect.name == "postgresql"

    def back(minutes: str) -> str:
        return f"(:now - make_interval(mins => {minutes}))" if pg else f"datetime(:now, '-' || ({minutes}) || ' minutes')"

    def after(column: str, minutes: int) -> str:
        return f"({column} + make_interval(mins => {minutes}))" if pg else f"datetime({column}, '+{minutes} minutes')"

    day = 1440
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE tickets SET status = CASE id % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'waiting' "
                "WHEN 2 THEN 'resolved' ELSE 'closed' END, resolved_at = NULL, paused_at = NULL, autoclose_warned_at = NULL"
            )
        )
        conn.execute(
            text(f"UPDATE tickets SET resolved_at = {back(f'id % {7 * day + 60}')} WHERE status = 'resolved'"), {"now": now}
        )
        conn.execute(
            text(f"UPDATE tickets SET paused_at = {back(f'id % {14 * day + 60}')} WHERE status = 'waiting'"), {"now": now}
        )
        # Warned at earlier runs: all past their warning time but the last hour's.
        for column, days in (("resolved_at", 7), ("paused_at", 14)):
            conn.execute(
                text(
                    f"UPDATE tickets SET autoclose_warned_at = {after(column, (days - 2) * day)} "
                    f"WHERE {column} <= {back(str((days - 2) * day + 60))}"
                ),
                {"now": now},
            )
        conn.execute(text("ANALYZE"))


def plan(db: Database, closer: AutoClose, now: datetime) -> str:
    """The indexes the sweep's queries read (PostgreSQL's plan)."""
    found: set[str] = set()
    with db.engine.connect() as conn:
        for spell in closer.spells:
            for cond in (closer._to_warn(spell, now), closer._to_close(spell, now)):
                compiled = select(Ticket.id).where(cond).compile(db.engine, compile_kwargs={"literal_binds": True})
                lines = conn.execute(text(f"EXPLAIN {compiled}")).scalars().all()
                found |= {word for line in lines for word in line.split() if word.startswith("ix_tickets")}
    return ", ".join(sorted(found))


def run(db_name: str, url: str, tickets: int, runs: int) -> list[str]:
    seed(url, tickets)
    engine = make_engine(url)
    db = Database(engine)
    now = datetime.now(UTC)
    shape(db, now)
    levels = ServiceLevels()
    service = TicketService(
        db, [], campaigns=("Billing",), issue_types=("Bug",), channels=Channels(SUPPORT), clock=lambda: now, levels=levels
    )
    closer = AutoClose(db, service, levels, support_channel=SUPPORT, mail_from=None, clock=lambda: now)
    ms, peak, result = timed(closer.sweep)
    summary = result.summary().split(":")[1].strip()  # type: ignore[attr-defined]
    lines = [f"| {db_name} | auto-close sweep over {tickets:,} tickets: {summary} | {ms:.0f} | {peak:.0f} |"]
    quiet = [timed(closer.sweep) for _ in range(runs)]
    lines.append(median_row(db_name, "auto-close sweep, nothing due", quiet))
    if engine.dialect.name == "postgresql":
        lines.append(f"| {db_name} | (the sweep's queries read: {plan(db, closer, now)}) | | |")
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| database | job | ms | peak Python heap KiB |\n|---|---|---|---|")
    for name, url in database_urls(args.db):
        for line in run(name, url, args.tickets, args.runs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
