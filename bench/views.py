"""Benchmark of /agent-tickets, /system-tickets and /ticket-summary over 100,000 tickets.

The bot runs as its own process (``python -m bot``) against the Slack double. For each
command the double times, from sending the envelope: the first view (``views.open`` of
the loading view) and the full list or summary (its ``views.update``).

Usage: python -m bench.views [--db sqlite|postgresql|both] [--tickets 100000] [--runs 60] [--only TEXT]
"""

from __future__ import annotations

import argparse
import sys

from bench.foundation import database_urls, pct, reuse_or_seed, seed, seeded_note, start_app, start_double

CASES = [
    ("/agent-tickets", "", "U0SEED0007"),
    ("/agent-tickets", "closed", "U0SEED0007"),
    ("/system-tickets", "", "U0AGENT1"),
    ("/system-tickets", "high open", "U0AGENT1"),
    ("/system-tickets", "seeded ticket 4242", "U0AGENT1"),
    ("/ticket-summary", "", "U0AGENT1"),
]


def run(db_url: str, runs: int, only: str = "") -> list[tuple[str, float, float, float, float]]:
    double = start_double()
    proc = start_app([sys.executable, "-m", "bot"], double, ["U0AGENT1"], db_url)
    rows = []
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60)
        for command, text, user in CASES:
            if only not in f"{command} {text}":
                continue
            person = double.person(user)
            first, full = [], []
            for i in range(runs + 3):
                env_ = person.run(command, text, timeout=10)
                modal = person.modal_from(env_.payload["trigger_id"], timeout=10)
                double.wait_for(lambda: modal.opened.updates, timeout=30, what="the full view")
                if i >= 3:  # warm-up
                    first.append(modal.opened.opened_at - env_.sent_at)
                    full.append(modal.opened.updates[0] - env_.sent_at)
            label = f"`{command}{' ' + text if text else ''}`"
            rows.append((label, pct(first, 0.5), pct(first, 0.99), pct(full, 0.5), pct(full, 0.99)))
    finally:
        proc.terminate()
        proc.wait(15)
        double.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--only", default="", help="only the commands whose text holds this, e.g. 4242")
    args = parser.parse_args()
    print(f"{args.tickets:,} tickets stored, {args.runs} runs per command, one at a time; times in ms\n")
    print("| database | command | first view p50 | first view p99 | full view p50 | full view p99 |\n|---|---|---|---|---|---|")
    for db, url in database_urls(args.db):
        print(f"<!-- {db}: {seeded_note(reuse_or_seed(url, args.tickets, seed), args.tickets)} -->", flush=True)
        for label, f50, f99, u50, u99 in run(url, args.runs, args.only):
            print(f"| {db} | {label} | {f50:.1f} | {f99:.1f} | {u50:.1f} | {u99:.1f} |", flush=True)


if __name__ == "__main__":
    main()
