"""The Customer channels modal of the Home tab's Admin section: only admins open or save it,
and it is answered within Slack's 3 s whatever Slack does while it checks the channel."""

from __future__ import annotations

import json

from bot.app import Casedesk
from bot.handlers.admin import SLACK_SLOW
from slack_double import SlackDouble
from tests.conftest import OUTSIDER, People
from tests.test_admin import add_agent, open_from_home

SHARED = "C0ACMESHR"
ACME = "T0ACMECORP"


def test_a_non_admin_can_neither_open_nor_save_the_customer_channel_modal(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    double.channel(SHARED, "acme-support")
    add_agent(people.agent, OUTSIDER)  # an agent, not an admin
    double.workspace.home_views[OUTSIDER] = people.agent.open_home()  # as if their client showed the admin's tab
    env = people.outsider.click_home("Customer channels")
    people.outsider.wait_dm("Only admins")
    assert not any(v.trigger_id == env.payload["trigger_id"] for v in double.workspace.views.values())

    # A forged submission of the admin's modal is refused inline, and nothing is stored.
    modal = open_from_home(people.agent, "Customer channels")
    modal.pick_channel("Channel", SHARED)
    forged = modal.submission_payload()
    forged["user"] = people.outsider.user_object()
    ack = modal.submit(forged)
    assert ack is not None and "Only admins" in json.dumps(ack)
    assert desk.deps.customers.get(SHARED) is None


def test_the_modal_is_answered_in_time_when_slack_is_slow_to_check_the_channel(
    desk: Casedesk, double: SlackDouble, people: People
) -> None:
    double.channel(SHARED, "acme-support")
    double.organisation(ACME, "Acme Corp")
    double.share_channel(SHARED, ACME, announce=False)
    modal = open_from_home(people.agent, "Customer channels")
    modal.pick_channel("Channel", SHARED)
    double.web_api.delay("conversations.info", 4.0)
    ack = modal.submit(timeout=3.0)  # Slack's limit for the answer
    assert ack is not None and ack["errors"] == {"channel": SLACK_SLOW}
    assert desk.deps.customers.get(SHARED) is None

    # Slack answers again: saved, with the organisation conversations.info names.
    assert modal.submit(timeout=3.0) is None
    assert desk.deps.customers.get(SHARED).account_id == ACME  # type: ignore[union-attr]
