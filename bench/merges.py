"""Benchmark of merging a duplicate with many messages into its primary, and of undoing it.

The seed: ``--tickets`` tickets, ``--others`` case messages spread over them (so the
messages' table is not only the duplicate's), and ``--messages`` messages (one in ten
with an attachment) on the duplicate. Measured in process, through the service as an
agent's Link… does it: the merge (one UPDATE of the messages and one of the attachments,
the duplicate closed, audit, card lines, the requester's note) and an admin's unmerge;
median of ``--runs`` merge-and-unmerge rounds.

Usage: python -m bench.merges [--db sqlite|postgresql|both] [--messages 1000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from bench.foundation import database_urls, seed
from bot.services.effects import Channels
from bot.services.merges import CaseLinks
from bot.services.tickets import TicketService
from db.models import Attachment, CaseMessage, Person
from db.session import Database, make_engine

SUPPORT = "C0SUPPORT"
ADMIN = "U0BENCHADM"
PRIMARY, DUPLICATE = 1, 2


def fill(db: Database, tickets: int, others: int, messages: int) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    with db.engine.begin() as conn:
        conn.execute(
            insert(Person), [{"user_id": ADMIN, "role": "admin", "away": False, "created_at": start, "updated_at": start}]
        )
        rows = [
            {
                "ticket_id": 3 + i % (tickets - 2),
                "via": "slack",
                "role": "customer",
                "author_id": "U0SEED",
                "body": f"other {i}",
                "created_at": start + timedelta(seconds=i),
                "kind": "public",
            }
            for i in range(others)
        ]
        rows += [
            {
                "ticket_id": DUPLICATE,
                "via": "slack",
                "role": "customer",
                "author_id": "U0SEED",
                "body": f"duplicate {i}",
                "created_at": start + timedelta(seconds=i * 7),
                "kind": "public",
            }
            for i in range(messages)
        ]
        for chunk in range(0, len(rows), 10_000):
            conn.execute(insert(CaseMessage), rows[chunk : chunk + 10_000])
        ids = conn.execute(text(f"SELECT id FROM case_messages WHERE ticket_id = {DUPLICATE}")).scalars().all()
        conn.execute(
            insert(Attachment),
            [{"ticket_id": DUPLICATE, "message_id": m, "name": "shot.png", "size": 1} for m in ids[::10]],
        )
        conn.execute(text("ANALYZE"))


def run(db_name: str, url: str, tickets: int, others: int, messages: int, runs: int) -> list[str]:
    seed(url, tickets)
    engine = make_engine(url)
    db = Database(engine)
    fill(db, tickets, others, messages)
    now = datetime.now(UTC)
    service = TicketService(
        db, [ADMIN], campaigns=("Billing",), issue_types=("Bug",), channels=Channels(SUPPORT), clock=lambda: now
    )
    links = CaseLinks(db, service, lambda: now)
    merges, unmerges = [], []
    for _ in range(runs):
        started = time.perf_counter()
        said = links.merge(ADMIN, DUPLICATE, PRIMARY)
        merges.append((time.perf_counter() - started) * 1000)
        assert f"{messages} messages moved" in said, said
        started = time.perf_counter()
        said = links.unmerge(ADMIN, DUPLICATE)
        unmerges.append((time.perf_counter() - started) * 1000)
        assert f"{messages} messages moved back" in said, said
    engine.dispose()
    size = f"{messages:,} messages ({messages // 10:,} attachments), {others:,} others in the table"
    return [
        f"| {db_name} | merge of a duplicate with {size} (median of {runs}) | {statistics.median(merges):.0f} | {max(merges):.0f} |",
        f"| {db_name} | its unmerge (median of {runs}) | {statistics.median(unmerges):.0f} | {max(unmerges):.0f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=1_000)
    parser.add_argument("--others", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("| database | what | median ms | slowest ms |\n|---|---|---|---|")
    for name, url in database_urls(args.db):
        for line in run(name, url, args.tickets, args.others, args.messages, args.runs):
            print(line, flush=True)


if __name__ == "__main__":
    main()
