"""A ticket's whole life in Slack, driven through the double as people would."""

from __future__ import annotations

import copy

from bot.app import Casedesk
from slack_double import Message, SlackDouble
from tests.conftest import ADMIN, AGENT, AGENT2, REPORTER, SUPPORT, People


def file_ticket(
    double: SlackDouble,
    people: People,
    details: str = "The export button does nothing.",
    priority: str = "🔴 High",
    number: str = "TCK-000001",
) -> Message:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", priority)
    modal.type("Details", details)
    assert modal.submit() is None
    card = double.wait_message(SUPPORT, number)
    people.reporter.wait_dm(number)  # the notices that follow the card, in either order
    double.wait_message(ADMIN, number)
    return card


def test_new_ticket_opens_the_form_with_configured_choices(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    assert modal.title == "New ticket"
    assert modal.labels() == ["Campaign", "Issue type", "Priority", "Details", "Screenshot", "Notify (emails)"]
    assert modal.options("Campaign") == list(desk.deps.settings.campaigns)
    assert modal.options("Priority") == ["🔴 High", "🟡 Medium", "🔵 Low"]
    opened = double.workspace.calls_to("views.open")
    assert len(opened) == 1 and opened[0].ok


def test_filed_ticket_is_posted_as_a_card_and_people_are_told(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    text = card.all_text()
    for expected in ("🔴 TCK-000001", "🆕 Open", "Billing", "Bug", f"<@{REPORTER}>", "_unassigned_", "The export button does nothing."):
        assert expected in text
    assert "Created Sun 22 Nov" in text or "Created " in text
    assert card.button_labels() == ["Assign to Me", "Reassign", "Resolve", "Close", "Reply to requester", "Timeline"]
    dm = people.reporter.wait_dm("TCK-000001")
    assert f"archives/{SUPPORT}/p{card.ts.replace('.', '')}" in dm.text
    admin_note = double.wait_message(ADMIN, "TCK-000001")
    assert f"<@{REPORTER}>" in admin_note.text
    assert desk.deps.tickets.get(1).card_ts == card.ts


def test_card_shows_time_with_day_of_week_in_timezone(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    context = next(b for b in card.blocks or [] if b["type"] == "context")
    created = context["elements"][0]["text"]
    # e.g. "Created Sun 22 Nov 2026, 11:04 EST" (America/New_York in the test settings)
    assert created.split()[1] in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    assert created.endswith(("EST", "EDT"))


def test_blank_details_get_an_inline_error_and_no_ticket(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔵 Low").type("Details", "   ")
    ack = modal.submit()
    assert ack is not None and ack["response_action"] == "errors"
    assert "details" in ack["errors"]
    assert not modal.closed
    assert double.messages(SUPPORT) == []


def test_a_forged_choice_gets_an_inline_error(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").type("Details", "x")
    payload = modal.submission_payload()
    payload["view"]["state"]["values"]["priority"] = {
        "value": {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": "Urgent"}, "value": "urgent"}}
    }
    ack = modal.submit(payload)
    assert ack is not None and set(ack["errors"]) == {"priority"}


def test_screenshot_is_linked_on_the_card(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Website").choose("Issue type", "Bug").choose("Priority", "🟡 Medium")
    modal.type("Details", "See the picture").attach("Screenshot", "broken<page>.png")
    modal.submit()
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert "📎 Screenshot: <http://127.0.0.1" in card.all_text()
    assert "broken&lt;page&gt;.png>" in card.all_text()


def test_assign_to_me_moves_to_in_progress(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    people.agent.click(card, "Assign to Me")
    line = double.wait_thread_reply(card, "assigned TCK-000001 to themselves")
    assert line.text.startswith(f"👤 <@{AGENT}>")
    # The card's redraw is a post of its own: wait for it as for the thread line.
    double.wait_for(
        lambda: "🛠️ In Progress" in (now := double.current(card).all_text()) and f"*Assignee*\n<@{AGENT}>" in now,
        what="the card to show the assignee",
    )
    assert [e.kind for e in desk.deps.tickets.events(1)] == ["created", "assigned", "status"]


def test_reassign_picks_a_person_and_tells_them(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    env = people.agent.click(card, "Reassign")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    assert modal.title == "Reassign TCK-000001"
    ack = modal.submit()
    assert ack is not None and "assignee" in ack["errors"]
    modal.pick_user("New assignee", AGENT2).type("Comment", "Bob knows <billing> & exports")
    assert modal.submit() is None
    line = double.wait_thread_reply(card, "reassigned TCK-000001")
    assert f"to <@{AGENT2}>" in line.text and "&lt;billing&gt; &amp; exports" in line.text
    dm = people.agent2.wait_dm("TCK-000001")
    assert f"<@{AGENT}> assigned" in dm.text
    double.wait_for(lambda: f"*Assignee*\n<@{AGENT2}>" in double.current(card).all_text())


def test_resolve_with_a_note_then_close_then_reopen(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    env = people.agent.click(card, "Resolve")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Resolution note", "Cleared the cache.")
    modal.submit()
    double.wait_thread_reply(card, "resolved TCK-000001")
    double.wait_for(lambda: "✅ Resolved" in double.current(card).all_text())
    assert double.current(card).button_labels() == ["Close", "Reopen", "Reply to requester", "Timeline"]
    resolved_dm = people.reporter.wait_dm("was resolved")
    assert "Cleared the cache." in resolved_dm.text
    ticket = desk.deps.tickets.get(1)
    assert ticket.resolved_by == AGENT and ticket.resolved_at is not None

    people.agent.click(card, "Close")
    double.wait_thread_reply(card, "closed TCK-000001")
    double.wait_for(lambda: double.current(card).button_labels() == ["Reopen", "Reply to requester", "Timeline"])
    people.reporter.wait_dm("was closed")

    people.agent2.click(card, "Reopen")
    double.wait_thread_reply(card, "reopened TCK-000001")
    double.wait_for(lambda: "🆕 Open" in double.current(card).all_text())
    assert double.current(card).button_labels() == ["Assign to Me", "Reassign", "Resolve", "Close", "Reply to requester", "Timeline"]
    kinds = [(e.kind, e.from_value, e.to_value) for e in desk.deps.tickets.events(1)]
    assert kinds == [
        ("created", None, "open"),
        ("status", "open", "resolved"),
        ("status", "resolved", "closed"),
        ("status", "closed", "open"),
    ]


def test_a_stale_card_changes_nothing_and_says_why(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    stale = copy.deepcopy(card)
    people.agent.click(card, "Close")
    double.wait_for(lambda: double.current(card).button_labels() == ["Reopen", "Reply to requester", "Timeline"])
    people.agent2.click(stale, "Assign to Me", as_shown=True)
    said = people.agent2.wait_ephemeral("TCK-000001")
    assert "Closed" in said and "Nothing changed" in said
    assert desk.deps.tickets.get(1).assignee_id is None


def test_a_double_click_assigns_once(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    stale = copy.deepcopy(card)
    people.agent.click(card, "Assign to Me")
    double.wait_thread_reply(card, "assigned")
    people.agent.click(stale, "Assign to Me", as_shown=True)
    assert "already assigned to you" in people.agent.wait_ephemeral("TCK-000001")
    assert [e.kind for e in desk.deps.tickets.events(1)].count("assigned") == 1


def test_concurrent_assigns_one_wins_the_other_is_told(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    first = double.socket.send("interactive", people.agent.click_payload(card, "Assign to Me"))
    second = double.socket.send("interactive", people.agent2.click_payload(card, "Assign to Me"))
    double.socket.wait_ack(first)
    double.socket.wait_ack(second)
    winner = double.wait_for(lambda: desk.deps.tickets.get(1).assignee_id, what="the assignment")
    loser = people.agent2 if winner == AGENT else people.agent
    assert f"already assigned to <@{winner}>" in loser.wait_ephemeral("TCK-000001")
    # Both clicks are done now: the loser was told, the winner's line is in the card's thread.
    lines = double.wait_for(lambda: double.thread(card), what="the assignment's line in the card's thread")
    assert [e.kind for e in desk.deps.tickets.events(1)].count("assigned") == 1
    assert len(lines) == 1


def test_a_redelivered_submission_files_one_ticket(desk: Casedesk, double: SlackDouble, people: People) -> None:
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High").type("Details", "once")
    payload = modal.submission_payload()
    envs = [double.socket.send("interactive", payload) for _ in range(3)]
    for env in envs:
        double.socket.wait_ack(env)
    double.wait_message(SUPPORT, "TCK-000001")
    people.reporter.wait_dm("Your ticket TCK-000001 was filed")
    double.wait_message(ADMIN, "TCK-000001")
    assert len(double.messages(SUPPORT)) == 1
    assert len(people.reporter.dms()) == 1
    assert len(double.messages(ADMIN)) == 1


def test_user_text_cannot_ping_and_long_details_are_cut(desk: Casedesk, double: SlackDouble, people: People) -> None:
    details = "Help <!channel> <@U0AGENTAL> <!subteam^S123> & <http://evil|click> " + "x" * 5000
    card = file_ticket(double, people, details=details)
    body = next(b for b in card.blocks or [] if b["type"] == "section" and "text" in b)["text"]["text"]
    assert body.startswith("Help &lt;!channel&gt; &lt;@U0AGENTAL&gt; &lt;!subteam^S123&gt; &amp; &lt;http://evil|click&gt;")
    assert len(body) <= 3000 and body.endswith("…")
    for msg in double.messages(SUPPORT) + double.messages(ADMIN) + people.reporter.dms():
        assert "<!channel>" not in msg.all_text() and "<@U0AGENTAL>" not in msg.all_text()
    stored = desk.deps.tickets.get(1).details
    assert stored == details.strip()


def test_rate_limited_post_is_retried_after_retry_after(desk: Casedesk, double: SlackDouble, people: People) -> None:
    double.web_api.rate_limit("chat.postMessage", times=1, retry_after=1)
    card = file_ticket(double, people)
    calls = list(double.workspace.calls_to("chat.postMessage"))
    assert calls[0].error == "ratelimited"
    assert calls[1].ok and calls[1].at - calls[0].at >= 0.9
    assert card.ts == desk.deps.tickets.get(1).card_ts
