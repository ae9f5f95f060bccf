"""Building records for tests that render without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.records import TicketRecord
from bot.services.status import Priority, Status


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_record(**changes: object) -> TicketRecord:
    base: dict[str, object] = {
        "id": 123,
        "campaign": "Billing",
        "issue_type": "Bug",
        "priority": Priority.HIGH,
        "status": Status.OPEN,
        "details": "broken",
        "reporter_id": "U0REPORTR",
        "assignee_id": None,
        "source": "slack_form",
        "screenshot_name": None,
        "screenshot_url": None,
        "card_channel": None,
        "card_ts": None,
        "created_at": datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        "resolved_at": None,
        "resolved_by": None,
        "resolution_note": None,
        "closed_at": None,
    }
    base.update(changes)
    return TicketRecord(**base)  # type: ignore[arg-type]
