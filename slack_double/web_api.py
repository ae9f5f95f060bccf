"""The double's Web API: an HTTP server on 127.0.0.1 answering the methods the bot calls."""

from __future__ import annotations

import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from slack_double.blockkit import message_errors, view_errors
from slack_double.workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    ApiCall,
    Ephemeral,
    Message,
    OpenView,
    Upload,
    Workspace,
)

JSON_ARGS = ("blocks", "view", "attachments", "users", "metadata", "files")
DEFAULT_SCOPES = (
    "commands,chat:write,im:write,users:read,users:read.email,channels:read,groups:read,"
    "channels:history,groups:history,im:history,im:write,pins:write,pins:read,files:read,files:write,reactions:read,reactions:write,team:read"
)

Result = dict[str, Any]


class ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


class PostPacing:
    """Slack's chat.postMessage limit: about one message a second per channel, with
    short bursts. Off until ``enable``; then a post over the limit gets HTTP 429."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.per_second = 0.0
        self.burst = 0
        self._buckets: dict[str, tuple[float, float]] = {}  # channel → (tokens, at)
        self.refused = 0

    def enable(self, per_second: float = 1.0, burst: int = 4) -> None:
        with self._lock:
            self.per_second, self.burst = per_second, burst
            self._buckets.clear()

    def take(self, channel: str) -> int | None:
        """None when the post may go; else the Retry-After in seconds."""
        with self._lock:
            if not self.per_second:
                return None
            now = time.monotonic()
            tokens, at = self._buckets.get(channel, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= 1.0:
                self._buckets[channel] = (tokens - 1.0, now)
                return None
            self._buckets[channel] = (tokens, now)
            self.refused += 1
            return max(1, math.ceil((1.0 - tokens) / self.per_second))


class WebApi:
    """Method implementations over a Workspace; transport-free so it is easy to read."""

    def __init__(self, ws: Workspace, bot_token: str, app_token: str, base_url: Callable[[], str]) -> None:
        self.ws = ws
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes = DEFAULT_SCOPES
        self.socket_url: Callable[[], str] = lambda: ""
        self._base_url = base_url
        self._rate_limits: dict[str, list[int]] = {}
        self._failures: dict[str, list[str]] = {}
        self._delays: dict[str, list[float]] = {}
        self._lost: dict[str, int] = {}
        self._holds: dict[str, list[float]] = {}
        self._down_until = 0.0
        self._limits_lock = threading.Lock()
        self.post_pacing = PostPacing()

    # ---- fault injection -------------------------------------------------------

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        with self._limits_lock:
            self._rate_limits.setdefault(method, []).extend([retry_after] * times)

    def fail(self, method: str, error: str, times: int = 1) -> None:
        with self._limits_lock:
            self._failures.setdefault(method, []).extend([error] * times)

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next calls of ``method`` only after ``seconds`` (a slow Slack)."""
        with self._limits_lock:
            self._delays.setdefault(method, []).extend([seconds] * times)

    def outage(self, seconds: float) -> None:
        """Every Web API call fails with HTTP 503 for ``seconds`` (Slack is down)."""
        with self._limits_lock:
            self._down_until = time.monotonic() + seconds

    def is_down(self) -> bool:
        with self._limits_lock:
            return time.monotonic() < self._down_until

    def lose_answers(self, method: str, times: int = 1) -> None:
        """Carry out the next calls of ``method`` but answer them with HTTP 500, as when
        Slack did the work and the answer was lost on the way (the caller cannot tell)."""
        with self._limits_lock:
            self._lost[method] = self._lost.get(method, 0) + times

    def hold_answers(self, method: str, seconds: float, times: int = 1) -> None:
        """Carry out the next calls of ``method`` at once but answer only after ``seconds``
        (the window in which a caller that dies has done the work without knowing it)."""
        with self._limits_lock:
            self._holds.setdefault(method, []).extend([seconds] * times)

    def take_hold(self, method: str) -> float:
        with self._limits_lock:
            pending = self._holds.get(method)
            return pending.pop(0) if pending else 0.0

    def take_lost_answer(self, method: str) -> bool:
        with self._limits_lock:
            if self._lost.get(method):
                self._lost[method] -= 1
                return True
            return False

    def pending_delays(self, method: str) -> int:
        with self._limits_lock:
            return len(self._delays.get(method) or [])

    def take_delay(self, method: str) -> float:
        with self._limits_lock:
            pending = self._delays.get(method)
            return pending.pop(0) if pending else 0.0

    def take_rate_limit(self, method: str) -> int | None:
        with self._limits_lock:
            pending = self._rate_limits.get(method)
            return pending.pop(0) if pending else None

    # ---- dispatch ----------------------------------------------------------------

    def call(self, method: str, token: str | None, args: dict[str, Any]) -> Result:
        at = time.perf_counter()
        try:
            self._authorise(method, token)
            with self._limits_lock:
                pending = self._failures.get(method)
                injected = pending.pop(0) if pending else None
            if injected:
                raise ApiError(injected)
            handler = getattr(self, "m_" + method.replace(".", "_"), None)
            if handler is None:
                raise ApiError("unknown_method")
            result: Result = {"ok": True, **handler(args)}
        except ApiError as err:
            result = {"ok": False, "error": err.error, **err.extra}
        with self.ws.changed:
            self.ws.calls.append(ApiCall(method, args, at, result["ok"], result.get("error")))
            self.ws.changed.notify_all()
        return result

    def _authorise(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            raise ApiError("invalid_auth")

    # ---- helpers -------------------------------------------------------------------

    def _channel_for_post(self, channel: str) -> str:
        ws = self.ws
        if channel in ws.users:
            return ws.dm_channel(channel).id
        readable = self._readable(channel)
        if ws.channels[readable].is_archived:
            raise ApiError("is_archived")
        return readable

    @staticmethod
    def _check_message(args: dict[str, Any]) -> list[dict[str, Any]] | None:
        blocks = args.get("blocks")
        if not args.get("text") and not blocks:
            raise ApiError("no_text")
        errors = message_errors(blocks)
        if errors:
            raise ApiError("invalid_blocks", errors=errors, response_metadata={"messages": errors})
        return blocks

    def respond(self, channel: str, user: str, body: dict[str, Any]) -> Result:
        """A post to a response_url: ephemeral to the person by default, as Slack does."""
        text, blocks = str(body.get("text") or ""), body.get("blocks")
        if body.get("response_type") == "in_channel":
            msg = Message(channel, self.ws.next_ts(), text, blocks, BOT_USER_ID, BOT_ID)
            self.ws.add_message(msg)
        else:
            with self.ws.changed:
                self.ws.ephemerals.append(Ephemeral(channel, user, text, blocks, self.ws.next_ts()))
                self.ws.changed.notify_all()
        return {"ok": True}

    # ---- methods ---------------------------------------------------------------------

    def m_auth_test(self, args: dict[str, Any]) -> Result:
        return {
            "url": self._base_url().replace("/api/", "/"),
            "team": "Casedesk Test",
            "user": "casedesk",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def m_apps_connections_open(self, args: dict[str, Any]) -> Result:
        return {"url": self.socket_url()}

    def m_chat_postMessage(self, args: dict[str, Any]) -> Result:
        blocks = self._check_message(args)
        channel = self._channel_for_post(str(args.get("channel", "")))
        thread_ts = args.get("thread_ts") or None
        if thread_ts and self.ws.find_message(channel, thread_ts) is None:
            raise ApiError("thread_not_found")
        msg = Message(channel, self.ws.next_ts(), str(args.get("text") or ""), blocks, BOT_USER_ID, BOT_ID, thread_ts)
        metadata = args.get("metadata")
        if isinstance(metadata, dict) and metadata.get("event_type"):
            msg.metadata = {"event_type": str(metadata["event_type"]), "event_payload": metadata.get("event_payload") or {}}
        self.ws.add_message(msg)
        return {"channel": channel, "ts": msg.ts, "message": msg.as_payload()}

    def _readable(self, channel: str) -> str:
        ch = self.ws.channels.get(channel)
        if ch is None:
            raise ApiError("channel_not_found")
        if BOT_USER_ID not in ch.members:
            raise ApiError("not_in_channel")
        return ch.id

    @staticmethod
    def _page(messages: list[Message], args: dict[str, Any]) -> Result:
        """Messages newer than ``oldest`` (as Slack: exclusive, unless ``inclusive``), as
        payloads; metadata only when asked for with include_all_metadata, as Slack does."""
        inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
        oldest = Decimal(str(args.get("oldest") or 0))  # exact: a float cannot tell ts apart
        limit = int(args.get("limit") or 100)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        page = []
        for msg in messages:
            if msg.deleted or Decimal(msg.ts) < oldest or (Decimal(msg.ts) == oldest and not inclusive):
                continue
            body = msg.as_payload()
            if not with_metadata:
                body.pop("metadata", None)
            page.append(body)
        return {"messages": page[:limit], "has_more": len(page) > limit}

    def m_conversations_history(self, args: dict[str, Any]) -> Result:
        channel = self._readable(str(args.get("channel", "")))
        with self.ws.lock:
            top = [m for m in self.ws.messages.get(channel, []) if not m.thread_ts or m.thread_ts == m.ts]
        return self._page(list(reversed(top)), args)  # newest first, as Slack

    def m_conversations_replies(self, args: dict[str, Any]) -> Result:
        channel = self._readable(str(args.get("channel", "")))
        parent = str(args.get("ts", ""))
        found = self.ws.find_message(channel, parent)
        if found is None:
            raise ApiError("thread_not_found")
        parent = found.thread_ts or parent  # a reply's ts: Slack answers with its whole thread
        with self.ws.lock:
            thread = [m for m in self.ws.messages.get(channel, []) if m.ts == parent or m.thread_ts == parent]
        return self._page(thread, args)

    def m_chat_update(self, args: dict[str, Any]) -> Result:
        blocks = self._check_message(args)
        channel = str(args.get("channel", ""))
        if channel not in self.ws.channels:
            raise ApiError("channel_not_found")
        msg = self.ws.find_message(channel, str(args.get("ts", "")))
        if msg is None or msg.deleted:
            raise ApiError("message_not_found")
        if msg.user != BOT_USER_ID:
            raise ApiError("cant_update_message")
        with self.ws.changed:
            msg.text = str(args.get("text") or "")
            msg.blocks = blocks
            msg.edited_ts = self.ws.next_ts()
            msg.edits.append(time.perf_counter())
            self.ws.changed.notify_all()
        self.ws.run_hooks(msg)
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.as_payload()}

    def m_chat_delete(self, args: dict[str, Any]) -> Result:
        channel = str(args.get("channel", ""))
        msg = self.ws.find_message(channel, str(args.get("ts", "")))
        if msg is None or msg.deleted:
            raise ApiError("message_not_found")
        with self.ws.changed:
            msg.deleted = True
            self.ws.changed.notify_all()
        return {"channel": channel, "ts": msg.ts}

    def m_chat_postEphemeral(self, args: dict[str, Any]) -> Result:
        blocks = self._check_message(args)
        channel = str(args.get("channel", ""))
        user = str(args.get("user", ""))
        if channel not in self.ws.channels and channel not in self.ws.users:
            raise ApiError("channel_not_found")
        if user not in self.ws.users:
            raise ApiError("user_not_found")
        eph = Ephemeral(channel, user, str(args.get("text") or ""), blocks, self.ws.next_ts())
        with self.ws.changed:
            self.ws.ephemerals.append(eph)
            self.ws.changed.notify_all()
        return {"message_ts": eph.ts}

    def m_chat_getPermalink(self, args: dict[str, Any]) -> Result:
        channel = str(args.get("channel", ""))
        ts = str(args.get("message_ts", ""))
        if channel not in self.ws.channels:
            raise ApiError("channel_not_found")
        if self.ws.find_message(channel, ts) is None:
            raise ApiError("message_not_found")
        base = self._base_url().replace("/api/", "/")
        return {"channel": channel, "permalink": f"{base}archives/{channel}/p{ts.replace('.', '')}"}

    def m_conversations_open(self, args: dict[str, Any]) -> Result:
        users = args.get("users")
        user = users[0] if isinstance(users, list) else str(users or "").split(",")[0]
        if user not in self.ws.users:
            raise ApiError("user_not_found")
        return {"channel": {"id": self.ws.dm_channel(user).id}}

    def m_conversations_info(self, args: dict[str, Any]) -> Result:
        ch = self.ws.channels.get(str(args.get("channel", "")))
        if ch is None:
            raise ApiError("channel_not_found")
        body: dict[str, Any] = {
            "id": ch.id,
            "name": ch.name,
            "is_private": ch.is_private,
            "is_im": ch.im_user is not None,
            "is_member": BOT_USER_ID in ch.members,
            "is_shared": bool(ch.connected),
            "is_ext_shared": bool(ch.connected),
            "is_org_shared": False,
            "is_archived": ch.is_archived,
        }
        if ch.connected:
            body.update({
                "connected_team_ids": sorted(ch.connected),
                "shared_team_ids": [TEAM_ID, *sorted(ch.connected)],
                "internal_team_ids": [],
                "conversation_host_id": ch.host_team or TEAM_ID,
                "context_team_id": TEAM_ID,
            })
        return {"channel": body}

    def m_users_info(self, args: dict[str, Any]) -> Result:
        user_id = str(args.get("user", ""))
        if user_id in self.ws.hidden_users:
            raise ApiError(self.ws.hidden_users[user_id])
        user = self.ws.users.get(user_id)
        if user is None:
            raise ApiError("user_not_found")
        return {"user": user}

    def m_files_info(self, args: dict[str, Any]) -> Result:
        with self.ws.lock:
            found = self.ws.files.get(str(args.get("file", "")))
        if found is None:
            raise ApiError("file_not_found")
        return {"file": dict(found)}

    def m_team_info(self, args: dict[str, Any]) -> Result:
        """Our own team; another only while a channel is shared with it."""
        team = str(args.get("team") or TEAM_ID)
        if team == TEAM_ID:
            return {"team": {"id": TEAM_ID, "name": "Casedesk Test", "domain": "casedesk-test"}}
        found = self.ws.teams.get(team)
        if found is None or not self.ws.shares_with(team):
            raise ApiError("team_not_found")
        return {"team": dict(found, icon={})}

    def store_view(self, user: str, view: dict[str, Any], trigger_id: str | None) -> OpenView:
        errors = view_errors(view)
        if errors:
            raise ApiError("invalid_arguments", response_metadata={"messages": errors})
        opened = OpenView(self.ws.next_id("V"), user, view, self.ws.next_id("H"), trigger_id, time.perf_counter())
        seed_initial_state(opened)
        self.ws.record_view(opened)
        return opened

    def view_payload(self, opened: OpenView) -> dict[str, Any]:
        return {
            "id": opened.id,
            "team_id": TEAM_ID,
            "app_installed_team_id": TEAM_ID,
            "type": opened.view["type"],
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "hash": opened.hash,
            "root_view_id": opened.id,
            "previous_view_id": None,
            "external_id": opened.view.get("external_id", ""),
            "state": {"values": opened.values},
            "callback_id": opened.view.get("callback_id", ""),
            "private_metadata": opened.view.get("private_metadata", ""),
            **{k: v for k, v in opened.view.items() if k not in ("private_metadata", "callback_id")},
        }

    def m_views_open(self, args: dict[str, Any]) -> Result:
        trigger_id = str(args.get("trigger_id", ""))
        user, error = self.ws.use_trigger(trigger_id)
        if error or user is None:
            raise ApiError(error or "invalid_trigger_id")
        return {"view": self.view_payload(self.store_view(user, args.get("view") or {}, trigger_id))}

    def m_views_push(self, args: dict[str, Any]) -> Result:
        return self.m_views_open(args)

    def m_views_update(self, args: dict[str, Any]) -> Result:
        view = args.get("view") or {}
        errors = view_errors(view)
        if errors:
            raise ApiError("invalid_arguments", response_metadata={"messages": errors})
        with self.ws.changed:
            target = self.ws.views.get(str(args.get("view_id", "")))
            if target is None and args.get("external_id"):
                target = next((v for v in self.ws.views.values() if v.view.get("external_id") == args["external_id"]), None)
            if target is None:
                raise ApiError("not_found")
            if args.get("hash") and args["hash"] != target.hash:
                raise ApiError("hash_conflict")
            target.view = view
            seed_initial_state(target)
            target.hash = self.ws.next_id("H")
            target.updates.append(time.perf_counter())
            self.ws.changed.notify_all()
            return {"view": self.view_payload(target)}

    def m_views_publish(self, args: dict[str, Any]) -> Result:
        user = str(args.get("user_id", ""))
        view = args.get("view") or {}
        if user not in self.ws.users:
            raise ApiError("user_not_found")
        errors = view_errors(view)
        if errors:
            raise ApiError("invalid_arguments", response_metadata={"messages": errors})
        with self.ws.changed:
            self.ws.home_views[user] = view
            self.ws.changed.notify_all()
        return {"view": {"id": self.ws.next_id("V"), **view}}

    def m_pins_add(self, args: dict[str, Any]) -> Result:
        channel, ts = str(args.get("channel", "")), str(args.get("timestamp", ""))
        if self.ws.find_message(channel, ts) is None:
            raise ApiError("message_not_found")
        with self.ws.changed:
            pins = self.ws.pins.setdefault(channel, [])
            if ts in pins:
                raise ApiError("already_pinned")
            pins.append(ts)
            self.ws.changed.notify_all()
        return {}

    def m_pins_remove(self, args: dict[str, Any]) -> Result:
        channel, ts = str(args.get("channel", "")), str(args.get("timestamp", ""))
        with self.ws.changed:
            pins = self.ws.pins.setdefault(channel, [])
            if ts not in pins:
                raise ApiError("no_pin")
            pins.remove(ts)
            self.ws.changed.notify_all()
        return {}

    def m_pins_list(self, args: dict[str, Any]) -> Result:
        channel = str(args.get("channel", ""))
        items = []
        for ts in self.ws.pins.get(channel, []):
            msg = self.ws.find_message(channel, ts)
            if msg and not msg.deleted:  # Slack drops the pin of a deleted message
                items.append({"type": "message", "channel": channel, "message": msg.as_payload()})
        return {"items": items}

    # ---- files: files_upload_v2's three steps ------------------------------------------

    def m_files_getUploadURLExternal(self, args: dict[str, Any]) -> Result:
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdigit() or int(length) < 1:
            raise ApiError("invalid_arguments")
        upload = Upload(
            self.ws.next_id("F"), filename, int(length), secrets.token_hex(8), args.get("alt_txt"), args.get("snippet_type")
        )
        with self.ws.changed:
            self.ws.uploads[upload.id] = upload
            self.ws.changed.notify_all()
        base = self._base_url().replace("/api/", "/")
        return {"upload_url": f"{base}upload/v1/{upload.id}/{upload.key}", "file_id": upload.id}

    def receive_upload(self, path: str, data: bytes) -> tuple[int, str]:
        """The POST of a file's bytes to its upload URL: (HTTP status, body) as Slack answers."""
        parts = path.split("?")[0].strip("/").split("/")  # upload/v1/<file ID>/<key>
        file_id, key = parts[2:] if len(parts) == 4 else ("", "")
        with self.ws.changed:
            upload = self.ws.uploads.get(file_id)
            if upload is None or not secrets.compare_digest(upload.key, key) or upload.completed:
                return 404, "Not Found"
            upload.data = data
            self.ws.changed.notify_all()
        return 200, f"OK - {len(data)}"

    def m_files_completeUploadExternal(self, args: dict[str, Any]) -> Result:
        wanted = args.get("files")
        if not isinstance(wanted, list) or not wanted or not all(isinstance(f, dict) for f in wanted):
            raise ApiError("invalid_arguments")
        uploads = [self.ws.uploads.get(str(f.get("id", ""))) for f in wanted]
        found = [u for u in uploads if u is not None and u.data is not None and not u.completed]
        if len(found) != len(wanted):
            raise ApiError("file_not_found")
        channel = str(args.get("channel_id") or "").strip() or None
        if channel is None and args.get("channels"):
            channel = str(args["channels"]).split(",")[0].strip()
        thread_ts = str(args.get("thread_ts") or "") or None
        if channel is not None:
            channel = self._channel_for_post(channel)
            if thread_ts and self.ws.find_message(channel, thread_ts) is None:
                raise ApiError("thread_not_found")
        with self.ws.changed:
            for upload, spec in zip(found, wanted, strict=True):
                upload.completed, upload.title = True, str(spec.get("title") or upload.filename)
                upload.channel, upload.thread_ts = channel, thread_ts if channel else None
                upload.initial_comment = str(args.get("initial_comment") or "") or None
            self.ws.changed.notify_all()
        if channel is not None:  # shared: a message with the files, from the bot, as Slack posts it
            text = found[0].initial_comment or ""
            msg = Message(channel, self.ws.next_ts(), text, None, BOT_USER_ID, BOT_ID, thread_ts)
            msg.files = [u.as_file() for u in found]
            for upload in found:
                upload.message_ts = msg.ts
            self.ws.add_message(msg)
        return {"files": [{"id": u.id, "title": u.title} for u in found]}


_INITIAL = {
    "initial_option": "selected_option",
    "initial_options": "selected_options",
    "initial_user": "selected_user",
    "initial_users": "selected_users",
    "initial_conversation": "selected_conversation",
    "initial_channel": "selected_channel",
    "initial_value": "value",
    "initial_date": "selected_date",
}


def seed_initial_state(opened: OpenView) -> None:
    """As Slack does, a view's state holds each input's initial value until the person
    changes it; inputs kept across a views.update keep what the person entered."""
    for block in opened.view.get("blocks", []):
        element = block.get("element") if block.get("type") == "input" else None
        if not isinstance(element, dict) or block.get("block_id") in opened.values:
            continue
        initial = {state: element[key] for key, state in _INITIAL.items() if key in element}
        if initial:
            opened.values[block["block_id"]] = {element.get("action_id", ""): {"type": element.get("type"), **initial}}


def _parse_body(content_type: str, raw: bytes, query: str = "") -> dict[str, Any]:
    """The call's arguments: the body's, over those of the query string (where slack_sdk
    puts some, as for files.getUploadURLExternal)."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    if "application/json" in content_type:
        return args | dict(json.loads(raw or b"{}"))
    args |= dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key in JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            args[key] = json.loads(value)
    return args


def make_http_server(api: WebApi) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if self.path.startswith("/respond/"):
                _, _, channel, user, _ = self.path.split("/", 4)
                self._send(200, api.respond(channel, user, _parse_body(self.headers.get("Content-Type", ""), raw)))
                return
            if self.path.startswith("/upload/"):
                status, text = api.receive_upload(self.path, raw)
                self._send_text(status, text)
                return
            if not self.path.startswith("/api/"):
                self._send(404, {"ok": False, "error": "unknown_method"})
                return
            method, _, query = self.path[len("/api/"):].partition("?")
            args = _parse_body(self.headers.get("Content-Type", ""), raw, query)
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.pop("token", None)
            time.sleep(api.take_delay(method))
            if api.is_down():
                with api.ws.changed:
                    api.ws.calls.append(ApiCall(method, args, time.perf_counter(), False, "service_unavailable"))
                    api.ws.changed.notify_all()
                self._send(503, {"ok": False, "error": "service_unavailable"})
                return
            retry_after = api.take_rate_limit(method)
            if retry_after is None and method == "chat.postMessage":
                retry_after = api.post_pacing.take(str(args.get("channel", "")))
            if retry_after is not None:
                with api.ws.changed:
                    api.ws.calls.append(ApiCall(method, args, time.perf_counter(), False, "ratelimited"))
                    api.ws.changed.notify_all()
                self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
                return
            result = api.call(method, token, args)
            time.sleep(api.take_hold(method))
            if api.take_lost_answer(method):
                self._send(500, {"ok": False, "error": "fatal_error"})
                return
            self._send(200, result, {"x-oauth-scopes": api.scopes})

        do_GET = do_POST

        def _send_text(self, status: int, text: str) -> None:
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server
