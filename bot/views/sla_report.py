"""The service-level figures as the summaries show them: attainment by priority and by team
(a monospace table), the median business times, the breaches and satisfaction."""

from __future__ import annotations

from typing import Any

from bot.services.sla_report import Attainment, Satisfaction, ServiceFigures, Stages
from bot.services.status import Priority
from bot.views.text import duration, escape, plain_within

TEAMS_SHOWN = 10  # rows of the table by team; the rest are counted
TEAM_WIDTH = 16


def attained(a: Attainment) -> str:
    """"92% (23/25)": the share of targets met, of those decided; "—" when none was."""
    if a.percent is None:
        return "—"
    return f"{a.percent:.0f}% ({a.met}/{a.total})"


def satisfaction_line(s: Satisfaction) -> str:
    if not s.count or s.average is None or s.satisfied_percent is None:
        return "no ratings"
    ratings = "rating" if s.count == 1 else "ratings"
    return f"{s.average:.1f} / 5 from {s.count} {ratings}, {s.satisfied_percent:.0f}% rated 4–5"


def breaches_line(f: ServiceFigures) -> str:
    o = f.overall
    return f"{o.breaches} ({o.first_response.breached} first response, {o.resolution.breached} resolution)"


def attainment_table(f: ServiceFigures) -> str:
    """Rows: all, each priority, each team (those with targets decided)."""
    rows: list[tuple[str, Stages]] = [("All", f.overall)]
    rows += [(p.label, f.by_priority[p]) for p in Priority]
    teams = f.by_team if len(f.by_team) > 1 or (f.by_team and f.by_team[0][0] != "No team") else []
    rows += [(plain_within(name, TEAM_WIDTH), stages) for name, stages in teams[:TEAMS_SHOWN]]
    width = max(len(label) for label, _ in rows)
    lines = [f"{'':<{width}}  {'First response':<16}  Resolution"]
    lines += [f"{label:<{width}}  {attained(s.first_response):<16}  {attained(s.resolution)}" for label, s in rows]
    if len(teams) > TEAMS_SHOWN:
        lines.append(f"…and {len(teams) - TEAMS_SHOWN} more teams")
    return "\n".join(lines)


def service_text(f: ServiceFigures) -> str:
    """The figures in a line or two of plain text (a notification, a screen reader)."""
    o = f.overall
    return (
        f"SLA met: first response {attained(o.first_response)}, resolution {attained(o.resolution)}; "
        f"breaches {breaches_line(f)}; median business time to first response {duration(f.median_first_response)}, "
        f"to resolution {duration(f.median_resolution)}; satisfaction {satisfaction_line(f.satisfaction)}."
    )


def service_blocks(f: ServiceFigures, heading: str) -> list[dict[str, Any]]:
    """A header, the key figures as fields and the table by priority and team."""
    o = f.overall
    fields = [
        ("First response SLA met", attained(o.first_response)),
        ("Resolution SLA met", attained(o.resolution)),
        ("Median first response (business hours)", duration(f.median_first_response)),
        ("Median resolution (business hours)", duration(f.median_resolution)),
        ("Breaches", breaches_line(f)),
        ("Satisfaction", satisfaction_line(f.satisfaction)),
    ]
    table = escape(attainment_table(f))
    return [
        {"type": "header", "text": {"type": "plain_text", "text": heading}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*SLA met, by priority and team*\n```{table}```"[:3000]}},
    ]
