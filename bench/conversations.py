"""Benchmark of conversation intake: 50 messages a second into one intake channel for 20 s.

The bot runs as its own process (``python -m bot``) against the Slack double, which
enforces Slack's chat.postMessage limit (about one a second per channel, bursts of 4)
with HTTP 429 + Retry-After. Each message comes from a different person as a
top-level post, so each opens a case, and each case owes two posts: its card in the
support channel and the answer in the intake thread.

Reported per database: envelope → ack latency; when the last message was stored;
posts Slack received during the burst and the drain window, per channel, the busiest
second, 429s; and the outbox's count of posts still owed (all accounted for: stored
cases × 2 = posted + pending, none failed).

Usage: python -m bench.conversations [--db sqlite|postgresql|both] [--rate 50] [--seconds 20] [--drain 30]
       [--slack-rate 1.0]   (0.5: Slack stricter than the bot's pacing, so 429s happen and are waited out)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from sqlalchemy import func, select, text

from bench.foundation import SUPPORT, cpu_seconds, database_urls, pct, rss_kib, start_app, start_double, stop_app
from db.models import CaseMessage, OutboxPost, Ticket
from db.session import make_engine
from slack_double import BOT_USER_ID, SlackDouble
from slack_double.events import event_callback, message_event
from slack_double.workspace import Message

INTAKE = "C0INTAKE"


def counts(url: str) -> tuple[int, int, int, int]:
    """(cases, stored messages, posts sent, posts pending) — straight from the database."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            cases = conn.scalar(select(func.count()).select_from(Ticket)) or 0
            messages = conn.scalar(select(func.count()).select_from(CaseMessage)) or 0
            sent = conn.scalar(select(func.count()).select_from(OutboxPost).where(OutboxPost.sent_at.is_not(None))) or 0
            pending = conn.scalar(select(func.count()).select_from(OutboxPost).where(OutboxPost.sent_at.is_(None))) or 0
        return int(cases), int(messages), int(sent), int(pending)
    finally:
        engine.dispose()


def reset(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def bot_posts(double: SlackDouble) -> list[Message]:
    with double.workspace.lock:
        return [m for ch in (SUPPORT, INTAKE) for m in double.workspace.messages.get(ch, []) if m.user == BOT_USER_ID]


def busiest_second(posts: list[Message], channel: str) -> int:
    per_second = Counter(int(m.posted_at) for m in posts if m.channel == channel)
    return max(per_second.values(), default=0)


def run(db: str, url: str, rate: int, seconds: int, drain: int, slack_rate: float) -> str:
    reset(url)
    double = start_double()
    double.channel(INTAKE, "help")
    double.web_api.post_pacing.enable(per_second=slack_rate, burst=4)
    agents = [double.person("U0AGENTBEN", "agent").id]
    people = [double.person(f"U0CUST{i:04d}", f"customer{i}") for i in range(rate * seconds)]
    proc = start_app([sys.executable, "-m", "bot"], double, agents, url, {"INTAKE_SLACK_CHANNELS": INTAKE})
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60, what="the bot to connect")
        time.sleep(1.0)
        envelopes = []
        cpu0, started = cpu_seconds(proc.pid), time.perf_counter()
        for i, person in enumerate(people):
            due = started + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            ws = double.workspace
            msg = ws.add_message(Message(INTAKE, ws.next_ts(), f"Help {i}: the invoice page is blank.", None, person.id))
            envelopes.append(double.socket.send("events_api", event_callback(ws, message_event(ws, msg))))
        sent_for = time.perf_counter() - started
        stored_at = None
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline:
            cases, messages, _, _ = counts(url)
            if messages >= len(people):
                stored_at = time.perf_counter() - started
                break
            time.sleep(0.1)
        burst_posts = bot_posts(double)
        burst_end = time.perf_counter() - started
        time.sleep(drain)
        posts = bot_posts(double)
        cpu = cpu_seconds(proc.pid) - cpu0
        rss = rss_kib(proc.pid) / 1024
        cases, messages, sent, pending = counts(url)
        acks = [e.ack_latency for e in envelopes if e.ack_latency is not None]
        window = time.perf_counter() - started
        per_channel = Counter(m.channel for m in posts)
        return "\n".join(
            [
                f"### {db} (Slack allows {slack_rate:g} post/s per channel)",
                f"- sent {len(people)} messages in {sent_for:.1f} s ({len(people) / sent_for:.1f}/s); "
                f"acked {len(acks)}, ack p50 {pct(acks, 0.5):.1f} ms, p99 {pct(acks, 0.99):.1f} ms, max {pct(acks, 1.0):.1f} ms",
                f"- stored: {cases} cases, {messages} messages; the last stored "
                + (f"{stored_at:.1f} s after the first was sent" if stored_at else "— not within 120 s"),
                f"- Slack posts by {burst_end:.1f} s: {len(burst_posts)}; by {window:.1f} s: support "
                f"{per_channel[SUPPORT]}, intake {per_channel[INTAKE]} "
                f"(busiest second: {busiest_second(posts, SUPPORT)} / {busiest_second(posts, INTAKE)}); "
                f"429s from the double: {double.web_api.post_pacing.refused}",
                f"- outbox: {sent} sent + {pending} pending = {sent + pending} of {2 * cases} owed "
                f"(card + thread answer per case); at 1/s per channel the rest drains in ≈{pending / 2:.0f} s",
                f"- bot process: {cpu:.1f} s CPU, RSS {rss:.0f} MiB",
            ]
        )
    finally:
        stop_app(proc, double)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--drain", type=int, default=30)
    parser.add_argument("--slack-rate", type=float, default=1.0, help="posts/s per channel the double allows (below 1: 429s)")
    args = parser.parse_args()
    for db, url in database_urls(args.db):
        print(run(db, url, args.rate, args.seconds, args.drain, args.slack_rate), flush=True)


if __name__ == "__main__":
    main()
