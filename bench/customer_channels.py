"""Benchmark of customers writing in Slack Connect channels, against the Slack double.

Customers of ``--orgs`` organisations, each in its own shared channel, write top-level
messages at ``--rate`` a second in all (``--messages`` of them); each opens a case, whose
card goes to the support channel and whose acknowledgment goes to the customer's thread.
The bot runs as its own process (``python -m bot``); the floor (``bench/floor_app.py``)
is a bare Bolt app making the same two posts with no database. Measured on the double's
clock:

- message sent → acknowledgment posted in the customer's thread (p50, p99), bot and floor;
- envelope sent → ack received (the message stored first);
- ``team.info`` calls per organisation over the run (cached: at most one an hour);
- the same run with ``--configured`` (default 1,000) customer channels in the database
  instead of only the ``--orgs`` that write: what a large list of channels costs intake;
  and, in this process, the lookup intake makes per message (a customer channel by its id)
  timed 2,000 times over each of those databases.

Usage: python -m bench.customer_channels [--db sqlite|postgresql|both] [--orgs 10] [--messages 40] [--rate 0.8]
       [--configured 1000]   (PostgreSQL: BENCH_DATABASE_URL, a database of the benchmark's own)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import insert

from bench.foundation import cpu_seconds, database_urls, fresh_schema, pct, start_app, start_double, stop_app
from bot.services.customer_channels import CustomerChannels
from db.models import Account, CustomerChannel
from db.session import Database, make_engine
from slack_double import BOT_USER_ID, SlackDouble
from slack_double.events import event_callback, message_event
from slack_double.socket_mode import Envelope
from slack_double.workspace import Message

AGENT = "U0AGENTBEN"


@dataclass
class Run:
    acked_in_thread: list[float] = field(default_factory=list)  # message sent → acknowledgment posted, s
    envelope_acks: list[float] = field(default_factory=list)
    team_info: Counter[str] = field(default_factory=Counter)
    missing: int = 0
    cpu_s: float = 0.0
    lookup_ms: list[float] = field(default_factory=list)  # CustomerChannels.get, in this process


def org(i: int) -> tuple[str, str, str]:
    """(team id, channel id, customer id) of the i-th organisation."""
    return f"T0ORG{i:05d}", f"C0CUS{i:05d}", f"U0CUS{i:05d}"


def time_lookups(url: str, configured: int, times: int = 2000) -> list[float]:
    """ms of each of ``times`` lookups of a customer channel by its id, as intake makes them."""
    engine = make_engine(url)
    customers = CustomerChannels(Database(engine), WebClient(), is_admin=lambda _: False)
    try:
        out = []
        for n in range(times):
            channel = org(n * 7919 % configured)[1]
            started = time.perf_counter()
            customers.get(channel)
            out.append((time.perf_counter() - started) * 1000)
        return out
    finally:
        engine.dispose()


def seed_channels(url: str, configured: int) -> None:
    """A fresh schema holding ``configured`` customer channels, each with its account."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)  # each run its own file
    engine = fresh_schema(url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Account), [{"id": org(i)[0]} for i in range(configured)])
            conn.execute(insert(CustomerChannel), [
                {"channel": org(i)[1], "account_id": org(i)[0], "marked_by": "bench", "marked_at": now} for i in range(configured)
            ])
    finally:
        engine.dispose()


class ThreadWatch:
    """The time the bot's first post in each watched thread landed, on the double's clock."""

    def __init__(self, double: SlackDouble) -> None:
        self._lock = threading.Lock()
        self._first: dict[tuple[str, str], float] = {}
        double.workspace.message_hooks.append(self._on_message)

    def _on_message(self, msg: Message) -> None:
        if msg.user == BOT_USER_ID and msg.thread_ts and msg.thread_ts != msg.ts:
            with self._lock:
                self._first.setdefault((msg.channel, msg.thread_ts), msg.posted_at)

    def landed(self, channel: str, ts: str) -> float | None:
        with self._lock:
            return self._first.get((channel, ts))


def run(command: list[str], url: str | None, orgs: int, messages: int, rate: float, configured: int) -> Run:
    out = Run()
    if url:
        seed_channels(url, max(configured, orgs))
        out.lookup_ms = time_lookups(url, max(configured, orgs))
    double = start_double()
    for i in range(orgs):
        team, channel, customer = org(i)
        double.channel(channel, f"customer-{i}")
        double.organisation(team, f"Customer {i}")
        double.share_channel(channel, team, announce=False)
        double.external_person(customer, team, f"customer{i}")
    double.person(AGENT, "agent")
    # Each message its own case, as from different people (a burst from one joins one case).
    proc = start_app(command, double, [AGENT], url, {"INTAKE_GROUP_MINUTES": "0"})
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60, what="the app to connect")
        time.sleep(1.0)
        watch = ThreadWatch(double)
        sent: list[tuple[Message, Envelope]] = []
        cpu0, started = cpu_seconds(proc.pid), time.perf_counter()
        ws = double.workspace
        for n in range(messages):
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            _, channel, customer = org(n % orgs)
            msg = ws.add_message(Message(channel, ws.next_ts(), f"Question {n}: the export is failing.", None, customer))
            sent.append((msg, double.socket.send("events_api", event_callback(ws, message_event(ws, msg)))))
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and any(watch.landed(m.channel, m.ts) is None for m, _ in sent):
            time.sleep(0.1)
        out.cpu_s = cpu_seconds(proc.pid) - cpu0
        for msg, env in sent:
            landed = watch.landed(msg.channel, msg.ts)
            if landed is None:
                out.missing += 1
            else:
                out.acked_in_thread.append(landed - env.sent_at)
            if env.ack_latency is not None:
                out.envelope_acks.append(env.ack_latency)
        out.team_info = Counter(str(c.args.get("team")) for c in ws.calls_to("team.info"))
    finally:
        stop_app(proc, double)
    return out


def report(name: str, bot: Run, floor: Run, orgs: int) -> list[str]:
    def row(label: str, q: float) -> str:
        v, b = pct(bot.acked_in_thread, q), pct(floor.acked_in_thread, q)
        return f"| {name} | {label} | {v:.1f} | {b:.1f} | {v / b if b else float('nan'):.2f}× |"

    most = max(bot.team_info.values(), default=0)
    return [
        row("message → acknowledgment in its thread, p50", 0.5),
        row("message → acknowledgment in its thread, p99", 0.99),
        f"| {name} | envelope → ack, p50 / p99 | {pct(bot.envelope_acks, 0.5):.1f} / {pct(bot.envelope_acks, 0.99):.1f} "
        f"| {pct(floor.envelope_acks, 0.5):.1f} / {pct(floor.envelope_acks, 0.99):.1f} | |",
        f"| {name} | acknowledgments missing after 60 s | {bot.missing} | {floor.missing} | |",
        f"| {name} | team.info calls: organisations asked / most for one | {len(bot.team_info)} of {orgs} / {most} | — | |",
        f"| {name} | a customer channel looked up by its id, p50 / p99 (in process) "
        f"| {statistics.median(bot.lookup_ms):.2f} / {sorted(bot.lookup_ms)[int(0.99 * (len(bot.lookup_ms) - 1))]:.2f} | — | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--orgs", type=int, default=10)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rate", type=float, default=0.8, help="messages a second, all channels together")
    parser.add_argument("--configured", type=int, default=1000)
    args = parser.parse_args()
    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    floor = run([sys.executable, "-m", "bench.floor_app"], None, args.orgs, args.messages, args.rate, 0)
    print("| database | what | Casedesk ms | floor ms | ratio |\n|---|---|---|---|---|", flush=True)
    for db, url in database_urls(args.db):
        few = run([sys.executable, "-m", "bot"], url, args.orgs, args.messages, args.rate, args.orgs)
        print("\n".join(report(f"{db}, {args.orgs} customer channels", few, floor, args.orgs)), flush=True)
        many = run([sys.executable, "-m", "bot"], url, args.orgs, args.messages, args.rate, args.configured)
        print("\n".join(report(f"{db}, {args.configured:,} customer channels", many, floor, args.orgs)), flush=True)
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}", flush=True)


if __name__ == "__main__":
    main()
