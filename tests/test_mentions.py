"""Mentions only from validated IDs: a user ID typed into a command (or forged into a list's
state) is rendered as a mention only when it is one (^[UW][A-Z0-9]{2,}$); anything else is
refused with a clear answer, or shown as escaped text that can neither mention nor link."""

from __future__ import annotations

import json

import pytest

from bot.app import Casedesk
from bot.views.text import mention
from slack_double import SlackDouble
from tests.conftest import AGENT, People
from tests.test_ticket_lists import open_list, seed

INJECTIONS = ["x><!channel", "x&gt;&lt;!channel", "<!channel>", "<@U0AGENTAL><!here>", "U1", "u0agental!", "<https://evil.test|U0AGENTAL>"]


def header(view: dict[str, object]) -> str:
    """The list's context line: what it shows and filtered by what."""
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    return next(b["elements"][0]["text"] for b in blocks if b["type"] == "context")


def everything_received(double: SlackDouble) -> str:
    """Every argument of every Web API call, every view and every ephemeral the double got."""
    ws = double.workspace
    calls = [json.dumps(call.args) for call in ws.calls]
    views = [json.dumps(opened.view) for opened in ws.views.values()]
    return "\n".join(calls + views + [e.text for e in ws.ephemerals])


@pytest.mark.parametrize("typed", INJECTIONS)
def test_an_assignee_that_is_not_a_user_id_is_refused_with_a_clear_answer(
    desk: Casedesk, double: SlackDouble, people: People, typed: str
) -> None:
    people.agent.run("/system-tickets", f"open assignee:{typed}")
    answer = people.agent.wait_ephemeral("assignee:")
    assert "takes `me`, `none`, a mention or a member ID such as `U0123456789`" in answer
    assert not double.workspace.calls_to("views.open")
    received = everything_received(double)
    for raw in ("<!channel>", "<!here>", "<@x", "<https://evil"):
        assert raw not in received


def test_a_valid_assignee_is_shown_as_a_mention(desk: Casedesk, double: SlackDouble, people: People) -> None:
    ids = seed(desk, 2)
    desk.deps.tickets.assign_to_self(ids[0], AGENT)
    for typed in (f"<@{AGENT}|alice>", AGENT, AGENT.lower()):
        modal = open_list(people.agent2, "/system-tickets", f"assignee:{typed}")
        assert header(modal.view) == f"1–1 of 1 · assignee: <@{AGENT}>"


def test_a_forged_assignee_in_the_list_state_is_rendered_as_text(desk: Casedesk, double: SlackDouble, people: People) -> None:
    seed(desk, 2)
    modal = open_list(people.agent, "/system-tickets", f"assignee:{AGENT}")
    state = json.loads(modal.opened.view["private_metadata"])
    # A crafted payload: the view's private_metadata comes back from the client.
    modal.opened.view["private_metadata"] = json.dumps(state | {"assignee": "x><!channel"})
    modal.select("Open")
    text = header(double.workspace.views[modal.opened.id].view)
    assert "assignee: x&gt;&lt;!channel" in text
    assert "<!channel>" not in text and "<@x" not in text


@pytest.mark.parametrize(
    ("user_id", "shown"),
    [
        ("U0AGENTAL", "<@U0AGENTAL>"),
        ("W0ENTERPR1", "<@W0ENTERPR1>"),
        ("x><!channel", "x&gt;&lt;!channel"),
        ("U0AGENTAL><!here", "U0AGENTAL&gt;&lt;!here"),
        ("U0AGENTAL\n", "U0AGENTAL\n"),
        ("UÅ12", "UÅ12"),
        ("U1", "U1"),
        ("rita@customer.test", "rita@customer.test"),
        (None, "_unassigned_"),
    ],
)
def test_mention_renders_only_validated_ids(user_id: str | None, shown: str) -> None:
    assert mention(user_id) == shown
