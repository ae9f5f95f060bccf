"""kill -9 in the middle of a burst of submissions: nothing acked is lost, no card is posted
twice, and the next process sends what the dead one owed (the real bot as a process)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select

from db.models import OutboxPost, Ticket
from db.session import Database
from slack_double import SlackDouble
from slack_double.socket_mode import Envelope
from tests.conftest import SUPPORT, People
from tests.test_operations import bot_env

BURST = 12


def start_bot(double: SlackDouble, engine: Engine, cwd: Path) -> subprocess.Popen[str]:
    env = bot_env(
        double,
        DATABASE_URL=engine.url.render_as_string(hide_password=False),
        OUTBOX_CLAIM_SECONDS="3",  # a dead process's claims run out soon
        SLACK_POSTS_PER_SECOND="20",  # the twelve cards need not wait out Slack's pace
        SCHEDULER_ENABLED="false",
    )
    log = open(cwd / f"bot-{len(list(cwd.glob('bot-*.log')))}.log", "w")  # noqa: SIM115 - the process writes it
    proc = subprocess.Popen([sys.executable, "-m", "bot"], env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
    double.wait_for(lambda: double.socket.connection_count() > 0, timeout=30, what="the bot to connect")
    return proc


def bot_logs(cwd: Path) -> str:
    """What the bot processes wrote, for a failure's message."""
    return " | ".join(p.read_text()[-2000:] for p in sorted(cwd.glob("bot-*.log")))


def submissions(double: SlackDouble, people: People) -> list[dict[str, object]]:
    """One filled form per reporter, each its own modal (view ID)."""
    modal = people.reporter.open_modal("/new-ticket")
    modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🟡 Medium").type("Details", "burst")
    template = modal.submission_payload()
    payloads = []
    for i in range(BURST):
        person = double.person(f"U0BURST{i:02d}")
        payload = copy.deepcopy(template)
        payload["user"] = person.user_object()
        payload["view"]["id"] = f"VBURST{i:04d}"  # type: ignore[index]
        payloads.append(payload)
    return payloads


def test_kill_9_mid_burst_loses_no_acked_ticket_and_posts_no_card_twice(
    double: SlackDouble, people: People, engine: Engine, tmp_path: Path
) -> None:
    first = start_bot(double, engine, tmp_path)
    try:
        payloads = submissions(double, people)
        # Slack takes the first card but its answer is held: the bot dies knowing nothing of it.
        double.web_api.hold_answers("chat.postMessage", 30.0)
        sent: list[Envelope] = [double.socket.send("interactive", p) for p in payloads[: BURST // 2]]
        try:
            held_card = double.wait_for(lambda: next(iter(double.messages(SUPPORT)), None), timeout=30, what="the first card")
        except TimeoutError as err:
            raise AssertionError(f"no card; the bot wrote: {bot_logs(tmp_path)}") from err
        sent += [double.socket.send("interactive", p) for p in payloads[BURST // 2 :]]
        first.kill()
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    acked = [env for env in sent if env.acked_at is not None and not env.ack_payload]
    double.wait_for(lambda: double.socket.connection_count() == 0, timeout=10, what="the dead connection to close")

    second = start_bot(double, engine, tmp_path)
    try:
        # A form whose submission was never acked stays open in Slack with an error; its
        # person presses Submit again.
        for env in sent:
            if env.acked_at is None:
                double.socket.wait_ack(double.socket.send("interactive", env.payload), timeout=10)
        db = Database(engine)
        with db.read() as session:
            keys = set(session.scalars(select(Ticket.source_key)))
        assert {f"slack-view:{p['view']['id']}" for p in payloads} <= keys  # type: ignore[index]
        assert len(keys) == BURST
        assert acked, "some submissions were acked before the crash"

        def drained() -> bool:
            with db.read() as session:
                waiting = session.scalar(
                    select(func.count()).select_from(OutboxPost).where(OutboxPost.sent_at.is_(None))
                )
            return waiting == 0 and len(double.messages(SUPPORT)) >= BURST

        double.wait_for(drained, timeout=60, what="every card to be posted")
    finally:
        second.kill()
        second.wait(timeout=10)
    with Database(engine).read() as session:
        ids = list(session.scalars(select(Ticket.id)))  # not always 1..BURST: PostgreSQL sequences have gaps
    for n in ids:
        number = f"TCK-{n:06d}"
        assert len([m for m in double.messages(SUPPORT) if number in m.text]) == 1, number
    with Database(engine).read() as session:
        held_number = int(held_card.text.split(" ")[1].removeprefix("TCK-"))
        assert session.scalar(select(Ticket.card_ts).where(Ticket.id == held_number)) == held_card.ts
    assert [c for c in double.workspace.calls_to("conversations.history") if c.ok], "the held card was looked for"
    for i in range(BURST):
        assert len(double.person(f"U0BURST{i:02d}").dms()) == 1
