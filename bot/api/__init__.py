"""The REST API (/api/v1), mounted on the bot's HTTP server beside /health and /ready.

One module per resource (``cases``, ``messages``, ``bulk``), the calls' common path (``calls``: token,
scope, rate limit, problems), the OpenAPI document (``openapi``)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from bot.api import bulk, cases, messages
from bot.api.calls import ApiActors, ApiContext, endpoint
from bot.api.openapi import document
from bot.api.problems import Problem, problem_response
from bot.api.rate_limit import RateLimiter
from bot.deps import Deps
from bot.services.api_tokens import ApiTokens
from bot.services.email_replies import EmailReplies
from bot.services.public_replies import PublicReplies

PREFIX = "/api/v1"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def api_context(deps: Deps, limiter: RateLimiter | None = None) -> ApiContext:
    tickets = deps.tickets.acting_for(ApiActors(deps.tickets.is_agent))
    db = deps.db
    if db is None:
        raise ValueError("the API needs the desk's database (Deps.db)")
    support = deps.settings.support_channel
    return ApiContext(
        db=db,
        settings=deps.settings,
        tokens=ApiTokens(db, deps.clock),
        tickets=tickets,
        is_agent=deps.tickets.is_agent,
        replies=PublicReplies(db, tickets, EmailReplies(db, tickets, support, deps.clock), support, deps.clock),
        mailer=deps.mail.mailer,
        limiter=limiter or RateLimiter(),
    )


def api_routes(ctx: ApiContext) -> list[BaseRoute]:
    spec = document()

    async def openapi(_request: Request) -> Response:
        return JSONResponse(spec)

    routes: list[BaseRoute] = [
        Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"]),
        Route(f"{PREFIX}/cases", endpoint(ctx, "read", cases.list_cases), methods=["GET"]),
        Route(f"{PREFIX}/cases", endpoint(ctx, "write", cases.create_case), methods=["POST"]),
        # Before /cases/{number}, which "bulk" would otherwise match.
        Route(f"{PREFIX}/cases/bulk", endpoint(ctx, "write", bulk.create_cases, bulk.MAX_BODY), methods=["POST"]),
        Route(f"{PREFIX}/cases/bulk", endpoint(ctx, "write", bulk.update_cases, bulk.MAX_BODY), methods=["PATCH"]),
        Route(f"{PREFIX}/cases/{{number}}", endpoint(ctx, "read", cases.get_case), methods=["GET"]),
        Route(f"{PREFIX}/cases/{{number}}", endpoint(ctx, "write", cases.update_case), methods=["PATCH"]),
        Route(f"{PREFIX}/cases/{{number}}/notes", endpoint(ctx, "write", messages.add_note), methods=["POST"]),
        Route(f"{PREFIX}/cases/{{number}}/replies", endpoint(ctx, "write", messages.add_reply), methods=["POST"]),
    ]

    async def elsewhere(request: Request) -> Response:
        """Any other path or method under the API: a problem, not the server's plain 404/405."""
        if any(route.matches(request.scope)[0] is Match.PARTIAL for route in routes):
            return problem_response(Problem(405, "method-not-allowed", f"{request.method} is not allowed here."), request.url.path)
        return problem_response(Problem(404, "not-found", "There is no such API path: see /api/v1/openapi.json."), request.url.path)

    return [*routes, Route(f"{PREFIX}/{{rest:path}}", elsewhere, methods=list(METHODS))]

