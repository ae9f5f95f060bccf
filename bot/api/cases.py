"""/api/v1/cases: list (filtered, searched, paged by cursor), read one whole, open one
(idempotent by external id), change its status, priority, assignee or team.

Lists are newest first by id, with ``q`` too (the desk's full-text ``search`` picks the
cases; relevance does not order them): a cursor is then one place in one stable order,
whatever is created or changed between pages.

Every change goes through TicketService as the token (``api:NAME``): the same
permissions, state machine, audit trail and Slack effects (card, thread line, DMs) as a
person's click. A token sees every case, as an admin does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from bot.api import cursors
from bot.api.calls import ApiContext, Call
from bot.api.fields import Fields
from bot.api.problems import Problem
from bot.mail.addresses import is_address
from bot.services.case_json import case_json, event_json, message_json
from bot.services.field_values import FieldValue, as_json, values_by_ticket, values_of
from bot.services.forms import KEPT, check
from bot.services.queries import search
from bot.services.records import Change, format_number, parse_number
from bot.services.status import Priority, Status
from bot.services.tickets import MAX_DETAILS, NewTicket, TicketService
from bot.views.text import is_slack_user
from db.models import CaseMessage, Team, Ticket, TicketEvent

LIST_PARAMS = (
    "status", "priority", "team", "assignee", "requester", "source", "created_after", "created_before",
    "updated_after", "updated_before", "q", "limit", "cursor",
)
CREATE_FIELDS = ("requester", "title", "details", "priority", "type", "campaign", "external_id", "fields")
PATCH_FIELDS = ("status", "priority", "assignee", "team", "note")
STATUSES = tuple(s.value for s in Status)
PRIORITIES = tuple(p.value for p in Priority)
PAGE = 50
MAX_PAGE = 100
MAX_ID = 2**31 - 1  # the ids column's range: a larger number names no case


def list_cases(call: Call) -> Response:
    f = Fields(call.query, LIST_PARAMS, "query")
    statuses = _many(f, call.query.get("status"), "status", STATUSES)
    priorities = _many(f, call.query.get("priority"), "priority", PRIORITIES)
    limit = f.integer("limit", low=1, high=MAX_PAGE, default=PAGE)
    ranges = {name: f.moment(name) for name in ("created_after", "created_before", "updated_after", "updated_before")}
    q = f.text("q", limit=200)
    after = cursors.decode(call.query["cursor"]) if call.query.get("cursor") else None
    f.check()
    with call.ctx.db.read() as session:
        query = select(Ticket)
        if statuses:
            query = query.where(Ticket.status.in_(statuses))
        if priorities:
            query = query.where(Ticket.priority.in_(priorities))
        if call.query.get("team"):
            query = query.where(Ticket.team_id == _team_id(session, call.query["team"]))
        for param, column in (("assignee", Ticket.assignee_id), ("requester", Ticket.reporter_id), ("source", Ticket.source)):
            if call.query.get(param):
                query = query.where(column == call.query[param])
        if q:
            found = search(q, session)
            query = query.join(found, found.c.id == Ticket.id)
        query = _ranges(query, ranges)
        if after is not None:
            query = query.where(Ticket.id < after)
        rows = list(session.scalars(query.order_by(Ticket.id.desc()).limit(limit + 1)))
        page = summaries(session, rows[:limit])
    more = len(rows) > limit
    return JSONResponse({"data": page, "next_cursor": cursors.encode(rows[limit - 1].id) if more else None})


def get_case(call: Call) -> Response:
    ticket_id = _number(call)
    with call.ctx.db.read() as session:
        row = session.get(Ticket, ticket_id)
        if row is None:
            raise Problem(404, "not-found", f"There is no case {format_number(ticket_id)}.")
        return JSONResponse(_whole(session, row))


def create_case(call: Call) -> Response:
    new = new_ticket(call.ctx, call.json())

    def shown(session: Session, row: Ticket, created: bool) -> dict[str, Any]:
        """The case as the create wrote it, in its transaction: the fields as given, no
        messages yet (filing writes none), the events read after the flush that numbers them."""
        if not created:
            return _whole(session, row)
        session.flush()
        team = session.scalar(select(Team.name).where(Team.id == row.team_id)) if row.team_id is not None else None
        return _whole(session, row, team, as_json(new.fields), messages=[])

    body, created = call.ctx.tickets.create_as(new, shown)
    location = {"Location": body["links"]["self"]}
    return JSONResponse(body, status_code=201 if created else 200, headers=location)


def new_ticket(ctx: ApiContext, body: dict[str, Any]) -> NewTicket:
    """A case to open, read from a request's fields; Problem (422) naming each bad one."""
    settings = ctx.settings
    f = Fields(body, CREATE_FIELDS)
    requester = f.text("requester", limit=320, required=True)
    if requester and not (is_slack_user(requester) or is_address(requester)):
        f.errors["requester"] = "A Slack user ID (U…) or an email address."
    title = f.text("title", limit=300)
    details = f.text("details", limit=MAX_DETAILS, required=True)
    priority = f.choice("priority", PRIORITIES, default=Priority.MEDIUM.value)
    issue_type = f.choice("type", settings.issue_types, default=settings.issue_types[-1])
    campaign = f.choice("campaign", settings.campaigns, default=settings.campaigns[0])
    external_id = f.text("external_id", limit=255)
    values = _custom_fields(ctx, body, f, issue_type)
    f.check()
    assert requester and details and priority and issue_type and campaign
    return NewTicket(
        reporter_id=requester.lower() if is_address(requester) else requester, campaign=campaign, issue_type=issue_type,
        priority=priority, details=details, source="api", title=title, external_id=external_id, fields=values,
    )


def update_case(call: Call) -> Response:
    ticket_id = _number(call)
    change_case(call.ctx, call.token.actor, ticket_id, call.json())
    with call.ctx.db.read() as session:
        row = session.get(Ticket, ticket_id)
        assert row is not None
        return JSONResponse(_whole(session, row))


def change_case(ctx: ApiContext, actor: str, ticket_id: int, body: dict[str, Any], known: tuple[str, ...] = PATCH_FIELDS) -> None:
    """Change a case's team, assignee, priority and status as ``body`` asks, as ``actor``."""
    f = Fields(body, known)
    status = f.choice("status", STATUSES)
    priority = f.choice("priority", PRIORITIES)
    assignee = f.text("assignee", limit=32)
    if assignee and not ctx.is_agent(assignee):
        f.errors["assignee"] = "The Slack user ID of one of the desk's agents."
    team = f.text("team", limit=80)
    note = f.text("note", limit=MAX_DETAILS)
    if not (status or priority or assignee or team):
        f.errors.setdefault("status", "Give at least one of status, priority, assignee, team.")
    f.check()
    tickets = ctx.tickets
    if team:
        with ctx.db.read() as session:
            team_id = _team_id(session, team)
        if tickets.get(ticket_id).team_id != team_id:
            tickets.move(ticket_id, actor, team_id)
    if assignee and tickets.get(ticket_id).assignee_id != assignee:
        tickets.reassign(ticket_id, actor, assignee, note if not status else None)
    if priority and tickets.get(ticket_id).priority.value != priority:
        tickets.set_priority(ticket_id, actor, Priority(priority))
    if status:
        _set_status(tickets, actor, ticket_id, Status(status), note)


def _set_status(tickets: TicketService, actor: str, ticket_id: int, status: Status, note: str | None) -> Change | None:
    now = tickets.get(ticket_id)
    if now.status is status:
        return None
    if status is Status.RESOLVED:
        return tickets.resolve(ticket_id, actor, note)
    if status is Status.CLOSED:
        return tickets.close(ticket_id, actor, note)
    if status is Status.WAITING:
        return tickets.set_waiting(ticket_id, actor)
    if status is Status.OPEN:
        return tickets.reopen(ticket_id, actor)
    if now.status is Status.WAITING:
        return tickets.resume(ticket_id, actor)
    raise Problem(
        409, "not-allowed", f"{now.number} is {now.status.label}: a case goes In Progress when it is assigned (give assignee)."
    )


def _custom_fields(ctx: ApiContext, body: dict[str, Any], f: Fields, issue_type: str | None) -> tuple[FieldValue, ...]:
    """``fields``: the type's extra fields by key, checked as the form checks them; errors
    are named ``fields.KEY``."""
    given = body.get("fields", {})
    if not isinstance(given, dict):
        f.errors["fields"] = "An object: each of the type's extra fields by key."
        return ()
    if issue_type is None:
        return ()
    specs = KEPT.fields(ctx.db, issue_type)
    keys = [s.key for s in specs]
    for key in given:
        if key not in keys:
            f.errors[f"fields.{key}"] = f"Unknown field: {issue_type} has {', '.join(keys) or 'no extra fields'}."
    checked = check(specs, given)
    for key, error in checked.errors.items():
        f.errors[f"fields.{key}"] = error
    return tuple(checked.values)


def summaries(session: Any, rows: list[Ticket]) -> list[dict[str, Any]]:
    """The cases as lists show them (without messages and events), read in three queries."""
    teams = _team_names(session, {r.team_id for r in rows if r.team_id is not None})
    values = values_by_ticket(session, [r.id for r in rows])
    return [case_json(r, teams.get(r.team_id or 0), values.get(r.id)) for r in rows]


def _whole(
    session: Any, row: Ticket, team: str | None = None, fields: dict[str, Any] | None = None, messages: list[Any] | None = None
) -> dict[str, Any]:
    """The case whole; ``team``, ``fields`` and ``messages`` when the caller knows them already."""
    if fields is None:
        found = session.get(Team, row.team_id) if row.team_id is not None else None
        team, fields = (found.name if found else None), as_json(values_of(session, row.id))
    body = case_json(row, team, fields)
    body["messages"] = messages if messages is not None else [
        message_json(m) for m in session.scalars(select(CaseMessage).where(CaseMessage.ticket_id == row.id).order_by(CaseMessage.id))
    ]
    body["events"] = [
        event_json(e) for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == row.id).order_by(TicketEvent.id))
    ]
    number = format_number(row.id)
    body["links"] = {
        "self": f"/api/v1/cases/{number}",
        "notes": f"/api/v1/cases/{number}/notes",
        "replies": f"/api/v1/cases/{number}/replies",
        "slack_card": {"channel": row.card_channel, "ts": row.card_ts} if row.card_ts else None,
    }
    return body


def _number(call: Call) -> int:
    number = parse_number(str(call.path.get("number", "")))
    if number is None or number > MAX_ID:
        raise Problem(404, "not-found", "A case number is TCK-000123 or 123.")
    return number


def _team_id(session: Any, team: str) -> int:
    by_id = team.isdigit() and len(team) <= 9
    query = select(Team.id).where(Team.id == int(team)) if by_id else select(Team.id).where(Team.name == team)
    found = session.scalar(query)
    if found is None:
        raise Problem(422, "invalid-fields", "Some fields are not valid: see errors.", errors={"team": f"There is no team {team}."})
    return int(found)


def _team_names(session: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {int(i): str(n) for i, n in session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))}


def _many(f: Fields, raw: str | None, name: str, choices: tuple[str, ...]) -> list[str]:
    values = [v.strip() for v in (raw or "").split(",") if v.strip()]
    bad = [v for v in values if v not in choices]
    if bad:
        f.errors[name] = f"Comma-separated, each one of: {', '.join(choices)}."
    return [v for v in values if v in choices]


def _ranges(query: Any, ranges: dict[str, datetime | None]) -> Any:
    bounds = {
        "created_after": Ticket.created_at >= ranges["created_after"] if ranges["created_after"] else None,
        "created_before": Ticket.created_at < ranges["created_before"] if ranges["created_before"] else None,
        "updated_after": Ticket.updated_at >= ranges["updated_after"] if ranges["updated_after"] else None,
        "updated_before": Ticket.updated_at < ranges["updated_before"] if ranges["updated_before"] else None,
    }
    return query.where(*[b for b in bounds.values() if b is not None])
