"""The escalation sweep: alert on cases that waited too long, were chased, or said a keyword."""

from __future__ import annotations

from bot.deps import Deps

BATCH = 100  # cases per transaction


def escalate(deps: Deps) -> str:
    due = deps.escalations.due()
    done = [e for start in range(0, len(due), BATCH) for e in deps.escalations.escalate_many(due[start : start + BATCH])]
    listed = ", ".join(f"{e.ticket.number} ({'+'.join(e.reasons)})" for e in done[:20])
    return f"escalate: {len(done)} escalated" + (f": {listed}" if listed else "")
