"""Benchmark of the weekly summary with its chart, over a year of 100,000 tickets
(PostgreSQL by default).

The seed files one ticket every 5 minutes back from now, in five teams and every
priority, each with its due times, a first response (most in time, some late), and all
but the newest resolved or closed (some late); business seconds stored as the desk
stores them; a rating for every fourth resolved one. Measured in a fresh interpreter, as
a bot meets its weekly run:

- the job: the week's figures and the week before's (counts, medians, SLA attainment by
  priority and team, satisfaction), the chart's counts, the Block Kit and the text, and
  the two outbox rows written;
- the chart, as the sender sends it: its counts read again and the PNG drawn, the first
  of the process (matplotlib imported then) and a later one;
- the two together, and the resident memory (RSS) the chart added to the process.

Usage: python -m bench.weekly [--db postgresql|sqlite|both] [--tickets 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from bench.foundation import database_urls, seed
from db.models import Team
from db.session import Database, make_engine

TZ = ZoneInfo("America/New_York")
TEAMS = 5
MIB = 1024 * 1024
LATER = 5  # later charts drawn; the median reported


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def shape(url: str, now: datetime) -> None:
    """A year of tickets worked: see the module's docstring."""
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"

    def back(expr: str) -> str:  # now - expr minutes
        return f"(:now - make_interval(mins => {expr}))" if pg else f"datetime(:now, '-' || ({expr}) || ' minutes')"

    def after(column: str, minutes: str) -> str:
        return f"({column} + make_interval(mins => {minutes}))" if pg else f"datetime({column}, '+' || ({minutes}) || ' minutes')"

    first = "CASE priority WHEN 'high' THEN 60 WHEN 'medium' THEN 240 ELSE 480 END"
    resolution = "CASE priority WHEN 'high' THEN 480 WHEN 'medium' THEN 1440 ELSE 4320 END"
    with engine.begin() as conn:
        conn.execute(
            insert(Team),
            [{"name": f"Team {i}", "is_default": False, "auto_assign": "off", "created_at": now, "version": 1} for i in range(TEAMS)],
        )
        team_ids = conn.execute(text("SELECT id FROM teams WHERE name LIKE 'Team %' ORDER BY id")).scalars().all()
        conn.execute(
            text(
                f"UPDATE tickets SET created_at = {back('id * 5')}, updated_at = {back('id * 5')}, "
                f"team_id = :first_team + id % {TEAMS}, "
                "status = CASE WHEN id < 300 THEN 'open' WHEN id % 10 = 0 THEN 'closed' ELSE 'resolved' END"
            ),
            {"now": now, "first_team": team_ids[0]},
        )
        conn.execute(
            text(
                f"UPDATE tickets SET first_response_due_at = {after('created_at', first)}, "
                f"first_response_warn_at = {after('created_at', f'({first}) * 3 / 4')}, "
                f"resolution_due_at = {after('created_at', resolution)}, "
                f"resolution_warn_at = {after('created_at', f'({resolution}) * 3 / 4')}, "
                f"first_response_at = {after('created_at', '(id % 7) * 20')}, first_response_seconds = (id % 7) * 1200"
            )
        )
        conn.execute(
            text(
                f"UPDATE tickets SET resolved_at = {after('created_at', '(id % 11) * 60')}, resolution_seconds = (id % 11) * 3600, "
                "resolved_by = assignee_id WHERE status = 'resolved'"
            )
        )
        conn.execute(text(f"UPDATE tickets SET closed_at = {after('created_at', '(id % 13) * 60')} WHERE status = 'closed'"))
        conn.execute(
            text(
                "INSERT INTO satisfaction_ratings (ticket_id, requester, channel, team_id, priority, score, asked_at, expires_at, rated_at) "
                f"SELECT id, reporter_id, 'slack', team_id, priority, 1 + id % 5, resolved_at, {after('resolved_at', '10080')}, "
                f"{after('resolved_at', '30')} FROM tickets WHERE status = 'resolved' AND id % 4 = 0"
            )
        )
        if pg:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def child(url: str) -> dict[str, float]:
    """In a fresh interpreter: the job's work, then the chart's, timed."""
    from bot.jobs.weekly import week_before
    from bot.services.outbox import Outbox
    from bot.services.reports import ReportQueries
    from bot.views.charts import render_weekly_chart
    from bot.views.reports import chart_data, weekly_summary, weekly_summary_text

    db = Database(make_engine(url))
    reports, outbox = ReportQueries(db), Outbox(db, timedelta(seconds=60))
    local = datetime.now(TZ).replace(hour=9, minute=0, second=0, microsecond=0)
    end = (local - timedelta(days=local.weekday())).astimezone(UTC)  # this week's Monday 09:00
    began, cpu = time.perf_counter(), time.process_time()
    start = week_before(end, TZ)
    week = reports.week(start, end)
    prior = reports.week(week_before(start, TZ), start)
    chart = chart_data(reports.chart(end, TZ))
    outbox.announce("C0SUPPORT", weekly_summary_text(week), end, blocks=weekly_summary(week, prior, TZ, None, chart), chart_until=end)
    job, job_cpu = time.perf_counter() - began, time.process_time() - cpu

    before = rss()
    began, cpu = time.perf_counter(), time.process_time()
    drawn = render_weekly_chart(chart_data(reports.chart(end, TZ)))
    first_chart, first_cpu = time.perf_counter() - began, time.process_time() - cpu
    grown = rss() - before
    later: list[tuple[float, float]] = []
    for _ in range(LATER):
        began, cpu = time.perf_counter(), time.process_time()
        render_weekly_chart(chart_data(reports.chart(end, TZ)))
        later.append((time.perf_counter() - began, time.process_time() - cpu))
    later_chart, later_cpu = sorted(later)[LATER // 2]
    assert week.service is not None
    return {
        "job_ms": job * 1000,
        "job_cpu_ms": job_cpu * 1000,
        "first_chart_ms": first_chart * 1000,
        "first_chart_cpu_ms": first_cpu * 1000,
        "later_chart_ms": later_chart * 1000,
        "later_chart_cpu_ms": later_cpu * 1000,
        "rss_chart_mib": grown / MIB,
        "week_new": week.new,
        "decided": week.service.overall.first_response.total + week.service.overall.resolution.total,
        "ratings": week.service.satisfaction.count,
        "png_kib": len(drawn.png) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return
    print("Wall-clock ms (CPU ms of the process in brackets: the machine's load inflates the first)\n")
    print("| database | job: 2 weeks' figures, chart counts, blocks, rows | first chart (matplotlib imported) "
          "| later chart (median of 5) | job + first chart | RSS the first chart added |")
    print("|---|---|---|---|---|---|")
    for name, url in database_urls(args.db):
        seed(url, args.tickets)
        shape(url, datetime.now(UTC))
        out = subprocess.run([sys.executable, "-m", "bench.weekly", "--child", url], capture_output=True, text=True, check=True)
        f = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {name} ({args.tickets:,} tickets; the week: {f['week_new']:.0f} new, {f['decided']:.0f} targets decided, "
            f"{f['ratings']:.0f} ratings) | {f['job_ms']:.0f} ({f['job_cpu_ms']:.0f}) "
            f"| {f['first_chart_ms']:.0f} ({f['first_chart_cpu_ms']:.0f}) | {f['later_chart_ms']:.0f} ({f['later_chart_cpu_ms']:.0f}) "
            f"| {f['job_ms'] + f['first_chart_ms']:.0f} ({f['job_cpu_ms'] + f['first_chart_cpu_ms']:.0f}) | {f['rss_chart_mib']:.1f} MiB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
