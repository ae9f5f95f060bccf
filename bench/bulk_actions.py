"""Benchmark of a bulk action from /system-tickets: one change applied to ``--tickets``
tickets, each through the ticket service as a click on its card would be (its own
transaction, permission check, status machine, audit events, and the card redraw, thread
line, DMs and Home refreshes written to the outbox, which paces them to Slack after).

Measured in process, service side (what the Apply button waits for before it redraws the
list): a priority change, then a close, over tickets among ``--others`` others.

Usage: python -m bench.bulk_actions [--db sqlite|postgresql|both] [--tickets 100] [--others 10000]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from sqlalchemy import text

from bench.foundation import database_urls, seed
from bot.services.bulk import apply_to_many, bulk_workers
from bot.services.effects import Channels
from bot.services.tickets import TicketService
from db.session import Database, make_engine

SUPPORT = "C0SUPPORT"
AGENT = "U0BENCHAGT"


def run(db_name: str, url: str, tickets: int, others: int) -> list[str]:
    seed(url, tickets + others)
    engine = make_engine(url)
    db = Database(engine)
    with engine.begin() as conn:  # the ones ticked: open, in the support channel
        conn.execute(text("UPDATE tickets SET status = 'open', priority = 'low' WHERE id <= :n"), {"n": tickets})
    now = datetime.now(UTC)
    service = TicketService(
        db, [AGENT], campaigns=("Billing",), issue_types=("Bug",), channels=Channels(SUPPORT), clock=lambda: now
    )
    ids = list(range(1, tickets + 1))
    lines = []
    for action in ("priority:high", "close"):
        started = time.perf_counter()
        outcomes = apply_to_many(service, AGENT, ids, action, workers=bulk_workers(db))
        ms = (time.perf_counter() - started) * 1000
        refused = [o for o in outcomes if not o.done]
        assert not refused, refused[:3]
        lines.append(
            f"| {db_name} | {action} on {tickets} tickets ({others:,} others in the table) | {ms:.0f} | {ms / tickets:.1f} |"
        )
    with engine.connect() as conn:
        owed = conn.scalar(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))
    lines.append(f"| {db_name} | (outbox rows owed to Slack after both: {owed}) | | |")
    engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100)
    parser.add_argument("--others", type=int, default=10_000)
    args = parser.parse_args()
    print("| database | bulk action | ms | ms per ticket |\n|---|---|---|---|")
    for name, url in database_urls(args.db):
        for line in run(name, url, args.tickets, args.others):
            print(line, flush=True)


if __name__ == "__main__":
    main()
