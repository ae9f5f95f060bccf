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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from db.migrate import upgrade
from db.models import Ticket, TicketEvent
from db.session import make_engine
from slack_double import Message, Person, SlackDouble

ROOT = Path(__file__).resolve().parent.parent
SUPPORT, ADMIN, GENERAL = "C0SUPPORT", "C0ADMINS", "C0GENERAL"
PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


def seed(url: str, count: int) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    start = datetime.now(UTC) - timedelta(days=365)
    statuses = ["open", "in_progress", "resolved", "closed"]
    if not count:
        engine.dispose()
        return
    with engine.begin() as conn:
        rows = [
            {
                "campaign": "Billing", "issue_type": "Bug", "priority": ("high", "medium", "low")[i % 3],
                "status": statuses[i % 4], "details": f"seeded ticket {i} " * 5, "reporter_id": f"U0SEED{i % 50:04d}",
                "assignee_id": None if i % 4 == 0 else f"U0AGENT{i % 7}", "source": "slack_form", "source_key": f"seed:{i}",
                "card_channel": SUPPORT, "card_ts": f"1600000000.{i:06d}", "created_at": start + timedelta(minutes=i * 50),
                "updated_at": start + timedelta(minutes=i * 50), "version": 1,
            }
            for i in range(count)
        ]
        conn.execute(insert(Ticket), rows)
        ids = conn.execute(text("SELECT id FROM tickets")).scalars().all()
        conn.execute(
            insert(TicketEvent),
            [{"ticket_id": t, "actor_id": "U0SEED", "kind": "created", "to_value": "open", "created_at": start} for t in ids],
        )
    engine.dispose()


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
    """(name, URL) of each database to measure: a fresh SQLite file, the PostgreSQL one."""
    names = ("sqlite", "postgresql") if choice == "both" else (choice,)
    return [
        (db, f"sqlite:///{tempfile.mkdtemp(prefix='casedesk-bench-db-')}/bench.db" if db == "sqlite" else PG_URL)
        for db in names
    ]


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
