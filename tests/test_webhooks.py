"""Outgoing webhooks beyond the happy path: URLs that are not http(s) or point at private
addresses are refused unless allowed; a receiver failing for a day gets its delivery dead
(listed, replayable) while another receiver gets every event; the CLI of tokens and webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.app import Casedesk
from bot.delivery import webhooks as webhook_sender
from bot.delivery.webhooks import WebhookSender
from bot.services.tickets import NewTicket
from bot.services.webhook_events import event_name
from bot.services.webhooks import WebhookError, Webhooks
from db.models import TicketEvent
from db.session import Database
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER, People, base_env
from tests.test_cli import run_bot
from tests.webhook_receiver import Receiver


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    failing, working = Receiver().start(), Receiver().start()
    yield failing, working
    failing.stop()
    working.stop()


def db_of(desk: Casedesk) -> Database:
    assert desk.deps.db is not None
    return desk.deps.db


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/hook", "must start with http:// or https://"),
        ("https://", "must start with http:// or https://"),
        ("http://127.0.0.1:8080/hook", "loopback, private or reserved"),
        ("http://10.1.2.3/hook", "loopback, private or reserved"),
        ("http://[::1]/hook", "loopback, private or reserved"),
        ("http://169.254.169.254/latest/meta-data", "loopback, private or reserved"),
        ("https://user:pw@example.com/hook", "no user or password"),
    ],
)
def test_a_webhook_url_that_is_not_public_http_is_refused(engine: Engine, url: str, why: str) -> None:
    with pytest.raises(WebhookError, match=why):
        Webhooks(Database(engine)).add(AGENT, url, [])


def test_unknown_events_are_refused_and_private_addresses_need_leave(engine: Engine) -> None:
    webhooks = Webhooks(Database(engine))
    with pytest.raises(WebhookError, match="Unknown events: case.deleted"):
        webhooks.add(AGENT, "http://127.0.0.1/hook", ["case.deleted"], allow_private=True)
    record, secret = webhooks.add(AGENT, "http://127.0.0.1/hook", [], allow_private=True)
    assert len(secret) >= 32 and len(record.events) == 6


@pytest.mark.parametrize(
    ("kind", "to", "event"),
    [
        ("created", "open", "case.created"),
        ("status", "resolved", "case.status_changed"),
        ("auto_assigned", AGENT, "case.assigned"),
        ("handed_back", None, "case.assigned"),
        ("sla", "first_breached", "sla.breached"),
        ("sla", "first_warned", None),
        ("priority", "high", "case.updated"),
        ("moved", "Billing", "case.updated"),
        ("mailed", "a@example.com", None),
    ],
)
def test_each_audit_event_is_the_most_specific_webhook_event(kind: str, to: str | None, event: str | None) -> None:
    assert event_name(TicketEvent(kind=kind, to_value=to)) == event


def test_a_receiver_failing_for_a_day_gets_a_dead_delivery_and_blocks_no_one(
    desk: Casedesk, double: SlackDouble, people: People, receivers: tuple[Receiver, Receiver]
) -> None:
    failing, working = receivers
    webhooks = Webhooks(db_of(desk))
    webhooks.add(AGENT, failing.url, ["case.created"], allow_private=True)
    webhooks.add(AGENT, working.url, ["case.created"], allow_private=True)
    failing.answers = [500] * 1000
    a_day_later = datetime.now(UTC) + timedelta(hours=24, minutes=1)
    sender = WebhookSender(db_of(desk), clock=lambda: a_day_later).start()
    try:
        for n in range(3):
            desk.deps.tickets.create(NewTicket(REPORTER, "General", "Bug", "low", f"Case {n}"))
        double.wait_for(lambda: len(working.of("case.created")) == 3 or None, what="the working receiver's three events")
        double.wait_for(lambda: len(webhooks.deliveries(state="dead")) == 3 or None, what="the failing receiver's dead deliveries")
        dead = webhooks.deliveries(state="dead")
        assert {(d.attempts, d.last_status, d.error) for d in dead} == {(1, 500, "HTTP 500")}
        failing.answers = []
        assert webhooks.replay(dead=True) == 3
        double.wait_for(lambda: len(failing.of("case.created")) == 3 or None, what="the replayed deliveries")
        assert {r.headers["casedesk-event-id"] for r in failing.of("case.created")} == {d.event_id for d in dead}
    finally:
        sender.stop()


def test_the_cli_creates_lists_and_revokes_tokens_and_manages_webhooks(tmp_path: Path) -> None:
    env = base_env() | {"DATABASE_URL": f"sqlite:///{tmp_path / 'desk.db'}"}
    assert run_bot(["db", "upgrade"], env, tmp_path).returncode == 0
    created = run_bot(["api-token", "create", "crm", "--scope", "write"], env, tmp_path)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("cd_") and len(token) > 40
    listed = run_bot(["api-token", "list"], env, tmp_path).stdout
    assert "crm" in listed and "write" in listed and token not in listed
    again = run_bot(["api-token", "create", "crm"], env, tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert "revoked crm" in run_bot(["api-token", "revoke", "crm"], env, tmp_path).stdout

    refused = run_bot(["webhooks", "add", "http://127.0.0.1:9/hook"], env, tmp_path)
    assert refused.returncode == 2 and "loopback, private or reserved" in refused.stderr
    added = run_bot(["webhooks", "add", "http://127.0.0.1:9/hook", "--allow-private", "--events", "case.created"], env, tmp_path)
    assert added.returncode == 0 and "webhook #1" in added.stdout
    assert "#1  http://127.0.0.1:9/hook  case.created" in run_bot(["webhooks", "list"], env, tmp_path).stdout
    assert "no deliveries" in run_bot(["webhooks", "deliveries"], env, tmp_path).stdout
    assert "removed webhook #1" in run_bot(["webhooks", "remove", "1"], env, tmp_path).stdout
    assert "no webhooks" in run_bot(["webhooks", "list"], env, tmp_path).stdout


def test_a_receiver_that_times_out_holds_up_no_one_and_gets_it_when_it_answers_again(
    desk: Casedesk, double: SlackDouble, people: People, receivers: tuple[Receiver, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    slow, working = receivers
    monkeypatch.setattr(webhook_sender, "TIMEOUT", 0.5)
    monkeypatch.setattr(webhook_sender, "FIRST_RETRY", timedelta(seconds=0.2))
    monkeypatch.setattr(webhook_sender, "MAX_RETRY", timedelta(seconds=0.2))
    webhooks = Webhooks(db_of(desk))
    webhooks.add(AGENT, slow.url, ["case.created"], allow_private=True)
    webhooks.add(AGENT, working.url, ["case.created"], allow_private=True)
    slow.delay = 2.0
    sender = WebhookSender(db_of(desk)).start()
    try:
        desk.deps.tickets.create(NewTicket(REPORTER, "General", "Bug", "low", "Slow receiver"))
        double.wait_for(lambda: working.of("case.created") or None, what="the working receiver's event")
        timed_out = double.wait_for(
            lambda: [d for d in webhooks.deliveries(state="pending") if d.error and "Timeout" in d.error] or None,
            what="the slow receiver's timeout",
        )
        assert timed_out[0].attempts >= 1
        slow.delay = 0.0
        double.wait_for(lambda: len(webhooks.deliveries(state="sent")) == 2 or None, what="the delivery once it answers in time")
        # What a timed-out attempt posted may have reached it too: the event id tells them apart.
        assert len({r.headers["casedesk-event-id"] for r in slow.of("case.created")}) == 1
    finally:
        sender.stop()
