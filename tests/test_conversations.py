"""Cases from conversations: people write in an intake channel and in case threads."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select

from bot.app import Casedesk
from bot.services.conversations import SlackMessage
from bot.services.status import Status
from bot.settings import Settings, load_settings
from db.models import Attachment, CaseMessage, Ticket
from slack_double import Message, SlackDouble
from tests.conftest import AGENT, AGENT2, GENERAL, OUTSIDER, REPORTER, SUPPORT, People, base_env

INTAKE = "C0INTAKE"


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(INTAKE, "help")
    return load_settings(base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": INTAKE})


def open_case(double: SlackDouble, people: People, text: str = "The invoice page is blank.", number: str = "TCK-000001") -> tuple[Message, Message]:
    """The reporter writes in the intake channel; returns (their message, the case's card)."""
    asked = people.reporter.say(INTAKE, text)
    card = double.wait_message(SUPPORT, number)
    double.wait_thread_reply(asked, number)
    return asked, card


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def test_a_message_in_an_intake_channel_opens_a_case(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked = people.reporter.say(INTAKE, "The invoice page is blank.\nSince this morning.", files=["blank.png"])
    card = double.wait_message(SUPPORT, "TCK-000001")
    answer = double.wait_thread_reply(asked, "TCK-000001")
    assert f"archives/{SUPPORT}/p{card.ts.replace('.', '')}" in answer.text
    text = card.all_text()
    assert "The invoice page is blank." in text and f"<@{REPORTER}>" in text and f"<#{INTAKE}>" in text
    ticket = desk.deps.tickets.get(1)
    assert (ticket.source, ticket.reporter_id, ticket.status) == ("slack", REPORTER, Status.OPEN)
    assert ticket.details == "The invoice page is blank.\nSince this morning."
    assert (ticket.origin_channel, ticket.origin_ts, ticket.card_ts) == (INTAKE, asked.ts, card.ts)
    [stored] = desk.deps.conversations.messages(1)
    assert (stored.author_id, stored.role, stored.slack_ts) == (REPORTER, "customer", asked.ts)
    with desk.engine.connect() as conn:
        [(name, url)] = conn.execute(select(Attachment.name, Attachment.url)).all()
    assert name == "blank.png" and url and url.startswith("https://")


def test_replies_in_either_thread_are_stored_in_order(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people)
    people.reporter.say(INTAKE, "Still blank after a reload.", thread=asked)
    mirrored = double.wait_thread_reply(card, "Still blank after a reload.")
    assert f"<@{REPORTER}>" in mirrored.text
    # People take turns, as in a real thread: each message is stored before the next.
    for n, (person, channel, thread, text) in enumerate(
        [
            (people.agent, SUPPORT, card, "Looking at it now."),
            (people.agent2, INTAKE, asked, "Can you send the invoice number?"),
            (people.outsider, INTAKE, asked, "Same for me!"),
        ],
        start=3,
    ):
        person.say(channel, text, thread=thread)
        double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == n, what=f"{n} stored messages")
    stored = desk.deps.conversations.messages(1)
    assert [(m.author_id, m.role) for m in stored] == [
        (REPORTER, "customer"), (REPORTER, "customer"), (AGENT, "agent"), (AGENT2, "agent"), (OUTSIDER, "customer"),
    ]
    ticket = desk.deps.tickets.get(1)
    assert ticket.first_response_at is not None
    assert ticket.followups == 1  # the outsider's, after the agents answered
    assert ticket.waiting_since is not None


def test_first_response_is_the_first_agent_reply(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people)
    people.reporter.say(INTAKE, "Any news?", thread=asked)
    people.reporter.say(INTAKE, "Hello?", thread=asked)
    double.wait_for(lambda: desk.deps.tickets.get(1).followups == 2, what="two follow-ups")
    assert desk.deps.tickets.get(1).first_response_at is None
    people.agent.say(SUPPORT, "On it.", thread=card)
    double.wait_for(lambda: desk.deps.tickets.get(1).first_response_at, what="the first response")
    ticket = desk.deps.tickets.get(1)
    assert ticket.followups == 0 and ticket.waiting_since is None
    assert [e.kind for e in desk.deps.tickets.events(1)] == ["created", "first_response"]


def test_reporter_reply_reopens_a_resolved_case_and_says_so(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people)
    desk.deps.tickets.resolve(1, AGENT, "Cache cleared.")
    reply = people.reporter.say(INTAKE, "It is blank again.", thread=asked)
    double.wait_thread_reply(asked, "open again")
    assert desk.deps.tickets.get(1).status is Status.OPEN
    double.wait_thread_reply(card, "reopened TCK-000001")
    assert any(m.slack_ts == reply.ts for m in desk.deps.conversations.messages(1))


def test_reply_on_a_closed_case_is_stored_and_agents_are_told(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people)
    desk.deps.tickets.close(1, AGENT)
    people.reporter.say(INTAKE, "One more thing about this.", thread=asked)
    told = double.wait_thread_reply(card, "One more thing about this.")
    assert "closed" in told.text
    assert desk.deps.tickets.get(1).status is Status.CLOSED
    assert len(desk.deps.conversations.messages(1)) == 2


@pytest.mark.parametrize(
    "phrase",
    ["I'm closing this case.", "i’m closing this case", "Thanks all — I'M CLOSING THIS CASE, ping us again if needed", "I am closing this case."],
)
def test_an_agent_closes_the_case_by_saying_so(desk: Casedesk, double: SlackDouble, people: People, phrase: str) -> None:
    asked, card = open_case(double, people)
    people.agent.say(INTAKE, phrase, thread=asked)
    double.wait_for(lambda: desk.deps.tickets.get(1).status is Status.CLOSED, what="the case to close")
    double.wait_thread_reply(card, f"<@{AGENT}> closed TCK-000001")
    double.wait_for(lambda: "🔒 Closed" in double.current(card).all_text(), what="the card to show Closed")


def test_a_non_agent_saying_the_phrase_closes_nothing(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, _ = open_case(double, people)
    people.outsider.say(INTAKE, "I'm closing this case.", thread=asked)
    people.reporter.say(INTAKE, "I'm closing this case.", thread=asked)
    double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == 3, what="the replies to be stored")
    assert desk.deps.tickets.get(1).status is Status.OPEN


def test_the_closing_phrase_closes_only_the_case_of_its_thread(desk: Casedesk, double: SlackDouble, people: People) -> None:
    first, _ = open_case(double, people, "Login fails.", "TCK-000001")
    _, second_card = open_case(double, people, "Export fails.", "TCK-000002")
    people.agent.say(SUPPORT, "Fixed. I'm closing this case.", thread=second_card)
    double.wait_for(lambda: desk.deps.tickets.get(2).status is Status.CLOSED, what="the second case to close")
    assert desk.deps.tickets.get(1).status is Status.OPEN
    people.agent.say(GENERAL, "I'm closing this case.")  # not a case thread: nothing at all
    people.agent.say(INTAKE, "A reply in the first thread.", thread=first)
    double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == 2, what="the reply")
    assert desk.deps.tickets.get(1).status is Status.OPEN


def test_escalation_keywords_flag_the_case_as_whole_words(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, _ = open_case(double, people, "Please look at this urgently.")
    assert desk.deps.tickets.get(1).keyword is None  # "urgently" is not "urgent"
    people.reporter.say(INTAKE, "This is URGENT now.", thread=asked)
    double.wait_for(lambda: desk.deps.tickets.get(1).keyword == "urgent", what="the keyword flag")
    assert [e.to_value for e in desk.deps.tickets.events(1) if e.kind == "flagged"] == ["urgent"]
    open_case(double, people, "Fix this immediately!", "TCK-000002")
    assert desk.deps.tickets.get(2).keyword == "immediately"


def test_what_the_bot_ignores(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    people.reporter.say(GENERAL, "Not an intake channel.")
    people.reporter.join(INTAKE)
    bot_post = Message(INTAKE, double.workspace.next_ts(), "Deploy finished", None, None, "B0OTHERBOT")
    double.workspace.add_message(bot_post)
    from slack_double.events import message_event

    double.deliver(message_event(double.workspace, bot_post))
    stray = people.reporter.say(GENERAL, "A thread that is no case.")
    people.agent.say(GENERAL, "Reply there.", thread=stray)
    asked, _ = open_case(double, people)  # processed after everything above
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 1
    assert desk.deps.tickets.get(1).details == "The invoice page is blank."


def test_edits_update_the_text_and_deletions_keep_the_record(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people, "Typo in the tittle.")
    reply = people.reporter.say(INTAKE, "Also the footer.", thread=asked)
    double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == 2, what="the reply")
    people.reporter.edit(asked, "Typo in the title.")
    people.reporter.delete(reply)
    first, second = double.wait_for(
        lambda: stored if (stored := desk.deps.conversations.messages(1))[0].edited_at and stored[1].deleted_at else None,
        what="the edit and the deletion",
    )
    assert first.body == "Typo in the title."
    assert second.body == "Also the footer." and second.deleted_at is not None
    assert desk.deps.tickets.get(1).details == "Typo in the title."
    double.wait_for(lambda: "Typo in the title." in double.current(card).all_text(), what="the card to show the edit")


def test_redelivered_events_store_one_case_and_one_message(desk: Casedesk, double: SlackDouble, people: People, engine: Engine) -> None:
    asked = people.reporter.say(INTAKE, "Printer on fire.")
    first = next(e for e in double.socket.envelopes.values() if e.payload.get("event", {}).get("ts") == asked.ts)
    double.redeliver(first.payload, retry_attempt=1)
    double.redeliver(first.payload, retry_attempt=2)
    card = double.wait_message(SUPPORT, "TCK-000001")
    reply = people.reporter.say(INTAKE, "Smoke now.", thread=asked)
    second = next(e for e in double.socket.envelopes.values() if e.payload.get("event", {}).get("ts") == reply.ts)
    double.redeliver(second.payload, retry_attempt=1)
    double.wait_thread_reply(card, "Smoke now.")
    double.wait_thread_reply(asked, "TCK-000001")
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 2
    assert desk.deps.tickets.get(1).followups == 1
    assert len(double.messages(SUPPORT)) == 1
    assert sum("Smoke now." in m.text for m in double.thread(card)) == 1


def test_two_processes_receiving_one_message_open_one_case(desk: Casedesk, engine: Engine) -> None:
    from bot.app import create_app

    other = create_app(desk.deps.settings, engine=engine)
    msg = SlackMessage(INTAKE, "1790000000.000100", REPORTER, "Same event, two processes.")
    results = []
    start = threading.Barrier(2)

    def receive(service: object) -> None:
        start.wait()
        results.append(service.open_case(msg))  # type: ignore[attr-defined]

    threads = [threading.Thread(target=receive, args=(d.conversations,)) for d in (desk.deps, other.deps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.created for r in results) == [False, True]
    assert len({r.ticket.id for r in results}) == 1  # one case (on PostgreSQL the loser's insert may have used id 1)
    assert count(engine, Ticket) == 1 and count(engine, CaseMessage) == 1


def test_customer_text_cannot_mention_anyone(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people, "<!channel> help <@U0AGENTAL> <https://evil.example|click>")
    people.reporter.say(INTAKE, "<!here> anyone? <!subteam^S123>", thread=asked)
    double.wait_thread_reply(card, "anyone?")
    for message in [double.current(card), *double.thread(card), *double.thread(asked)]:
        if message.user != "U0CASEBOT":
            continue
        text = message.all_text()
        for raw in ("<!channel>", "<!here>", "<!subteam", "<https://evil"):
            assert raw not in text
    assert "&lt;!channel&gt;" in double.current(card).all_text()


def test_timeline_shows_the_whole_history_oldest_first(desk: Casedesk, double: SlackDouble, people: People) -> None:
    asked, card = open_case(double, people)
    people.agent.click(card, "Assign to Me")
    double.wait_for(lambda: desk.deps.tickets.get(1).status is Status.IN_PROGRESS, what="the assignment")
    people.agent.say(SUPPORT, "Checking.", thread=card)
    for n in range(25):
        people.reporter.say(INTAKE, f"Detail {n:02d}", thread=asked)
    double.wait_for(lambda: len(desk.deps.conversations.messages(1)) == 27, what="all replies")
    env = people.agent.click(double.current(card), "Timeline")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    assert modal.title == "Timeline · TCK-000001"
    text = "\n".join(b["text"]["text"] for b in modal.view["blocks"] if b["type"] == "section")
    assert text.index("opened by") < text.index("The invoice page is blank.") < text.index("took the case")
    assert "Checking." in text and "Detail 00" in text and "Detail 24" not in text
    assert "1–20 of" in str(modal.view["blocks"][0])
    modal.click("Later ▶")
    double.wait_for(lambda: "Detail 24" in str(double.workspace.views[modal.opened.id].view), what="the next page")
    later = people.agent.modal_from(env.payload["trigger_id"])
    assert "◀ Earlier" in later.buttons()


def test_only_agents_see_the_timeline(desk: Casedesk, double: SlackDouble, people: People) -> None:
    _, card = open_case(double, people)
    people.outsider.click(card, "Timeline")
    assert "Only support agents" in people.outsider.wait_ephemeral("support agents")
    assert not double.workspace.calls_to("views.open")


def test_posts_survive_slack_refusing_and_rate_limiting(
    desk: Casedesk, double: SlackDouble, people: People, quick_retries: None
) -> None:
    double.web_api.rate_limit("chat.postMessage", times=1, retry_after=0)
    double.web_api.fail("chat.postMessage", "internal_error", times=2)  # then refusals: retried with backoff
    asked = people.reporter.say(INTAKE, "Slack is having a bad day.")
    card = double.wait_message(SUPPORT, "TCK-000001", timeout=20)
    double.wait_thread_reply(asked, "TCK-000001", timeout=20)
    assert len(double.messages(SUPPORT)) == 1
    assert [c.error for c in double.workspace.calls_to("chat.postMessage")].count("internal_error") == 2
    assert desk.deps.tickets.get(1).card_ts == card.ts


def test_posts_owed_when_the_bot_stops_are_sent_by_the_next_one(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    desk.deps.sender.stop()
    asked = people.reporter.say(INTAKE, "Filed just before a deploy.")
    double.wait_for(lambda: count(engine, Ticket) == 1, what="the case to be stored")
    assert not double.messages(SUPPORT)
    from bot.app import create_app

    successor = create_app(desk.deps.settings, engine=engine)
    successor.deps.sender.start()
    try:
        double.wait_message(SUPPORT, "TCK-000001")
        double.wait_thread_reply(asked, "TCK-000001")
    finally:
        successor.deps.sender.stop()
