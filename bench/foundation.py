"""Benchmark of the foundation slice: what a person waits for, against the Slack double.

For each database (SQLite, PostgreSQL) the bot runs as its own process (``python -m bot``)
over a database already holding 10,000 tickets; 20 people at once each run /new-ticket,
fill and submit the modal, and click Assign to Me on the card. The same run is made
against the floor (``bench/floor_app.py``: a bare Bolt app making the same Slack calls
with no database). Times are taken by the double, on its own clock:

- command → views.open received
- submission → card posted (chat.postMessage received)
- click → chat.update received
- envelope sent → ack received

Each person pauses between steps (``--think``, default 0.5–2 s) as people do; ``--think 0``
is a saturation run, where the 2 cores are shared with the load generator.

Usage: python -m bench.foundation [--db sqlite|postgresql|both] [--users 20] [--rounds 15] [--think 0.5-2.0]
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from db.migrate import upgrade
from db.models import Ticket, TicketEvent
from db.session import ensure_postgresql_database, make_engine
from slack_double import Message, Person, SlackDouble

ROOT = Path(__file__).resolve().parent.parent
SUPPORT, ADMIN, GENERAL = "C0SUPPORT", "C0ADMINS", "C0GENERAL"
# A database of the benchmarks' own (created if missing): some drop its schema to start clean.
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/casedesk_bench")


@dataclass
class Samples:
    views_open: list[float] = field(default_factory=list)
    card_posted: list[float] = field(default_factory=list)
    click_update: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rss_kib: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def fresh_schema(url: str) -> Engine:
    """An engine on ``url`` whose schema is new and migrated (PostgreSQL: public dropped
    first; SQLite: the file removed first, as BENCH_SQLITE_URL may name one seeded before)."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def bulk_load(engine: Engine, table: Table, rows: Iterable[dict[str, object]]) -> int:
    """Insert ``rows`` (each with the keys the first row has; a column left out takes its
    model's default) as fast as the database takes them; the number inserted. The table's secondary indexes (and on
    SQLite its triggers, the full-text index's) are dropped for the load and made again
    after it, in bulk: a million tickets took hours row by row through the GIN and FTS5
    indexes, minutes this way. PostgreSQL: COPY in chunks, foreign keys unchecked (the rows
    are the benchmark's own); SQLite: executemany in one transaction, the FTS index rebuilt."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    defaults = {c.name: c.default.arg for c in table.c if c.name not in first and isinstance(c.default, ScalarElementColumnDefault)}
    columns = [*first, *defaults]
    dialect = engine.dialect
    convert = [(name, table.c[name].type.bind_processor(dialect)) for name in columns]
    count = 0
    with engine.begin() as conn:
        rebuild = _set_aside(conn, table.name)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for chunk in _chunks(itertools.chain([first], rows), BULK_CHUNK):
            values = [tuple(p(row.get(n, defaults.get(n))) if p else row.get(n, defaults.get(n)) for n, p in convert) for row in chunk]
            count += len(values)
            if dialect.name == "postgresql":
                cursor.copy_expert(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN", io.StringIO(_copy_text(values)))
            else:
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", values)
        for statement in rebuild:
            cursor.execute(statement)  # as written: an index's definition may hold a %
        if dialect.name == "postgresql" and "id" in columns:
            # The ids were given: the next row the desk inserts takes the one after them.
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))")
    return count


BULK_CHUNK = 50_000


def _set_aside(conn: Connection, name: str) -> list[str]:
    """Drop what a bulk load into table ``name`` would maintain row by row; the statements
    that make it again."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
        indexes = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ),
            {"t": name},
        ).all()
        for index, _ in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{index}"')
        return [definition for _, definition in indexes]
    kept = conn.execute(
        text("SELECT type, name, sql FROM sqlite_master WHERE tbl_name = :t AND type IN ('index', 'trigger') AND sql IS NOT NULL"),
        {"t": name},
    ).all()
    for kind, item, _ in kept:
        conn.exec_driver_sql(f'DROP {kind.upper()} "{item}"')
    fts = conn.execute(
        text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE :c"), {"c": f"%content='{name}'%"}
    ).scalars().all()
    return [
        *(sql for kind, _, sql in kept if kind == "index"),
        *(f"INSERT INTO {index}({index}) VALUES ('rebuild')" for index in fts),
        *(sql for kind, _, sql in kept if kind == "trigger"),
    ]


def _chunks(rows: Iterator[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(values: list[tuple[object, ...]]) -> str:
    """Rows in COPY's text format: tab-separated, \\N for NULL, escapes for the separators."""
    def field(value: object) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        return str(value).translate(_COPY_ESCAPES)

    return "".join("\t".join(map(field, row)) + "\n" for row in values)


def seed(url: str, count: int) -> None:
    """A fresh schema holding ``count`` tickets, a quarter in each status, with their
    created events, then ANALYZE (as autovacuum would have on a database in use)."""
    engine = fresh_schema(url)
    if not count:
        engine.dispose()
        return
    start = datetime.now(UTC) - timedelta(days=365)
    statuses = ["open", "in_progress", "resolved", "closed"]
    tickets = (
        {
            "id": i + 1, "campaign": "Billing", "issue_type": "Bug", "priority": ("high", "medium", "low")[i % 3],
            "status": statuses[i % 4], "details": f"seeded ticket {i} " * 5, "reporter_id": f"U0SEED{i % 50:04d}",
            "assignee_id": None if i % 4 == 0 else f"U0AGENT{i % 7}", "source": "slack_form", "source_key": f"seed:{i}",
            "card_channel": SUPPORT, "card_ts": f"1600000000.{i:06d}", "created_at": start + timedelta(minutes=i * 50),
            "updated_at": start + timedelta(minutes=i * 50), "version": 1,
        }
        for i in range(count)
    )
    bulk_load(engine, Ticket.__table__, tickets)  # type: ignore[arg-type]
    events = (
        {"ticket_id": i + 1, "actor_id": "U0SEED", "kind": "created", "to_value": "open", "created_at": start}
        for i in range(count)
    )
    bulk_load(engine, TicketEvent.__table__, events)  # type: ignore[arg-type]
    analyze(engine)
    engine.dispose()


def analyze(engine: Engine) -> None:
    """Fresh statistics (PostgreSQL: and the visibility map, for index-only scans)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")



def timed(work: Callable[[], object]) -> tuple[float, float, object]:
    """(ms, peak KiB of Python heap, result) of one call of ``work``."""
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    elapsed = (time.perf_counter() - started) * 1000
    peak = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    return elapsed, peak, result


def median_row(db_name: str, label: str, samples: list[tuple[float, float, object]]) -> str:
    """A report row: the median ms of ``samples`` (from :func:`timed`) and their highest peak."""
    return (f"| {db_name} | {label} (median of {len(samples)}) | {statistics.median(s[0] for s in samples):.0f} "
            f"| {max(s[1] for s in samples):.0f} |")

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


class CardWatch:
    """Finds each person's card by a token in its details, without scanning the channel."""

    def __init__(self, double: SlackDouble) -> None:
        self._lock = threading.Lock()
        self._cards: dict[str, Message] = {}
        self._events: dict[str, threading.Event] = {}
        double.workspace.message_hooks.append(self._on_message)

    def expect(self, token: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(token, threading.Event())

    def _on_message(self, msg: Message) -> None:
        if msg.channel != SUPPORT or not msg.blocks:
            return
        for block in msg.blocks:
            body = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
            if body.startswith("bench "):
                token = body.split()[1]
                with self._lock:
                    self._cards[token] = msg
                    event = self._events.setdefault(token, threading.Event())
                event.set()
                return

    def wait(self, token: str, timeout: float) -> Message:
        if not self.expect(token).wait(timeout):
            raise TimeoutError("no card")
        with self._lock:
            return self._cards[token]


def person_session(
    double: SlackDouble, watch: CardWatch, person: Person, rounds: int, out: Samples, think: tuple[float, float]
) -> None:
    rng = random.Random(person.id)

    def pause() -> None:
        # A person reads the modal, types, looks at the card: seconds, not microseconds.
        if think[1] > 0:
            time.sleep(rng.uniform(*think))

    for _ in range(rounds):
        try:
            pause()
            token = uuid.uuid4().hex
            env = person.run("/new-ticket", timeout=10)
            modal = person.modal_from(env.payload["trigger_id"], timeout=10)
            opened_after = modal.opened.opened_at - env.sent_at
            modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High")
            modal.type("Details", f"bench {token}")
            pause()
            payload = modal.submission_payload()
            sub = double.socket.send("interactive", payload)
            card = watch.wait(token, 15)
            double.socket.wait_ack(sub, 10)
            card_after = card.posted_at - sub.sent_at
            edit = watch.expect(token)
            edit.clear()
            pause()
            click = double.socket.send("interactive", person.click_payload(card, "Assign to Me"))
            if not edit.wait(15):
                raise TimeoutError("no chat.update")
            edited = next(t for t in card.edits if t >= click.sent_at)
            double.socket.wait_ack(click, 10)
            with out.lock:
                out.views_open.append(opened_after)
                out.card_posted.append(card_after)
                out.click_update.append(edited - click.sent_at)
                out.acks.extend(e.ack_latency or 0.0 for e in (env, sub, click))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop
            with out.lock:
                out.errors.append(f"{type(exc).__name__}: {exc}")


def start_double() -> SlackDouble:
    double = SlackDouble().start()
    for channel, name in ((GENERAL, "general"), (SUPPORT, "support"), (ADMIN, "admins")):
        double.channel(channel, name)
    return double


def start_app(
    command: list[str],
    double: SlackDouble,
    agents: list[str],
    db_url: str | None,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    """The app under test as its own process, configured for the double."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": double.bot_token,
        "SLACK_APP_TOKEN": double.app_token,
        "SLACK_API_URL": double.api_url,
        "SUPPORT_SLACK_CHANNEL": SUPPORT,
        "ADMIN_CHANNEL": ADMIN,
        "SYSTEM_USERS": ",".join(agents),
        "LOG_LEVEL": "WARNING",
    }
    if db_url:
        env["DATABASE_URL"] = db_url
    env.update(extra_env or {})
    cwd = tempfile.mkdtemp(prefix="casedesk-bench-")
    # Its log goes to a file: a pipe nobody reads fills up and stops the app at its next log line.
    log = open(Path(cwd) / "app.log", "w")  # noqa: SIM115 - kept open for the app's lifetime
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log, text=True)


def database_urls(choice: str) -> list[tuple[str, str]]:
    """(name, URL) of each database to measure: a fresh SQLite file (or BENCH_SQLITE_URL's),
    the PostgreSQL one."""
    names = ("sqlite", "postgresql") if choice == "both" else (choice,)
    sqlite = os.environ.get("BENCH_SQLITE_URL") or f"sqlite:///{tempfile.mkdtemp(prefix='casedesk-bench-db-')}/bench.db"
    if "postgresql" in names:
        ensure_postgresql_database(PG_URL)
    return [(db, sqlite if db == "sqlite" else PG_URL) for db in names]


def seeded_note(took: float | None, count: int) -> str:
    return f"reused the {count:,} tickets already seeded" if took is None else f"seeded {count:,} tickets in {took:.1f} s"


def reuse_or_seed(url: str, count: int, seeder: Callable[[str, int], object], prefix: str = "seed:") -> float | None:
    """Seconds ``seeder`` took to seed ``url`` with ``count`` tickets; None when BENCH_REUSE
    is set and the database already holds ``count`` tickets of that seeder (by their
    source keys' ``prefix``), so that several benchmarks share one seed of a million."""
    if os.environ.get("BENCH_REUSE"):
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                held = conn.execute(text("SELECT count(*) FROM tickets WHERE source_key LIKE :p"), {"p": f"{prefix}%"}).scalar()
        except Exception:  # noqa: BLE001 - no schema yet: seed it
            held = None
        finally:
            engine.dispose()
        if held == count:
            return None
    started = time.perf_counter()
    seeder(url, count)
    return time.perf_counter() - started


def run_one(
    command: list[str],
    db_url: str | None,
    users: int,
    rounds: int,
    think: tuple[float, float],
    extra_env: dict[str, str] | None = None,
) -> Samples:
    double = start_double()
    people = [double.person(f"U0BENCH{i:03d}", f"user{i}") for i in range(users)]
    proc = start_app(command, double, [p.id for p in people], db_url, extra_env)
    samples = Samples()
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60, what="the app to connect")
        watch = CardWatch(double)
        person_session(double, watch, people[0], 2, Samples(), (0.0, 0.0))  # warm-up, not counted
        threads = [
            threading.Thread(target=person_session, args=(double, watch, p, rounds, samples, think)) for p in people
        ]
        cpu_before, started = cpu_seconds(proc.pid), time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        samples.wall_s = time.perf_counter() - started
        samples.cpu_s = cpu_seconds(proc.pid) - cpu_before
        samples.rss_kib = rss_kib(proc.pid)
    finally:
        stop_app(proc, double)
    return samples


def stop_app(proc: subprocess.Popen[str], double: SlackDouble) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    double.stop()


def report(name: str, s: Samples, floor: Samples) -> str:
    def row(label: str, values: list[float], base: list[float], q: float) -> str:
        v, b = pct(values, q), pct(base, q)
        return f"| {name} | {label} | {v:.1f} | {b:.1f} | {v / b if b else float('nan'):.2f}× |"

    lines = [
        row("command → views.open, p99", s.views_open, floor.views_open, 0.99),
        row("command → views.open, p50", s.views_open, floor.views_open, 0.50),
        row("submission → card posted, p99", s.card_posted, floor.card_posted, 0.99),
        row("submission → card posted, p50", s.card_posted, floor.card_posted, 0.50),
        row("click → chat.update, p99", s.click_update, floor.click_update, 0.99),
        row("click → chat.update, p50", s.click_update, floor.click_update, 0.50),
        row("ack, median", s.acks, floor.acks, 0.50),
        row("ack, p99", s.acks, floor.acks, 0.99),
    ]
    lines.append(
        f"| {name} | samples / errors | {len(s.views_open)} / {len(s.errors)} | {len(floor.views_open)} / {len(floor.errors)} | |"
    )
    per = lambda x: x.cpu_s * 1000 / max(1, len(x.views_open))  # noqa: E731
    lines.append(f"| {name} | app CPU per ticket round (command, submit, click) | {per(s):.1f} | {per(floor):.1f} | {per(s) / per(floor):.2f}× |")
    lines.append(f"| {name} | app CPU share of the run | {s.cpu_s / s.wall_s:.0%} of a core | {floor.cpu_s / floor.wall_s:.0%} of a core | |")
    lines.append(f"| {name} | resident memory after the run | {s.rss_kib / 1024:.0f} MiB | {floor.rss_kib / 1024:.0f} MiB | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=10_000)
    parser.add_argument(
        "--think", default="0.5-2.0", help="seconds a person pauses between steps, as MIN-MAX; 0 for a saturation run"
    )
    args = parser.parse_args()
    low, _, high = args.think.partition("-")
    think = (float(low), float(high or low))

    pacing = f"pausing {args.think} s between steps" if think[1] else "no pauses (saturation)"
    print(f"{args.users} people × {args.rounds} rounds, {pacing}, {args.seed:,} tickets already stored; times in ms\n")
    print("| database | measure | Casedesk | floor | ratio |\n|---|---|---|---|---|")
    for db, url in database_urls(args.db):
        started = time.perf_counter()
        seed(url, args.seed)
        seeded = time.perf_counter() - started
        bot = run_one([sys.executable, "-m", "bot"], url, args.users, args.rounds, think)
        floor = run_one([sys.executable, "-m", "bench.floor_app"], None, args.users, args.rounds, think)
        print(report(db, bot, floor))
        for err in (bot.errors + floor.errors)[:5]:
            print(f"<!-- error: {err} -->")
        print(f"<!-- seeded {args.seed:,} tickets in {seeded:.1f}s -->", flush=True)


if __name__ == "__main__":
    main()
