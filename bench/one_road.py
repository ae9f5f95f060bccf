"""Benchmark of the one road to Slack: what the outbox costs, and what it survives.

Three measures, each beside the floor (``bench/floor_app.py``: a bare Bolt app making
the same Slack calls with no database) where the floor has a meaning:

1. Latency, one request at a time and with 4 in flight (no pauses): command →
   views.open, submission → card posted, click → chat.update (``bench.foundation``'s
   people, on its seeded database). The bot's posts go through the outbox; its per-channel
   pacing is raised (SLACK_POSTS_PER_SECOND) so that the figures show the road's cost,
   not Slack's one-post-a-second limit, which the double does not enforce here.
2. A burst: 50 people submit their forms at the same moment; tickets stored (and acked)
   per second, and the slowest ack.
3. An outage: 100 submissions and 100 clicks while every Web API call fails for 60 s;
   after it, every card, update, thread line, notice and DM must land exactly once, and
   the time to catch up is measured.

Usage: python -m bench.one_road [--db sqlite|postgresql|both] [--rounds 40] [--outage 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter

from bench.foundation import database_urls, pct, run_one, seed, start_app, start_double, stop_app
from slack_double import Message, SlackDouble
from slack_double.people import Modal

BOT = [sys.executable, "-m", "bot"]
FLOOR = [sys.executable, "-m", "bench.floor_app"]
SUPPORT, ADMIN = "C0SUPPORT", "C0ADMINS"
UNPACED = {"SLACK_POSTS_PER_SECOND": "1000", "SCHEDULER_ENABLED": "false"}


def latency(url: str, users: int, rounds: int) -> list[str]:
    bot = run_one(BOT, url, users, rounds, (0.0, 0.0), UNPACED)
    floor = run_one(FLOOR, None, users, rounds, (0.0, 0.0))
    rows = []
    for label, mine, base in (
        ("command → views.open", bot.views_open, floor.views_open),
        ("submission → card posted", bot.card_posted, floor.card_posted),
        ("click → chat.update", bot.click_update, floor.click_update),
    ):
        for q, name in ((0.5, "p50"), (0.99, "p99")):
            v, b = pct(mine, q), pct(base, q)
            rows.append(f"| {users} in flight | {label}, {name} | {v:.1f} | {b:.1f} | {v / b:.2f}× |")
    rows.append(f"| {users} in flight | samples / errors | {len(bot.card_posted)} / {len(bot.errors)} | "
                f"{len(floor.card_posted)} / {len(floor.errors)} | |")
    return rows


def fill(person_modal: Modal, text: str) -> Modal:
    return person_modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🟡 Medium").type(
        "Details", text
    )


def burst(command: list[str], url: str | None, size: int) -> tuple[float, float, float]:
    """(forms acked per second, ack p50 ms, slowest ack ms) for ``size`` simultaneous submissions."""
    double = start_double()
    people = [double.person(f"U0BURST{i:03d}") for i in range(size)]
    proc = start_app(command, double, [people[0].id], url, UNPACED)
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60, what="the app to connect")
        payloads = [fill(p.open_modal("/new-ticket", timeout=10), f"burst {i}").submission_payload() for i, p in enumerate(people)]
        envs = [double.socket.send("interactive", p) for p in payloads]
        for env in envs:
            double.socket.wait_ack(env, 15)
        first = min(e.sent_at for e in envs)
        last = max(e.acked_at or 0.0 for e in envs)
        acks = [e.ack_latency or 0.0 for e in envs]
        return size / (last - first), statistics.median(acks) * 1000, max(acks) * 1000
    finally:
        stop_app(proc, double)


def outage(url: str, size: int, seconds: float) -> list[str]:
    double = start_double()
    reporters = [double.person(f"U0OUT{i:03d}") for i in range(size)]
    agent = double.person("U0AGENTX")
    env = {**UNPACED, "SLACK_POSTS_PER_SECOND": "20"}
    proc = start_app(BOT, double, [agent.id], url, env)
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60, what="the bot to connect")
        for i, person in enumerate(reporters):  # the cards the agent will click during the outage
            fill(person.open_modal("/new-ticket", timeout=10), f"before {i}").submit()
        double.wait_for(lambda: len(cards(double)) >= size, timeout=120, what="the first cards")
        before = list(cards(double).values())
        modals = [fill(p.open_modal("/new-ticket", timeout=10), f"during {i}") for i, p in enumerate(reporters)]
        time.sleep(2)  # let the first round's notices go out before Slack goes down
        double.web_api.outage(seconds)
        down_at = time.monotonic()
        acks = []
        for modal, card in zip(modals, before, strict=False):
            acks.append(double.socket.wait_ack(double.socket.send("interactive", modal.submission_payload()), 10))
            acks.append(double.socket.wait_ack(double.socket.send("interactive", agent.click_payload(card, "Assign to Me")), 10))
        sent_in = time.monotonic() - down_at
        double.wait_for(lambda: not double.web_api.is_down(), timeout=seconds + 5, what="the outage to end")
        up_at = time.monotonic()

        def caught_up() -> bool:
            return (
                len(cards(double)) >= 2 * size
                and all("In Progress" in double.current(c).text for c in before)
                and sum(1 for c in before for m in double.thread(c) if "assigned" in m.text) >= size
                and sum(len(p.dms()) for p in reporters) >= 2 * size
                and len(double.messages(ADMIN)) >= 2 * size
            )

        double.wait_for(caught_up, timeout=600, what="everything owed to land")
        caught_up_in = time.monotonic() - up_at
        time.sleep(3)  # anything posted twice would show now
        numbers = Counter(n for m in double.messages(SUPPORT) for n in [card_number(m)] if n)
        dup_cards = sum(c - 1 for c in numbers.values())
        dup_lines = sum(max(0, sum(1 for m in double.thread(c) if "assigned" in m.text) - 1) for c in before)
        dms = Counter(m.text for p in reporters for m in p.dms())
        dup_dms = sum(c - 1 for c in dms.values())
        admin = Counter(m.text for m in double.messages(ADMIN))
        dup_admin = sum(c - 1 for c in admin.values())
        failed = sum(1 for c in double.workspace.calls if c.error == "service_unavailable")
        slowest_ack = max(e.ack_latency or 0.0 for e in acks) * 1000
        return [
            f"| {size} submissions + {size} clicks sent during a {seconds:.0f} s outage | in {sent_in:.1f} s, slowest ack {slowest_ack:.0f} ms |",
            f"| Web API calls refused during the outage | {failed} |",
            f"| caught up after Slack came back | {caught_up_in:.1f} s |",
            f"| cards / updates / thread lines / notices / DMs landed | {len(numbers)} / {size} / {size} / {sum(admin.values())} / {sum(dms.values())} |",
            f"| duplicates (cards, lines, DMs, notices) | {dup_cards}, {dup_lines}, {dup_dms}, {dup_admin} |",
        ]
    finally:
        stop_app(proc, double)


def cards(double: SlackDouble) -> dict[str, Message]:
    return {n: m for m in double.messages(SUPPORT) for n in [card_number(m)] if n}


def card_number(message: Message) -> str | None:
    text = message.text
    return text.split(" ")[1] if text[:1] in ("🔴", "🟡", "🟢") and " TCK-" in text else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--outage", type=float, default=60.0)
    parser.add_argument("--outage-size", type=int, default=100)
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: latency,burst,outage")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    for db, url in database_urls(args.db):
        print(f"\n### {db}\n")
        if "latency" not in skip:
            seed(url, 10_000)
            print("| load | measure | Casedesk (ms) | floor (ms) | ratio |\n|---|---|---|---|---|")
            for users in (1, 4):
                print("\n".join(latency(url, users, args.rounds)), flush=True)
        if "burst" not in skip:
            seed(url, 0)
            rate, p50, worst = burst(BOT, url, args.burst)
            f_rate, f_p50, f_worst = burst(FLOOR, None, args.burst)
            print(f"\n| {args.burst} simultaneous submissions | Casedesk | floor |\n|---|---|---|")
            print(f"| forms stored and acked per second | {rate:.0f} | {f_rate:.0f} (acked) |")
            print(f"| ack p50 / slowest | {p50:.0f} / {worst:.0f} ms | {f_p50:.0f} / {f_worst:.0f} ms |", flush=True)
        if "outage" not in skip:
            seed(url, 0)
            print("\n| outage | figure |\n|---|---|")
            print("\n".join(outage(url, args.outage_size, args.outage)), flush=True)


if __name__ == "__main__":
    main()
