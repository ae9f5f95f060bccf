"""The API's OpenAPI 3.1 document, served at /api/v1/openapi.json.

Written by hand as one dict: Starlette (the kept framework the bot's HTTP server already
uses) has no typed route models to generate it from, and adding a second framework for
that alone would double the server's stack. A test validates this document and checks that
it names exactly the routes the app serves.
"""

from __future__ import annotations

from typing import Any

from bot.services.status import Priority, Status
from bot.services.webhooks import EVENTS

STRING = {"type": "string"}
NULLABLE = {"type": ["string", "null"]}
TIME = {"type": ["string", "null"], "format": "date-time"}

CASE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "number": {"type": "string", "example": "TCK-000123"},
        "id": {"type": "integer"},
        "title": NULLABLE,
        "details": STRING,
        "status": {"enum": [s.value for s in Status]},
        "priority": {"enum": [p.value for p in Priority]},
        "type": STRING,
        "campaign": STRING,
        "source": STRING,
        "requester": {"type": "string", "description": "a Slack user ID or an email address"},
        "requester_name": NULLABLE,
        "assignee": NULLABLE,
        "team_id": {"type": ["integer", "null"]},
        "team": NULLABLE,
        "external_id": NULLABLE,
        "created_at": TIME,
        "updated_at": TIME,
        "resolved_at": TIME,
        "closed_at": TIME,
        "first_response_due_at": TIME,
        "resolution_due_at": TIME,
        "fields": {
            "type": "object",
            "description": "its issue type's extra fields by key, as filed: a number, an ISO date, a list (multi select) or text",
        },
    },
    "required": ["number", "id", "status", "priority", "requester", "created_at", "updated_at"],
}
WHOLE: dict[str, Any] = {
    "allOf": [
        {"$ref": "#/components/schemas/Case"},
        {
            "type": "object",
            "properties": {
                "messages": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                "links": {"type": "object"},
            },
        },
    ]
}
MESSAGE = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "via": {"enum": ["slack", "email"]}, "role": STRING, "author": STRING,
        "author_name": NULLABLE, "body": NULLABLE, "created_at": TIME, "edited_at": TIME, "deleted": {"type": "boolean"},
    },
}
EVENT = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"}, "kind": STRING, "actor": STRING, "from": NULLABLE, "to": NULLABLE, "note": NULLABLE,
        "created_at": TIME,
    },
}
PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string", "format": "uri"}, "title": STRING, "status": {"type": "integer"}, "detail": STRING,
        "instance": STRING, "errors": {"type": "object", "additionalProperties": STRING},
    },
    "required": ["type", "title", "status", "detail"],
}
NEW_CASE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requester": {"type": "string", "maxLength": 320, "description": "a Slack user ID (U…) or an email address"},
        "title": {"type": "string", "maxLength": 300},
        "details": {"type": "string", "maxLength": 20000},
        "priority": {"enum": [p.value for p in Priority], "default": "medium"},
        "type": {"type": "string", "description": "one of the desk's ISSUE_TYPES (default: the last)"},
        "campaign": {"type": "string", "description": "one of the desk's CAMPAIGNS (default: the first)"},
        "external_id": {"type": "string", "maxLength": 255, "description": "the caller's id: the same id again answers the first case (200)"},
        "fields": {
            "type": "object",
            "description": "the type's extra fields (/ticket-forms) by key, checked as the Slack form checks them (required ones "
            "included); a multi select takes a list, a number a number or its text, a date YYYY-MM-DD",
        },
    },
    "required": ["requester", "details"],
}
CASE_CHANGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "status": {"enum": [s.value for s in Status]},
        "priority": {"enum": [p.value for p in Priority]},
        "assignee": {"type": "string", "description": "an agent's Slack user ID"},
        "team": {"type": "string", "description": "a team's name or id"},
        "note": {"type": "string", "description": "the resolution note, or the reassignment's comment"},
    },
}
BULK_NEW = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"cases": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"$ref": "#/components/schemas/NewCase"}}},
    "required": ["cases"],
}
BULK_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "cases": {
            "type": "array", "minItems": 1, "maxItems": 100,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"number": {"type": "string", "description": "TCK-000123 or 123"}, **CASE_CHANGE["properties"]},
                "required": ["number"],
            },
        }
    },
    "required": ["cases"],
}
BULK_RESULTS = {
    "type": "object",
    "description": "one result per item, in the order given; each item was done (or refused) on its own",
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "status": {"type": "integer", "description": "what the single call would have answered: 201, 200, 404, 409, 422…"},
                    "case": {"$ref": "#/components/schemas/Case"},
                    "problem": {"$ref": "#/components/schemas/Problem"},
                },
                "required": ["index", "status"],
            },
        },
        "succeeded": {"type": "integer"},
        "failed": {"type": "integer"},
    },
    "required": ["results", "succeeded", "failed"],
}
TEXT = {"type": "object", "additionalProperties": False, "properties": {"body": {"type": "string", "maxLength": 20000}}, "required": ["body"]}


def _problems(*codes: int) -> dict[str, Any]:
    return {
        str(code): {"description": "a problem", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for code in codes
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


NUMBER = {"name": "number", "in": "path", "required": True, "schema": STRING, "description": "TCK-000123 or 123"}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or STRING, "description": description}


LIST_PARAMETERS = [
    _query("status", "comma-separated statuses"),
    _query("priority", "comma-separated priorities"),
    _query("team", "a team's name or id"),
    _query("assignee", "an agent's Slack user ID"),
    _query("requester", "a Slack user ID or an address"),
    _query("source", "slack_form, slack, email or api"),
    _query("created_after", "ISO 8601", {"type": "string", "format": "date-time"}),
    _query("created_before", "ISO 8601", {"type": "string", "format": "date-time"}),
    _query("updated_after", "ISO 8601", {"type": "string", "format": "date-time"}),
    _query("updated_before", "ISO 8601", {"type": "string", "format": "date-time"}),
    _query("q", "words of the text, or a case number"),
    _query("limit", "1 to 100 (default 50)", {"type": "integer", "minimum": 1, "maximum": 100}),
    _query("cursor", "next_cursor of the previous page"),
]


def document() -> dict[str, Any]:
    one = {"$ref": "#/components/schemas/CaseWithHistory"}
    bulk = {"$ref": "#/components/schemas/BulkResults"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Casedesk API",
            "version": "1",
            "description": (
                "Cases of the desk. Authenticate with Authorization: Bearer <token> (python -m bot api-token create). "
                "Errors are application/problem+json. Webhook events: " + ", ".join(EVENTS) + "."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/cases": {
                "get": {
                    "operationId": "listCases",
                    "summary": "Cases, newest first, by cursor",
                    "parameters": LIST_PARAMETERS,
                    "responses": {
                        "200": _json(
                            {"type": "object", "properties": {
                                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
                                "next_cursor": NULLABLE,
                            }},
                            "a page",
                        ),
                        **_problems(400, 401, 422, 429),
                    },
                },
                "post": {
                    "operationId": "createCase",
                    "summary": "Open a case (idempotent by external_id)",
                    "requestBody": _body("NewCase"),
                    "responses": {
                        "201": _json(one, "opened"),
                        "200": _json(one, "opened before with this external_id"),
                        **_problems(400, 401, 403, 413, 415, 422, 429),
                    },
                },
            },
            "/api/v1/cases/bulk": {
                "post": {
                    "operationId": "createCases",
                    "summary": "Open up to 100 cases, each as POST /api/v1/cases would (idempotent by its external_id)",
                    "requestBody": _body("BulkNewCases"),
                    "responses": {"200": _json(bulk, "a result per item"), **_problems(400, 401, 403, 413, 415, 422, 429)},
                },
                "patch": {
                    "operationId": "updateCases",
                    "summary": "Change up to 100 cases by number, each as PATCH /api/v1/cases/{number} would",
                    "requestBody": _body("BulkCaseChanges"),
                    "responses": {"200": _json(bulk, "a result per item"), **_problems(400, 401, 403, 413, 415, 422, 429)},
                },
            },
            "/api/v1/cases/{number}": {
                "parameters": [NUMBER],
                "get": {
                    "operationId": "getCase",
                    "summary": "A case with its messages, events and links",
                    "responses": {"200": _json(one, "the case"), **_problems(401, 404, 429)},
                },
                "patch": {
                    "operationId": "updateCase",
                    "summary": "Change status, priority, assignee or team",
                    "requestBody": _body("CaseChange"),
                    "responses": {"200": _json(one, "the case after"), **_problems(400, 401, 403, 404, 409, 415, 422, 429)},
                },
            },
            "/api/v1/cases/{number}/notes": {
                "parameters": [NUMBER],
                "post": {
                    "operationId": "addNote",
                    "summary": "An internal note",
                    "requestBody": _body("Text"),
                    "responses": {"201": _json({"type": "object"}, "noted"), **_problems(400, 401, 403, 404, 422, 429)},
                },
            },
            "/api/v1/cases/{number}/replies": {
                "parameters": [NUMBER],
                "post": {
                    "operationId": "addReply",
                    "summary": "A reply to the requester (by email, or in Slack)",
                    "requestBody": _body("Text"),
                    "responses": {"201": _json({"type": "object"}, "sent"), **_problems(400, 401, 403, 404, 409, 422, 429)},
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Case": CASE, "CaseWithHistory": WHOLE, "Message": MESSAGE, "Event": EVENT, "Problem": PROBLEM,
                "NewCase": NEW_CASE, "CaseChange": CASE_CHANGE, "Text": TEXT,
                "BulkNewCases": BULK_NEW, "BulkCaseChanges": BULK_CHANGE, "BulkResults": BULK_RESULTS,
            },
        },
    }
