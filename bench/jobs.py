"""Benchmark of the scheduled jobs' queries over 100,000 tickets (PostgreSQL by default).

The seed spreads 100,000 tickets over the past 347 days (one every 5 minutes, a quarter
in each status); open ones wait for a response since they opened, some have follow-ups
and keywords. All but ``--new`` of the due cases are marked as already alerted, so a
sweep does what a 5-minute sweep does in steady state: find the few new ones among
everything, and escalate them.

Reported: the escalate sweep with ``--new`` new escalations and with none; the weekly
summary (this week and the week before, as the job computes them, plus rendering);
the Python heap's peak during each (tracemalloc), to show memory does not grow with
the data.

Usage: python -m bench.jobs [--db postgresql|sqlite|both] [--tickets 100000] [--new 100] [--runs 5]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.foundation import database_urls, median_row, seed, timed
from bot.jobs.escalate import BATCH
from bot.jobs.weekly import week_before
from bot.services.escalation import EscalationService
from bot.services.reports import ReportQueries
from bot.views.reports import weekly_summary
from db.session import Database, make_engine

TZ = ZoneInfo("America/New_York")


def shape(db: Database, now: datetime, new: int) -> None:
    """Dates, responses and escalation state as a desk in use has them."""
    pg = db.engine.dialect.name == "postgresql"
    minutes = "(:now - make_interval(mins => id * 5))" if pg else "datetime(:now, '-' || (id * 5) || ' minutes')"
    with db.engine.begin() as conn:
        conn.execute(text(f"UPDATE tickets SET created_at = {minutes}, updated_at = {minutes}"), {"now": now})
        conn.execute(text("UPDATE tickets SET waiting_since = created_at, followups = id % 5, "
                          "keyword = CASE WHEN id % 97 = 0 THEN 'urgent' END WHERE status IN ('open', 'in_progress')"))
        conn.execute(text("UPDATE tickets SET resolved_at = updated_at, resolved_by = assignee_id WHERE status = 'resolved'"))
        conn.execute(text("UPDATE tickets SET closed_at = updated_at WHERE status = 'closed'"))
        conn.execute(text("UPDATE tickets SET first_response_at = created_at WHERE id % 3 = 0"))
        # Everything due is already alerted, but for the newest `new` cases.
        conn.execute(text("UPDATE tickets SET escalated_reasons = 'no_response,followups,keyword' "
                          "WHERE status IN ('open', 'in_progress') AND id > :keep"), {"keep": new * 4})
        conn.execute(text("ANALYZE" if pg else "ANALYZE"))


def run(db_name: str, url: str, tickets: int, new: int, runs: int) -> list[str]:
    seed(url, tickets)
    engine = make_engine(url)
    db = Database(engine)
    now = datetime.now(UTC)
    shape(db, now, new)
    service = EscalationService(db, hours=48, followups=3, alert_channel="C0ALERTS", clock=lambda: now)
    reports = ReportQueries(db)
    lines = []

    def sweep() -> int:
        due = service.due()
        return sum(len(service.escalate_many(due[i : i + BATCH])) for i in range(0, len(due), BATCH))

    ms, peak, done = timed(sweep)
    lines.append(f"| {db_name} | escalate sweep, {done} new escalations | {ms:.0f} | {peak:.0f} |")
    quiet = [timed(sweep) for _ in range(runs)]
    lines.append(median_row(db_name, "escalate sweep, nothing new", quiet))

    def summary() -> int:
        end = now
        start = week_before(end, TZ)
        week = reports.week(start, end)
        prior = reports.week(week_before(start, TZ), start)
        return len(weekly_summary(week, prior, TZ, "https://example.slack.com/"))

    weekly = [timed(summary) for _ in range(runs)]
    lines.append(median_row(db_name, "weekly summary", weekly))
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
