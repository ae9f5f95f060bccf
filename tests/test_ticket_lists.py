"""/agent-tickets and /system-tickets through the double."""

from __future__ import annotations

import re

import pytest

from bot.app import Casedesk
from bot.services.tickets import NewTicket
from slack_double import Modal, SlackDouble
from slack_double.blockkit import view_errors
from tests.conftest import AGENT, AGENT2, OUTSIDER, REPORTER, People

NUMBER = re.compile(r"TCK-\d{6}")


def seed(desk: Casedesk, count: int, reporter: str = REPORTER, **fields: str) -> list[int]:
    ids = []
    for i in range(count):
        new = NewTicket(
            reporter_id=reporter,
            campaign=fields.get("campaign", "Billing"),
            issue_type=fields.get("issue_type", "Bug"),
            priority=fields.get("priority", ("high", "medium", "low")[i % 3]),
            details=fields.get("details", f"ticket number {i}"),
        )
        ids.append(desk.deps.tickets.create(new)[0].id)
    return ids


def numbers(modal: Modal) -> list[str]:
    rows = [b["text"]["text"] for b in modal.view["blocks"] if b.get("type") == "section"]
    return [m for row in rows for m in NUMBER.findall(row.split("\n")[0])]


def open_list(person, command: str, text: str = "") -> Modal:  # type: ignore[no-untyped-def]
    modal = person.open_modal(command, text)
    person.double.wait_for(lambda: "Loading" not in str(modal.view["blocks"]), what="the list")
    return modal


def test_a_reporter_sees_only_their_own_tickets(desk: Casedesk, double: SlackDouble, people: People) -> None:
    mine = seed(desk, 3)
    seed(desk, 4, reporter=OUTSIDER)
    modal = open_list(people.reporter, "/agent-tickets")
    assert modal.title == "My tickets"
    assert numbers(modal) == [f"TCK-{i:06d}" for i in reversed(mine)]
    assert view_errors(modal.view) == []


def test_the_assigned_tab_lists_what_the_caller_works_on(desk: Casedesk, double: SlackDouble, people: People) -> None:
    ids = seed(desk, 3)
    desk.deps.tickets.assign_to_self(ids[1], AGENT)
    modal = open_list(people.agent, "/agent-tickets")
    assert numbers(modal) == []
    modal.click("Assigned to me")
    assert numbers(modal) == [f"TCK-{ids[1]:06d}"]


def test_paging_across_250_tickets_shows_each_exactly_once(desk: Casedesk, double: SlackDouble, people: People) -> None:
    ids = seed(desk, 250)
    modal = open_list(people.agent, "/system-tickets")
    seen: list[str] = []
    while True:
        assert len(modal.view["blocks"]) <= 100 and view_errors(modal.view) == []
        seen += numbers(modal)
        if "Next ▶" not in modal.buttons():
            break
        modal.click("Next ▶")
    assert sorted(seen) == sorted(f"TCK-{i:06d}" for i in ids)
    assert len(seen) == len(set(seen)) == 250
    modal.click("◀ Previous")
    assert numbers(modal) == seen[-30:-10]


def test_an_outsider_is_refused_all_tickets(desk: Casedesk, double: SlackDouble, people: People) -> None:
    seed(desk, 2)
    env = people.outsider.run("/system-tickets")
    assert "Only support agents can see all tickets." in people.outsider.wait_ephemeral("Only support agents")
    assert not any(v.trigger_id == env.payload["trigger_id"] for v in double.workspace.views.values())


def test_filters_and_search_combine(desk: Casedesk, double: SlackDouble, people: People) -> None:
    seed(desk, 6, details="printer on fire")
    ids = seed(desk, 6, details="login loop")
    desk.deps.tickets.close(ids[0], AGENT)
    modal = open_list(people.agent, "/system-tickets", "high open login")
    # priorities cycle high/medium/low: the high "login" tickets are ids[0] and ids[3]; ids[0] is closed
    assert numbers(modal) == [f"TCK-{ids[3]:06d}"]
    modal.select("Closed")
    assert numbers(modal) == [f"TCK-{ids[0]:06d}"]
    by_number = open_list(people.agent2, "/system-tickets", f"TCK-{ids[2]:06d}")
    assert numbers(by_number) == [f"TCK-{ids[2]:06d}"]


def test_status_word_and_filter_menu_on_my_tickets(desk: Casedesk, double: SlackDouble, people: People) -> None:
    ids = seed(desk, 3)
    desk.deps.tickets.resolve(ids[0], AGENT)
    modal = open_list(people.reporter, "/agent-tickets", "resolved")
    assert numbers(modal) == [f"TCK-{ids[0]:06d}"]
    modal.select("Any status")
    assert len(numbers(modal)) == 3


@pytest.mark.parametrize("command,text", [("/agent-tickets", "bananas"), ("/agent-tickets", "high")])
def test_unknown_words_get_a_usage_hint(desk: Casedesk, double: SlackDouble, people: People, command: str, text: str) -> None:
    people.reporter.run(command, text)
    assert "Usage: `/agent-tickets" in people.reporter.wait_ephemeral("Usage")


def test_long_details_and_emoji_stay_inside_limits(desk: Casedesk, double: SlackDouble, people: People) -> None:
    seed(desk, 25, details=("😀 <!channel> & ünïcode " * 200)[:3000])
    modal = open_list(people.agent, "/system-tickets")
    assert view_errors(modal.view) == []
    assert "<!channel>" not in str(modal.view)
    assert len(numbers(modal)) == 20


def test_rows_link_to_their_cards(desk: Casedesk, double: SlackDouble, people: People) -> None:
    (ticket_id,) = seed(desk, 1)
    desk.deps.tickets.record_card(ticket_id, "C0SUPPORT", "1795363610.000042")
    modal = open_list(people.reporter, "/agent-tickets")
    row = next(b["text"]["text"] for b in modal.view["blocks"] if "TCK-" in str(b))
    assert f"archives/C0SUPPORT/p1795363610000042|TCK-{ticket_id:06d}>" in row
    assert AGENT2 not in row


def test_campaign_type_and_assignee_filters(desk: Casedesk, double: SlackDouble, people: People) -> None:
    billing_bug = seed(desk, 2, campaign="Billing", issue_type="Bug")
    web_bug = seed(desk, 2, campaign="Website", issue_type="Bug")
    web_question = seed(desk, 1, campaign="Website", issue_type="Question")
    desk.deps.tickets.assign_to_self(web_bug[0], AGENT)
    assert numbers(open_list(people.agent, "/system-tickets", "campaign:Website type:Bug")) == [
        f"TCK-{i:06d}" for i in reversed(web_bug)
    ]
    assert numbers(open_list(people.agent, "/system-tickets", "assignee:me")) == [f"TCK-{web_bug[0]:06d}"]
    unassigned = numbers(open_list(people.agent2, "/system-tickets", "assignee:none campaign:Website"))
    assert unassigned == [f"TCK-{web_question[0]:06d}", f"TCK-{web_bug[1]:06d}"]
    assert numbers(open_list(people.agent2, "/system-tickets", f"assignee:{AGENT}")) == [f"TCK-{web_bug[0]:06d}"]
    assert billing_bug


def test_an_outsider_replaying_a_page_click_is_refused(desk: Casedesk, double: SlackDouble, people: People) -> None:
    seed(desk, 25)
    modal = open_list(people.agent, "/system-tickets")
    block = next(b for b in modal.view["blocks"] if b.get("block_id") == "ticket_list_paging")
    button = block["elements"][0]
    payload = modal._action_payload(block, {"action_id": button["action_id"], "type": "button", "value": button["value"], "text": button["text"]})
    payload["user"] = people.outsider.user_object()
    hash_before = modal.opened.hash
    double.socket.wait_ack(double.socket.send("interactive", payload))
    assert "Only support agents can see all tickets." in people.outsider.wait_dm("Only support agents").text
    assert modal.opened.hash == hash_before
