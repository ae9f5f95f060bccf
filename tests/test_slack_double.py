"""The double holds the bot to Slack's rules; these tests hold the double to them."""

from __future__ import annotations

import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slack_double import SlackDouble
from tests.conftest import SUPPORT


def client(double: SlackDouble, token: str | None = None) -> WebClient:
    return WebClient(token=token or double.bot_token, base_url=double.api_url)


def error_of(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except SlackApiError as err:
        return str(err.response["error"])
    raise AssertionError("the call succeeded")


def test_trigger_ids_work_once_and_expire(double: SlackDouble) -> None:
    web = client(double)
    person = double.person("U0PERSON1")
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    trigger = double.workspace.issue_trigger(person.id)
    assert web.views_open(trigger_id=trigger, view=view)["ok"]
    assert error_of(lambda: web.views_open(trigger_id=trigger, view=view)) == "exchanged_trigger_id"
    old = double.workspace.issue_trigger(person.id)
    issued, user, used = double.workspace.triggers[old]
    double.workspace.triggers[old] = (issued - 3.1, user, used)
    assert error_of(lambda: web.views_open(trigger_id=old, view=view)) == "expired_trigger_id"


def test_block_kit_limits_are_enforced(double: SlackDouble) -> None:
    web = client(double)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    assert error_of(lambda: web.chat_postMessage(channel=SUPPORT, text="t", blocks=[section] * 51)) == "invalid_blocks"
    long_text = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert error_of(lambda: web.chat_postMessage(channel=SUPPORT, text="t", blocks=[long_text])) == "invalid_blocks"
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert error_of(lambda: web.chat_postMessage(channel=SUPPORT, text="t", blocks=[header])) == "invalid_blocks"
    button = {"type": "actions", "elements": [{"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "b" * 76}}]}
    assert error_of(lambda: web.chat_postMessage(channel=SUPPORT, text="t", blocks=[button])) == "invalid_blocks"
    trigger = double.workspace.issue_trigger(double.person("U0PERSON1").id)
    long_title = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []}
    assert error_of(lambda: web.views_open(trigger_id=trigger, view=long_title)) == "invalid_arguments"
    assert web.chat_postMessage(channel=SUPPORT, text="t", blocks=[section] * 50)["ok"]


def test_unknown_channels_messages_and_tokens(double: SlackDouble) -> None:
    web = client(double)
    assert error_of(lambda: web.chat_postMessage(channel="C0NOWHERE", text="t")) == "channel_not_found"
    assert error_of(lambda: web.chat_update(channel=SUPPORT, ts="1.000001", text="t")) == "message_not_found"
    double.channel("C0PRIVATE", "private", bot_member=False)
    assert error_of(lambda: web.chat_postMessage(channel="C0PRIVATE", text="t")) == "not_in_channel"
    assert error_of(lambda: client(double, "xoxb-wrong").auth_test()) == "invalid_auth"
    assert error_of(lambda: web.apps_connections_open(app_token=double.bot_token)) == "invalid_auth"


def test_429_carries_retry_after(double: SlackDouble) -> None:
    double.web_api.rate_limit("chat.postMessage", times=1, retry_after=7)
    try:
        client(double).chat_postMessage(channel=SUPPORT, text="t")
    except SlackApiError as err:
        assert err.response.status_code == 429
        assert err.response.headers["Retry-After"] == "7"
    else:
        raise AssertionError("not rate limited")


def test_granted_scopes_come_back_in_a_header(double: SlackDouble) -> None:
    response = client(double).auth_test()
    assert "chat:write" in response.headers["x-oauth-scopes"]


def test_acks_are_recorded_with_latency(desk, double: SlackDouble, people) -> None:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    env = people.reporter.run("/new-ticket")
    assert env.acks == 1 and env.ack_latency is not None and 0 < env.ack_latency < time.perf_counter() - start + 0.001


def test_the_bot_reconnects_when_slack_asks_it_to(desk, double: SlackDouble, people) -> None:  # type: ignore[no-untyped-def]
    opened_before = len(double.workspace.calls_to("apps.connections.open"))
    double.socket.disconnect_all("refresh_requested")
    double.wait_for(lambda: len(double.workspace.calls_to("apps.connections.open")) > opened_before, timeout=10)
    double.wait_for(lambda: double.socket.connection_count() >= 1, timeout=10)
    # Before bot/slack/socket_mode.py woke the old reader, this waited 3 s and the trigger expired.
    env = people.reporter.run("/new-ticket")
    assert env.ack_latency is not None and env.ack_latency < 0.5
    assert people.reporter.modal_from(env.payload["trigger_id"]).title == "New ticket"
