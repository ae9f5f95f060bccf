"""The escalation sweep: alert on cases that waited too long, were chased, or said a keyword;
then the SLA sweep: warn at 75 % of a target and alert at its breach, once each."""

from __future__ import annotations

from bot.deps import Deps

BATCH = 100  # cases per transaction


def escalate(deps: Deps) -> str:
    due = deps.escalations.due()
    done = [e for start in range(0, len(due), BATCH) for e in deps.escalations.escalate_many(due[start : start + BATCH])]
    listed = ", ".join(f"{e.ticket.number} ({'+'.join(e.reasons)})" for e in done[:20])
    result = f"escalate: {len(done)} escalated" + (f": {listed}" if listed else "")
    due_sla = deps.escalations.sla_due()
    sla = [a for start in range(0, len(due_sla), BATCH) for a in deps.escalations.sla_alert_many(due_sla[start : start + BATCH])]
    if sla:
        result += "; SLA: " + ", ".join(f"{a.ticket.number} ({'+'.join(a.fired)})" for a in sla[:20])
    return result
