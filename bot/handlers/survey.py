"""The survey DM: a score button, then "Add a comment" and its modal.

The button and the modal name a survey by its id; who may answer it is decided by the
service (the requester only), never by the payload."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import deps_of
from bot.services.surveys import Outcome, Rated
from bot.slack.replies import tell
from bot.views.survey import (
    COMMENT,
    COMMENT_BLOCK,
    COMMENT_INPUT,
    COMMENT_MODAL,
    RATE_PATTERN,
    answered_text,
    comment_modal,
    thanks_blocks,
)

log = logging.getLogger(__name__)
REFUSED = {
    Outcome.EXPIRED: "This survey has expired; nothing was recorded.",
    Outcome.INVALID: "This survey no longer exists; nothing was recorded.",
    Outcome.NOT_YOURS: "Only the person who asked for help can rate it.",
}


def _ids(value: str) -> tuple[int, int] | None:
    first, _, second = value.partition(":")
    return (int(first), int(second or 0)) if first.isdigit() and (second or "0").isdigit() else None


def _show(client: WebClient, body: dict[str, Any], user: str, rated: Rated) -> None:
    """The DM answers the click: thanks (and the comment button), or why nothing was recorded."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if rated.outcome is Outcome.RECORDED and rated.score and rated.rating_id and channel and ts:
        blocks = thanks_blocks(rated.rating_id, rated.number, rated.score, commented=False)
        try:
            client.chat_update(channel=channel, ts=ts, text=f"Thank you! You rated {rated.number} {rated.score}/5.", blocks=blocks)
        except SlackApiError as err:
            log.warning("the survey DM could not be updated: %s", err.response.get("error"))
        return
    text = answered_text(rated.number, rated.score) if rated.outcome is Outcome.ALREADY else REFUSED.get(rated.outcome, "")
    if text:
        tell(client, channel, user, text)


def rate(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    ids = _ids(str(body["actions"][0].get("value") or ""))
    surveys = deps_of(context).surveys
    if ids is None or surveys is None:
        return
    _show(client, body, user, surveys.rate_by_button(ids[0], ids[1], user))


def open_comment(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    user = body["user"]["id"]
    value = str(body["actions"][0].get("value") or "")
    surveys = deps_of(context).surveys
    if not value.isdigit() or surveys is None:
        return
    survey = surveys.survey(int(value))
    if survey is None or survey.requester != user or survey.score is None:
        tell(client, (body.get("container") or {}).get("channel_id"), user, REFUSED[Outcome.NOT_YOURS])
        return
    container = body.get("container") or {}
    where = f"{container.get('channel_id') or ''}:{container.get('message_ts') or ''}"
    client.views_open(trigger_id=body["trigger_id"], view=comment_modal(survey.id, survey.number, survey.score, where))


def submit_comment(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    user = body["user"]["id"]
    surveys = deps_of(context).surveys
    state = view.get("state", {}).get("values", {}).get(COMMENT_BLOCK, {}).get(COMMENT_INPUT) or {}
    text = str(state.get("value") or "").strip()
    rating, _, where = str(view.get("private_metadata") or "").partition(":")
    if not text:
        ack(response_action="errors", errors={COMMENT_BLOCK: "Write a comment, or cancel."})
        return
    if surveys is None or not rating.isdigit():
        ack()
        return
    rated = surveys.add_comment(int(rating), user, text)
    if rated.outcome is Outcome.RECORDED:
        ack()
        _thank(client, where, rated)
    elif rated.outcome is Outcome.ALREADY:
        ack(response_action="errors", errors={COMMENT_BLOCK: "A comment was added to this rating already."})
    else:
        ack(response_action="errors", errors={COMMENT_BLOCK: REFUSED.get(rated.outcome, "Nothing was recorded.")})


def _thank(client: WebClient, where: str, rated: Rated) -> None:
    """The survey DM without its comment button, once the comment is in. Only a DM of the
    bot's is touched (the place comes back from the client, so it is checked)."""
    channel, _, ts = where.partition(":")
    if not (channel.startswith("D") and ts and rated.score and rated.rating_id):
        return
    blocks = thanks_blocks(rated.rating_id, rated.number, rated.score, commented=True)
    try:
        client.chat_update(channel=channel, ts=ts, text=f"Thank you! You rated {rated.number} {rated.score}/5.", blocks=blocks)
    except SlackApiError as err:
        log.warning("the survey DM could not be updated: %s", err.response.get("error"))


def register(app: App) -> None:
    app.action(re.compile(RATE_PATTERN))(rate)
    app.action(COMMENT)(open_comment)
    app.view(COMMENT_MODAL)(submit_comment)
