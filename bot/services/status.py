"""Ticket statuses, priorities and the one status state machine."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # on the customer: the resolution clock is paused
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "open": "Open",
            "in_progress": "In Progress",
            "waiting": "Waiting",
            "resolved": "Resolved",
            "closed": "Closed",
        }[self.value]


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return self.value.capitalize()


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.OPEN: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.OPEN, Status.WAITING, Status.RESOLVED, Status.CLOSED}),
    # Back to In Progress: an agent resumes it, or the customer's next message does.
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset({Status.OPEN}),
}

# Open work: listed, counted in the backlog, a member's load. Waiting is open work too.
ACTIVE = frozenset({Status.OPEN, Status.IN_PROGRESS, Status.WAITING})
# The ball is with the desk: escalation (no response, follow-ups, keyword) and the
# resolution clock run only for these; a case Waiting on the customer is paused.
WITH_DESK = frozenset({Status.OPEN, Status.IN_PROGRESS})


def can_transition(current: Status, target: Status) -> bool:
    return target in ALLOWED[current]
