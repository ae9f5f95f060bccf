"""Benchmark of teams: 100 agents in 20 teams over 100,000 tickets.

For each database (SQLite, PostgreSQL), over a desk seeded with 100,000 tickets spread
over 20 teams of 5 agents (three in four assigned to a member of their team):

- **Team lists and the Home tab**, the bot running as its own process (``python -m bot``)
  against the Slack double: an agent of one team runs ``/system-tickets team:Team07``
  (and ``/system-tickets``, which shows them their teams' tickets); the double times the
  first view (``views.open``) and the full list (its ``views.update``) from sending the
  envelope. The Home tab: from sending ``app_home_opened`` until ``views.publish`` arrives.
- **What routing and automatic assignment add to filing a ticket**: the service call
  (``TicketService.create``, in this process, as the form's listener makes it) timed over
  ``--creations`` tickets each way, in alternating blocks: with no rules and assignment
  off; with 20 rules where the last one matches (a campaign rule each for 19 teams, then
  the issue type) and the team assigning round-robin; the same with least-open-tickets;
  and the last again with SMTP set, so that each filing also owes a notification mail.
  Each way's p50 is given in wall time and in this process's CPU time (which a loaded
  machine inflates less), with the SQL statements a filing sends (counted by a
  ``before_cursor_execute`` listener: the transaction's BEGIN and COMMIT and the pool's
  ping are not statements, and are not counted).

Usage: python -m bench.teams [--db sqlite|postgresql|both] [--tickets 100000] [--runs 60] [--creations 1000]
                             [--only views|filing]

With BENCH_REUSE=1 a database already seeded by this benchmark is used as it is (the
tickets filed by an earlier run removed first), so that seeding can be done apart from
the measuring run; BENCH_SQLITE_URL names the SQLite file to keep.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable

from sqlalchemy import Engine, event, insert, text

from bench.foundation import ADMIN, SUPPORT, database_urls, pct, reuse_or_seed, seed, seeded_note, start_app, start_double
from bot.app import create_app
from bot.services.directory import NewRule
from bot.services.tickets import NewTicket
from bot.settings import load_settings
from db.models import Person, Team, TeamMember
from db.session import make_engine
from slack_double import SlackDouble

TEAMS = 20
AGENTS = 100
ADMIN_USER = "U0AG100"  # agents are U0AG100 … U0AG199; U0AG1nn is in team nn % 20
MEMBER = "U0AG107"  # of Team07
TEAM = "Team07"
WARM_UP = 3
FILED = "bench-teams:"  # the source key's prefix of each ticket the benchmark files


def agent(n: int) -> str:
    return f"U0AG{100 + n}"


def seed_teams(url: str, tickets: int) -> None:
    """The tickets (``bench.foundation.seed``), then the people, the teams and who holds what."""
    seed(url, tickets)
    engine = make_engine(url)
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Person), [
            {"user_id": agent(n), "role": "admin" if n == 0 else "agent", "away": False, "created_at": now, "updated_at": now}
            for n in range(AGENTS)
        ])
        conn.execute(insert(Team), [
            {"name": f"Team{t:02d}", "notify_emails": "", "auto_assign": "off", "is_default": False, "created_at": now,
             "version": 1}
            for t in range(TEAMS)
        ])
        first = conn.execute(text("SELECT min(id) FROM teams WHERE name = 'Team00'")).scalar_one()
        conn.execute(insert(TeamMember), [
            {"team_id": first + n % TEAMS, "user_id": agent(n), "added_at": now} for n in range(AGENTS)
        ])
        # Ticket i is in team i % 20; three in four are held by one of that team's five members.
        conn.execute(text(
            "UPDATE tickets SET team_id = :first + (id % 20), assignee_id = CASE WHEN id % 4 = 0 THEN NULL "
            "ELSE 'U0AG' || (100 + (id % 20) + 20 * ((id / 20) % 5)) END"
        ), {"first": first})
        conn.execute(text(
            "INSERT INTO ticket_assignees (ticket_id, user_id, is_owner, added_at) "
            "SELECT id, assignee_id, :yes, updated_at FROM tickets WHERE assignee_id IS NOT NULL"
        ), {"yes": True})
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


def forget_filings(url: str) -> None:
    """A reused seed as it was seeded: the tickets an earlier run filed removed (their
    events, outbox rows and assignees go with them), no team's round-robin place kept."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM tickets WHERE source_key LIKE '{FILED}%'"))
        conn.execute(text("UPDATE teams SET last_assigned_id = NULL"))
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE tickets"))
    engine.dispose()


def env_for(double: SlackDouble, url: str) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": double.bot_token, "SLACK_APP_TOKEN": double.app_token, "SLACK_API_URL": double.api_url,
        "SUPPORT_SLACK_CHANNEL": SUPPORT, "ADMIN_CHANNEL": ADMIN, "SYSTEM_USERS": ADMIN_USER, "DATABASE_URL": url,
        "SCHEDULER_ENABLED": "false", "LOG_LEVEL": "WARNING",
    }


# ---- team lists and the Home tab, over the double ------------------------------------------


def views(url: str, runs: int) -> list[tuple[str, float, float, float, float]]:
    double = start_double()
    proc = start_app([sys.executable, "-m", "bot"], double, [ADMIN_USER], url)
    rows = []
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60)
        person = double.person(MEMBER)
        for command, words in (("/system-tickets", f"team:{TEAM}"), ("/system-tickets", "")):
            first, full = [], []
            for i in range(runs + WARM_UP):
                env = person.run(command, words, timeout=10)
                modal = person.modal_from(env.payload["trigger_id"], timeout=10)
                double.wait_for(lambda: modal.opened.updates, timeout=30, what="the full view")
                if i >= WARM_UP:
                    first.append(modal.opened.opened_at - env.sent_at)
                    full.append(modal.opened.updates[0] - env.sent_at)
            label = f"`{command}{' ' + words if words else ''}` (a member of {TEAM})"
            rows.append((label, pct(first, 0.5), pct(first, 0.99), pct(full, 0.5), pct(full, 0.99)))
        for user, who in ((MEMBER, f"a member of {TEAM}"), (ADMIN_USER, "an admin")):
            someone = double.person(user)
            opened = []
            for i in range(runs + WARM_UP):
                started = time.perf_counter()
                someone.open_home(timeout=30)
                if i >= WARM_UP:
                    opened.append(time.perf_counter() - started)
            rows.append((f"Home tab ({who})", float("nan"), float("nan"), pct(opened, 0.5), pct(opened, 0.99)))
    finally:
        proc.terminate()
        proc.wait(15)
        double.stop()
    return rows


# ---- what routing and assignment add to filing -----------------------------------------------


def filing(url: str, creations: int, block: int = 100) -> list[tuple[str, float, float, float, float, float]]:
    """(way, p50, p99, mean, CPU p50, statements per filing) of the creation call, times in
    ms, each way timed in alternating blocks."""
    double = start_double()  # the desk is built against it, but nothing is sent: no sender runs
    try:
        plain = create_app(load_settings(env_for(double, url)), engine=make_engine(url))
        smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": "1", "SMTP_SECURITY": "none", "SMTP_FROM": "desk@example.com"}
        mailing = create_app(load_settings(env_for(double, url) | smtp), engine=make_engine(url))
        directory = plain.deps.directory
        teams = {t.name: t for t in directory.teams()}
        campaigns = plain.deps.settings.campaigns
        campaign, issue_type = campaigns[0], plain.deps.settings.issue_types[0]
        rules = [NewRule("campaign", f"No such campaign {t:02d}", teams[f"Team{t:02d}"].id) for t in range(TEAMS) if t != 7]
        rules.append(NewRule("issue_type", issue_type, teams[TEAM].id))

        def set_up(with_rules: bool, auto: str) -> None:
            directory.set_rules(ADMIN_USER, rules if with_rules else [])
            team = directory.team(teams[TEAM].id)
            assert team is not None
            if team.auto_assign != auto:
                directory.update_team(ADMIN_USER, team.id, team.version, auto_assign=auto)

        ways: list[tuple[str, Callable[[], None], Engine, object]] = [
            ("no rules, assignment off", lambda: set_up(False, "off"), plain.engine, plain),
            ("20 rules (last matches), round-robin", lambda: set_up(True, "round_robin"), plain.engine, plain),
            ("20 rules (last matches), least open tickets", lambda: set_up(True, "least_open"), plain.engine, plain),
            ("the same, and a notification mail owed", lambda: set_up(True, "least_open"), mailing.engine, mailing),
        ]
        directory.update_team(ADMIN_USER, teams[TEAM].id, teams[TEAM].version, notify_emails=("team07@example.com",))
        times: dict[str, list[float]] = {name: [] for name, *_ in ways}
        cpu: dict[str, list[float]] = {name: [] for name, *_ in ways}
        statements = dict.fromkeys(times, 0)
        timing: list[str] = []  # the way being timed, while a creation call runs

        def count(*_: object) -> None:
            if timing:
                statements[timing[0]] += 1

        for engine in (plain.engine, mailing.engine):
            event.listen(engine, "before_cursor_execute", count)
        done = 0
        while done < creations:
            for name, prepare, _engine, desk in ways:
                prepare()
                service = desk.deps.tickets  # type: ignore[attr-defined]
                for _ in range(block):
                    new = NewTicket(reporter_id="U0SEED0001", campaign=campaign, issue_type=issue_type, priority="medium",
                                    details="Filed by the teams benchmark.", source_key=f"{FILED}{uuid.uuid4()}")
                    timing.append(name)
                    started, on_cpu = time.perf_counter(), time.process_time()
                    service.create(new)
                    times[name].append(time.perf_counter() - started)
                    cpu[name].append(time.process_time() - on_cpu)
                    timing.clear()
            done += block
        return [
            (name, pct(v, 0.5), pct(v, 0.99), statistics.fmean(v) * 1000, pct(cpu[name], 0.5), statements[name] / len(v))
            for name, v in times.items()
        ]
    finally:
        double.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--creations", type=int, default=1000)
    parser.add_argument("--only", choices=["views", "filing"], help="measure only the views, or only filing")
    args = parser.parse_args()
    print(f"{args.tickets:,} tickets, {AGENTS} agents in {TEAMS} teams; {args.runs} runs per view, "
          f"{args.creations:,} creations each way; times in ms; load average before: {os.getloadavg()[0]:.1f}\n")
    for db, url in database_urls(args.db):
        took = reuse_or_seed(url, args.tickets, seed_teams)
        if took is None:
            forget_filings(url)
        print(f"<!-- {db}: {seeded_note(took, args.tickets)} -->")
        if args.only != "filing":
            print("| database | view | first view p50 | first view p99 | full view p50 | full view p99 |\n|---|---|---|---|---|---|")
            for label, f50, f99, u50, u99 in views(url, args.runs):
                first = f"{f50:.1f} | {f99:.1f}" if f50 == f50 else "– | –"
                print(f"| {db} | {label} | {first} | {u50:.1f} | {u99:.1f} |", flush=True)
        if args.only != "views":
            print("\n| database | filing a ticket (the service call) | p50 | p99 | mean | CPU p50 | statements |\n"
                  "|---|---|---|---|---|---|---|")
            for name, p50, p99, mean, cpu50, count in filing(url, args.creations):
                print(f"| {db} | {name} | {p50:.2f} | {p99:.2f} | {mean:.2f} | {cpu50:.2f} | {count:.1f} |", flush=True)
        print(f"<!-- load average after {db}: {os.getloadavg()[0]:.1f} -->\n")


if __name__ == "__main__":
    main()
