"""The escalation sweep: alert on cases that waited too long, were chased, or said a keyword."""

from __future__ import annotations

from bot.deps import Deps


def escalate(deps: Deps) -> str:
    due = deps.escalations.due()
    done = [e for ticket_id in due if (e := deps.escalations.escalate(ticket_id))]
    deps.sender.poke()
    listed = ", ".join(f"{e.ticket.number} ({'+'.join(e.reasons)})" for e in done[:20])
    return f"escalate: {len(done)} escalated" + (f": {listed}" if listed else "")
