"""A local Slack double for tests and benchmarks.

An HTTP Web API and a Socket Mode WebSocket server on 127.0.0.1, over one workspace
state, behaving as Slack does where it matters: single-use 3 s trigger_ids, Block Kit
limits, ``channel_not_found`` / ``message_not_found`` / ``not_in_channel``, HTTP 429 with
Retry-After on demand. People act through :class:`Person`: run a command, fill the
modal that opened, click a button by its label.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from slack_double import events
from slack_double.people import Modal, Person
from slack_double.socket_mode import Envelope, SocketModeServer
from slack_double.web_api import WebApi, make_http_server
from slack_double.workspace import BOT_USER_ID, Message, Workspace

__all__ = ["SlackDouble", "Person", "Modal", "Message", "Envelope", "BOT_USER_ID"]

T = TypeVar("T")


class SlackDouble:
    def __init__(self, bot_token: str = "xoxb-double-bot-token", app_token: str = "xapp-double-app-token") -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.workspace = Workspace()
        self.web_api = WebApi(self.workspace, bot_token, app_token, lambda: self.base_url + "api/")
        self.socket = SocketModeServer(self.workspace)
        self.web_api.socket_url = lambda: self.socket.url
        self._http = make_http_server(self.web_api)
        self._http_thread: threading.Thread | None = None
        self.default_channel = ""
        self._stopped = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/"

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    def start(self) -> SlackDouble:
        self.socket.start()
        # shutdown() waits for the serving loop to notice: polled every 0.5 s by default, which
        # was half a second at the end of every test.
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="double-web-api", daemon=True
        )
        self._http_thread.start()
        return self

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.socket.stop()
        self._http.shutdown()
        self._http.server_close()

    # ---- setup -----------------------------------------------------------------------

    def person(self, user_id: str, name: str | None = None) -> Person:
        if user_id not in self.workspace.users:
            self.workspace.add_user(user_id, name or user_id.lower())
        return Person(self, user_id)

    def organisation(self, team_id: str, name: str) -> str:
        """Another organisation (Slack Connect), without the app."""
        self.workspace.add_team(team_id, name)
        return team_id

    def external_person(self, user_id: str, team_id: str, name: str, *, email: str | None = None) -> Person:
        """A member of another organisation, writing from their own workspace."""
        self.workspace.add_external_user(user_id, team_id, name, email=email)
        return Person(self, user_id)

    def share_channel(self, channel_id: str, team_id: str, *, their_channel: bool = False, announce: bool = True) -> None:
        """Share a channel with another organisation; Slack tells the bot (``channel_shared``)."""
        self.workspace.share(channel_id, team_id, their_channel=their_channel)
        if announce:
            self.deliver(events.channel_shared_event(self.workspace, channel_id, team_id))

    def unshare_channel(self, channel_id: str, team_id: str, *, announce: bool = True) -> None:
        """The other organisation leaves the channel; Slack tells the bot (``channel_unshared``)."""
        still = self.workspace.unshare(channel_id, team_id)
        if announce:
            self.deliver(events.channel_unshared_event(self.workspace, channel_id, team_id, still))

    def change_channel_id(self, old: str, new: str, *, announce: bool = True) -> None:
        """Slack gives a channel a new id (a private channel's, as its share starts) and tells
        the bot (``channel_id_changed``); the old id answers channel_not_found."""
        self.workspace.change_channel_id(old, new)
        if announce:
            self.deliver(events.channel_id_changed_event(self.workspace, old, new))

    def disconnect(self, channel_id: str, team_id: str) -> str | None:
        """The organisations' connection is severed. The side that hosted the channel keeps
        its id; when the other organisation hosted it, our copy gets a new id (returned) and
        the old one answers channel_not_found, with no event to say so."""
        theirs = self.workspace.channels[channel_id].host_team == team_id
        self.workspace.unshare(channel_id, team_id)
        if not theirs:
            return None
        new = self.workspace.next_id("C")
        self.workspace.change_channel_id(channel_id, new)
        return new

    def channel(self, channel_id: str, name: str, *, bot_member: bool = True) -> str:
        self.workspace.add_channel(channel_id, name, bot_member=bot_member)
        if not self.default_channel:
            self.default_channel = channel_id
        return channel_id

    # ---- events ------------------------------------------------------------------------

    def deliver(self, event: dict[str, Any], timeout: float = 5.0, *, retry_attempt: int = 0) -> Envelope:
        """Send an Events API event to the bot and wait for its ack."""
        payload = events.event_callback(self.workspace, event)
        return self.redeliver(payload, timeout, retry_attempt=retry_attempt)

    def redeliver(self, payload: dict[str, Any], timeout: float = 5.0, *, retry_attempt: int = 0) -> Envelope:
        """Send an event_callback payload (again, as Slack does when it retries)."""
        reason = "timeout" if retry_attempt else ""
        env = self.socket.send("events_api", payload, retry_attempt=retry_attempt, retry_reason=reason)
        return self.socket.wait_ack(env, timeout)

    # ---- reading -----------------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        return self.workspace.channel_messages(channel, top_level_only=True)

    def thread(self, message: Message) -> list[Message]:
        return self.workspace.thread(message.channel, message.ts)

    def wait_for(self, probe: Callable[[], T | None], timeout: float = 5.0, what: str = "the bot") -> T:
        return self.workspace.wait_for(probe, timeout, what)

    def wait_message(self, channel: str, contains: str, timeout: float = 5.0) -> Message:
        return self.wait_for(
            lambda: next((m for m in self.messages(channel) if contains in m.all_text()), None),
            timeout,
            what=f"a message in {channel} with {contains!r}",
        )

    def wait_thread_reply(self, message: Message, contains: str, timeout: float = 5.0) -> Message:
        return self.wait_for(
            lambda: next((m for m in self.thread(message) if contains in m.all_text()), None),
            timeout,
            what=f"a thread reply with {contains!r}",
        )

    def current(self, message: Message) -> Message:
        """The message as it is now (after chat.update)."""
        found = self.workspace.find_message(message.channel, message.ts)
        assert found is not None
        return found
