"""Benchmark of the REST API over many tickets: the first page of GET /api/v1/cases (50, no
filter), a filtered first page, the page after a cursor deep in the list, a full-text
``q``, one case whole, and POST /api/v1/cases (cases opened a second, 4 clients at once).

The desk is the real app (its services, hooks and the HTTP server the bot serves the API
on) against the Slack double; its sender is not started (the outbox keeps what cases owe). The client
runs in this process over loopback HTTP, one call at a time for latencies (after 5 warm-up
calls). Tickets are seeded by executemany (``bench.foundation.seed``).

Usage: python -m bench.api [--db sqlite|postgresql|both] [--tickets 100000] [--runs 200 (0: POST only)] [--creates 400]
[--servers 1]
(PostgreSQL: BENCH_DATABASE_URL, whose public schema is dropped and made again.) ``--servers N`` (PostgreSQL) serves
the API from N processes for POST, as N replicas of the bot would: the first is this one, each other a desk of its own
in a child process; the clients take turns among them, and the CPU reported is all of theirs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import Engine

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


def creates(bases: list[str], token: str, count: int, others: list[subprocess.Popen[str]]) -> tuple[float, float]:
    """Cases opened a second by CLIENTS clients at once, and the CPU ms each case cost the
    servers (this process and ``others``, which report theirs when told to stop; the clients
    are a process of their own, so their work is not counted and does not take a server's
    interpreter lock)."""
    cpu = time.process_time()
    others_cpu = [_cpu_of(p) for p in others]
    client = subprocess.run(
        [sys.executable, "-m", "bench.api", "--post", ",".join(bases), token, str(count)], capture_output=True, text=True, check=True
    )
    spent = time.process_time() - cpu + sum(_cpu_of(p) for p in others) - sum(others_cpu)
    return float(client.stdout.split()[-1]), spent * 1000 / count


def _cpu_of(server: subprocess.Popen[str]) -> float:
    """A child server's CPU seconds so far (it answers a line on its stdin with them)."""
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write("cpu\n")
    server.stdin.flush()
    return float(server.stdout.readline())


def post(bases: str, token: str, count: int) -> float:
    """The clients of :func:`creates`: cases opened a second (client n calls server n mod N)."""
    headers = {"Authorization": f"Bearer {token}"}
    servers = bases.split(",")

    def one(n: int, http: httpx.Client) -> None:
        body = {"requester": f"customer{n}@example.com", "details": f"Bench case {n}", "external_id": f"bench-{n}-{time.time_ns()}"}
        http.post("/api/v1/cases", json=body, headers=headers).raise_for_status()

    clients = [httpx.Client(base_url=servers[c % len(servers)], timeout=30) for c in range(CLIENTS)]
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(lambda n: one(n, clients[n % CLIENTS]), range(count)))
    rate = count / (time.perf_counter() - started)
    for c in clients:
        c.close()
    return rate


def serving(url: str, slack_api_url: str) -> tuple[Engine, HealthServer]:
    """The desk on ``url`` and its HTTP server with the API, as the bot serves them."""
    engine = make_engine(url)
    desk = create_app(load_settings(ENV | {"DATABASE_URL": url, "SLACK_API_URL": slack_api_url}), engine=engine)
    limits = RateLimiter(per_second=1e6, burst=1_000_000)
    return engine, HealthServer(0, engine, lambda: True, routes=api_routes(api_context(desk.deps, limits))).start()


def serve_child(url: str, slack_api_url: str) -> None:
    """Another server (``--servers``): prints its port, answers each line on stdin with its
    CPU seconds so far, stops at the end of stdin."""
    engine, server = serving(url, slack_api_url)
    print(server.port, flush=True)
    for _line in sys.stdin:
        print(time.process_time(), flush=True)
    server.stop()
    engine.dispose()


def run(name: str, url: str, tickets: int, runs: int, count: int, servers: int = 1) -> None:
    print(f"{name}: {seeded_note(reuse_or_seed(url, tickets, seed), tickets)}", flush=True)
    double = SlackDouble().start()
    engine, server = serving(url, double.api_url)
    analyze(engine)  # as autovacuum would have on a database in use (a reused seed has the last run's cases)
    others = [
        subprocess.Popen([sys.executable, "-m", "bench.api", "--serve", url, double.api_url], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for _ in range(servers - 1)
    ]
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
        bases = [base, *(f"http://127.0.0.1:{int(p.stdout.readline())}" for p in others if p.stdout is not None)]
        rate, cpu = creates(bases, token, count, others)
        print(
            f"{name}: POST /api/v1/cases, {CLIENTS} clients, {servers} server process(es): {rate:.0f} cases/s, "
            f"{cpu:.1f} ms of the servers' CPU a case"
        )
    finally:
        for p in others:
            p.communicate()
        server.stop()
        double.stop()
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--creates", type=int, default=400)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--post", nargs=3, metavar=("BASES", "TOKEN", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "SLACK_API_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.post:
        print(f"{post(args.post[0], args.post[1], int(args.post[2])):.1f}")
        return
    if args.serve:
        serve_child(*args.serve)
        return
    for name, url in database_urls(args.db):
        if args.servers > 1 and name == "sqlite":
            print("sqlite: one bot process per database file; --servers is for PostgreSQL")
            continue
        run(name, url, args.tickets, args.runs, args.creates, args.servers)


if __name__ == "__main__":
    main()
