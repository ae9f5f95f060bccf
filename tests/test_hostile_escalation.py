"""One customer cannot stop escalation: a case with every reason at once (a text longer
than the old 100-character column) escalates, and so does the next case in the same
sweep. The alert says what the case is: title, priority, requester, assignee."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import OperationalError

from bot.app import Casedesk
from bot.jobs.escalate import escalate
from bot.services.conversations import SlackMessage
from bot.services.status import Priority
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER
from tests.factories import FrozenClock

# The jobs' desk: a frozen clock, an alerting channel and an intake channel.
from tests.test_jobs import ALERTS, INTAKE, T0, clock, desk, settings  # noqa: F401 - fixtures, used by name


def open_case(desk: Casedesk, text: str, ts: str) -> int:
    return desk.deps.conversations.open_case(SlackMessage(INTAKE, ts, REPORTER, text)).ticket.id

def escalated(desk: Casedesk) -> str:
    """What the escalation sweep says of the escalation rules (the SLA alerts it sends too
    are tested in test_service_levels)."""
    return escalate(desk.deps).partition("; SLA: ")[0]



def test_three_reasons_at_once_escalate_that_case_and_the_next(desk: Casedesk, double: SlackDouble, clock: FrozenClock) -> None:
    loud = open_case(desk, "Printer on floor 3 jams\nfix it immediately, please", "1790000000.000100")
    quiet = open_case(desk, "VPN drops every hour", "1790000000.000200")
    desk.deps.tickets.assign_to_self(quiet, AGENT)
    origin = desk.deps.tickets.get(loud).origin_ts
    for n in range(3):
        desk.deps.conversations.add_reply(SlackMessage(INTAKE, f"1790000001.00000{n}", REPORTER, "any news?", thread_ts=origin))
    clock.now = T0 + timedelta(hours=48)
    assert escalated(desk) == "escalate: 2 escalated: TCK-000001 (no_response+followups+keyword), TCK-000002 (no_response)"
    [reasons] = [e.to_value for e in desk.deps.tickets.events(loud) if e.kind == "escalated"]
    assert reasons is not None and len(reasons) > 100
    assert desk.deps.tickets.get(quiet).priority is Priority.HIGH

    first = double.wait_message(ALERTS, "TCK-000001 escalated")
    assert "*Printer on floor 3 jams*" in first.text and "🔴 High priority" in first.text
    assert f"requested by <@{REPORTER}>" in first.text and "*unassigned*" in first.text
    second = double.wait_message(ALERTS, "TCK-000002 escalated")
    assert "*VPN drops every hour*" in second.text and f"assigned to <@{AGENT}>" in second.text


def test_a_case_that_cannot_be_escalated_does_not_hold_back_the_next(
    desk: Casedesk, double: SlackDouble, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = open_case(desk, "Scanner broken", "1790000000.000300")
    fine = open_case(desk, "Mail bounces", "1790000000.000400")
    service = desk.deps.escalations
    real_raise = service._raise

    def failing_for_one(session, row, alerted, holding, now):  # type: ignore[no-untyped-def]
        if row.id == broken:  # the write for this case fails in the database
            raise OperationalError("UPDATE tickets", {}, Exception("disk I/O error"))
        return real_raise(session, row, alerted, holding, now)

    monkeypatch.setattr(service, "_raise", failing_for_one)
    clock.now = T0 + timedelta(hours=48)
    assert escalated(desk) == "escalate: 1 escalated: TCK-000002 (no_response)"
    assert service.failed == 1
    assert desk.deps.tickets.get(fine).priority is Priority.HIGH
    assert desk.deps.tickets.get(broken).escalated_at is None
    double.wait_message(ALERTS, "TCK-000002", timeout=15)
