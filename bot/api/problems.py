"""Errors as application/problem+json (RFC 9457): a type URI, a title, the status and a
``detail`` sentence saying what to change; invalid fields listed in ``errors``."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

PROBLEM = "application/problem+json"
TYPES = "https://casedesk.dev/problems/"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid fields",
    429: "Too many requests",
    500: "Internal error",
}


class Problem(Exception):
    """Raised by an endpoint to answer with a problem document."""

    def __init__(
        self, status: int, kind: str, detail: str, *, errors: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail
        self.errors = errors or {}
        self.headers = headers or {}


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(problem_body(problem, instance), status_code=problem.status, headers=problem.headers, media_type=PROBLEM)


def problem_body(problem: Problem, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPES + problem.kind,
        "title": TITLES.get(problem.status, "Error"),
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance:
        body["instance"] = instance
    if problem.errors:
        body["errors"] = problem.errors
    return body
