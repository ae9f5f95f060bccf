"""The one sender of everything the desk owes Slack: outbox rows, paced, retried, exactly once.

Rows are rendered when sent, from what is stored. Each post carries Slack message
metadata naming its row; a row whose earlier attempt may have reached Slack (a crash
between the post and its bookkeeping, an answer lost on the way) is first looked for in
the channel and recorded if found, posted only if not. A card is recorded in the same
transaction that marks its row sent.

Slack's rate limits are kept by a token bucket per channel; a 429 that happens anyway
is waited out by the client's retry handler (Retry-After). A post that fails is retried
with backoff through 429s, 5xx and outages; one Slack keeps refusing for a reason of its
own is given up after a few attempts and reported once. The sender sleeps until the
next row falls due and is woken at once by any commit that adds rows.

A customer channel (Slack Connect) whose share is gone is not retried: a post Slack
refuses there with ``channel_not_found`` or ``is_archived`` puts the channel's cases on
hold and parks what is owed there (bot/services/channel_life.py); while it is held,
nothing is posted there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.delivery.pacing import TokenBucket
from bot.services.channel_life import CHANNEL_GONE, ChannelLife
from bot.services.conversations import ConversationService
from bot.services.customer_channels import CustomerChannelRecord, CustomerChannels
from bot.services.errors import PermissionDenied, TicketNotFound
from bot.services.export import export_request, spreadsheet_csv
from bot.services.outbox import DEAD_AFTER, NOT_POSTS, Outbox, Pending, PostKind, mark_sent, on_commit
from bot.services.records import TicketRecord, format_number
from bot.services.reports import ReportQueries
from bot.services.team_service_levels import team_levels
from bot.services.tickets import Clock, TicketService, utcnow
from bot.settings import Settings
from bot.slack.home_tab import HomeTab
from bot.slack.workspace_url import WorkspaceUrl
from bot.views import notices
from bot.views.charts import render_weekly_chart
from bot.views.reports import chart_data
from bot.views.text import is_slack_user, permalink
from bot.views.ticket_card import card_summary, ticket_card
from db.session import Database

log = logging.getLogger(__name__)

POSTS_PER_SECOND = 1.0
POST_BURST = 4
METADATA_TYPE = "casedesk_outbox"
# Errors that say Slack is busy or down, not that the post is wrong: retried for as long as it takes.
TRANSIENT = frozenset({"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"})
MAX_TRANSIENT_BACKOFF = 30.0
MAX_BACKOFF = 600.0
LANES = 8  # channels sent to side by side in one pass
IDLE_WAKE = 10.0  # a safety net: commits and due times wake the sender sooner
LOOKUP_SLACK = 5.0  # seconds of clock skew allowed when looking back for an earlier attempt's post


Landed = tuple[str | None, str | None]


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str
    title: str
    comment: str  # the message it is shared with
    alt_text: str | None = None


class Skip(Exception):
    """Nothing to send for this row (the ticket is gone, an email reporter has no DMs)."""


class ChannelGone(Exception):
    """The row's message is for a customer channel whose share is gone (or Slack says it is)."""

    def __init__(self, channel: str, reason: str) -> None:
        super().__init__(f"{channel}: {reason}")
        self.channel = channel
        self.reason = reason


class OutboxSender:
    def __init__(
        self,
        client: WebClient,
        settings: Settings,
        db: Database,
        tickets: TicketService,
        conversations: ConversationService,
        home: HomeTab,
        workspace_url: WorkspaceUrl,
        clock: Clock = utcnow,
        posts_per_second: float = POSTS_PER_SECOND,
    ) -> None:
        self._client = client
        self._settings = settings
        self._db = db
        self._outbox = Outbox(db, timedelta(seconds=settings.outbox_claim_seconds))
        self._tickets = tickets
        self._conversations = conversations
        self._home = home
        self._workspace_url = workspace_url
        self._reports = ReportQueries(db)
        self._clock = clock
        self._rate = posts_per_second
        self._buckets: dict[str, TokenBucket] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._lanes = ThreadPoolExecutor(max_workers=LANES, thread_name_prefix="casedesk-outbox-lane")
        # Exports take seconds to write (100,000 cases): one at a time, beside the passes, not in them.
        self._exports = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casedesk-outbox-export")
        self._exporting: set[int] = set()  # export rows queued or being written
        self._exports_lock = threading.Lock()
        self._sent = 0
        self._pass_tickets: dict[int, TicketRecord] = {}
        self._pass_customers: dict[str, CustomerChannelRecord | None] = {}  # read once per pass
        # Customer channels (Slack Connect): what the bot says there is for the customer's eyes.
        self.customers: CustomerChannels | None = None
        self.life: ChannelLife | None = None  # and what becomes of them when their share ends
        self._done: list[tuple[int, Landed]] = []
        self._pass_deadline = 0.0
        self._left_over = False
        self._put_off = False

    @property
    def outbox(self) -> Outbox:
        return self._outbox

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> OutboxSender:
        self._unsubscribe = on_commit(self.poke)
        self._thread = threading.Thread(target=self._loop, name="casedesk-outbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._lanes.shutdown(wait=False)
        self._exports.shutdown(wait=False, cancel_futures=True)

    def poke(self) -> None:
        """New rows were committed: look now."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                wait = self.run_once()
            except Exception:  # the database is down, say: try again shortly, never die
                log.exception("the outbox sender failed; retrying")
                wait = 1.0
            if wait > 0:
                self._wake.wait(wait)

    def flush(self, timeout: float) -> int:
        """Send what is due now, at Slack's pace, for at most ``timeout`` seconds (the CLI)."""
        deadline, before = time.monotonic() + timeout, self._sent
        while time.monotonic() < deadline:
            wait = self.run_once()
            if wait > 0 and not self._outbox.has_ready(self._clock() + timedelta(seconds=wait)):
                break
            time.sleep(min(wait, 0.25))
        return self._sent - before

    # ---- one pass ------------------------------------------------------------------

    def run_once(self) -> float:
        """Send what the pacing allows now; returns how long to sleep before the next pass
        (0: go again at once). Rows of one channel (or one ticket's card and tabs) go out in
        order, one lane each; lanes go out side by side."""
        now = self._clock()
        self._pass_tickets, self._done, self._left_over, self._put_off = {}, [], False, False
        self._pass_customers = {}
        claim = self._outbox.claim_for.total_seconds()
        self._pass_deadline = time.monotonic() + claim - min(10.0, claim / 3)  # how long this pass's claims hold
        paused = {ch for ch, bucket in self._buckets.items() if bucket.available() < 1}
        lanes: dict[str, list[Pending]] = {}
        planned: dict[str, int] = {}
        held_back: list[Pending] = []
        homes: set[tuple[int | None, str | None]] = set()
        sent = 0
        try:
            for post in self._outbox.claim(now, sorted(paused)):
                if post.kind is PostKind.EXPORT:
                    self._export(post)
                    continue
                if post.kind in NOT_POSTS:
                    if post.kind is PostKind.HOME and (post.ticket_id, post.text) in homes:
                        self._done.append((post.id, (None, None)))  # the same tabs, published a moment ago
                        continue
                    homes.add((post.ticket_id, post.text))
                    lanes.setdefault(f"ticket:{post.ticket_id}", []).append(post)
                    continue
                channel = post.channel or ""
                if planned.get(channel, 0) >= self._bucket(channel).available():
                    held_back.append(post)
                    paused.add(channel)
                    continue
                planned[channel] = planned.get(channel, 0) + 1
                lanes.setdefault(channel, []).append(post)
            # Someone is waiting for an acknowledgment in their thread; the rest (cards, lines
            # agents read) follows a moment later rather than sharing the interpreter with it.
            acks = [g for g in lanes.values() if any(p.kind is PostKind.ORIGIN_ACK for p in g)]
            sent = self._deliver_lanes(acks)
            sent += self._deliver_lanes([g for g in lanes.values() if not any(p.kind is PostKind.ORIGIN_ACK for p in g)])
        finally:
            # One write for the pass: a crash before it is covered by looking in Slack first.
            try:
                self._outbox.sent_all(self._done, self._clock())
            finally:
                self._outbox.hand_back(held_back)
        self._sent += sent
        # A row put off may fall due before its pass ends (the failed call itself waited out
        # 429s, say) and would then wait for IDLE_WAKE: look again at once; the next pass sends
        # it or sleeps till it is due.
        if sent or self._left_over or self._put_off:
            return 0.0
        pacing = min((self._buckets[ch].wait() for ch in paused if ch in self._buckets), default=IDLE_WAKE)
        return max(0.01, min(pacing, self._until_next_due()))

    def _deliver_lanes(self, groups: list[list[Pending]]) -> int:
        if len(groups) == 1:
            return self._deliver_lane(groups[0])
        return sum(self._lanes.map(self._deliver_lane, groups)) if groups else 0

    def _deliver_lane(self, posts: list[Pending]) -> int:
        return sum(1 for post in posts if self._deliver(post, self._bucket(post.channel)))

    def _ticket(self, ticket_id: int | None) -> TicketRecord:
        """The ticket as stored, read once per pass (a card's post re-reads it)."""
        key = ticket_id or 0
        if key not in self._pass_tickets:
            self._pass_tickets[key] = self._tickets.get(key)
        return self._pass_tickets[key]

    def _until_next_due(self) -> float:
        now = self._clock()
        upcoming = self._outbox.next_due(now)
        if upcoming is None:
            return IDLE_WAKE
        return min(IDLE_WAKE, max(0.01, (upcoming - now).total_seconds()))

    def _bucket(self, channel: str | None) -> TokenBucket:
        key = channel or ""
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(self._rate, POST_BURST)
        return self._buckets[key]

    def _deliver(self, post: Pending, bucket: TokenBucket) -> bool:
        now = self._clock()
        if time.monotonic() > self._pass_deadline:
            # This pass outlived its claim (Slack slow, 429s waited out): another process may
            # hold the row now. Leave it; whoever claims it next looks in Slack first.
            self._left_over = True
            return False
        try:
            landed = self._send(post, bucket)
        except (Skip, TicketNotFound):
            self._done.append((post.id, (None, None)))
            return False
        except ChannelGone as gone:
            known = self._pass_customers.get(gone.channel)
            if known is not None:  # the pass's other rows for it are parked without asking Slack
                self._pass_customers[gone.channel] = replace(known, held=gone.reason)
            try:
                if self.life is not None:
                    self.life.gone(gone.channel, gone.reason, post.id)
            except Exception:  # the database is down: the claim runs out and the row comes back
                log.exception("could not hold customer channel %s", gone.channel)
            return False
        except Exception as err:  # Slack refused or is unreachable, or the database hiccuped
            try:
                self._failed(post, err, now)
            except Exception:  # the database is down too: the claim runs out and the row comes back
                log.exception("could not record the failure of outbox row %s", post.id)
            return False
        if landed is not None:
            self._done.append((post.id, landed))
        return True

    def _failed(self, post: Pending, err: Exception, now: datetime) -> None:
        if isinstance(err, SlackApiError):
            error = str(err.response.get("error") or "unknown")
            status = getattr(err.response, "status_code", 200) or 200
            transient, maybe_landed = error in TRANSIENT or status >= 500, status >= 500
        else:  # a dropped connection or a timeout: the post may have reached Slack
            error, transient, maybe_landed = type(err).__name__, True, True
        if not transient and post.attempts + 1 >= DEAD_AFTER:
            log.error("outbox row %s (%s) given up after %d attempts: %s", post.id, post.kind, post.attempts + 1, error)
            self._outbox.give_up(post, now, error, self._settings.admin_channel)
            return
        cap = MAX_TRANSIENT_BACKOFF if transient else MAX_BACKOFF
        delay = min(cap, 2.0 ** (post.attempts + 1))
        # The first failure of a row is worth a warning; its retries through an outage are not.
        report = log.warning if post.attempts == 0 else log.debug
        report("outbox row %s (%s) failed: %s; retrying in %.0f s", post.id, post.kind, error, delay)
        # A row that may have landed before keeps looking first, whatever this attempt met.
        landed = maybe_landed or post.claimed_before is not None
        self._put_off = True
        self._outbox.later(post.id, now + timedelta(seconds=delay), error=error, landed=landed)

    # ---- rendering and sending -----------------------------------------------------

    def _send(self, post: Pending, bucket: TokenBucket) -> Landed | None:
        """Carry out one row; returns where its message landed, or None when it marked
        itself sent (a card, recorded with its row)."""
        if post.kind is PostKind.CARD:
            self._post_card(post, bucket)
            return None
        if post.kind is PostKind.CARD_REFRESH:
            self._refresh(post)
            return (None, None)
        if post.kind is PostKind.CARD_MOVED:  # the card a moved ticket left behind: says where it went
            self._client.chat_update(channel=post.channel or "", ts=post.thread_ts or "", text=post.text or "", blocks=post.blocks)
            return (None, None)
        if post.kind is PostKind.HOME:  # the row names the people (reporter, assignees) whose tabs show it
            people = {p for p in (post.text or "").split(",") if p}
            self._home.refresh(self._client, self._workspace_url.get(self._client), people)
            return (None, None)
        if post.kind is PostKind.CHART:
            return self._upload_chart(post, bucket)
        channel, text, thread_ts = self._render(post)
        shared = self._customer_channel(channel)
        if shared is None:
            return self._look_and_post(post, bucket, channel, text, thread_ts)
        if shared.held:
            raise ChannelGone(channel, shared.held)
        if post.kind is PostKind.ORIGIN_ACK:  # the customer's own button: their case is solved
            post = replace(post, blocks=notices.customer_ack_blocks(text, post.ticket_id or 0))
        try:
            return self._look_and_post(post, bucket, channel, text, thread_ts)
        except SlackApiError as err:
            error = str(err.response.get("error") or "")
            if error in CHANNEL_GONE:
                raise ChannelGone(channel, error) from err
            raise

    def _look_and_post(self, post: Pending, bucket: TokenBucket, channel: str, text: str, thread_ts: str | None) -> Landed:
        found = self._look_for(post, channel, thread_ts)
        if found:
            return found
        bucket.take()
        return self._post(post, channel, text, thread_ts)

    def _render(self, post: Pending) -> tuple[str, str, str | None]:
        """(channel, text, thread) of a row that posts a message."""
        kind = post.kind
        if kind is PostKind.POST:
            return post.channel or "", post.text or "", post.thread_ts
        if kind is PostKind.ORIGIN_ACK:
            shared = self._customer_channel(post.channel)
            if shared is not None:  # read by the other organisation: the case's number only, no link to the card
                return post.channel or "", notices.customer_case_opened(format_number(post.ticket_id or 0), shared.ack_text), post.thread_ts
        ticket = self._ticket(post.ticket_id)
        link = permalink(self._workspace_url.get(self._client), ticket.card_channel or "", ticket.card_ts or "")
        card_channel, card_ts = ticket.card_channel or "", ticket.card_ts
        if kind is PostKind.ORIGIN_ACK:
            return post.channel or "", notices.case_opened(ticket, link), post.thread_ts
        if kind is PostKind.FOLLOW_UP:
            message = self._conversations.message(post.message_id or 0)
            if message is None or message.deleted_at is not None:
                raise Skip()
            return card_channel, notices.case_message_line(ticket, message, ticket.status.value == "closed"), card_ts
        if kind is PostKind.PUBLIC_REPLY:
            reply = self._conversations.message(post.message_id or 0)
            # Only what is stored as public reaches the requester, whatever asked for it.
            if reply is None or reply.deleted_at is not None or reply.internal:
                raise Skip()
            return post.channel or "", notices.public_reply(ticket, reply), post.thread_ts
        if kind is PostKind.ALERT:
            return post.channel or "", notices.escalation_alert(ticket, post.text or "", link), None
        if kind is PostKind.SLA_ALERT:
            return post.channel or "", notices.sla_breach_alert(ticket, post.text or "", link), None
        if kind is PostKind.SLA_WARNING:
            return post.channel or "", notices.sla_warning(ticket, post.text or "", link), None
        if kind is PostKind.CARD_THREAD:
            return card_channel, post.text or "", card_ts
        if kind is PostKind.CHANGE_LINE:
            text = post.text or notices.thread_line(self._tickets.change_of(post.event_id or 0))
            return card_channel, text, card_ts
        if kind is PostKind.ADMIN_NEW:
            return post.channel or "", notices.admin_new_ticket(ticket, link), None
        if kind is PostKind.REOPENED_NOTE:
            return post.channel or "", notices.reopened_by_reply(ticket), post.thread_ts
        return self._render_dm(post, ticket, link)

    def _render_dm(self, post: Pending, ticket: TicketRecord, link: str | None) -> tuple[str, str, str | None]:
        user = post.user_id or ""
        if not is_slack_user(user):
            raise Skip()  # an email reporter is answered by mail, not here
        if post.kind is PostKind.FILED_DM:
            return user, notices.filed_confirmation(ticket, link), None
        change = self._tickets.change_of(post.event_id or 0)
        if post.kind is PostKind.REPORTER_DM and ticket.origin_ts and self._customer_channel(ticket.origin_channel):
            # A customer channel's requester reads the resolution in their thread, without the card's link.
            text = notices.reporter_update(change, None)
            if not text:
                raise Skip()
            return ticket.origin_channel or "", text, ticket.origin_ts
        text = notices.reporter_update(change, link) if post.kind is PostKind.REPORTER_DM else notices.assignee_notice(change, link)
        if not text:
            raise Skip()
        return user, text, None

    def _customer_channel(self, channel: str | None) -> CustomerChannelRecord | None:
        if self.customers is None or not channel:
            return None
        if channel not in self._pass_customers:
            record = self.customers.current(channel)
            if record is not None and record.held:  # a hold parks posts: believed only as stored now
                record = self.customers.get(channel)
            self._pass_customers[channel] = record
        return self._pass_customers[channel]

    def _post(self, post: Pending, channel: str, text: str, thread_ts: str | None) -> tuple[str, str]:
        posted = self._client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=post.blocks,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            metadata=_metadata(post),
        )
        return str(posted["channel"]), str(posted["ts"])

    def _post_card(self, post: Pending, bucket: TokenBucket) -> None:
        ticket = self._tickets.get(post.ticket_id or 0)
        channel = post.channel or self._settings.support_channel
        landed = (ticket.card_channel, ticket.card_ts) if ticket.card_ts else self._look_for(post, channel, None)
        if not landed or not landed[1]:
            bucket.take()
            posted = self._client.chat_postMessage(
                channel=channel,
                text=card_summary(ticket),
                blocks=self._card(ticket),
                unfurl_links=False,
                unfurl_media=False,
                metadata=_metadata(post),
            )
            landed = (str(posted["channel"]), str(posted["ts"]))
        card_channel, card_ts = str(landed[0]), str(landed[1])
        with self._db.write() as session:  # the card and its row, recorded together
            self._tickets.record_card_in(session, ticket.id, card_channel, card_ts)
            mark_sent(session, post.id, self._clock(), card_channel, card_ts)
        self._pass_tickets.pop(ticket.id, None)

    def _card(self, ticket: TicketRecord) -> list[dict[str, Any]]:
        """The card as it stands now: its SLA lines say how long is left as it is drawn."""
        levels = self._settings.service_levels
        if ticket.team_id is not None:  # a team may keep its own hours
            with self._db.read() as session:
                levels = team_levels(session, ticket.team_id, levels)
        return ticket_card(ticket, self._settings.tz, now=self._clock(), calendar=levels.calendar)

    def _refresh(self, post: Pending) -> None:
        ticket = self._ticket(post.ticket_id)
        self._client.chat_update(
            channel=ticket.card_channel or "",
            ts=ticket.card_ts or "",
            text=card_summary(ticket),
            blocks=self._card(ticket),
        )

    def _upload_chart(self, post: Pending, bucket: TokenBucket) -> Landed:
        """The weekly chart of the four weeks up to the row's time, drawn now from what is
        stored and uploaded (files.uploadV2) with its alt text."""
        chart = render_weekly_chart(chart_data(self._reports.chart(datetime.fromisoformat(post.text or ""), self._settings.tz)))
        channel = post.channel or self._settings.support_channel
        upload = Upload(chart.png, chart.filename, chart.title, f"📈 {chart.title}", chart.alt_text)
        return self._upload(post, bucket, channel, upload)

    def _export(self, post: Pending) -> None:
        """Queue an export row for the export thread; its claim covers it meanwhile. A row
        claimed again while still queued here (its claim ran out) is not queued twice."""
        with self._exports_lock:
            if post.id in self._exporting:
                return
            self._exporting.add(post.id)
        self._exports.submit(self._export_alone, post)

    def _export_alone(self, post: Pending) -> None:
        """Carry out an export row outside the passes, and record how it went."""
        try:
            self._export_once(post)
        finally:
            with self._exports_lock:
                self._exporting.discard(post.id)

    def _export_once(self, post: Pending) -> None:
        now = self._clock()
        try:
            landed = self._upload_export(post, TokenBucket(self._rate, POST_BURST))
        except (Skip, TicketNotFound):
            landed = (None, None)
        except Exception as err:  # Slack refused or is unreachable, or the database hiccuped
            try:
                self._failed(post, err, now)
            except Exception:  # the database is down too: the claim runs out and the row comes back
                log.exception("could not record the failure of outbox row %s", post.id)
            self.poke()
            return
        try:
            self._outbox.sent_all([(post.id, landed)], self._clock())
        except Exception:  # the claim runs out; the next attempt finds the file in the DM first
            log.exception("could not record outbox row %s as sent", post.id)

    def _upload_export(self, post: Pending, bucket: TokenBucket) -> Landed:
        """A list's cases as a CSV file, written now and uploaded to the agent's DM."""
        viewer = post.user_id or ""
        words, flt = export_request(post.text or "")
        try:
            made = spreadsheet_csv(self._db, flt, viewer, self._settings.system_users)
        except PermissionDenied:
            raise Skip() from None  # no longer an agent: nothing to send
        # Named by its row, so an earlier attempt's file is recognised after a crash.
        filename = f"cases-{self._clock():%Y-%m-%d}-{post.id}.csv"
        channel = str(self._client.conversations_open(users=viewer)["channel"]["id"])
        upload = Upload(made.content, filename, "Cases" + (f": {words}" if words else ""), notices.export_ready(words, made.rows, made.cut))
        return self._upload(post, bucket, channel, upload)

    def _upload(self, post: Pending, bucket: TokenBucket, channel: str, upload: Upload) -> Landed:
        """Upload a file (files.uploadV2) with its message, once: an upload carries no message
        metadata, so an earlier attempt's is known by its file's name."""
        found = self._look_for(post, channel, None, lambda m: any(f.get("name") == upload.filename for f in m.get("files") or []))
        if found:
            return found
        bucket.take()
        self._client.files_upload_v2(
            channel=channel, content=upload.content, filename=upload.filename, title=upload.title,
            initial_comment=upload.comment, alt_txt=upload.alt_text,
        )
        return channel, None

    # ---- finding an earlier attempt's post ------------------------------------------

    def _look_for(
        self, post: Pending, channel: str, thread_ts: str | None, is_it: Callable[[dict[str, Any]], bool] | None = None
    ) -> tuple[str, str] | None:
        """Where an earlier attempt of this row posted, if it did; None when it did not
        (or when no earlier attempt may have reached Slack). ``is_it``: how to know that
        post, when it carries no metadata naming the row."""
        if post.claimed_before is None or post.kind in NOT_POSTS:
            return None
        if is_slack_user(channel):
            channel = str(self._client.conversations_open(users=channel)["channel"]["id"])
        oldest = f"{post.claimed_before.timestamp() - LOOKUP_SLACK:.6f}"
        cursor: str | None = None
        while True:
            args: dict[str, Any] = {"channel": channel, "oldest": oldest, "include_all_metadata": True, "limit": 200}
            if cursor:
                args["cursor"] = cursor
            page = (
                self._client.conversations_replies(ts=thread_ts, **args)
                if thread_ts
                else self._client.conversations_history(**args)
            )
            for message in page.get("messages") or []:
                if is_it(message) if is_it is not None else _is_ours(message, post.id):
                    log.info("outbox row %s was posted before a crash; recorded, not posted again", post.id)
                    return channel, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None


def _metadata(post: Pending) -> dict[str, Any]:
    return {"event_type": METADATA_TYPE, "event_payload": {"row": post.id}}


def _is_ours(message: dict[str, Any], row_id: int) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == METADATA_TYPE and str(payload.get("row")) == str(row_id)
