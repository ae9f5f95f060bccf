"""Answers to the one person who clicked or typed: ephemeral, or a DM where there is no
channel to answer in. These stay direct (not through the outbox): they concern this
request alone, and a lost one is repaired by the person trying again."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)


def tell(client: WebClient, channel: str | None, user: str, text: str) -> None:
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
    except SlackApiError as err:
        log.warning("ephemeral reply failed (%s); sending a DM", err.response.get("error"))
    try:
        client.chat_postMessage(channel=user, text=text, unfurl_links=False, unfurl_media=False)
    except SlackApiError as err:
        log.error("a direct answer to %s failed: %s", user, err.response.get("error"))
