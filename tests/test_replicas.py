"""Three bot processes on one database, as in a deploy overlap or with replicas: each
thing the desk owes Slack is sent once, by one of them, and none waits on another."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

from sqlalchemy import Engine

from bot.app import Casedesk, create_app
from bot.settings import load_settings
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People, base_env, connected

INTAKE = "C0HELPDSK"
CASES = 8


def test_three_processes_post_each_answer_card_and_line_once_and_promptly(
    double: SlackDouble, people: People, engine: Engine
) -> None:
    double.channel(INTAKE, "help")
    settings = load_settings({**base_env(double.api_url), "INTAKE_SLACK_CHANNELS": INTAKE})
    runs: list[Iterator[Casedesk]] = [connected(create_app(settings, engine=engine), double) for _ in range(3)]
    desks = [next(run) for run in runs]
    try:
        customers = [double.person(f"U0CUST{i:04d}") for i in range(CASES)]
        asked = {c.id: (c.say(INTAKE, f"Help me with thing {i}"), time.monotonic()) for i, c in enumerate(customers)}
        waited = []
        for _customer, (message, at) in asked.items():
            double.wait_thread_reply(message, "this is now case", timeout=30)
            waited.append(time.monotonic() - at)
        # Posts go at Slack's pace (one a second per channel, bursts of 4); no answer waits out a claim.
        assert max(waited) < 20, waited
        cards = [m for m in double.messages(SUPPORT) if m.text[:1] in ("🔴", "🟡", "🔵")]
        numbers = Counter(m.text.split(" ")[1] for m in cards)
        assert len(numbers) == CASES and set(numbers.values()) == {1}, numbers
        for message, _ in asked.values():
            assert len([m for m in double.thread(message) if "this is now case" in m.text]) == 1
        card = cards[0]
        clicks = [double.socket.send("interactive", p.click_payload(card, "Assign to Me")) for p in (people.agent, people.agent2)]
        for env in clicks:
            double.socket.wait_ack(env)
        double.wait_for(
            lambda: any("assigned" in m.text for m in double.thread(card)), timeout=15, what="the assignment line"
        )
        double.wait_for(lambda: all(d.deps.sender.outbox.unsent() == 0 for d in desks), timeout=30, what="every row sent")
        assert len([m for m in double.thread(card) if "assigned" in m.text]) == 1
    finally:
        for run in runs:
            next(run, None)
