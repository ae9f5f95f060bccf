"""Outgoing webhooks beyond the happy path: URLs that are not http(s) or point at private
addresses are refused unless allowed, at registration and again at each delivery (a name
rebound to a private address is refused; the post goes to the address checked); a
receiver failing for a day gets its delivery dead (listed, replayable) while another
receiver gets every event; the webhook list is kept per process and read again only when
it changes; the CLI of tokens and webhooks."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.event import listen, remove

from bot.app import Casedesk
from bot.delivery import webhooks as webhook_sender
from bot.delivery.webhooks import WebhookSender
from bot.services import webhooks as webhook_service
from bot.services.tickets import NewTicket
from bot.services.webhook_events import event_name
from bot.services.webhooks import WebhookError, Webhooks, system_resolve
from db.models import TicketEvent, Webhook, WebhookDelivery
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


def test_a_name_that_resolves_to_a_private_address_at_delivery_is_refused_unless_allowed(
    desk: Casedesk, double: SlackDouble, people: People, receivers: tuple[Receiver, Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, receiver = receivers
    names = {"hooks.example.test": ["93.184.216.34"], "desk-hooks.internal.test": ["127.0.0.1"]}
    monkeypatch.setattr(webhook_service, "RESOLVE", lambda host, port: names[host] if host in names else system_resolve(host, port))
    webhooks = Webhooks(db_of(desk))
    with pytest.raises(WebhookError, match=r"localhost is a loopback, private or reserved address \(127.0.0.1\)"):
        webhooks.add(AGENT, f"http://localhost:{receiver.port}/hook", [])
    rebound, _ = webhooks.add(AGENT, f"http://hooks.example.test:{receiver.port}/hook", ["case.created"])  # public when added
    names["hooks.example.test"] = ["127.0.0.1"]  # and loopback by the time of the delivery (DNS rebinding)
    webhooks.add(AGENT, f"http://localhost:{receiver.port}/hook", ["case.created"], allow_private=True)
    # Known to this resolver alone: delivered only if the post goes to the address checked.
    webhooks.add(AGENT, f"http://desk-hooks.internal.test:{receiver.port}/hook", ["case.created"], allow_private=True)
    sender = WebhookSender(db_of(desk)).start()
    try:
        desk.deps.tickets.create(NewTicket(REPORTER, "General", "Bug", "low", "Rebinding"))
        got = double.wait_for(lambda: receiver.of("case.created") if len(receiver.of("case.created")) == 2 else None, what="the allowed deliveries")
        assert sorted(r.headers["host"] for r in got) == sorted([f"localhost:{receiver.port}", f"desk-hooks.internal.test:{receiver.port}"])
        refused = double.wait_for(lambda: [d for d in webhooks.deliveries(rebound.id) if d.error] or None, what="the refused delivery")
        assert "hooks.example.test is a loopback, private or reserved address (127.0.0.1)" in (refused[0].error or "")
        assert refused[0].state == "pending" and refused[0].last_status is None
        assert len(receiver.of("case.created")) == 2
    finally:
        sender.stop()


def test_the_webhook_list_is_read_again_only_when_it_changes_and_events_are_read_in_batches(desk: Casedesk, engine: Engine) -> None:
    db = db_of(desk)
    webhooks, tickets = Webhooks(db), desk.deps.tickets
    statements: list[str] = []
    me = threading.get_ident()

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.get_ident() == me:  # this test's writes, not the senders' work beside them
            statements.append(statement)

    def deliveries_of(ticket_id: int) -> list[int]:
        with engine.connect() as conn:
            return sorted(conn.scalars(select(WebhookDelivery.webhook_id).where(WebhookDelivery.ticket_id == ticket_id)))

    def new_case() -> int:
        return tickets.create(NewTicket(REPORTER, "General", "Bug", "low", "A case"))[0].id

    assert deliveries_of(new_case()) == []
    first, _ = webhooks.add(AGENT, "http://127.0.0.1:9/a", ["case.created", "case.updated"], allow_private=True)
    assert deliveries_of(new_case()) == [first.id]
    listen(engine, "before_cursor_execute", seen)
    try:
        new_case()
        listing = [s for s in statements if "webhooks.events" in s]
        versions = [s for s in statements if "count(webhooks.id)" in s]
        assert (len(listing), len(versions)) == (0, 1)  # the kept list, after one cheap check
    finally:
        remove(engine, "before_cursor_execute", seen)
    with engine.begin() as conn:  # another process adds one: the check sees it
        conn.execute(insert(Webhook).values(
            url="http://127.0.0.1:9/b", secret="s" * 32, events="case.created", allow_private=True, created_by=AGENT,
            created_at=datetime.now(UTC),
        ))
        second = int(conn.scalar(select(func.max(Webhook.id))) or 0)
    assert deliveries_of(new_case()) == sorted([first.id, second])
    webhooks.remove(AGENT, first.id)
    assert deliveries_of(new_case()) == [second]

    # Many events in one transaction: the cases are read in one query each, not one per event.
    ids = [new_case() for _ in range(5)]
    webhooks.add(AGENT, "http://127.0.0.1:9/c", ["case.updated"], allow_private=True)
    statements.clear()
    listen(engine, "before_cursor_execute", seen)
    try:
        with db.write() as session:
            for ticket_id in ids:
                session.add(TicketEvent(ticket_id=ticket_id, actor_id=AGENT, kind="priority", from_value="low", to_value="high",
                                        created_at=datetime.now(UTC)))
    finally:
        remove(engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "FROM ticket_fields" in s]) == 1
    assert len([s for s in statements if "FROM tickets" in s and "webhook" not in s]) == 1
    assert [len(deliveries_of(t)) for t in ids] == [2] * 5  # created, then updated


def test_an_https_delivery_connects_to_the_checked_address_with_the_name_as_host_and_tls_server_name(
    desk: Casedesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_service, "RESOLVE", lambda host, port: {"hooks.example.test": ["93.184.216.34", "2606:2800:220:1::"]}[host])
    webhooks = Webhooks(db_of(desk))
    webhooks.add(AGENT, "https://hooks.example.test/casedesk", ["case.created"])
    seen: list[httpx.Request] = []

    def receive(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "93.184.216.34":
            raise httpx.ConnectError("unreachable", request=request)  # the next checked address is tried
        return httpx.Response(204)

    sender = WebhookSender(db_of(desk))
    sender._client = httpx.Client(transport=httpx.MockTransport(receive))
    desk.deps.tickets.create(NewTicket(REPORTER, "General", "Bug", "low", "Over TLS"))
    sender.run_once()
    assert [str(r.url) for r in seen] == ["https://93.184.216.34/casedesk", "https://[2606:2800:220:1::]/casedesk"]
    assert {r.headers["host"] for r in seen} == {"hooks.example.test"}
    assert {r.extensions["sni_hostname"] for r in seen} == {"hooks.example.test"}
    assert [d.state for d in webhooks.deliveries()] == ["sent"]
    sender.stop()
