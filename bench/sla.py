"""Benchmark of the SLA sweep over 100,000 open tickets (PostgreSQL by default).

The seed makes every ticket open work (a third each Open, In Progress and Waiting on the
customer), filed one every 5 minutes back from now, each with its due times by priority
(first response 1/4/8 h, resolution 8/24/72 h, warnings at 75 %) and a third answered.
All the stages already due are marked as alerted, but for the newest ``--new`` tickets'
stages, so a sweep does what a 5-minute sweep does in steady state: find the few new ones
among everything by the partial indexes of the stages not alerted yet, and alert them
(outbox rows, audit events, the stages marked) in the sweep's transactions.

Reported: the sweep with ``--new`` tickets to alert and with none (median of ``--runs``),
the Python heap's peak during each (tracemalloc), and on PostgreSQL the indexes the
sweep's query reads.

Usage: python -m bench.sla [--db postgresql|sqlite|both] [--tickets 100000] [--new 100] [--runs 5]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from sqlalchemy import select, text, union

from bench.foundation import database_urls, median_row, seed, timed
from bot.jobs.escalate import BATCH
from bot.services.escalation import EscalationService
from bot.settings.service_levels import ServiceLevels
from db.models import Ticket
from db.session import Database, make_engine

ALL_STAGES = "first_warned,first_breached,resolution_warned,resolution_breached"


def shape(db: Database, now: datetime, new: int) -> None:
    """Open work with due times, the stages already due alerted but for the newest ``new`` tickets."""
    pg = db.engine.dialect.name == "postgresql"

    def back(expr: str) -> str:  # now - expr minutes
        return f"(:now - make_interval(mins => {expr}))" if pg else f"datetime(:now, '-' || ({expr}) || ' minutes')"

    def after(column: str, minutes: str) -> str:
        return f"({column} + make_interval(mins => {minutes}))" if pg else f"datetime({column}, '+' || ({minutes}) || ' minutes')"

    first = "CASE priority WHEN 'high' THEN 60 WHEN 'medium' THEN 240 ELSE 480 END"
    resolution = "CASE priority WHEN 'high' THEN 480 WHEN 'medium' THEN 1440 ELSE 4320 END"
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE tickets SET status = CASE id % 3 WHEN 0 THEN 'open' WHEN 1 THEN 'in_progress' ELSE 'waiting' END, "
                f"created_at = {back('id * 5')}, updated_at = {back('id * 5')}, resolved_at = NULL, closed_at = NULL, "
                "first_response_at = NULL"
            ),
            {"now": now},
        )
        conn.execute(text("UPDATE tickets SET paused_at = created_at WHERE status = 'waiting'"))
        conn.execute(text("UPDATE tickets SET first_response_at = created_at WHERE id % 3 = 0"))
        conn.execute(
            text(
                f"UPDATE tickets SET first_response_due_at = {after('created_at', first)}, "
                f"first_response_warn_at = {after('created_at', f'({first}) * 3 / 4')}, "
                f"resolution_due_at = {after('created_at', resolution)}, "
                f"resolution_warn_at = {after('created_at', f'({resolution}) * 3 / 4')}"
            )
        )
        # Steady state: everything due was alerted at an earlier sweep, but for the newest `new` tickets.
        newest = conn.execute(
            text("SELECT id FROM tickets WHERE first_response_due_at <= :now AND status <> 'waiting' ORDER BY created_at DESC LIMIT :n"),
            {"now": now, "n": new},
        ).scalars().all()
        conn.execute(text(f"UPDATE tickets SET sla_warned = '{ALL_STAGES}'"))
        if newest:
            conn.execute(text("UPDATE tickets SET sla_warned = '' WHERE id IN (" + ",".join(map(str, newest)) + ")"))
        conn.execute(text("ANALYZE"))


def plan(db: Database, service: EscalationService, now: datetime) -> str:
    """The indexes the sweep's query reads (PostgreSQL's plan)."""
    query = union(*(select(Ticket.id).where(cond) for cond in service._sla_conditions(now).values()))
    compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        # Literal binds double the LIKE patterns' % for the driver; the sweep binds them.
        lines = conn.execute(text(f"EXPLAIN {str(compiled).replace('%%', '%')}")).scalars().all()
    return ", ".join(sorted({word for line in lines for word in line.split() if word.startswith("ix_tickets_sla")}))


def run(db_name: str, url: str, tickets: int, new: int, runs: int) -> list[str]:
    seed(url, tickets)
    engine = make_engine(url)
    db = Database(engine)
    now = datetime.now(UTC)
    shape(db, now, new)
    service = EscalationService(
        db, hours=48, followups=3, alert_channel="C0ALERTS", clock=lambda: now, levels=ServiceLevels()
    )
    lines = []

    def sweep() -> int:
        due = service.sla_due()
        return sum(len(service.sla_alert_many(due[i : i + BATCH])) for i in range(0, len(due), BATCH))

    ms, peak, done = timed(sweep)
    lines.append(f"| {db_name} | SLA sweep over {tickets:,} open tickets, {done} alerted | {ms:.0f} | {peak:.0f} |")
    quiet = [timed(sweep) for _ in range(runs)]
    lines.append(median_row(db_name, "SLA sweep, nothing new", quiet))
    if engine.dialect.name == "postgresql":
        lines.append(f"| {db_name} | (the sweep's query reads: {plan(db, service, now)}) | | |")
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| database | job | ms | peak Python heap KiB |\n|---|---|---|---|")
    for name, url in database_urls(args.db):
        for line in run(name, url, args.tickets, args.new, args.runs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
