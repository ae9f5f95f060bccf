"""What a person does in the page, turned into what Slack would send the bot: a message
event, a slash command, a block action, a view submission. Each waits for the bot's ack.

The page is a client like any other: the person, channel, message, view and element it
names are looked up here, never taken on its word.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox import cast
from slack_double import Envelope, Modal, Person, SlackDouble
from slack_double.events import as_sent
from slack_double.people import block_actions, uploaded_file
from slack_double.workspace import APP_ID, TEAM_ID, Ephemeral, Message, OpenView

ACK_SECONDS = 5.0
MENTION = re.compile(r"(?<![\w<])@([a-z][a-z0-9._-]*)")
CHANNEL = re.compile(r"(?<![\w<&])#([a-z0-9][a-z0-9_-]*)")
VALUE_KEYS = ("value", "selected_option", "selected_options", "selected_user", "selected_users", "selected_date")


class Refused(Exception):
    """Input the page should not have sent: the answer names what was wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def person(double: SlackDouble, user_id: object) -> Person:
    if not isinstance(user_id, str) or user_id not in {p.id for p in cast.PEOPLE}:
        raise Refused(f"unknown person {user_id!r}: act as one of {', '.join(p.id for p in cast.PEOPLE)}")
    return Person(double, user_id)


def _channel(double: SlackDouble, who: Person, channel: object) -> str:
    ch = double.workspace.channels.get(str(channel))
    if ch is None or who.id not in ch.members:
        raise Refused(f"no channel {channel!r} for this person", 404)
    return ch.id


def as_typed(double: SlackDouble, typed: str) -> str:
    """What Slack sends for typed text: &, < and > escaped, @name and #channel as markup."""
    ws = double.workspace
    names = {u["name"]: uid for uid, u in ws.users.items()}
    rooms = {ch.name: ch.id for ch in ws.channels.values() if not ch.im_user}
    text = as_sent(typed)
    text = MENTION.sub(lambda m: f"<@{names[m[1]]}>" if m[1] in names else m[0], text)
    return CHANNEL.sub(lambda m: f"<#{rooms[m[1]]}|{m[1]}>" if m[1] in rooms else m[0], text)


# ---- messages and commands ---------------------------------------------------------------


def say(double: SlackDouble, body: dict[str, Any]) -> dict[str, Any]:
    who = person(double, body.get("as"))
    channel = _channel(double, who, body.get("channel"))
    typed = str(body.get("text") or "")
    thread_ts = body.get("thread_ts")
    if not typed.strip():
        raise Refused("write something first")
    if typed.startswith("/") and not thread_ts:
        return _command(double, who, channel, typed)
    parent = None
    if thread_ts:
        parent = double.workspace.find_message(channel, str(thread_ts))
        if parent is None:
            raise Refused("no such thread", 404)
    said = who.say(channel, as_typed(double, typed), thread=parent, timeout=ACK_SECONDS)
    return {"ok": True, "ts": said.ts}


def _command(double: SlackDouble, who: Person, channel: str, typed: str) -> dict[str, Any]:
    command, _, args = typed.strip().partition(" ")
    known = [c for c, _ in cast.COMMANDS]
    if double.workspace.team_of(who.id) != TEAM_ID:  # Slack never sends another organisation's commands to the app
        raise Refused(f"{command} is not a valid command: in a shared channel, only the app's own workspace can use its commands")
    if command not in known:
        raise Refused(f"{command} is not a command here; try {', '.join(known)}")
    env = who.run(command, args.strip(), channel, timeout=ACK_SECONDS)
    _show_ack(double, who, channel, env)
    return {"ok": True, "command": command}


def _show_ack(double: SlackDouble, who: Person, channel: str, env: Envelope) -> None:
    """A command's ack with a text is shown to the person alone, as Slack shows it."""
    ack = env.ack_payload or {}
    if ack.get("text") or ack.get("blocks"):
        ws = double.workspace
        with ws.changed:
            ws.ephemerals.append(Ephemeral(channel, who.id, str(ack.get("text") or ""), ack.get("blocks"), ws.next_ts()))
            ws.changed.notify_all()


# ---- block actions ---------------------------------------------------------------------------


def _element(blocks: list[dict[str, Any]], block_id: str, action_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for block in blocks:
        if block.get("block_id", "") != block_id:
            continue
        candidates = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    raise Refused(f"no element {action_id!r} in block {block_id!r} here", 404)


def _action(element: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = {"action_id": element["action_id"], "type": element.get("type", "button")}
    if action["type"] == "button":
        action |= {"text": element.get("text"), "value": element.get("value", "")}
        return action
    chosen = {key: body[key] for key in VALUE_KEYS if key in body}
    offered = [o.get("value") for o in element.get("options", [])]
    for key in ("selected_option", "selected_options"):
        picked = chosen.get(key)
        picks = picked if isinstance(picked, list) else [picked] if picked else []
        if offered and any(not isinstance(p, dict) or p.get("value") not in offered for p in picks):
            raise Refused("that option is not on the menu")
    return action | chosen


def act(double: SlackDouble, body: dict[str, Any]) -> dict[str, Any]:
    who = person(double, body.get("as"))
    container = body.get("container") or {}
    block_id, action_id = str(body.get("block_id", "")), str(body.get("action_id", ""))
    ws = double.workspace
    kind = container.get("type")
    if kind == "message":
        channel = _channel(double, who, container.get("channel"))
        msg = ws.find_message(channel, str(container.get("ts")))
        if msg is None:
            raise Refused("that message is gone", 404)
        block, element = _element(msg.blocks or [], block_id, action_id)
        where = {"type": "message", "message_ts": msg.ts, "channel_id": channel, "is_ephemeral": False}
        payload = block_actions(double, who, where, block, _action(element, body), message=msg)
    elif kind == "ephemeral":
        shown = next((e for e in ws.ephemerals_for(who.id) if e.ts == container.get("ts")), None)
        if shown is None:
            raise Refused("that message is gone", 404)
        block, element = _element(shown.blocks or [], block_id, action_id)
        where = {"type": "message", "message_ts": shown.ts, "channel_id": shown.channel, "is_ephemeral": True}
        msg = Message(shown.channel, shown.ts, shown.text, shown.blocks)
        payload = block_actions(double, who, where, block, _action(element, body), message=msg)
    elif kind == "view":
        opened = _open_view(double, who, container.get("view_id"))
        block, element = _element(opened.view.get("blocks", []), block_id, action_id)
        if isinstance(body.get("state"), dict):
            opened.values = _values(double, who, body["state"].get("values") or {})
        payload = block_actions(double, who, {"type": "view", "view_id": opened.id}, block, _action(element, body), view=opened)
    elif kind == "home":
        home = ws.home_views.get(who.id)
        if home is None:
            raise Refused("the Home tab has not been published yet", 404)
        block, element = _element(home.get("blocks", []), block_id, action_id)
        opened = OpenView(f"VHOME{who.id}", who.id, home, "home", None, time.perf_counter())
        payload = block_actions(double, who, {"type": "view", "view_id": opened.id}, block, _action(element, body), view=opened)
    else:
        raise Refused("container.type is message, ephemeral, view or home")
    env = double.socket.send("interactive", payload)
    double.socket.wait_ack(env, ACK_SECONDS)
    return {"ok": True}


# ---- modals ------------------------------------------------------------------------------------


def _open_view(double: SlackDouble, who: Person, view_id: object) -> OpenView:
    opened = double.workspace.views.get(str(view_id))
    if opened is None or opened.user != who.id or opened.closed:
        raise Refused("that modal is not open for this person", 404)
    return opened


def _values(double: SlackDouble, who: Person, values: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The page's input values, with each uploaded file named turned into Slack's file object."""
    shaped: dict[str, dict[str, dict[str, Any]]] = {}
    for block_id, actions in values.items():
        if not isinstance(actions, dict):
            raise Refused("values are {block_id: {action_id: {type, …}}}")
        for action_id, state in actions.items():
            if not isinstance(state, dict):
                raise Refused("values are {block_id: {action_id: {type, …}}}")
            if state.get("type") == "file_input":
                names = [str(f.get("name") or "file") for f in state.get("files") or [] if isinstance(f, dict)]
                state = {"type": "file_input", "files": [uploaded_file(double, who.id, name) for name in names]}
            shaped.setdefault(str(block_id), {})[str(action_id)] = state
    return shaped


def submit(double: SlackDouble, body: dict[str, Any]) -> dict[str, Any]:
    who = person(double, body.get("as"))
    opened = _open_view(double, who, body.get("view_id"))
    opened.values = _values(double, who, body.get("values") or {})
    modal = Modal(double, who, opened)
    before = set(double.workspace.views)
    ack = modal.submit(timeout=ACK_SECONDS) or {}
    action = ack.get("response_action")
    if action == "errors":
        return {"ok": True, "result": "errors", "errors": opened.errors}
    results = {"update": "updated", "push": "pushed", "clear": "cleared"}
    return {"ok": True, "result": results.get(str(action), "closed"), "new_views": sorted(set(double.workspace.views) - before)}


def close_view(double: SlackDouble, body: dict[str, Any]) -> dict[str, Any]:
    who = person(double, body.get("as"))
    opened = _open_view(double, who, body.get("view_id"))
    ws = double.workspace
    with ws.changed:
        opened.closed = True
        ws.changed.notify_all()
    if opened.view.get("notify_on_close"):
        payload = {
            "type": "view_closed",
            "team": {"id": TEAM_ID, "domain": "casedesk-test"},
            "user": who.user_object(),
            "api_app_id": APP_ID,
            "view": double.web_api.view_payload(opened),
            "is_cleared": False,
        }
        double.socket.wait_ack(double.socket.send("interactive", payload), ACK_SECONDS)
    return {"ok": True}


def open_home(double: SlackDouble, body: dict[str, Any]) -> dict[str, Any]:
    who = person(double, body.get("as"))
    ws = double.workspace
    event = {"type": "app_home_opened", "user": who.id, "channel": ws.dm_channel(who.id).id, "tab": "home",
             "event_ts": f"{time.time():.6f}"}
    double.deliver(event, ACK_SECONDS)
    return {"ok": True}
