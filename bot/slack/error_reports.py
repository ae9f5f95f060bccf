"""Unexpected errors reach people: logged with the traceback, reported to the admin
channel (once per distinct error per hour) by type and place only, and the person who
triggered it gets an apology instead of silence."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services.tickets import Clock, utcnow
from bot.settings.logs import scrub
from bot.views.notices import apology, error_report

log = logging.getLogger(__name__)
REPORT_EVERY = timedelta(hours=1)
PROJECT_PACKAGES = ("bot", "db")
ACK_POLL_GRACE = 0.03


def error_type(error: BaseException) -> str:
    """The error's class, with its module unless it is a built-in one."""
    kind = type(error)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def origin(error: BaseException) -> str:
    """``module:function:line`` of the innermost frame of this project's code that the error
    passed through (of any code, when none of it is the project's)."""
    frames = [(f.f_globals.get("__name__", "?"), f.f_code.co_name, line) for f, line in traceback.walk_tb(error.__traceback__)]
    ours = [frame for frame in frames if frame[0].split(".")[0] in PROJECT_PACKAGES]
    if not (ours or frames):
        return "?"
    module, function, line = (ours or frames)[-1]
    return f"{module}:{function}:{line}"


def _who_and_where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
    event = body.get("event") or {}
    user = user or event.get("user")
    channel = (
        (body.get("container") or {}).get("channel_id")
        or (body.get("channel") or {}).get("id")
        or body.get("channel_id")
        or event.get("channel")
    )
    return user, channel


class ErrorReporter:
    def __init__(self, client: WebClient, admin_channel: str, clock: Clock = utcnow) -> None:
        self._client = client
        self._admin_channel = admin_channel
        self._clock = clock
        self._last_reported: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def report(self, error: BaseException, where: str) -> bool:
        """Log it; tell the admin channel unless this error was reported within the hour."""
        log.error("unexpected error in %s", where, exc_info=error)
        kind, place, now = error_type(error), origin(error), self._clock()
        key = f"{kind}@{place}"  # the same type raised at the same place is the same error
        with self._lock:
            last = self._last_reported.get(key)
            if last is not None and now - last < REPORT_EVERY:
                return False
            self._last_reported[key] = now
        try:
            self._client.chat_postMessage(channel=self._admin_channel, text=scrub(error_report(where, kind, place)))
        except SlackApiError as err:
            log.error("could not report the error to the admin channel: %s", err.response.get("error"))
        return True

    def apologise(self, user: str | None, channel: str | None) -> None:
        if not user:
            return
        try:
            if channel and not channel.startswith("D"):
                self._client.chat_postEphemeral(channel=channel, user=user, text=apology())
            else:
                self._client.chat_postMessage(channel=user, text=apology())
        except SlackApiError as err:
            log.error("could not apologise to %s: %s", user, err.response.get("error"))

    def install(self, app: App) -> None:
        def on_error(error: Exception, body: dict[str, Any], ack: Ack) -> None:
            if ack.response is not None:
                # Bolt (1.30) clears an ack that its runner has not picked up yet when
                # the listener raises afterwards; its runner polls every 10 ms, so
                # waiting a little longer lets the ack reach Slack first.
                time.sleep(ACK_POLL_GRACE)
            user, channel = _who_and_where(body)
            kind = body.get("command") or body.get("type") or (body.get("event") or {}).get("type") or "a request"
            self.report(error, f"handling {kind}")
            self.apologise(user, channel)

        app.error(on_error)

    def guard(self, name: str, job: Callable[[], str]) -> Callable[[], str | None]:
        """A scheduled job that reports its failure (and returns None) instead of raising."""

        def run() -> str | None:
            try:
                return job()
            except Exception as exc:  # noqa: BLE001 - reported, and the scheduler carries on
                self.report(exc, f"job {name}")
                return None

        return run
