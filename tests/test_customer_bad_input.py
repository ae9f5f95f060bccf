"""Bad input in a Slack Connect channel: mentions a customer pastes are never echoed live
by the bot, and a flood of customer messages neither opens a case each (one person's
burst is one case) nor floods the customer's channel with acknowledgments."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from bot.app import Casedesk
from bot.services.customer_channels import ACKS_PER_MINUTE
from bot.settings import Settings, load_settings
from db.models import CaseMessage, OutboxPost
from slack_double import BOT_USER_ID, SlackDouble
from tests.conftest import SUPPORT, People, base_env
from tests.customers import shared
from tests.test_customer_channels import ACME, CUSTOMER, SHARED, bot_posts

PASTED = "U0PASTED1"  # someone the bot has no reason ever to mention


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    double.channel(SHARED, "acme-support")
    double.organisation(ACME, "Acme Corp")
    env = base_env(double.api_url) | {"INTAKE_SLACK_CHANNELS": SHARED, "SLACK_POSTS_PER_SECOND": "50"}
    del env["INTAKE_GROUP_MINUTES"]  # the default: a person's messages within 2 minutes are one case
    return load_settings(env)


def count(engine: Engine, query: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def test_pasted_mentions_are_never_echoed_live(desk: Casedesk, double: SlackDouble, people: People) -> None:
    shared(desk, double)
    kim = double.external_person(CUSTOMER, ACME, "kim")
    # As her client sends them: markup from @channel and a picked person, and the same typed by hand.
    asked = kim.say(SHARED, f"<!channel> export broken, ask <@{PASTED}> &lt;!here&gt;")
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")
    kim.say(SHARED, f"<!everyone> still broken <@{PASTED}>", thread=asked)
    double.wait_thread_reply(card, "still broken")
    people.agent.say(SUPPORT, f"reply: Looking. You wrote: <@{PASTED}>", thread=card)  # an agent quoting it back
    double.wait_thread_reply(asked, "Looking.")
    people.agent.click(double.current(card), "Assign to Me")
    env = people.agent.click(double.current(card), "Resolve")
    modal = people.agent.modal_from(env.payload["trigger_id"])
    modal.type("Resolution note", "Fixed <!channel>").submit()
    double.wait_thread_reply(asked, "was resolved")

    said = [m.all_text() for ms in double.workspace.messages.values() for m in ms if m.user == BOT_USER_ID]
    assert len(said) >= 6
    for text in said:
        for mention in ("<!channel>", "<!here>", "<!everyone>", f"<@{PASTED}>"):
            assert mention not in text, text
    assert "&lt;!channel&gt;" in double.current(card).all_text()  # shown, as written


def test_one_customers_burst_of_a_hundred_messages_is_one_case_acknowledged_once(
    desk: Casedesk, double: SlackDouble, engine: Engine
) -> None:
    shared(desk, double)
    kim = double.external_person(CUSTOMER, ACME, "kim")
    first = kim.say(SHARED, "Message 0 of the flood")
    for n in range(1, 100):
        kim.say(SHARED, f"Message {n} of the flood")
    double.wait_for(lambda: count(engine, select(func.count()).select_from(CaseMessage)) == 100 or None, what="all stored")
    double.wait_thread_reply(first, "TCK-000001")
    with engine.connect() as conn:
        assert set(conn.scalars(select(CaseMessage.ticket_id))) == {1}
    # Nothing more is owed to her channel: the one acknowledgment is all it gets.
    acks = select(func.count()).select_from(OutboxPost).where(OutboxPost.kind == "origin_ack")
    assert count(engine, acks) == 1
    assert len(bot_posts(double, SHARED)) == 1


def test_acknowledgments_into_a_customer_channel_are_limited(desk: Casedesk, double: SlackDouble, engine: Engine) -> None:
    shared(desk, double)
    writers = [double.external_person(f"U0ACME{n:03d}", ACME, f"person{n}") for n in range(ACKS_PER_MINUTE + 5)]
    for n, person in enumerate(writers):
        person.say(SHARED, f"Problem number {n}")
    last = f"TCK-{len(writers):06d}"
    double.wait_message(SUPPORT, last)
    double.wait_for(
        lambda: sum(any("Not acknowledged" in r.text for r in double.thread(c)) for c in double.messages(SUPPORT)) == 5 or None,
        what="five cards told they were not acknowledged",
    )
    cards = [m for m in double.messages(SUPPORT) if "TCK-0000" in m.all_text()]
    assert len(cards) == len(writers)
    # Every case is there; the first ACKS_PER_MINUTE were acknowledged, the rest say so on their cards.
    double.wait_for(lambda: len(bot_posts(double, SHARED)) == ACKS_PER_MINUTE or None, what="the acknowledgments")
    acks = select(func.count()).select_from(OutboxPost).where(OutboxPost.kind == "origin_ack")
    assert count(engine, acks) == ACKS_PER_MINUTE
    told = [c for c in cards if any("Not acknowledged" in r.text for r in double.thread(c))]
    assert len(told) == 5 and cards[-1] in told and cards[0] not in told
