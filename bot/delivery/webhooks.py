"""The sender of webhook deliveries: signed, posted after the commit that owed them,
retried with backoff for a day, then dead (and replayable from the CLI).

Each POST carries the JSON body and these headers (receivers: see the API documentation):

- ``Casedesk-Event``: the event's type, e.g. ``case.created``;
- ``Casedesk-Event-Id``: the event's id, the same on every attempt and replay (deduplicate on it);
- ``Casedesk-Timestamp``: Unix seconds when this attempt was signed;
- ``Casedesk-Signature``: ``v1=`` and the hex HMAC-SHA256, keyed with the webhook's secret,
  of ``{timestamp}.{body}`` (the timestamp header, a dot, the raw body bytes).

The receiver's host is resolved once per attempt and every address checked; the post
connects to a checked address (the name kept as the Host header and for TLS), never to
what a second lookup might give (bot/services/webhooks.py ``pin``).

A 2xx answer is delivered; anything else (another status, a timeout, a refused
connection, an address that became private) is tried again later. Deliveries are posted
by a few worker threads with a short timeout, so a slow or dead receiver holds up none
of the others for long. One row is claimed by one process (``claim_due``); a crash
between a receiver's 2xx and the row marked sent may post it again, which the event id
lets a receiver recognise.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select, update

from bot.services.claims import claim_due
from bot.services.tickets import Clock, utcnow
from bot.services.webhook_events import on_queued
from bot.services.webhooks import WebhookError, pin
from db.models import Webhook, WebhookDelivery
from db.session import Database

log = logging.getLogger(__name__)

TIMEOUT = 10.0
WORKERS = 4
BATCH = 20
CLAIM = timedelta(seconds=TIMEOUT * 3)
# Retries: FIRST_RETRY after the first failure, doubling up to MAX_RETRY, until GIVE_UP
# has passed since the event; then the delivery is dead.
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
GIVE_UP = timedelta(hours=24)
IDLE_SECONDS = 5.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Owed:
    id: int
    event_id: str
    event: str
    body: str
    attempts: int
    created_at: datetime
    url: str
    secret: str
    allow_private: bool


class WebhookSender:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock
        self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, headers={"User-Agent": "Casedesk-Webhooks/1"})
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="casedesk-webhook")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = on_queued(self._wake.set)

    def start(self) -> WebhookSender:
        self._thread = threading.Thread(target=self._loop, name="casedesk-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self.run_once()
            except Exception:  # the database is down, say: try again shortly, never die
                log.exception("the webhook sender failed; retrying")
                busy = False
            if not busy:
                self._wake.wait(self._next_wait())

    def _next_wait(self) -> float:
        """Until the next retry falls due (at most IDLE_SECONDS): commits wake it sooner."""
        with self._db.read() as session:
            due = session.scalar(
                select(func.min(WebhookDelivery.due_at)).where(WebhookDelivery.sent_at.is_(None), WebhookDelivery.dead_at.is_(None))
            )
        if due is None:
            return IDLE_SECONDS
        return min(IDLE_SECONDS, max(0.05, (due - self._clock()).total_seconds()))

    def run_once(self) -> bool:
        """Post what is due now; True when a full batch was claimed (more may be due)."""
        owed = claim_due(self._db, WebhookDelivery, self._clock(), CLAIM, BATCH, lambda r: r.id)
        if not owed:
            return False
        list(self._pool.map(self._post, self._load(owed)))  # waits for the batch
        return len(owed) == BATCH

    def _load(self, ids: list[int]) -> list[Owed]:
        with self._db.read() as session:
            rows = session.execute(
                select(WebhookDelivery, Webhook).join(Webhook, Webhook.id == WebhookDelivery.webhook_id).where(WebhookDelivery.id.in_(ids))
            ).all()
            return [
                Owed(d.id, d.event_id, d.event, d.body, d.attempts, d.created_at, w.url, w.secret, w.allow_private)
                for d, w in rows
            ]

    def _post(self, owed: Owed) -> None:
        status: int | None = None
        error: str | None = None
        try:
            target = pin(owed.url, allow_private=owed.allow_private)
        except WebhookError as why:
            self._failed(owed, None, str(why)[:300])
            return
        body = owed.body.encode()
        stamp = str(int(time.time()))
        headers = {
            "Host": target.host,
            "Content-Type": "application/json",
            "Casedesk-Event": owed.event,
            "Casedesk-Event-Id": owed.event_id,
            "Casedesk-Timestamp": stamp,
            "Casedesk-Signature": signature(owed.secret, stamp, body),
        }
        extensions = {"sni_hostname": target.sni} if target.sni else None
        for url in target.urls:  # the next checked address only when this one cannot be reached
            try:
                status = self._client.post(url, content=body, headers=headers, extensions=extensions).status_code
            except httpx.ConnectError as err:
                error = f"{type(err).__name__}: {err}"[:300]
                continue
            except httpx.HTTPError as err:
                error = f"{type(err).__name__}: {err}"[:300]
                break
            if 200 <= status < 300:
                self._finish(owed.id, sent=True, status=status)
                return
            error = f"HTTP {status}"
            break
        self._failed(owed, status, error or "no address could be reached")

    def _failed(self, owed: Owed, status: int | None, error: str) -> None:
        now = self._clock()
        attempts = owed.attempts + 1
        if now - owed.created_at >= GIVE_UP:
            log.warning("webhook delivery #%d (%s) given up after %d attempts: %s", owed.id, owed.event, attempts, error)
            self._finish(owed.id, sent=False, status=status, error=error, dead_at=now)
            return
        wait = min(FIRST_RETRY * (2 ** (attempts - 1)), MAX_RETRY)
        self._finish(owed.id, sent=False, status=status, error=error, due_at=now + wait)

    def _finish(
        self, delivery_id: int, *, sent: bool, status: int | None, error: str | None = None,
        due_at: datetime | None = None, dead_at: datetime | None = None,
    ) -> None:
        now = self._clock()
        values: dict[str, object] = {
            "claimed_until": None, "attempts": WebhookDelivery.attempts + 1, "last_status": status, "error": error,
        }
        if sent:
            values["sent_at"] = now
        if due_at is not None:
            values["due_at"] = due_at
        if dead_at is not None:
            values["dead_at"] = dead_at
        with self._db.write() as session:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))
