"""Outgoing webhooks: the URLs admins register (with a secret and the events each wants),
the deliveries owed to them, listed and replayed.

A URL must be http or https with a host; one that is, or resolves to, a loopback, private,
link-local or otherwise non-public address is refused (a webhook must not become a way to
reach the desk's own network) unless the admin explicitly allows private addresses for it.

A name that resolved to a public address when the webhook was added may resolve to a
private one later (DNS rebinding), so the sender does not let the HTTP client resolve it
again: ``pin`` resolves the host once per delivery, checks every address, and gives the
URLs to connect to by address, with the name kept for the Host header and TLS (SNI and the
certificate check). ``RESOLVE`` is the one resolver both use; tests replace it.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, update

from bot.services.errors import ServiceError
from bot.services.tickets import Clock, utcnow
from db.models import DeskEvent, Webhook, WebhookDelivery
from db.session import Database

EVENTS = ("case.created", "case.updated", "case.status_changed", "case.assigned", "message.created", "sla.breached")
MAX_URL = 2000


class WebhookError(ServiceError):
    """A registration that cannot be kept; ``str`` says why."""


@dataclass(frozen=True)
class WebhookRecord:
    id: int
    url: str
    events: tuple[str, ...]
    allow_private: bool
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: Webhook) -> WebhookRecord:
        return cls(row.id, row.url, tuple(row.events.split(",")), row.allow_private, row.created_by, row.created_at)


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    webhook_id: int
    event_id: str
    event: str
    ticket_id: int | None
    created_at: datetime
    attempts: int
    last_status: int | None
    error: str | None
    sent_at: datetime | None
    dead_at: datetime | None

    @property
    def state(self) -> str:
        return "sent" if self.sent_at else "dead" if self.dead_at else "pending"

    @classmethod
    def of(cls, r: WebhookDelivery) -> DeliveryRecord:
        return cls(
            r.id, r.webhook_id, r.event_id, r.event, r.ticket_id, r.created_at, r.attempts, r.last_status, r.error,
            r.sent_at, r.dead_at,
        )


def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the system resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


# How a host name becomes addresses, at registration and before each delivery.
RESOLVE: Callable[[str, int], list[str]] = system_resolve


@dataclass(frozen=True)
class Pinned:
    """Where to post a webhook: each URL names one checked address (tried in order), and
    the request carries ``host`` as its Host header and ``sni`` as its TLS server name."""

    urls: tuple[str, ...]
    host: str
    sni: str | None


def _shape_problem(url: str) -> str | None:
    if len(url) > MAX_URL:
        return f"The URL is longer than {MAX_URL} characters."
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "The URL must start with http:// or https:// and name a host."
    if parts.username or parts.password:
        return "Put no user or password in the URL: the receiver checks the signature instead."
    return None


def _addresses(url: str, *, allow_private: bool) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The addresses the URL's host resolves to now, each checked; WebhookError saying why not."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a) for a in RESOLVE(host, parts.port or (443 if parts.scheme == "https" else 80))]
        except (OSError, UnicodeError, ValueError):
            raise WebhookError(f"The host {host} cannot be resolved.") from None
    if not addresses:
        raise WebhookError(f"The host {host} cannot be resolved.")
    for address in addresses:
        if not allow_private and not address.is_global:
            raise WebhookError(
                f"{host} is a loopback, private or reserved address ({address}): webhooks go to public "
                "addresses unless an admin allows private ones for this webhook."
            )
    return addresses


def url_problem(url: str, *, allow_private: bool) -> str | None:
    """Why this URL cannot be posted to (None: it can)."""
    shape = _shape_problem(url)
    if shape or allow_private:
        return shape
    try:
        _addresses(url, allow_private=False)
    except WebhookError as err:
        return str(err)
    return None


def pin(url: str, *, allow_private: bool) -> Pinned:
    """Resolve the URL's host once and check each address (any address when the admin
    allowed private ones); WebhookError saying why it cannot be posted to."""
    shape = _shape_problem(url)
    if shape:
        raise WebhookError(shape)
    parts = urlsplit(url)
    host = parts.hostname or ""
    urls = tuple(
        urlunsplit(parts._replace(netloc=_netloc(address, parts.port))) for address in _addresses(url, allow_private=allow_private)
    )
    return Pinned(urls, parts.netloc, host if parts.scheme == "https" else None)


def _netloc(address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int | None) -> str:
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"{shown}:{port}" if port else shown


class Webhooks:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    def add(
        self, actor: str, url: str, events: list[str], *, secret: str | None = None, allow_private: bool = False
    ) -> tuple[WebhookRecord, str]:
        """Register a webhook; returns it and its secret (generated when none is given)."""
        url = url.strip()
        why = url_problem(url, allow_private=allow_private)
        if why:
            raise WebhookError(why)
        wanted = list(dict.fromkeys(e.strip() for e in events if e.strip())) or list(EVENTS)
        unknown = [e for e in wanted if e not in EVENTS]
        if unknown:
            raise WebhookError(f"Unknown events: {', '.join(unknown)}. Known: {', '.join(EVENTS)}.")
        secret = secret or secrets.token_urlsafe(32)
        if len(secret) < 16 or len(secret) > 200:
            raise WebhookError("A webhook's secret is 16 to 200 characters.")
        now = self._clock()
        with self._db.write() as session:
            row = Webhook(
                url=url, secret=secret, events=",".join(wanted), allow_private=allow_private, created_by=actor[:32],
                created_at=now,
            )
            session.add(row)
            session.flush()
            session.add(DeskEvent(actor_id=actor[:32], kind="webhook_added", subject=f"#{row.id}", to_value=url, created_at=now))
            return WebhookRecord.of(row), secret

    def remove(self, actor: str, webhook_id: int) -> WebhookRecord:
        """No further events are queued for it; those owed are still sent."""
        now = self._clock()
        with self._db.write() as session:
            row = session.get(Webhook, webhook_id)
            if row is None or row.removed_at is not None:
                raise WebhookError(f"There is no webhook #{webhook_id}.")
            row.removed_at = now
            session.add(DeskEvent(actor_id=actor[:32], kind="webhook_removed", subject=f"#{row.id}", from_value=row.url, created_at=now))
            return WebhookRecord.of(row)

    def all(self) -> list[WebhookRecord]:
        with self._db.read() as session:
            rows = session.scalars(select(Webhook).where(Webhook.removed_at.is_(None)).order_by(Webhook.id))
            return [WebhookRecord.of(r) for r in rows]

    def deliveries(self, webhook_id: int | None = None, *, state: str | None = None, limit: int = 50) -> list[DeliveryRecord]:
        """The newest deliveries (of one webhook; ``state``: pending, sent or dead)."""
        query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
        if webhook_id is not None:
            query = query.where(WebhookDelivery.webhook_id == webhook_id)
        if state == "sent":
            query = query.where(WebhookDelivery.sent_at.is_not(None))
        elif state == "dead":
            query = query.where(WebhookDelivery.dead_at.is_not(None))
        elif state == "pending":
            query = query.where(WebhookDelivery.sent_at.is_(None), WebhookDelivery.dead_at.is_(None))
        with self._db.read() as session:
            return [DeliveryRecord.of(r) for r in session.scalars(query)]

    def replay(self, delivery_ids: list[int] | None = None, *, dead: bool = False) -> int:
        """Post these deliveries again (or every dead one): same event id and body, so a
        receiver that got it before can tell. Returns how many will be sent."""
        now = self._clock()
        query = update(WebhookDelivery).values(
            due_at=now, claimed_until=None, sent_at=None, dead_at=None, attempts=0, error=None, created_at=now
        )
        if delivery_ids is not None:
            query = query.where(WebhookDelivery.id.in_(delivery_ids))
        elif dead:
            query = query.where(WebhookDelivery.dead_at.is_not(None))
        else:
            return 0
        with self._db.write() as session:
            return int(session.execute(query).rowcount)  # type: ignore[attr-defined]
