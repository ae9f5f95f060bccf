"""People in the double's workspace: they run commands, fill modals and click buttons
the way a Slack client would, with payloads shaped as Slack sends them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_double import events
from slack_double.socket_mode import Envelope
from slack_double.workspace import APP_ID, BOT_USER_ID, TEAM_ID, Message, OpenView

if TYPE_CHECKING:
    from slack_double import SlackDouble


def uploaded_file(double: SlackDouble, user_id: str, name: str) -> dict[str, Any]:
    """The file object Slack hands the bot for a file a person uploaded in a file input."""
    file_id = double.workspace.next_id("F")
    base = double.base_url
    return {
        "id": file_id,
        "name": name,
        "title": name,
        "mimetype": "image/png",
        "filetype": "png",
        "size": 2048,
        "url_private": f"{base}files-pri/{TEAM_ID}-{file_id}/{name}",
        "url_private_download": f"{base}files-pri/{TEAM_ID}-{file_id}/download/{name}",
        "permalink": f"{base}files/{user_id}/{file_id}/{name}",
    }


def block_actions(
    double: SlackDouble,
    person: Person,
    container: dict[str, Any],
    block: dict[str, Any],
    action: dict[str, Any],
    *,
    message: Message | None = None,
    view: OpenView | None = None,
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when a person uses an element of ``block``:
    on a message (its channel, the message, a response_url), in a modal or on the Home tab
    (the view with its inputs' state)."""
    ws = double.workspace
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": person.user_object(),
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "container": container,
        "trigger_id": ws.issue_trigger(person.id),
        "team": {"id": TEAM_ID, "domain": "casedesk-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [{**action, "block_id": block.get("block_id", ""), "action_ts": f"{time.time():.6f}"}],
    }
    if message is not None:
        ch = ws.channels[message.channel]
        payload["channel"] = {"id": ch.id, "name": ch.name}
        payload["message"] = message.as_payload()
        payload["state"] = {"values": {}}
        payload["response_url"] = f"{double.base_url}respond/{message.channel}/{person.id}/{message.ts}"
    if view is not None:
        payload["view"] = double.web_api.view_payload(view)
    return payload


class Modal:
    """An open modal as the person sees it: fill inputs by their label, then submit."""

    def __init__(self, double: SlackDouble, person: Person, opened: OpenView) -> None:
        self.double = double
        self.person = person
        self.opened = opened
        self.last_ack: dict[str, Any] | None = None

    @property
    def view(self) -> dict[str, Any]:
        return self.opened.view

    @property
    def title(self) -> str:
        return str(self.view["title"]["text"])

    @property
    def errors(self) -> dict[str, str]:
        return self.opened.errors

    @property
    def closed(self) -> bool:
        return self.opened.closed

    def labels(self) -> list[str]:
        return [b["label"]["text"] for b in self.view.get("blocks", []) if b.get("type") == "input"]

    def _input(self, label: str) -> dict[str, Any]:
        for block in self.view.get("blocks", []):
            if block.get("type") == "input" and block["label"]["text"] == label:
                return block
        raise KeyError(f"no input labelled {label!r}; the modal has {self.labels()}")

    def _set(self, block: dict[str, Any], state: dict[str, Any]) -> None:
        element = block["element"]
        self.opened.values.setdefault(block["block_id"], {})[element["action_id"]] = {"type": element["type"], **state}

    def options(self, label: str) -> list[str]:
        return [o["text"]["text"] for o in self._input(label)["element"]["options"]]

    def type(self, label: str, text: str) -> Modal:
        self._set(self._input(label), {"value": text})
        return self

    def choose(self, label: str, option_text: str, timeout: float = 5.0) -> Modal:
        """Pick an option by the text shown (or by its value). An input with
        ``dispatch_action`` sends its block action at once, as Slack does (waits for the ack)."""
        block = self._input(label)
        for option in block["element"]["options"]:
            if option_text in (option["text"]["text"], option["value"]):
                self._set(block, {"selected_option": option})
                if block.get("dispatch_action"):
                    element = block["element"]
                    action = {"action_id": element["action_id"], "type": element["type"], "selected_option": option}
                    env = self.double.socket.send("interactive", self._action_payload(block, action))
                    self.double.socket.wait_ack(env, timeout)
                return self
        raise KeyError(f"{label!r} has no option {option_text!r}")

    def pick_date(self, label: str, iso_date: str) -> Modal:
        self._set(self._input(label), {"selected_date": iso_date})
        return self

    def wait_for_labels(self, predicate: Callable[[list[str]], bool], timeout: float = 5.0) -> Modal:
        """Wait until the modal's input labels satisfy ``predicate`` (after a views.update)."""
        self.double.workspace.wait_for(lambda: predicate(self.labels()), timeout, what=f"modal labels; has {self.labels()}")
        return self

    def tick(self, text: str, timeout: float = 5.0) -> Modal:
        """Tick the checkbox whose option text holds ``text`` (a section's accessory or an
        element of an actions block): kept in the view's state with the others ticked
        beside it, and sent as a block action as Slack does (waits for the ack)."""
        for block in self.view.get("blocks", []):
            elements = [block["accessory"]] if block.get("accessory") else block.get("elements", []) if block.get("type") == "actions" else []
            for el in elements:
                for option in el.get("options", []) if el.get("type") == "checkboxes" else []:
                    if text in option["text"]["text"]:
                        state = self.opened.values.setdefault(block["block_id"], {}).setdefault(
                            el["action_id"], {"type": "checkboxes", "selected_options": []}
                        )
                        if option not in state["selected_options"]:
                            state["selected_options"].append(option)
                        action = {"action_id": el["action_id"], "type": "checkboxes", "selected_options": list(state["selected_options"])}
                        self.double.socket.wait_ack(self.double.socket.send("interactive", self._action_payload(block, action)), timeout)
                        return self
        raise KeyError(f"no checkbox {text!r} in the modal")

    def pick(self, option_text: str, timeout: float = 5.0) -> Modal:
        """Pick an option of a select menu in an actions block, kept in the view's state and
        sent as a block action (waits for the ack, not for the view to change: see select)."""
        for block in self.view.get("blocks", []):
            for el in block.get("elements", []) if block.get("type") == "actions" else []:
                for option in el.get("options", []) if el.get("type") == "static_select" else []:
                    if option["text"]["text"] == option_text:
                        self.opened.values.setdefault(block["block_id"], {})[el["action_id"]] = {
                            "type": "static_select", "selected_option": option,
                        }
                        action = {"action_id": el["action_id"], "type": "static_select", "selected_option": option}
                        self.double.socket.wait_ack(self.double.socket.send("interactive", self._action_payload(block, action)), timeout)
                        return self
        raise KeyError(f"no select option {option_text!r} in the modal")

    def pick_user(self, label: str, user_id: str) -> Modal:
        self._set(self._input(label), {"selected_user": user_id})
        return self

    def pick_users(self, label: str, user_ids: list[str]) -> Modal:
        """A multi_users_select: these people, replacing what it held."""
        self._set(self._input(label), {"selected_users": list(user_ids)})
        return self

    def pick_channel(self, label: str, channel_id: str | None) -> Modal:
        """A conversations_select or channels_select (None: cleared)."""
        block = self._input(label)
        key = "selected_channel" if block["element"]["type"] == "channels_select" else "selected_conversation"
        self._set(block, {key: channel_id})
        return self

    def choose_many(self, label: str, option_texts: list[str]) -> Modal:
        """A multi_static_select: these options (by text or value), replacing what it held."""
        block = self._input(label)
        chosen = [o for o in block["element"]["options"] if o["text"]["text"] in option_texts or o["value"] in option_texts]
        if len(chosen) != len(option_texts):
            raise KeyError(f"{label!r} lacks some of {option_texts!r}")
        self._set(block, {"selected_options": chosen})
        return self

    def attach(self, label: str, name: str) -> Modal:
        self._set(self._input(label), {"files": [uploaded_file(self.double, self.person.id, name)]})
        return self

    def buttons(self) -> list[str]:
        return [
            el["text"]["text"]
            for block in self.view.get("blocks", [])
            if block.get("type") == "actions"
            for el in block.get("elements", [])
            if el.get("type") == "button"
        ]

    def _action_payload(self, block: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
        return block_actions(self.double, self.person, {"type": "view", "view_id": self.opened.id}, block, action, view=self.opened)

    def _act(self, payload: dict[str, Any], timeout: float) -> Envelope:
        hash_before = self.opened.hash
        env = self.double.socket.send("interactive", payload)
        self.double.socket.wait_ack(env, timeout)
        self.double.workspace.wait_for(lambda: self.opened.hash != hash_before, timeout, what="views.update")
        return env

    def click(self, label: str, timeout: float = 5.0, *, near: str | None = None) -> Envelope:
        """Click a button inside the modal (with ``near``, the one beside a section whose
        text holds it) and wait for the bot to update the view."""
        for block in self.view.get("blocks", []):
            for el in _elements(block, near):
                if el.get("type") == "button" and el["text"]["text"] == label:
                    action = {"action_id": el["action_id"], "text": el["text"], "value": el.get("value", ""), "type": "button"}
                    return self._act(self._action_payload(block, action), timeout)
        raise KeyError(f"no button {label!r} in the modal; it has {self.buttons()}")

    def select(self, option_text: str, timeout: float = 5.0) -> Envelope:
        """Pick an option in the modal's (non-input) select menu and wait for the update."""
        for block in self.view.get("blocks", []):
            for el in block.get("elements", []) if block.get("type") == "actions" else []:
                if el.get("type") == "static_select":
                    for option in el["options"]:
                        if option["text"]["text"] == option_text:
                            action = {"action_id": el["action_id"], "type": "static_select", "selected_option": option}
                            return self._act(self._action_payload(block, action), timeout)
        raise KeyError(f"no select option {option_text!r} in the modal")

    def submission_payload(self) -> dict[str, Any]:
        # The submitter's own workspace (another organisation's, for one of its people);
        # the view says which workspace the app is installed in.
        return {
            "type": "view_submission",
            "team": {"id": self.double.workspace.team_of(self.person.id), "domain": "casedesk-test"},
            "user": self.person.user_object(),
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "trigger_id": self.double.workspace.issue_trigger(self.person.id),
            "view": self.double.web_api.view_payload(self.opened),
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def submit(self, payload: dict[str, Any] | None = None, timeout: float = 5.0) -> dict[str, Any] | None:
        """Submit as Slack does; returns the ack payload (None when the bot just acked)."""
        env = self.double.socket.send("interactive", payload or self.submission_payload())
        self.double.socket.wait_ack(env, timeout)
        ack = env.ack_payload or None
        self.last_ack = ack
        ws = self.double.workspace
        with ws.changed:
            action = (ack or {}).get("response_action")
            if action == "errors":
                self.opened.errors = dict(ack["errors"])  # type: ignore[index]
            elif action == "update":
                self.opened.view = ack["view"]  # type: ignore[index]
                self.opened.errors = {}
            elif action == "push":
                self.opened.errors = {}
                self.double.web_api.store_view(self.person.id, ack["view"], None)  # type: ignore[index]
            elif action == "clear":
                for opened in ws.views.values():
                    if opened.user == self.person.id:
                        opened.closed = True
            else:
                self.opened.closed = True
                self.opened.errors = {}
            ws.changed.notify_all()
        return ack


def _elements(block: dict[str, Any], near: str | None) -> list[dict[str, Any]]:
    """The interactive elements of a block; with ``near``, only a section's accessory whose
    text holds ``near``."""
    if block.get("type") == "actions" and near is None:
        return list(block.get("elements", []))
    is_near = near is None or near in str(block.get("text", {}).get("text", ""))
    if block.get("type") == "section" and "accessory" in block and is_near:
        return [block["accessory"]]
    return []


class Person:
    def __init__(self, double: SlackDouble, user_id: str) -> None:
        self.double = double
        self.id = user_id

    def user_object(self) -> dict[str, Any]:
        name = self.double.workspace.users[self.id]["name"]
        return {"id": self.id, "username": name, "name": name, "team_id": self.double.workspace.team_of(self.id)}

    # ---- slash commands --------------------------------------------------------------

    def command_payload(self, command: str, text: str = "", channel: str | None = None) -> dict[str, Any]:
        channel = channel or self.double.default_channel
        ch = self.double.workspace.channels.get(channel)
        return {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "casedesk-test",
            "channel_id": channel,
            "channel_name": ch.name if ch else "unknown",
            "user_id": self.id,
            "user_name": self.double.workspace.users[self.id]["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": f"{self.double.base_url}respond/{channel}/{self.id}/{int(time.time() * 1000)}",
            "trigger_id": self.double.workspace.issue_trigger(self.id),
        }

    def run(self, command: str, text: str = "", channel: str | None = None, timeout: float = 5.0) -> Envelope:
        env = self.double.socket.send("slash_commands", self.command_payload(command, text, channel))
        return self.double.socket.wait_ack(env, timeout)

    def open_modal(self, command: str, text: str = "", channel: str | None = None, timeout: float = 5.0) -> Modal:
        """Run a command and return the modal it opened."""
        env = self.run(command, text, channel, timeout)
        return self.modal_from(env.payload["trigger_id"], timeout)

    def modal_from(self, trigger_id: str, timeout: float = 5.0) -> Modal:
        return Modal(self.double, self, self.double.workspace.wait_view(trigger_id, timeout))

    # ---- buttons -----------------------------------------------------------------------

    def click_payload(self, message: Message, label: str) -> dict[str, Any]:
        for block, element in message.buttons():  # noqa: B007 - the loop finds them; they are used after it
            if element["text"]["text"] == label:
                break
        else:
            raise KeyError(f"no button {label!r} on the message; it has {message.button_labels()}")
        action = {"action_id": element["action_id"], "text": element["text"], "value": element.get("value", ""), "type": "button"}
        container = {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": False}
        return block_actions(self.double, self, container, block, action, message=message)

    def click(self, message: Message, label: str, timeout: float = 5.0, *, as_shown: bool = False) -> Envelope:
        """Click the button with this label on the message as it is now, or, with
        ``as_shown``, on the copy given (a stale card left open in someone's client)."""
        current = message if as_shown else (self.double.workspace.find_message(message.channel, message.ts) or message)
        env = self.double.socket.send("interactive", self.click_payload(current, label))
        return self.double.socket.wait_ack(env, timeout)

    # ---- messages ----------------------------------------------------------------------

    def say(
        self,
        channel: str,
        text: str,
        *,
        thread: Message | None = None,
        files: list[str] | None = None,
        timeout: float = 5.0,
    ) -> Message:
        """Post in a channel (or in ``thread``), as Slack shows it and sends the event."""
        ws = self.double.workspace
        thread_ts = (thread.thread_ts or thread.ts) if thread is not None else None
        msg = ws.add_message(Message(channel, ws.next_ts(), text, None, self.id, None, thread_ts))
        file_objects = [events.file_object(ws, name, channel) for name in files or []]
        self.double.deliver(events.message_event(ws, msg, file_objects), timeout)
        return msg

    def edit(self, message: Message, text: str, timeout: float = 5.0) -> Message:
        ws = self.double.workspace
        previous = message.text
        with ws.changed:
            message.text = text
            message.edited_ts = ws.next_ts()
        self.double.deliver(events.changed_event(ws, message, previous), timeout)
        return message

    def delete(self, message: Message, timeout: float = 5.0) -> None:
        ws = self.double.workspace
        with ws.changed:
            message.deleted = True
        self.double.deliver(events.deleted_event(ws, message), timeout)

    def join(self, channel: str, timeout: float = 5.0) -> None:
        self.double.deliver(events.join_event(self.double.workspace, channel, self.id), timeout)

    def react(self, message: Message, name: str, timeout: float = 5.0) -> Envelope:
        """Add an emoji reaction to a message: Slack's reaction_added event."""
        event = {
            "type": "reaction_added",
            "user": self.id,
            "reaction": name,
            "item": {"type": "message", "channel": message.channel, "ts": message.ts},
            "item_user": message.user,
            "event_ts": self.double.workspace.next_ts(),
        }
        return self.double.deliver(event, timeout)

    def shortcut(self, message: Message, callback_id: str, timeout: float = 5.0) -> Envelope:
        """Use a message shortcut (the message's menu) on ``message``: Slack's message_action."""
        ws = self.double.workspace
        ch = ws.channels[message.channel]
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": ws.issue_trigger(self.id),
            "action_ts": f"{time.time():.6f}",
            "team": {"id": TEAM_ID, "domain": "casedesk-test"},
            "user": self.user_object(),
            "channel": {"id": ch.id, "name": ch.name},
            "message": message.as_payload(),
            "message_ts": message.ts,
            "response_url": f"{self.double.base_url}respond/{message.channel}/{self.id}/{message.ts}",
            "api_app_id": APP_ID,
            "token": "legacy-verification-token",
            "is_enterprise_install": False,
            "enterprise": None,
        }
        env = self.double.socket.send("interactive", payload)
        return self.double.socket.wait_ack(env, timeout)

    # ---- the App Home ------------------------------------------------------------------

    def open_home(self, timeout: float = 5.0) -> dict[str, Any]:
        """Open the app's Home tab and return the view the bot published."""
        ws = self.double.workspace
        before = ws.home_views.get(self.id)
        event = {
            "type": "app_home_opened",
            "user": self.id,
            "channel": ws.dm_channel(self.id).id,
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        self.double.deliver(event, timeout)
        return ws.wait_for(lambda: v if (v := ws.home_views.get(self.id)) is not before else None, timeout, what="views.publish")

    def home(self) -> dict[str, Any] | None:
        return self.double.workspace.home_views.get(self.id)

    def _use_home(self, find: Callable[[dict[str, Any]], dict[str, Any] | None], near: str | None,
                  timeout: float, what: str) -> Envelope:
        home = self.home()
        if home is None:
            raise KeyError("the Home tab was never published for this person: open_home() first")
        for block in home.get("blocks", []):
            for el in _elements(block, near):
                action = find(el)
                if action is not None:
                    view = {"id": "V0HOME" + self.id, "type": "home", "hash": "home", "state": {"values": {}}, **home}
                    container = {"type": "view", "view_id": view["id"]}
                    payload = block_actions(self.double, self, container, block, {"action_id": el.get("action_id", ""), **action})
                    payload["view"] = view
                    env = self.double.socket.send("interactive", payload)
                    return self.double.socket.wait_ack(env, timeout)
        raise KeyError(f"no {what} on the Home tab" + (f" beside {near!r}" if near else ""))

    def click_home(self, label: str, *, near: str | None = None, timeout: float = 5.0) -> Envelope:
        """Click a button on the Home tab as it is now (with ``near``: the one beside a
        section whose text holds it); the envelope's payload carries the trigger_id."""

        def find(el: dict[str, Any]) -> dict[str, Any] | None:
            if el.get("type") == "button" and el["text"]["text"] == label:
                return {"type": "button", "text": el["text"], "value": el.get("value", "")}
            return None

        return self._use_home(find, near, timeout, f"button {label!r}")

    def home_type(self, label: str, text: str, timeout: float = 5.0) -> Envelope:
        """Type ``text`` into the Home tab's input labelled ``label`` and press Enter: Slack
        sends the block action only for an input with ``dispatch_action``."""
        home = self.home()
        if home is None:
            raise KeyError("the Home tab was never published for this person: open_home() first")
        for block in home.get("blocks", []):
            if block.get("type") == "input" and block["label"]["text"] == label:
                if not block.get("dispatch_action"):
                    raise AssertionError(f"the input {label!r} does not dispatch: Enter sends nothing")
                element = block["element"]
                value = {element["action_id"]: {"type": element["type"], "value": text}}
                view = {"id": "V0HOME" + self.id, "type": "home", "hash": "home", "state": {"values": {block["block_id"]: value}}, **home}
                container = {"type": "view", "view_id": view["id"]}
                action = {"action_id": element["action_id"], "type": element["type"], "value": text}
                payload = block_actions(self.double, self, container, block, action)
                payload["view"] = view
                env = self.double.socket.send("interactive", payload)
                return self.double.socket.wait_ack(env, timeout)
        raise KeyError(f"no input {label!r} on the Home tab")

    def home_menu(self, near: str, option: str, timeout: float = 5.0) -> Envelope:
        """Choose an option of the overflow menu beside the Home tab section holding ``near``."""

        def find(el: dict[str, Any]) -> dict[str, Any] | None:
            if el.get("type") == "overflow":
                for opt in el["options"]:
                    if opt["text"]["text"] == option:
                        return {"type": "overflow", "selected_option": opt}
            return None

        return self._use_home(find, near, timeout, f"menu option {option!r}")

    def home_date(self, placeholder: str, day: str, timeout: float = 5.0) -> Envelope:
        """Pick a day (YYYY-MM-DD) in the Home tab's datepicker with this placeholder."""

        def find(el: dict[str, Any]) -> dict[str, Any] | None:
            if el.get("type") == "datepicker" and (el.get("placeholder") or {}).get("text") == placeholder:
                return {"type": "datepicker", "selected_date": day, "initial_date": el.get("initial_date")}
            return None

        return self._use_home(find, None, timeout, f"datepicker {placeholder!r}")

    # ---- reading -------------------------------------------------------------------------

    def ephemerals(self) -> list[str]:
        return [e.text for e in self.double.workspace.ephemerals_for(self.id)]

    def wait_ephemeral(self, contains: str, timeout: float = 5.0) -> str:
        return self.double.workspace.wait_for(
            lambda: next((t for t in self.ephemerals() if contains in t), None), timeout, what=f"an ephemeral with {contains!r}"
        )

    def dms(self) -> list[Message]:
        return [m for m in self.double.workspace.dms_to(self.id) if m.user == BOT_USER_ID]

    def wait_dm(self, contains: str, timeout: float = 5.0) -> Message:
        return self.double.workspace.wait_for(
            lambda: next((m for m in self.dms() if contains in m.all_text()), None), timeout, what=f"a DM with {contains!r}"
        )
