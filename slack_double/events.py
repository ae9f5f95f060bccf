"""Events API payloads for what people do in channels: post, reply, edit, delete, join."""

from __future__ import annotations

import time
from typing import Any

from slack_double.workspace import APP_ID, TEAM_ID, Message, Workspace


def as_sent(typed: str) -> str:
    """The text Slack sends for what a person typed: ``&``, ``<`` and ``>`` escaped.
    (Mentions and links a client makes are markup such as ``<@U123>``, not typed text.)"""
    return typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def event_callback(ws: Workspace, event: dict[str, Any]) -> dict[str, Any]:
    # A reaction names its channel in its item.
    ch = ws.channels.get(str(event.get("channel") or (event.get("item") or {}).get("channel") or ""))
    body = {
        "token": "legacy-verification-token",
        # In a shared channel the outer team_id may name the organisation that created it.
        "team_id": ch.host_team if ch is not None and ch.host_team else TEAM_ID,
        "api_app_id": APP_ID,
        "type": "event_callback",
        "event_id": ws.next_id("Ev"),
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "U0CASEBOT", "is_bot": True}],
        "event": event,
    }
    if ch is not None and ch.connected:
        body["is_ext_shared_channel"] = True  # for anyone's event there, ours included
    return body


def channel_type(ws: Workspace, channel: str) -> str:
    ch = ws.channels.get(channel)
    if ch is not None and ch.im_user:
        return "im"
    return "group" if ch is not None and ch.is_private else "channel"


def message_event(ws: Workspace, msg: Message, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    event = msg.as_payload()
    event.update({"channel": msg.channel, "channel_type": channel_type(ws, msg.channel), "event_ts": msg.ts})
    ch = ws.channels.get(msg.channel)
    if ch is not None and ch.connected and msg.user:
        team = ws.team_of(msg.user)
        event.update({"team": team, "user_team": team, "source_team": team})
    if files:
        event["subtype"] = "file_share"
        with ws.lock:
            ws.files.update({f["id"]: f for f in files})
        # In a shared channel Slack pushes stubs: the bot asks files.info for the rest.
        event["files"] = [file_stub(f) for f in files] if ch is not None and ch.connected else files
    if msg.thread_ts and msg.thread_ts != msg.ts:
        parent = ws.find_message(msg.channel, msg.thread_ts)
        if parent is not None and parent.user:
            event["parent_user_id"] = parent.user
    return event


def changed_event(ws: Workspace, msg: Message, previous_text: str) -> dict[str, Any]:
    edited = msg.as_payload()
    edited["edited"] = {"user": msg.user, "ts": msg.edited_ts}
    previous = dict(msg.as_payload(), text=previous_text)
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": msg.channel,
        "channel_type": channel_type(ws, msg.channel),
        "ts": msg.edited_ts,
        "event_ts": msg.edited_ts,
        "message": edited,
        "previous_message": previous,
    }


def deleted_event(ws: Workspace, msg: Message) -> dict[str, Any]:
    ts = ws.next_ts()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": msg.channel,
        "channel_type": channel_type(ws, msg.channel),
        "ts": ts,
        "event_ts": ts,
        "deleted_ts": msg.ts,
        "previous_message": msg.as_payload(),
    }


def bot_message_event(ws: Workspace, msg: Message) -> dict[str, Any]:
    """Another app's post: Slack marks it with subtype bot_message and its bot_id."""
    return message_event(ws, msg) | {"subtype": "bot_message"}


def join_event(ws: Workspace, channel: str, user: str) -> dict[str, Any]:
    ts = ws.next_ts()
    return {
        "type": "message",
        "subtype": "channel_join",
        "channel": channel,
        "channel_type": channel_type(ws, channel),
        "user": user,
        "text": f"<@{user}> has joined the channel",
        "ts": ts,
        "event_ts": ts,
    }


def file_object(ws: Workspace, name: str, channel: str) -> dict[str, Any]:
    file_id = ws.next_id("F")
    return {
        "id": file_id,
        "name": name,
        "title": name,
        "mimetype": "application/octet-stream",
        "size": 1024,
        "permalink": f"https://casedesk-test.slack.com/files/{file_id}/{name}",
        "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{file_id}/{name}",
        "channels": [channel],
    }


def file_stub(file: dict[str, Any]) -> dict[str, Any]:
    """What a message event in a Slack Connect channel carries for a file."""
    return {"id": file["id"], "mode": "file_access", "file_access": "check_file_info", "created": 0, "timestamp": 0, "user": ""}


def channel_shared_event(ws: Workspace, channel: str, team_id: str) -> dict[str, Any]:
    return {"type": "channel_shared", "channel": channel, "connected_team_id": team_id, "event_ts": ws.next_ts()}


def channel_unshared_event(ws: Workspace, channel: str, team_id: str, still_shared: bool) -> dict[str, Any]:
    return {
        "type": "channel_unshared",
        "channel": channel,
        "previously_connected_team_id": team_id,
        "is_ext_shared": still_shared,
        "event_ts": ws.next_ts(),
    }


def channel_id_changed_event(ws: Workspace, old: str, new: str) -> dict[str, Any]:
    return {"type": "channel_id_changed", "old_channel_id": old, "new_channel_id": new, "event_ts": ws.next_ts()}
