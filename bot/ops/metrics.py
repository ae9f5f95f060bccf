"""Prometheus metrics for one desk, served at /metrics by the health server.

Each desk has a registry of its own (not prometheus_client's global one), so several bots
in one process (tests, replicas side by side) count apart. Counters are kept where things
happen: the Socket Mode handler (envelopes, acks and their latency), the Web API client
(calls by method and outcome, 429s), the scheduled jobs and the mail poll. What the
database holds (the outbox's depth and age, tickets by status) is read by SQL when scraped,
so it is right whichever process did the work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

import anyio
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.models import OutboxPost, Ticket
from db.session import Database

log = logging.getLogger(__name__)
T = TypeVar("T")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack wants an ack within 3 s; the buckets are finest where a healthy bot lives.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class DatabaseCollector(Collector):
    """The outbox's pending posts and the age of the oldest, and tickets by status: counted
    in SQL at each scrape (two grouped statements over indexed columns)."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []  # nothing to check for clashes; and no query when registered

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("casedesk_database_up", "1 when the scrape could read the database")
        try:
            with self._db.read() as session:
                pending, oldest = session.execute(
                    select(func.count(), func.min(OutboxPost.created_at)).where(
                        OutboxPost.sent_at.is_(None), OutboxPost.dead_at.is_(None)
                    )
                ).one()
                by_status = session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
        except Exception as err:  # noqa: BLE001 - a scrape reports the database down instead of failing
            log.warning("metrics: the database could not be read: %s", type(err).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("casedesk_outbox_pending", "Slack posts decided and not yet sent (nor given up)", value=int(pending))
        age = max(0.0, (self._clock() - oldest).total_seconds()) if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "casedesk_outbox_oldest_pending_age_seconds", "How long the oldest pending Slack post has waited", value=age
        )
        tickets = GaugeMetricFamily("casedesk_tickets", "Tickets by status", labels=["status"])
        for status, n in sorted(by_status):
            tickets.add_metric([status], int(n))
        yield tickets


class Metrics:
    """The desk's instruments and their registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.envelopes = Counter("casedesk_envelopes", "Socket Mode envelopes received, by type", ["type"], registry=r)
        self.acks = Counter("casedesk_acks", "Socket Mode envelopes acked, by type", ["type"], registry=r)
        self.ack_seconds = Histogram(
            "casedesk_ack_seconds", "From taking an envelope to its ack sent, by type", ["type"], buckets=ACK_BUCKETS, registry=r
        )
        self.slack_calls = Counter(
            "casedesk_slack_calls",
            "Slack Web API calls by method and outcome (ok, error, rate_limited, unreachable), after retries",
            ["method", "outcome"],
            registry=r,
        )
        self.slack_429s = Counter(
            "casedesk_slack_rate_limited", "HTTP 429 answers from Slack, by method, including those waited out", ["method"], registry=r
        )
        self.mail = Counter("casedesk_mail_polled", "Mails read from the support mailbox, by outcome", ["outcome"], registry=r)
        self.jobs = Counter("casedesk_job_runs", "Scheduled job runs by job and outcome (ok, failed)", ["job", "outcome"], registry=r)

    def watch(self, db: Database, clock: Callable[[], datetime]) -> None:
        """Report what ``db`` holds at each scrape."""
        self.registry.register(DatabaseCollector(db, clock))

    def job(self, name: str, run: Callable[[], T]) -> T:
        """Run a job, counted as ok, or failed when it raises (the exception goes on)."""
        try:
            result = run()
        except Exception:
            self.jobs.labels(name, "failed").inc()
            raise
        self.jobs.labels(name, "ok").inc()
        return result

    def mail_polled(self, outcomes: dict[str, int]) -> None:
        for outcome, n in outcomes.items():
            self.mail.labels(outcome).inc(n)

    def render(self) -> bytes:
        """The exposition text (blocking: the database is read)."""
        return generate_latest(self.registry)

    def route(self) -> Route:
        """GET /metrics, rendered in a worker thread (the scrape reads the database)."""

        async def scrape(_request: Request) -> Response:
            return Response(await anyio.to_thread.run_sync(self.render), media_type=CONTENT_TYPE)

        return Route("/metrics", scrape)
