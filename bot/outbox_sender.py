"""Sends the outbox's posts to Slack, paced to Slack's per-channel limit.

chat.postMessage allows about one message a second per channel with short bursts;
a token bucket per channel keeps the bot under it, so a burst of new cases becomes a
steady stream of posts instead of a wall of HTTP 429s. A 429 that happens anyway is
waited out by the client's retry handler (Retry-After). Posts that fail are retried
with backoff; none is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.deps import WorkspaceUrl
from bot.services.conversations import ConversationService
from bot.services.errors import TicketNotFound
from bot.services.outbox import Outbox, Pending, PostKind
from bot.services.records import TicketRecord
from bot.services.tickets import Clock, TicketService, utcnow
from bot.views import notices
from bot.views.text import permalink
from bot.views.ticket_card import card_summary, ticket_card

log = logging.getLogger(__name__)

POSTS_PER_SECOND = 1.0
POST_BURST = 4
# chat.update is Tier 3 (50+ a minute) per workspace.
UPDATES_PER_SECOND = 0.8
UPDATE_BURST = 10
WAIT_FOR_CARD = timedelta(seconds=60)  # a safety net: the card's post makes waiting posts due at once
MAX_BACKOFF = 600.0


class TokenBucket:
    def __init__(self, rate: float, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._now = rate, float(burst), now
        self._tokens, self._at = float(burst), now()

    def available(self) -> int:
        self._refill()
        return int(self._tokens)

    def take(self) -> None:
        self._refill()
        self._tokens -= 1.0

    def wait(self) -> float:
        """Seconds until one token is there."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1.0 - self._tokens) / self._rate

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now


class Postpone(Exception):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class OutboxSender:
    def __init__(
        self,
        client: WebClient,
        settings: Settings,
        outbox: Outbox,
        tickets: TicketService,
        conversations: ConversationService,
        workspace_url: WorkspaceUrl,
        clock: Clock = utcnow,
        posts_per_second: float = POSTS_PER_SECOND,
    ) -> None:
        self._client = client
        self._settings = settings
        self._outbox = outbox
        self._tickets = tickets
        self._conversations = conversations
        self._workspace_url = workspace_url
        self._clock = clock
        self._rate = posts_per_second
        self._buckets: dict[str, TokenBucket] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> OutboxSender:
        self._thread = threading.Thread(target=self._loop, name="casedesk-outbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def poke(self) -> None:
        """New posts are waiting: look now rather than at the next tick."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database is down, say: try again shortly, never die
                log.exception("the outbox sender failed; retrying")
                busy = False
            if not busy:
                self._wake.wait(0.25)
                self._wake.clear()

    def flush(self, timeout: float) -> int:
        """Send what is due now, at Slack's pace, for at most ``timeout`` seconds (the CLI)."""
        deadline, sent = time.monotonic() + timeout, 0
        while time.monotonic() < deadline and self._outbox.due_channels(self._clock()):
            if self.run_once():
                sent += 1
            else:
                time.sleep(0.25)
        return sent

    # ---- one pass ------------------------------------------------------------------

    def run_once(self) -> bool:
        """Send what the pacing allows now; True when something was sent."""
        sent = 0
        for channel in self._outbox.due_channels(self._clock()):
            bucket = self._bucket(channel)
            room = bucket.available()
            if room < 1:
                continue
            for post in self._outbox.claim(self._clock(), channel, room):
                if self._deliver(post, bucket):
                    sent += 1
        return sent > 0

    def _bucket(self, channel: str | None) -> TokenBucket:
        channel = channel or ""
        if channel not in self._buckets:
            self._buckets[channel] = TokenBucket(self._rate, POST_BURST)
        return self._buckets[channel]

    def _deliver(self, post: Pending, bucket: TokenBucket) -> bool:
        now = self._clock()
        try:
            if post.kind is PostKind.CARD_REFRESH:
                self._refresh(post)
            else:
                bucket.take()
                self._send(post)
        except Postpone as wait:
            self._outbox.later(post.id, now + timedelta(seconds=wait.seconds))
            return False
        except TicketNotFound:
            self._outbox.sent(post.id, now)  # the ticket is gone: nothing to say
            return False
        except Exception as err:  # Slack refused or is unreachable, or the database hiccuped
            error = err.response.get("error") if isinstance(err, SlackApiError) else type(err).__name__
            delay = min(MAX_BACKOFF, 2.0 ** (post.attempts + 1))
            log.warning("outbox post %s (%s) failed: %s; retrying in %.0f s", post.id, post.kind, error, delay)
            self._outbox.later(post.id, now + timedelta(seconds=delay), error=str(error), attempt=True)
            return False
        self._outbox.sent(post.id, self._clock())
        return True

    # ---- rendering -----------------------------------------------------------------

    def _send(self, post: Pending) -> None:
        if post.kind is PostKind.CARD:
            self._post_card(post)
        elif post.kind is PostKind.ORIGIN_ACK:
            ticket = self._with_card(post)
            link = permalink(self._workspace_url.get(self._client), ticket.card_channel or "", ticket.card_ts or "")
            self._post(post.channel or "", notices.case_opened(ticket, link), post.thread_ts)
        elif post.kind is PostKind.FOLLOW_UP:
            ticket = self._with_card(post)
            message = self._conversations.message(post.message_id or 0)
            if message is None or message.deleted_at is not None:
                return
            text = notices.case_message_line(ticket, message, closed=ticket.status.value == "closed")
            self._post(ticket.card_channel or "", text, ticket.card_ts)
        elif post.kind is PostKind.ALERT:
            ticket = self._tickets.get(post.ticket_id or 0)
            link = permalink(self._workspace_url.get(self._client), ticket.card_channel or "", ticket.card_ts or "")
            self._post(post.channel or "", notices.escalation_alert(ticket, post.text or "", link), None)
        elif post.kind is PostKind.CARD_THREAD:
            ticket = self._with_card(post)
            self._post(ticket.card_channel or "", post.text or "", ticket.card_ts)
        else:
            self._post(post.channel or "", post.text or "", post.thread_ts)

    def _post_card(self, post: Pending) -> None:
        ticket = self._tickets.get(post.ticket_id or 0)
        if ticket.card_ts:
            return  # posted already (a retried claim)
        posted = self._client.chat_postMessage(
            channel=post.channel or self._settings.support_channel,
            text=card_summary(ticket),
            blocks=ticket_card(ticket, self._settings.tz),
            unfurl_links=False,
            unfurl_media=False,
        )
        self._tickets.record_card(ticket.id, posted["channel"], posted["ts"])
        self._outbox.release_waiting(ticket.id, self._clock())

    def _refresh(self, post: Pending) -> None:
        ticket = self._with_card(post)
        self._client.chat_update(
            channel=ticket.card_channel or "",
            ts=ticket.card_ts or "",
            text=card_summary(ticket),
            blocks=ticket_card(ticket, self._settings.tz),
        )

    def _with_card(self, post: Pending) -> TicketRecord:
        ticket = self._tickets.get(post.ticket_id or 0)
        if not (ticket.card_channel and ticket.card_ts):
            raise Postpone(WAIT_FOR_CARD.total_seconds())
        return ticket

    def _post(self, channel: str, text: str, thread_ts: str | None) -> None:
        self._client.chat_postMessage(
            channel=channel, text=text, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False
        )
