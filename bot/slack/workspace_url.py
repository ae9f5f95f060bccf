"""The workspace's URL, asked of Slack once: the base of every card permalink."""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError


class WorkspaceUrl:
    """The workspace's URL (from auth.test, asked once): the base of card permalinks."""

    def __init__(self) -> None:
        self._url: str | None = None
        self._lock = threading.Lock()

    def get(self, client: WebClient) -> str | None:
        with self._lock:
            if self._url is None:
                try:
                    self._url = str(client.auth_test().get("url") or "") or None
                except SlackApiError:
                    return None
            return self._url
