"""Benchmark of the REST API over many tickets: the first page of GET /api/v1/cases (50, no
filter), a filtered first page, the page after a cursor deep in the list, a full-text
``q``, one case whole, and POST /api/v1/cases (cases opened a second, 4 clients at once).

The desk is the real app (its services, hooks and the HTTP server the bot serves the API
on) against the Slack double; its sender is not started (the outbox keeps what cases owe). The client
runs in this process over loopback HTTP, one call at a time for latencies (after 5 warm-up
calls). Tickets are seeded by executemany (``bench.foundation.seed``).

Usage: python -m bench.api [--db sqlite|postgresql|both] [--tickets 100000] [--runs 200 (0: POST only)] [--creates 400]
(PostgreSQL: BENCH_DATABASE_URL, whose public schema is dropped and made again.)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench.foundation import analyze, database_urls, pct, reuse_or_seed, seed, seeded_note
from bot.api import api_context, api_routes
from bot.api.rate_limit import RateLimiter
from bot.app import create_app
from bot.ops.health import HealthServer
from bot.services.api_tokens import ApiTokens
from bot.settings import load_settings
from db.session import Database, make_engine
from slack_double import SlackDouble

ENV = {
    "SLACK_BOT_TOKEN": "xoxb-double-bot-token", "SLACK_APP_TOKEN": "xapp-double-app-token",
    "SUPPORT_SLACK_CHANNEL": "C0SUPPORT", "ADMIN_CHANNEL": "C0ADMINS", "SYSTEM_USERS": "U0AGENT1", "SCHEDULER_ENABLED": "false",
}
CLIENTS = 4


def timed(http: httpx.Client, runs: int, path: str, token: str, **params: str) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(5):
        http.get(path, params=params, headers=headers).raise_for_status()
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        http.get(path, params=params, headers=headers).raise_for_status()
        took.append(time.perf_counter() - started)
    return pct(took, 0.5), pct(took, 0.99)


def creates(base: str, token: str, count: int) -> tuple[float, float]:
    """Cases opened a second by CLIENTS clients at once, and the CPU ms each case cost this
    process (the desk's server; the clients are a process of their own, so their work is
    not counted and does not take the server's interpreter lock)."""
    cpu = time.process_time()
    client = subprocess.run(
        [sys.executable, "-m", "bench.api", "--post", base, token, str(count)], capture_output=True, text=True, check=True
    )
    return float(client.stdout.split()[-1]), (time.process_time() - cpu) * 1000 / count


def post(base: str, token: str, count: int) -> float:
    """The clients of :func:`creates`: cases opened a second."""
    headers = {"Authorization": f"Bearer {token}"}

    def one(n: int, http: httpx.Client) -> None:
        body = {"requester": f"customer{n}@example.com", "details": f"Bench case {n}", "external_id": f"bench-{n}-{time.time_ns()}"}
        http.post("/api/v1/cases", json=body, headers=headers).raise_for_status()

    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda n: one(n, clients[n % CLIENTS]), range(count)))
    rate = count / (time.perf_counter() - started)
    for c in clients:
        c.close()
    return rate


def run(name: str, url: str, tickets: int, runs: int, count: int) -> None:
    print(f"{name}: {seeded_note(reuse_or_seed(url, tickets, seed), tickets)}", flush=True)
    engine = make_engine(url)
    analyze(engine)  # as autovacuum would have on a database in use (a reused seed has the last run's cases)
    double = SlackDouble().start()
    desk = create_app(load_settings(ENV | {"DATABASE_URL": url, "SLACK_API_URL": double.api_url}), engine=engine)
    limits = RateLimiter(per_second=1e6, burst=1_000_000)
    server = HealthServer(0, engine, lambda: True, routes=api_routes(api_context(desk.deps, limits))).start()
    tokens = ApiTokens(Database(engine))
    token = tokens.create("bench", f"bench-{time.time_ns() % 10**9}", "write")[1]  # a reused seed keeps the last run's token
    base = f"http://127.0.0.1:{server.port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as http:
            deep = http.get("/api/v1/cases", params={"limit": "50"}, headers={"Authorization": f"Bearer {token}"})
            cursor = None
            for _ in range(20):  # 1,000 cases in
                page = http.get("/api/v1/cases", params={"limit": "50", **({"cursor": cursor} if cursor else {})},
                                headers={"Authorization": f"Bearer {token}"}).json()
                cursor = page["next_cursor"]
            del deep
            rows = [] if not runs else [
                ("first page (50)", timed(http, runs, "/api/v1/cases", token, limit="50")),
                ("status=open&priority=high", timed(http, runs, "/api/v1/cases", token, status="open", priority="high")),
                ("page after 1,000 (cursor)", timed(http, runs, "/api/v1/cases", token, cursor=cursor or "")),
                ("q=seeded (every ticket)", timed(http, runs, "/api/v1/cases", token, q="seeded")),
                (f"q=ticket {tickets // 2} (a number)", timed(http, runs, "/api/v1/cases", token, q=str(tickets // 2))),
                ("one case whole", timed(http, runs, f"/api/v1/cases/{tickets // 2}", token)),
            ]
        for label, (p50, p99) in rows:
            print(f"{name}: GET {label:<32} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
        rate, cpu = creates(base, token, count)
        print(f"{name}: POST /api/v1/cases, {CLIENTS} clients: {rate:.0f} cases/s, {cpu:.1f} ms of the server's CPU a case")
    finally:
        server.stop()
        double.stop()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--creates", type=int, default=400)
    parser.add_argument("--post", nargs=3, metavar=("BASE", "TOKEN", "COUNT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.post:
        print(f"{post(args.post[0], args.post[1], int(args.post[2])):.1f}")
        return
    for name, url in database_urls(args.db):
        run(name, url, args.tickets, args.runs, args.creates)


if __name__ == "__main__":
    main()
