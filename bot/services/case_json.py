"""A case as the REST API answers it and the webhooks post it: plain JSON values, the
same field names in both, times in ISO 8601 UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.services.records import format_number
from db.models import CaseMessage, Ticket, TicketEvent


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def case_json(row: Ticket, team: str | None = None, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """``fields``: its issue type's extra fields by key (bot/services/field_values.py as_json)."""
    return {
        "number": format_number(row.id),
        "id": row.id,
        "title": row.title,
        "details": row.details,
        "status": row.status,
        "priority": row.priority,
        "type": row.issue_type,
        "campaign": row.campaign,
        "source": row.source,
        "requester": row.reporter_id,
        "requester_name": row.reporter_name,
        "assignee": row.assignee_id,
        "team_id": row.team_id,
        "team": team,
        "external_id": row.external_id,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "resolved_at": iso(row.resolved_at),
        "closed_at": iso(row.closed_at),
        "first_response_due_at": iso(row.first_response_due_at),
        "resolution_due_at": iso(row.resolution_due_at),
        "fields": fields or {},
    }


def event_json(ev: TicketEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "kind": ev.kind,
        "actor": ev.actor_id,
        "from": ev.from_value,
        "to": ev.to_value,
        "note": ev.note,
        "created_at": iso(ev.created_at),
    }


def message_json(msg: CaseMessage) -> dict[str, Any]:
    return {
        "id": msg.id,
        "via": msg.via,
        "role": msg.role,
        "author": msg.author_id,
        "author_name": msg.author_name,
        "body": None if msg.deleted_at else msg.body,
        "created_at": iso(msg.created_at),
        "edited_at": iso(msg.edited_at),
        "deleted": msg.deleted_at is not None,
    }
