"""Benchmark of the new-ticket form's redraw when an issue type is picked.

The bot runs as its own process (``python -m bot``) against the Slack double, over a desk
seeded with ``--tickets`` tickets. Bug has 10 extra fields (one a select of 100 options,
one a multi select of 50), Question 5. A reporter opens ``/new-ticket`` and picks Bug,
then Question, then Bug again, ``--runs`` times: each pick is a ``block_actions`` envelope
(the type select's ``dispatch_action``) that the bot answers with a ``views.update``
carrying the view's hash. Timed from sending the envelope until the double has the update
(read the type's fields, rebuild the view, the Web API call), p50/p95/p99.

Usage: python -m bench.forms [--db sqlite|postgresql|both] [--tickets 10000] [--runs 300]
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.foundation import database_urls, pct, seed, start_app, start_double
from bot.services.forms import Forms
from db.session import Database, make_engine

REPORTER = "U0BENCHREP"
ADMIN_USER = "U0BENCHADM"
WARM_UP = 5


def define_forms(url: str) -> None:
    engine = make_engine(url)
    forms = Forms(Database(engine), lambda _user: True)
    bug = [
        ("Region", "select", [f"Region {n:03d}" for n in range(100)]),
        ("Browsers", "multi_select", [f"Browser {n}" for n in range(50)]),
        ("Seats affected", "number", []),
        ("Seen on", "date", []),
        ("Account owner", "user", []),
        ("Order number", "short_text", []),
        ("Steps", "long_text", []),
        ("Plan", "select", ["Free", "Team", "Enterprise"]),
        ("Amount", "number", []),
        ("Contract end", "date", []),
    ]
    for label, kind, options in bug:
        forms.add(ADMIN_USER, "Bug", label, kind, required=kind == "select", help_text=f"About {label.lower()}.", options=options)
    for label, kind, options in bug[:5]:
        forms.add(ADMIN_USER, "Question", label, kind, options=options)
    engine.dispose()


def redraws(url: str, runs: int) -> list[float]:
    double = start_double()
    proc = start_app([sys.executable, "-m", "bot"], double, [ADMIN_USER], url)
    took: list[float] = []
    try:
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=60, what="the bot to connect")
        person = double.person(REPORTER, "rita")
        modal = person.open_modal("/new-ticket", timeout=10)
        for i in range(runs + WARM_UP):
            wanted = ("Bug", "Question")[i % 2]
            before = len(modal.opened.updates)
            started = time.perf_counter()
            modal.choose("Issue type", wanted, timeout=10)
            double.wait_for(lambda: len(modal.opened.updates) > before, timeout=10, what="the redraw")  # noqa: B023
            if i >= WARM_UP:
                took.append(modal.opened.updates[-1] - started)
            assert ("Plan" in modal.labels()) == (wanted == "Bug")
    finally:
        proc.terminate()
        proc.wait(15)
        double.stop()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    print("| database | redraw on picking the type (views.update) | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|")
    for name, url in database_urls(args.db):
        seed(url, args.tickets)
        define_forms(url)
        took = redraws(url, args.runs)
        print(
            f"| {name} | Bug (10 fields) ↔ Question (5), {len(took)} picks | {pct(took, 0.5):.1f} | {pct(took, 0.95):.1f} "
            f"| {pct(took, 0.99):.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
