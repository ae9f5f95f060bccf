"""Benchmark of a ticket list's search words over many tickets of varied text.

Tickets get a title of 5 words and details of 30, drawn from a vocabulary of 5,000 words
with a Zipf distribution (word k about 1/k as often as the first), as real text is: the
commonest word is in most tickets, a word of the long tail in a handful. Each query is one
page of a list as /system-tickets asks it (``TicketQueries.page``: the first 20 and the
total), run in this process, one at a time, after 3 warm-up runs.

Usage: python -m bench.search [--db sqlite|postgresql|both] [--tickets 100000] [--runs 100]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.foundation import analyze, bulk_load, database_urls, fresh_schema, pct, reuse_or_seed, seeded_note
from bot.services.queries import TicketFilter, TicketQueries
from db.models import Ticket
from db.session import Database, make_engine

VOCABULARY = 5_000
# The source keys of these tickets start so (bench.foundation.reuse_or_seed tells the seeds apart).
SEED_KEY = "text-seed:"
ADMIN = "U0ADMIN"
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "po", "si", "de", "gu", "ba", "fe", "zo", "vi", "ch", "ar"]


def word(k: int) -> str:
    """The k-th word of the vocabulary: made of syllables, so stemming leaves it be."""
    parts = []
    k += len(_SYLLABLES)
    while k:
        k, rest = divmod(k, len(_SYLLABLES))
        parts.append(_SYLLABLES[rest])
    return "".join(parts) + "x"


def rows(count: int) -> Iterator[dict[str, object]]:
    rng = random.Random(42)
    words = [word(k) for k in range(VOCABULARY)]
    weights = [1 / (k + 1) for k in range(VOCABULARY)]
    start = datetime.now(UTC) - timedelta(days=365)
    statuses = ["open", "in_progress", "resolved", "closed"]
    for i in range(count):
        drawn = rng.choices(words, weights, k=35)
        yield {
            "campaign": "Billing", "issue_type": "Bug", "priority": ("high", "medium", "low")[i % 3],
            "id": i + 1, "status": statuses[i % 4], "title": " ".join(drawn[:5]).capitalize(), "details": " ".join(drawn[5:]),
            "reporter_id": f"U0SEED{i % 50:04d}", "assignee_id": None if i % 4 == 0 else f"U0AGENT{i % 7}",
            "source": "slack_form", "source_key": f"{SEED_KEY}{i}", "created_at": start + timedelta(seconds=i * 30),
            "updated_at": start + timedelta(seconds=i * 30), "version": 1,
        }


def seed(url: str, count: int) -> float:
    """A fresh schema with ``count`` tickets, loaded in bulk (``bench.foundation.bulk_load``:
    COPY on PostgreSQL, executemany on SQLite, the text indexes built after); seconds taken."""
    engine = fresh_schema(url)
    started = time.perf_counter()
    bulk_load(engine, Ticket.__table__, rows(count))  # type: ignore[arg-type]
    analyze(engine)
    engine.dispose()
    return time.perf_counter() - started


def queries(count: int) -> list[tuple[str, str]]:
    return [
        ("commonest word", word(0)),
        ("a word in ~1 % of tickets", word(400)),
        ("a rare word", word(VOCABULARY - 1)),
        ("two common words", f"{word(1)} {word(2)}"),
        ("a partial word", word(400)[:-2]),
        ("a ticket number", f"TCK-{count // 2:06d}"),
    ]


def measure(url: str, count: int, runs: int) -> list[tuple[str, int, float, float, float]]:
    engine = make_engine(url)
    listing = TicketQueries(Database(engine), [ADMIN])
    out = []
    try:
        for label, words in queries(count):
            times, cpu = [], []
            total = 0
            for i in range(runs + 3):
                started, used = time.perf_counter(), time.thread_time()
                page = listing.page(ADMIN, TicketFilter(text=words))
                if i >= 3:
                    times.append(time.perf_counter() - started)
                    cpu.append(time.thread_time() - used)  # this process's part (all of it on SQLite)
                total = page.total
            out.append((f"{label} (`{words}`)", total, pct(times, 0.5), pct(times, 0.99), pct(cpu, 0.5)))
    finally:
        engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    print(f"{args.tickets:,} tickets, {args.runs} runs per query, one at a time; times in ms\n")
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[0]}\n")
    print("| database | search | found | p50 | p99 | CPU p50 |\n|---|---|---|---|---|---|")
    for db, url in database_urls(args.db):
        print(f"<!-- {db}: {seeded_note(reuse_or_seed(url, args.tickets, seed, SEED_KEY), args.tickets)} -->", flush=True)
        for label, found, p50, p99, cpu in measure(url, args.tickets, args.runs):
            print(f"| {db} | {label} | {found:,} | {p50:.1f} | {p99:.1f} | {cpu:.1f} |", flush=True)
        print(f"<!-- load average after: {Path('/proc/loadavg').read_text().split()[0]} -->")


if __name__ == "__main__":
    main()
