"""The double's workspace: users, channels, messages, views, triggers, pins.

All state sits behind one lock; every change notifies a condition so that tests
can wait for what the bot does instead of sleeping.
"""

from __future__ import annotations

import itertools
import mimetypes
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

TRIGGER_TTL = 3.0
TEAM_ID = "T0CASEDESK"
APP_ID = "A0CASEDESK"
BOT_USER_ID = "U0CASEBOT"
BOT_ID = "B0CASEBOT"

# Every wait gives up no sooner than this (seconds). The tests raise it: on a busy machine
# what a test waits for can take longer than the wait's own timeout, and a wait returns the
# moment its condition holds, so a longer limit costs a passing test nothing.
min_wait = 0.0


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    edited_ts: str | None = None
    deleted: bool = False
    posted_at: float = field(default_factory=time.perf_counter)
    edits: list[float] = field(default_factory=list)  # perf_counter of each chat.update
    metadata: dict[str, Any] | None = None  # Slack message metadata (event_type, event_payload)
    files: list[dict[str, Any]] | None = None  # files shared with the message (files.completeUploadExternal)

    def as_payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text, "team": TEAM_ID}
        if self.user:
            body["user"] = self.user
        if self.bot_id:
            body["bot_id"] = self.bot_id
        if self.blocks is not None:
            body["blocks"] = self.blocks
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.metadata is not None:
            body["metadata"] = self.metadata
        if self.files is not None:
            body["files"], body["upload"] = self.files, True
        return body

    def all_text(self) -> str:
        """The text a person would read: ``text`` plus every text inside the blocks."""
        parts = [self.text]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                    parts.append(node["text"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.blocks or [])
        return "\n".join(parts)

    def buttons(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(block, element) for every button on the message."""
        found = []
        for block in self.blocks or []:
            candidates = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
            for el in candidates:
                if isinstance(el, dict) and el.get("type") == "button":
                    found.append((block, el))
        return found

    def button_labels(self) -> list[str]:
        return [el["text"]["text"] for _, el in self.buttons()]


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    ts: str


@dataclass
class OpenView:
    id: str
    user: str
    view: dict[str, Any]
    hash: str
    trigger_id: str | None
    opened_at: float
    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    closed: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    updates: list[float] = field(default_factory=list)  # perf_counter of each views.update


@dataclass
class Upload:
    """A file sent as files_upload_v2 sends it: files.getUploadURLExternal, its bytes POSTed
    to the upload URL, then files.completeUploadExternal shares it (or keeps it private)."""

    id: str
    filename: str
    length: int
    key: str  # the upload URL's secret part
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None  # once POSTed to the upload URL
    completed: bool = False
    title: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None  # the message that shared it

    def as_file(self) -> dict[str, Any]:
        """The file object as Slack returns it (the fields the desk may read)."""
        ext = self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": mimetypes.guess_type(self.filename)[0] or "application/octet-stream",
            "filetype": ext,
            "size": len(self.data or b""),
            "user": BOT_USER_ID,
        }
        if self.alt_txt:
            body["alt_txt"] = self.alt_txt
        return body


@dataclass
class ApiCall:
    method: str
    args: dict[str, Any]
    at: float
    ok: bool
    error: str | None


@dataclass
class Channel:
    id: str
    name: str
    members: set[str]
    is_private: bool = False
    im_user: str | None = None
    # Slack Connect: the other organisations the channel is shared with, and which one
    # created it (None: ours).
    connected: set[str] = field(default_factory=set)
    host_team: str | None = None
    # Archived, or frozen when a Slack Connect share was severed: posts answer is_archived.
    is_archived: bool = False


class Changes(threading.Condition):
    """The workspace's condition, counting its changes: a watcher (the sandbox page's live
    stream) waits for the count to move instead of comparing state."""

    def __init__(self, lock: threading.RLock) -> None:
        super().__init__(lock)
        self.version = 0

    def notify_all(self) -> None:
        self.version += 1  # callers hold the lock
        super().notify_all()

    def wait_past(self, version: int, timeout: float) -> int:
        """The count once it is past ``version``, or as it is after ``timeout`` seconds."""
        with self:
            self.wait_for(lambda: self.version != version, timeout)
            return self.version


class Workspace:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = Changes(self.lock)
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, OpenView] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, tuple[float, str, bool]] = {}
        self.views_by_trigger: dict[str, OpenView] = {}
        self._view_opened: dict[str, threading.Event] = {}
        self.pins: dict[str, list[str]] = {}
        self.uploads: dict[str, Upload] = {}  # file ID → upload
        # Files people shared in messages, in full, by ID: what files.info answers (events in
        # a shared channel carry only a stub of each).
        self.files: dict[str, dict[str, Any]] = {}
        self.calls: list[ApiCall] = []
        # Other organisations (Slack Connect), by team id: {id, name, domain}; their people
        # are in ``users`` with their own team_id but not in our directory.
        self.teams: dict[str, dict[str, Any]] = {}
        # users.info answers these users with this error (user_not_found, user_not_visible).
        self.hidden_users: dict[str, str] = {}
        # Called with each message the bot posts or edits, outside the lock; for
        # harnesses that must not scan every message on every change.
        self.message_hooks: list[Callable[[Message], None]] = []
        # IDs unique across workspaces too, as Slack's are: a database kept from an earlier
        # double must not meet the same view IDs again.
        self._counter = itertools.count(random.randrange(1, 9_000_000) * 10)
        self._last_ts = 0
        self.add_user(BOT_USER_ID, "casedesk", is_bot=True)

    def clear(self) -> None:
        """Forget every message, view, pin and call; keep the people and the channels."""
        with self.changed:
            for channel in [c for c in self.channels.values() if c.im_user]:
                del self.channels[channel.id]
                self.messages.pop(channel.id, None)
            for messages in self.messages.values():
                messages.clear()
            for kept in (self.ephemerals, self.calls):
                kept.clear()
            for table in (self.views, self.home_views, self.triggers, self.views_by_trigger, self._view_opened, self.pins):
                table.clear()
            self.uploads.clear()
            self.files.clear()
            self.changed.notify_all()

    # ---- setup ---------------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, is_bot: bool = False, email: str | None = None) -> None:
        with self.lock:
            self.users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": name,
                "real_name": name.title(),
                "is_bot": is_bot,
                "deleted": False,
                "locale": "en-US",
                "profile": {"real_name": name.title(), "display_name": name, "email": email or f"{name}@example.com"},
            }

    def add_team(self, team_id: str, name: str) -> None:
        """Another organisation, as Slack Connect shows it to us."""
        with self.lock:
            self.teams[team_id] = {"id": team_id, "name": name, "domain": name.lower().replace(" ", "-")}

    def add_external_user(self, user_id: str, team_id: str, name: str, *, email: str | None = None) -> None:
        """A member of another organisation: their own team_id, names under ``profile`` only,
        no locale, an email only when their organisation shows it."""
        with self.lock:
            profile: dict[str, Any] = {"real_name": name.title(), "display_name": name, "team": team_id}
            if email:
                profile["email"] = email
            self.users[user_id] = {
                "id": user_id, "team_id": team_id, "name": name, "is_bot": False, "deleted": False,
                "is_stranger": not self.shares_with(team_id), "profile": profile,
            }

    def team_of(self, user_id: str | None) -> str:
        with self.lock:
            return str((self.users.get(user_id or "") or {}).get("team_id") or TEAM_ID)

    def shares_with(self, team_id: str) -> bool:
        """Whether some channel we are in is shared with that organisation."""
        with self.lock:
            return any(team_id in ch.connected for ch in self.channels.values())

    def share(self, channel_id: str, team_id: str, *, their_channel: bool = False) -> None:
        with self.changed:
            ch = self.channels[channel_id]
            ch.connected.add(team_id)
            ch.host_team = team_id if their_channel else None
            for user in self.users.values():
                if user.get("team_id") == team_id:
                    user["is_stranger"] = False
            self.changed.notify_all()

    def unshare(self, channel_id: str, team_id: str) -> bool:
        """The other organisation leaves the channel; whether it is still shared with another."""
        with self.changed:
            ch = self.channels[channel_id]
            ch.connected.discard(team_id)
            if ch.host_team == team_id:
                ch.host_team = None
            self.changed.notify_all()
            return bool(ch.connected)

    def change_channel_id(self, old: str, new: str) -> None:
        """Slack gives the channel a new id (a private channel's, when a share starts; our
        copy of a channel the other organisation hosted, when it is disconnected): its
        messages go with it and the old id is unknown from now on (channel_not_found)."""
        with self.changed:
            ch = self.channels.pop(old)
            ch.id = new
            self.channels[new] = ch
            messages = self.messages.pop(old, [])
            for msg in messages:
                msg.channel = new
            self.messages[new] = messages
            if old in self.pins:
                self.pins[new] = self.pins.pop(old)
            self.changed.notify_all()

    def add_channel(self, channel_id: str, name: str, *, members: list[str] | None = None, bot_member: bool = True) -> None:
        with self.lock:
            people = set(members or [])
            if bot_member:
                people.add(BOT_USER_ID)
            self.channels[channel_id] = Channel(channel_id, name, people, is_private=channel_id.startswith("G"))
            self.messages.setdefault(channel_id, [])

    # ---- ids -------------------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):08d}"

    def next_ts(self) -> str:
        """Slack's ts: the posting time in microseconds, unique and increasing per workspace."""
        with self.lock:
            micros = max(self._last_ts + 1, int(time.time() * 1_000_000))
            self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def issue_trigger(self, user: str) -> str:
        with self.lock:
            trigger_id = f"{next(self._counter)}.{TEAM_ID}.trigger"
            self.triggers[trigger_id] = (time.monotonic(), user, False)
            return trigger_id

    def record_view(self, opened: OpenView) -> None:
        with self.changed:
            self.views[opened.id] = opened
            if opened.trigger_id:
                self.views_by_trigger[opened.trigger_id] = opened
                self._view_opened.setdefault(opened.trigger_id, threading.Event()).set()
            self.changed.notify_all()

    def wait_view(self, trigger_id: str, timeout: float) -> OpenView:
        """The view opened with this trigger_id, once the bot has opened it."""
        with self.lock:
            event = self._view_opened.setdefault(trigger_id, threading.Event())
        if not event.wait(timeout):
            raise TimeoutError(f"timed out after {timeout}s waiting for views.open")
        return self.views_by_trigger[trigger_id]

    def use_trigger(self, trigger_id: str) -> tuple[str | None, str | None]:
        """(user, error): a trigger_id works once, within 3 s."""
        with self.lock:
            entry = self.triggers.get(trigger_id)
            if entry is None:
                return None, "invalid_trigger_id"
            issued, user, used = entry
            if used:
                return None, "exchanged_trigger_id"
            if time.monotonic() - issued > TRIGGER_TTL:
                return None, "expired_trigger_id"
            self.triggers[trigger_id] = (issued, user, True)
            return user, None

    # ---- conversations -------------------------------------------------------

    def dm_channel(self, user: str) -> Channel:
        with self.lock:
            for ch in self.channels.values():
                if ch.im_user == user:
                    return ch
            channel_id = self.next_id("D")
            ch = Channel(channel_id, user, {user, BOT_USER_ID}, is_private=True, im_user=user)
            self.channels[channel_id] = ch
            self.messages[channel_id] = []
            return ch

    def find_message(self, channel: str, ts: str) -> Message | None:
        with self.lock:
            for msg in self.messages.get(channel, []):
                if msg.ts == ts:
                    return msg
            return None

    def add_message(self, msg: Message) -> Message:
        with self.changed:
            self.messages.setdefault(msg.channel, []).append(msg)
            self.changed.notify_all()
        self.run_hooks(msg)
        return msg

    def run_hooks(self, msg: Message) -> None:
        for hook in self.message_hooks:
            hook(msg)

    # ---- reading ---------------------------------------------------------------

    def channel_messages(self, channel: str, *, top_level_only: bool = False) -> list[Message]:
        with self.lock:
            msgs = [m for m in self.messages.get(channel, []) if not m.deleted]
            if top_level_only:
                msgs = [m for m in msgs if m.thread_ts in (None, m.ts)]
            return list(msgs)

    def thread(self, channel: str, ts: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages.get(channel, []) if m.thread_ts == ts and m.ts != ts and not m.deleted]

    def dms_to(self, user: str) -> list[Message]:
        with self.lock:
            return [m for ch in self.channels.values() if ch.im_user == user for m in self.messages[ch.id]]

    def ephemerals_for(self, user: str) -> list[Ephemeral]:
        with self.lock:
            return [e for e in self.ephemerals if e.user == user]

    def files_in(self, channel: str) -> list[Upload]:
        """The files shared in a channel (or its threads), oldest first."""
        with self.lock:
            return [u for u in self.uploads.values() if u.completed and u.channel == channel]

    def calls_to(self, method: str) -> list[ApiCall]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, probe: Callable[[], T | None], timeout: float = 5.0, what: str = "the bot") -> T:
        """Wait until ``probe()`` returns something truthy and return it."""
        timeout = max(timeout, min_wait)
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                result = probe()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
                self.changed.wait(min(remaining, 0.05))
