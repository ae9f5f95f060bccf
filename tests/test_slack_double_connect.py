"""The double's second organisation (Slack Connect), as Slack shows it to our app."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError

from slack_double import Message, SlackDouble, events
from slack_double.workspace import TEAM_ID
from tests.conftest import AGENT, SUPPORT
from tests.test_slack_double import client

ACME = "T0ACMECORP"
SHARED = "C0ACMESHR"


def test_an_external_member_and_their_organisation(double: SlackDouble) -> None:
    api = client(double)
    double.organisation(ACME, "Acme Corp")
    double.channel(SHARED, "acme-support")
    double.external_person("U0ACMEKIM", ACME, "kim")
    with pytest.raises(SlackApiError) as refused:
        api.team_info(team=ACME)  # no channel shared with them yet
    assert refused.value.response["error"] == "team_not_found"
    assert api.users_info(user="U0ACMEKIM")["user"]["is_stranger"] is True
    assert api.conversations_info(channel=SHARED)["channel"]["is_ext_shared"] is False

    double.share_channel(SHARED, ACME, announce=False)
    user = api.users_info(user="U0ACMEKIM")["user"]
    assert user["team_id"] == ACME and user["is_stranger"] is False and "locale" not in user and "email" not in user["profile"]
    assert api.team_info(team=ACME)["team"]["name"] == "Acme Corp"
    assert api.team_info()["team"]["id"] == TEAM_ID
    info = api.conversations_info(channel=SHARED)["channel"]
    assert info["is_ext_shared"] and info["connected_team_ids"] == [ACME]
    double.workspace.hidden_users["U0ACMEKIM"] = "user_not_visible"
    with pytest.raises(SlackApiError) as hidden:
        api.users_info(user="U0ACMEKIM")
    assert hidden.value.response["error"] == "user_not_visible"


def test_events_in_a_shared_channel_carry_the_senders_team(double: SlackDouble) -> None:
    double.person(AGENT, "alice")
    double.organisation(ACME, "Acme Corp")
    double.channel(SHARED, "acme-support")
    double.external_person("U0ACMEKIM", ACME, "kim")
    double.share_channel(SHARED, ACME, their_channel=True, announce=False)
    ws = double.workspace
    theirs = events.event_callback(ws, events.message_event(ws, Message(SHARED, ws.next_ts(), "hi", None, "U0ACMEKIM")))
    ours = events.event_callback(ws, events.message_event(ws, Message(SHARED, ws.next_ts(), "hello", None, AGENT)))
    inside = events.event_callback(ws, events.message_event(ws, Message(SUPPORT, ws.next_ts(), "note", None, AGENT)))
    assert theirs["is_ext_shared_channel"] and ours["is_ext_shared_channel"] and "is_ext_shared_channel" not in inside
    assert theirs["event"]["user_team"] == ACME and ours["event"]["user_team"] == TEAM_ID
    assert theirs["team_id"] == ACME  # the outer team_id names the channel's creator
    assert theirs["authorizations"] == [{"team_id": TEAM_ID, "user_id": "U0CASEBOT", "is_bot": True}]
