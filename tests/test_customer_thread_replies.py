"""An agent answering in the customer's own thread (Slack Connect) gives a public reply:
stored as the agent's, not as a customer message, and shown to the agents in the card's
thread. The card's thread stays internal: of it, only what is sent with ``reply:`` reaches
the shared channel."""

from __future__ import annotations

from sqlalchemy import Engine, select

from bot.app import Casedesk
from db.models import CaseMessage
from slack_double import SlackDouble
from tests.conftest import AGENT, SUPPORT, People
from tests.customers import customer_asks
from tests.test_customer_channels import ACME, CUSTOMER, SHARED, bot_posts, settings  # noqa: F401 - the fixture


def stored(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {b: (r, k) for b, r, k in conn.execute(select(CaseMessage.body, CaseMessage.role, CaseMessage.kind))}


def test_an_agents_answer_in_the_customers_thread_is_a_public_reply_shown_on_the_card(
    desk: Casedesk, double: SlackDouble, people: People, engine: Engine
) -> None:
    asked = customer_asks(desk, double)
    kim, card = double.person(CUSTOMER), double.wait_message(SUPPORT, "TCK-000001")
    double.wait_thread_reply(asked, "TCK-000001")  # the acknowledgment

    people.agent.say(SHARED, "We are on it, Kim.", thread=asked)
    line = double.wait_thread_reply(card, "We are on it, Kim.")
    assert line.text.startswith(f"↩️ <@{AGENT}> replied to customer <@{CUSTOMER}> in their thread:")
    assert stored(engine)["We are on it, Kim."] == ("agent", "public")
    assert desk.deps.tickets.get(1).first_response_at is not None

    # The other way: a note in the card's thread stays inside; a reply: from there reaches her.
    people.agent.say(SUPPORT, "Internal: the export worker is down", thread=card)
    people.agent.say(SUPPORT, "reply: Fixed, please retry.", thread=card)
    double.wait_thread_reply(asked, "Fixed, please retry.")
    double.wait_thread_reply(card, "Public reply")
    kim.say(SHARED, "Works now, thanks!", thread=asked)
    double.wait_thread_reply(card, "Works now, thanks!")
    double.wait_for(lambda: "Internal: the export worker is down" in stored(engine), what="the note stored")
    kinds = stored(engine)
    assert kinds["Internal: the export worker is down"] == ("agent", "internal")
    assert kinds["Works now, thanks!"] == ("customer", "public")

    # In the shared channel the bot said two things: the acknowledgment and the reply sent from the card.
    said = [m.text for m in bot_posts(double, SHARED)]
    assert len(said) == 2 and "TCK-000001" in said[0] and "Fixed, please retry." in said[1], said
    assert not any("Internal" in t or "replied to customer" in t for t in said)
    # Her thread: her question's replies are the acknowledgment, the agent's answer, the reply, her thanks.
    assert len(double.thread(asked)) == 4
