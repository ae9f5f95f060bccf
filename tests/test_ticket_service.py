"""The service layer directly: the status machine, the audit trail, permissions, races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.services.effects import Channels
from bot.services.errors import ActionNotAllowed, PermissionDenied, TicketNotFound
from bot.services.records import Change, format_number, parse_number
from bot.services.status import ALLOWED, Status
from bot.services.tickets import InvalidTicket, NewTicket, TicketService
from db.session import Database
from tests.factories import FrozenClock

AGENTS = frozenset({"U0AGENT1", "U0AGENT2", "U0AGENT3", "U0AGENT4"})
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def service(engine: Engine, clock: FrozenClock) -> TicketService:
    return TicketService(
        Database(engine), AGENTS, campaigns=("General",), issue_types=("Bug",), channels=Channels("C0SUPPORT"), clock=clock
    )


def new(details: str = "broken", key: str | None = None) -> NewTicket:
    return NewTicket("U0REPORT", "General", "Bug", "high", details, source_key=key)


def to_status(service: TicketService, ticket_id: int, status: Status) -> None:
    """Walk a fresh ticket to ``status`` through the public API."""
    if status is Status.IN_PROGRESS:
        service.assign_to_self(ticket_id, "U0AGENT1")
    elif status is Status.WAITING:
        service.assign_to_self(ticket_id, "U0AGENT1")
        service.set_waiting(ticket_id, "U0AGENT1")
    elif status is Status.RESOLVED:
        service.resolve(ticket_id, "U0AGENT1")
    elif status is Status.CLOSED:
        service.close(ticket_id, "U0AGENT1")


ACTIONS: dict[str, tuple[Callable[[TicketService, int], Change], Status]] = {
    "assign": (lambda s, t: s.assign_to_self(t, "U0AGENT2"), Status.IN_PROGRESS),
    "reassign": (lambda s, t: s.reassign(t, "U0AGENT2", "U0AGENT3"), Status.IN_PROGRESS),
    "resolve": (lambda s, t: s.resolve(t, "U0AGENT2", "fixed"), Status.RESOLVED),
    "close": (lambda s, t: s.close(t, "U0AGENT2"), Status.CLOSED),
    "reopen": (lambda s, t: s.reopen(t, "U0AGENT2"), Status.OPEN),
    "wait": (lambda s, t: s.set_waiting(t, "U0AGENT2"), Status.WAITING),
    "resume": (lambda s, t: s.resume(t, "U0AGENT2"), Status.IN_PROGRESS),
}


@pytest.mark.parametrize("start", list(Status))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_from_every_status_follows_the_machine(
    service: TicketService, start: Status, action: str
) -> None:
    ticket, _ = service.create(new())
    to_status(service, ticket.id, start)
    events_before = len(service.events(ticket.id))
    run, target = ACTIONS[action]
    allowed = target in ALLOWED[start] or (start is target is Status.IN_PROGRESS and action == "reassign")
    if action == "reopen":
        allowed = start in (Status.RESOLVED, Status.CLOSED)
    if action == "resume":
        allowed = start is Status.WAITING
    if allowed:
        change = run(service, ticket.id)
        assert change.ticket.status is target
        assert len(service.events(ticket.id)) > events_before
    else:
        with pytest.raises(ActionNotAllowed) as err:
            run(service, ticket.id)
        assert format_number(ticket.id) in str(err.value)
        assert service.get(ticket.id).status is start
        assert len(service.events(ticket.id)) == events_before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_non_agents_are_refused_every_action(service: TicketService, action: str) -> None:
    ticket, _ = service.create(new())
    to_status(service, ticket.id, Status.RESOLVED if action == "reopen" else Status.OPEN)
    before = service.get(ticket.id)
    calls = {
        "assign": lambda: service.assign_to_self(ticket.id, "U0REPORT"),
        "reassign": lambda: service.reassign(ticket.id, "U0REPORT", "U0REPORT"),
        "resolve": lambda: service.resolve(ticket.id, "U0REPORT"),
        "close": lambda: service.close(ticket.id, "U0REPORT"),
        "reopen": lambda: service.reopen(ticket.id, "U0REPORT"),
        "wait": lambda: service.set_waiting(ticket.id, "U0REPORT"),
        "resume": lambda: service.resume(ticket.id, "U0REPORT"),
    }
    with pytest.raises(PermissionDenied):
        calls[action]()
    assert service.get(ticket.id) == before
    with pytest.raises(PermissionDenied):
        service.comment(ticket.id, "U0REPORT", "hi")


def test_the_audit_trail_records_who_what_and_when(service: TicketService, clock: FrozenClock) -> None:
    ticket, created = service.create(new())
    assert created and ticket.number == "TCK-000001" and ticket.status is Status.OPEN
    clock.now += timedelta(minutes=5)
    service.assign_to_self(ticket.id, "U0AGENT1")
    clock.now += timedelta(minutes=5)
    service.reassign(ticket.id, "U0AGENT1", "U0AGENT2", "over to you")
    clock.now += timedelta(hours=1)
    resolved = service.resolve(ticket.id, "U0AGENT2", "done")
    assert resolved.ticket.resolved_at == T0 + timedelta(minutes=70)
    assert resolved.ticket.resolution_note == "done"
    service.comment(ticket.id, "U0AGENT2", "follow-up sent")
    rows = [(e.kind, e.actor_id, e.from_value, e.to_value, e.note, e.created_at) for e in service.events(ticket.id)]
    assert rows == [
        ("created", "U0REPORT", None, "open", None, T0),
        ("assigned", "U0AGENT1", None, "U0AGENT1", None, T0 + timedelta(minutes=5)),
        ("status", "U0AGENT1", "open", "in_progress", None, T0 + timedelta(minutes=5)),
        ("reassigned", "U0AGENT1", "U0AGENT1", "U0AGENT2", "over to you", T0 + timedelta(minutes=10)),
        ("status", "U0AGENT2", "in_progress", "resolved", "done", T0 + timedelta(minutes=70)),
        ("commented", "U0AGENT2", None, None, "follow-up sent", T0 + timedelta(minutes=70)),
    ]
    reopened = service.reopen(ticket.id, "U0AGENT1")
    assert reopened.ticket.resolved_at is None and reopened.ticket.assignee_id == "U0AGENT2"


def test_assign_to_me_on_someone_elses_ticket_names_them(service: TicketService) -> None:
    ticket, _ = service.create(new())
    service.assign_to_self(ticket.id, "U0AGENT1")
    with pytest.raises(ActionNotAllowed, match="already assigned to <@U0AGENT1>"):
        service.assign_to_self(ticket.id, "U0AGENT2")


def test_invalid_tickets_are_refused_with_field_errors(service: TicketService) -> None:
    with pytest.raises(InvalidTicket) as err:
        service.create(NewTicket("U0REPORT", "Nope", "Bug", "urgent", "  "))
    assert set(err.value.errors) == {"campaign", "priority", "details"}


def test_unknown_ticket(service: TicketService) -> None:
    with pytest.raises(TicketNotFound):
        service.close(999, "U0AGENT1")


def test_same_source_key_creates_one_ticket(service: TicketService) -> None:
    first, created = service.create(new(key="slack-view:V1"))
    again, created_again = service.create(new(key="slack-view:V1"))
    assert created and not created_again and again.id == first.id


def test_numbers_round_trip() -> None:
    assert format_number(123) == "TCK-000123"
    assert parse_number("TCK-000123") == parse_number("tck-123") == parse_number("123") == 123
    assert parse_number("TCK-") is None and parse_number("abc") is None and parse_number("0") is None


def _race(n: int, work: Callable[[int], object]) -> list[object]:
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_assigns_have_exactly_one_winner(service: TicketService) -> None:
    agents = sorted(AGENTS)
    for _ in range(5):
        ticket, _ = service.create(new())
        results = _race(len(agents), lambda i: service.assign_to_self(ticket.id, agents[i]))
        winners = [r for r in results if isinstance(r, Change)]
        losers = [r for r in results if isinstance(r, ActionNotAllowed)]
        assert len(winners) == 1 and len(losers) == len(agents) - 1, results
        winner = winners[0].ticket.assignee_id
        assert all(f"<@{winner}>" in str(r) for r in losers)
        assert service.get(ticket.id).assignee_id == winner
        assert [e.kind for e in service.events(ticket.id)].count("assigned") == 1


def test_concurrent_creates_get_distinct_numbers(service: TicketService) -> None:
    results = _race(8, lambda i: service.create(new(details=f"t{i}", key=f"k{i}"))[0].number)
    assert len(set(results)) == 8 and all(isinstance(r, str) for r in results)


def test_concurrent_duplicate_submissions_create_one(service: TicketService) -> None:
    results = _race(6, lambda i: service.create(new(key="slack-view:SAME")))
    created = [r for r in results if isinstance(r, tuple) and r[1]]
    assert len(created) == 1, results
    assert {r[0].id for r in results if isinstance(r, tuple)} == {created[0][0].id}
