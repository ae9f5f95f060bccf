"""The REST API and outgoing webhooks through the real bot, the Slack double and a real
receiver on 127.0.0.1: a case opened through the API gets its card and a signed
case.created; a PATCH moves the card and posts case.status_changed; tokens, scopes, the
rate limit, idempotent creation, problems, pages; a receiver down or failing gets each
event once it is back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import httpx
import pytest
from openapi_spec_validator import validate
from sqlalchemy import select
from starlette.routing import Route

from bot.api import api_context, api_routes
from bot.api.rate_limit import RateLimiter
from bot.app import Casedesk
from bot.delivery import webhooks as webhook_sender
from bot.delivery.webhooks import WebhookSender
from bot.ops.health import HealthServer
from bot.services import forms as forms_module
from bot.services.api_tokens import ApiTokens
from bot.services.tickets import NewTicket
from bot.services.webhooks import Webhooks
from db.models import FormField, WebhookDelivery
from db.session import Database
from slack_double import SlackDouble
from tests.conftest import AGENT, AGENT2, REPORTER, SUPPORT, People
from tests.desk_teams import BILLING_CHANNEL, make_teams
from tests.webhook_receiver import Receiver

PROBLEM = "application/problem+json"


def db_of(desk: Casedesk) -> Database:
    assert desk.deps.db is not None
    return desk.deps.db


@dataclass
class Api:
    desk: Casedesk
    http: httpx.Client
    write: str
    read: str
    limiter: RateLimiter

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def post(self, path: str, body: object, token: str | None = None) -> httpx.Response:
        return self.http.post(path, json=body, headers=self.as_(token or self.write))

    def patch(self, path: str, body: object, token: str | None = None) -> httpx.Response:
        return self.http.patch(path, json=body, headers=self.as_(token or self.write))

    def get(self, path: str, token: str | None = None, **params: str) -> httpx.Response:
        return self.http.get(path, params=params, headers=self.as_(token or self.read))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def quick_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_sender, "FIRST_RETRY", timedelta(seconds=0.2))
    monkeypatch.setattr(webhook_sender, "MAX_RETRY", timedelta(seconds=0.2))


@pytest.fixture
def api(desk: Casedesk, people: People, quick_webhooks: None) -> Iterator[Api]:
    limiter = RateLimiter(per_second=100, burst=100)
    server = HealthServer(0, desk.engine, lambda: True, routes=api_routes(api_context(desk.deps, limiter))).start()
    sender = WebhookSender(db_of(desk)).start()
    tokens = ApiTokens(db_of(desk))
    write, read = tokens.create(AGENT, "crm", "write")[1], tokens.create(AGENT, "dashboard", "read")[1]
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=20) as http:
        yield Api(desk, http, write, read, limiter)
    sender.stop()
    server.stop()


def hook(api: Api, receiver: Receiver, events: str = "") -> str:
    webhooks = Webhooks(db_of(api.desk))
    _record, secret = webhooks.add(AGENT, receiver.url, events.split(",") if events else [], allow_private=True)
    return secret


NEW = {"requester": REPORTER, "title": "Printer on fire", "details": "The 3rd floor printer is smoking.", "priority": "high"}


def test_a_case_opened_through_the_api_gets_its_card_and_a_signed_case_created(
    api: Api, double: SlackDouble, receiver: Receiver
) -> None:
    secret = hook(api, receiver)
    answer = api.post("/api/v1/cases", NEW | {"external_id": "crm-1"})
    assert answer.status_code == 201, answer.text
    case = answer.json()
    assert (case["number"], case["status"], case["priority"], case["source"]) == ("TCK-000001", "open", "high", "api")
    assert answer.headers["location"] == "/api/v1/cases/TCK-000001"

    card = double.wait_message(SUPPORT, "TCK-000001")
    assert "The 3rd floor printer is smoking." in card.all_text()
    created = double.wait_for(lambda: receiver.of("case.created") or None, what="case.created at the receiver")
    assert len(created) == 1
    sent = created[0]
    assert sent.signed_with(secret) and not sent.signed_with("another secret")
    assert sent.headers["casedesk-event-id"] == sent.json["id"]
    assert sent.json["type"] == "case.created" and sent.json["case"]["number"] == "TCK-000001"
    assert sent.json["case"]["external_id"] == "crm-1"


def test_a_patch_moves_the_card_and_posts_case_status_changed_as_the_token(
    api: Api, double: SlackDouble, receiver: Receiver
) -> None:
    secret = hook(api, receiver, "case.status_changed")
    api.post("/api/v1/cases", NEW)
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: api.desk.deps.tickets.get(1).card_ts == card.ts, what="the card's place to be recorded")

    answer = api.patch("/api/v1/cases/TCK-000001", {"status": "resolved", "note": "Replaced the fuser."})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "resolved"
    double.wait_thread_reply(card, "api:crm resolved TCK-000001")
    double.wait_for(lambda: "Resolved" in double.current(card).all_text(), what="the card to show Resolved")
    changed = double.wait_for(lambda: receiver.of("case.status_changed") or None, what="case.status_changed")
    assert changed[0].signed_with(secret)
    assert changed[0].json["change"] | {"id": 0, "created_at": ""} == {
        "id": 0, "kind": "status", "actor": "api:crm", "from": "open", "to": "resolved", "note": "Replaced the fuser.",
        "created_at": "",
    }
    assert receiver.of("case.created") == []  # not asked for
    events = api.get("/api/v1/cases/1").json()["events"]
    assert ("status", "api:crm", "resolved") in [(e["kind"], e["actor"], e["to"]) for e in events]

    assert api.patch("/api/v1/cases/1", {"priority": "low"}).json()["priority"] == "low"
    double.wait_thread_reply(card, "api:crm changed the priority of TCK-000001 from High to Low")
    refused = api.patch("/api/v1/cases/1", {"status": "in_progress"})
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM


def test_a_bad_token_is_401_a_read_token_cannot_write_and_too_many_calls_are_429(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer cd_forged"}, {"Authorization": "Basic abc"}):
        answer = api.http.get("/api/v1/cases", headers=headers)
        assert answer.status_code == 401
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["status"] == 401 and answer.json()["detail"]

    refused = api.post("/api/v1/cases", NEW, token=api.read)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "may only read" in refused.json()["detail"]
    assert api.get("/api/v1/cases").json() == {"data": [], "next_cursor": None}

    ApiTokens(db_of(api.desk)).revoke(AGENT, "dashboard")
    assert api.get("/api/v1/cases").status_code == 401

    api.limiter.per_second, api.limiter.burst = 0.01, 3
    api.limiter._buckets.clear()
    statuses = [api.get("/api/v1/cases/1", token=api.write).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    limited = api.get("/api/v1/cases/1", token=api.write)
    assert limited.headers["content-type"] == PROBLEM and int(limited.headers["retry-after"]) >= 1


def test_creating_twice_with_one_external_id_answers_the_first_case(api: Api, double: SlackDouble) -> None:
    first = api.post("/api/v1/cases", NEW | {"external_id": "form-77"})
    again = api.post("/api/v1/cases", NEW | {"external_id": "form-77", "details": "sent twice"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["number"] == first.json()["number"] == "TCK-000001"
    other = api.post("/api/v1/cases", NEW | {"external_id": "form-78"}).json()["number"]
    assert other != "TCK-000001"  # (on PostgreSQL the refused insert used up a number of the sequence)
    double.wait_message(SUPPORT, other)
    assert len([m for m in double.messages(SUPPORT) if "TCK-000001" in m.all_text()]) == 1


def test_bad_input_gets_a_problem_naming_each_field(api: Api) -> None:
    answer = api.post("/api/v1/cases", {"requester": "not anyone", "details": "", "priority": "urgent", "colour": "red"})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM
    assert set(answer.json()["errors"]) == {"requester", "details", "priority", "colour"}
    too_long = api.post("/api/v1/cases", NEW | {"title": "x" * 301})
    assert too_long.json()["errors"] == {"title": "At most 300 characters."}
    not_json = api.http.post("/api/v1/cases", content=b"{", headers=api.as_(api.write) | {"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert api.get("/api/v1/cases", cursor="bm90IGEgY3Vyc29y").status_code == 400
    assert api.get("/api/v1/cases", limit="500").json()["errors"] == {"limit": "A whole number from 1 to 100."}
    assert api.get("/api/v1/cases", sort="id").status_code == 422
    assert api.get("/api/v1/cases/TCK-000404").status_code == 404
    assert api.get("/api/v1/cases/99999999999999999999").status_code == 404
    assert api.get("/api/v1/cases", team="99999999999999999999").json()["errors"]["team"].startswith("There is no team")
    assert api.http.delete("/api/v1/cases/1", headers=api.as_(api.write)).status_code == 405
    assert api.get("/api/v1/nothing").headers["content-type"] == PROBLEM
    unknown = api.patch("/api/v1/cases/1", {"assignee": "U0NOBODY"})
    assert unknown.json()["errors"] == {"assignee": "The Slack user ID of one of the desk's agents."}


def test_pages_follow_the_cursor_newest_first_and_filters_narrow_them(api: Api, people: People) -> None:
    tickets = api.desk.deps.tickets
    for n, words in enumerate(["printer jam", "vpn down", "printer toner", "mail bounce", "printer cable"]):
        tickets.create(NewTicket(REPORTER, "General", "Bug", "high" if n % 2 else "low", f"The {words}."))
    first = api.get("/api/v1/cases", limit="2").json()
    second = api.get("/api/v1/cases", limit="2", cursor=first["next_cursor"]).json()
    third = api.get("/api/v1/cases", limit="2", cursor=second["next_cursor"]).json()
    numbers = [c["id"] for page in (first, second, third) for c in page["data"]]
    assert numbers == [5, 4, 3, 2, 1] and third["next_cursor"] is None
    assert [c["id"] for c in api.get("/api/v1/cases", q="printer").json()["data"]] == [5, 3, 1]
    assert [c["id"] for c in api.get("/api/v1/cases", priority="high").json()["data"]] == [4, 2]
    assert [c["id"] for c in api.get("/api/v1/cases", q="printer", priority="low", limit="1").json()["data"]] == [5]
    assert api.get("/api/v1/cases", created_after="2999-01-01").json()["data"] == []


def test_notes_and_replies_are_the_tokens(api: Api, double: SlackDouble, people: People) -> None:
    api.post("/api/v1/cases", NEW)
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: api.desk.deps.tickets.get(1).card_ts == card.ts, what="the card's place to be recorded")
    assert api.post("/api/v1/cases/1/notes", {"body": "Called the vendor."}).status_code == 201
    reply = api.post("/api/v1/cases/1/replies", {"body": "A technician is on the way."})
    assert reply.status_code == 201, reply.text
    people.reporter.wait_dm("A technician is on the way.")
    whole = api.get("/api/v1/cases/1").json()
    assert [(m["role"], m["author"], m["body"]) for m in whole["messages"]] == [("agent", "api:crm", "A technician is on the way.")]
    assert ("commented", "api:crm", "Called the vendor.") in [(e["kind"], e["actor"], e["note"]) for e in whole["events"]]


def test_a_receiver_failing_or_down_gets_the_event_once_it_is_back(api: Api, receiver: Receiver, double: SlackDouble) -> None:
    secret = hook(api, receiver, "case.created")
    receiver.answers = [500, 500]
    api.post("/api/v1/cases", NEW)
    got = double.wait_for(lambda: receiver.of("case.created") or None, what="case.created after two 500s")
    assert receiver.answered == [500, 500, 200] and got[0].signed_with(secret)

    receiver.stop()
    api.post("/api/v1/cases", NEW | {"title": "while down"})

    def failed_once() -> bool:
        with api.desk.engine.connect() as conn:
            row = conn.execute(select(WebhookDelivery.attempts, WebhookDelivery.error).where(WebhookDelivery.ticket_id == 2)).first()
        return row is not None and row.attempts >= 1 and "Connect" in (row.error or "")

    double.wait_for(failed_once, what="a refused delivery")
    receiver.start()
    double.wait_for(lambda: len(receiver.of("case.created")) == 2 or None, what="the delivery once the receiver is back")
    ids = [r.headers["casedesk-event-id"] for r in receiver.of("case.created")]
    assert len(set(ids)) == 2
    webhooks = Webhooks(db_of(api.desk))
    double.wait_for(lambda: [d.state for d in webhooks.deliveries()] == ["sent", "sent"] or None, what="both marked sent")
    deliveries = webhooks.deliveries()

    assert webhooks.replay([deliveries[0].id]) == 1
    double.wait_for(lambda: len(receiver.of("case.created")) == 3 or None, what="the replay")
    assert receiver.of("case.created")[2].headers["casedesk-event-id"] == deliveries[0].event_id


def test_the_openapi_document_validates_and_names_the_routes(api: Api) -> None:
    answer = api.http.get("/api/v1/openapi.json")
    spec = answer.json()
    validate(spec)
    served = {
        (route.path, method)
        for route in api_routes(api_context(api.desk.deps))
        if isinstance(route, Route) and "{rest" not in route.path
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item if method != "parameters"}
    assert documented == served - {("/api/v1/openapi.json", "GET")}


def test_assignment_moves_and_messages_post_their_events(
    api: Api, double: SlackDouble, people: People, receiver: Receiver
) -> None:
    secret = hook(api, receiver, "case.assigned,case.updated,message.created")
    api.desk.deps.directory.create_team(AGENT, "Billing")
    api.post("/api/v1/cases", NEW)
    card = double.wait_message(SUPPORT, "TCK-000001")
    double.wait_for(lambda: api.desk.deps.tickets.get(1).card_ts == card.ts, what="the card's place to be recorded")

    assert api.patch("/api/v1/cases/1", {"assignee": AGENT2}).json()["assignee"] == AGENT2
    assigned = double.wait_for(lambda: receiver.of("case.assigned") or None, what="case.assigned")
    assert (assigned[0].json["change"]["kind"], assigned[0].json["change"]["to"]) == ("reassigned", AGENT2)
    people.agent2.wait_dm("assigned")

    assert api.patch("/api/v1/cases/1", {"team": "Billing"}).json()["team"] == "Billing"
    double.wait_thread_reply(card, "to *Billing* by api:crm")
    updated = double.wait_for(lambda: receiver.of("case.updated") or None, what="case.updated")
    assert updated[0].json["change"]["kind"] == "moved" and updated[0].signed_with(secret)

    people.reporter.say(SUPPORT, "Any news?", thread=card)
    said = double.wait_for(lambda: receiver.of("message.created") or None, what="message.created")
    assert (said[0].json["message"]["body"], said[0].json["message"]["role"]) == ("Any news?", "customer")


def test_a_type_s_fields_are_read_the_first_time_however_young_the_process_clock(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # A machine just booted: its monotonic clock is under the seconds the fields are kept.
    monkeypatch.setattr(forms_module, "time", SimpleNamespace(monotonic=lambda: 1.0))
    api.desk.deps.forms.add(AGENT, "Bug", "Region", "select", required=True, options=["EMEA", "APAC"])
    missing = api.post("/api/v1/cases", NEW | {"type": "Bug"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"fields.region": "Region is required."}


def test_a_field_another_process_adds_is_asked_for_here_within_moments(api: Api, double: SlackDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    """A type's fields are kept a few seconds per process; a field a replica (or the CLI)
    adds, which this process never hears of, is asked for once they have passed."""
    monkeypatch.setattr(forms_module, "KEPT_SECONDS", 0.3)
    assert api.post("/api/v1/cases", NEW | {"type": "Bug"}).status_code == 201  # no fields yet: kept so
    with Database(api.desk.deps.db.engine).write() as session:  # type: ignore[union-attr]
        session.add(FormField(
            issue_type="Bug", key="region", label="Region", kind="text", required=True, help="", options="[]",
            position=1, created_at=api.desk.deps.clock(),
        ))
    double.wait_for(lambda: api.desk.deps.forms.fields_for("Bug") or None, what="the other process's field seen here")
    missing = api.post("/api/v1/cases", NEW | {"type": "Bug"})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {"fields.region": "Region is required."}


def test_a_case_carries_its_type_s_fields_and_the_api_opens_one_with_them(api: Api, double: SlackDouble, receiver: Receiver) -> None:
    hook(api, receiver, "case.created")
    forms = api.desk.deps.forms
    forms.add(AGENT, "Bug", "Region", "select", required=True, options=["EMEA", "APAC"])
    forms.add(AGENT, "Bug", "Seats", "number")
    forms.add(AGENT, "Bug", "Browsers", "multi_select", options=["Firefox", "Safari"])
    bug = NEW | {"type": "Bug"}
    missing = api.post("/api/v1/cases", bug | {"fields": {"seats": "many", "colour": "red"}})
    assert missing.status_code == 422
    assert missing.json()["errors"] == {
        "fields.region": "Region is required.",
        "fields.seats": "Seats must be a number, such as 42 or 3.5.",
        "fields.colour": "Unknown field: Bug has region, seats, browsers.",
    }
    assert api.post("/api/v1/cases", bug | {"fields": ["EMEA"]}).json()["errors"] == {"fields": "An object: each of the type's extra fields by key."}
    opened = api.post("/api/v1/cases", bug | {"fields": {"region": "EMEA", "seats": 12, "browsers": ["Safari", "Firefox"]}})
    assert opened.status_code == 201, opened.json()
    assert opened.json()["fields"] == {"region": "EMEA", "seats": 12, "browsers": ["Safari", "Firefox"]}
    card = double.wait_message(SUPPORT, "TCK-000001")
    assert "*Region:* EMEA" in str(card.blocks)
    whole = api.get("/api/v1/cases/TCK-000001").json()
    assert whole["fields"]["seats"] == 12
    # The answer, taken from the create's own rows, is the case as it is then read whole (its card came later).
    assert opened.json() == whole | {"links": whole["links"] | {"slack_card": None}}
    plain = api.post("/api/v1/cases", NEW).json()
    assert plain["fields"] == {}
    listed = api.get("/api/v1/cases").json()["data"]
    assert [c["fields"] for c in listed] == [{}, {"region": "EMEA", "seats": 12, "browsers": ["Safari", "Firefox"]}]
    sent = double.wait_for(
        lambda: next((d for d in receiver.of("case.created") if d.json["case"]["number"] == "TCK-000001"), None), what="case.created"
    )
    assert sent.json["case"]["fields"] == {"region": "EMEA", "seats": 12, "browsers": ["Safari", "Firefox"]}


def test_a_case_routed_and_assigned_at_once_answers_as_it_then_reads_whole(api: Api, double: SlackDouble) -> None:
    make_teams(api.desk, double, auto_assign="round_robin")
    case = api.post("/api/v1/cases", NEW | {"type": "Data problem"}).json()
    assert (case["team"], case["status"]) == ("Billing", "in_progress") and case["assignee"]
    assert [e["kind"] for e in case["events"]] == ["created", "auto_assigned", "status"]
    double.wait_message(BILLING_CHANNEL, case["number"])
    whole = api.get(f"/api/v1/cases/{case['number']}").json()
    assert case == whole | {"links": whole["links"] | {"slack_card": None}}
