"""The rating page, served by the bot's HTTP server: ``GET /rate/<link>`` shows the score
the link stands for with a comment box, ``POST /rate/<link>`` records it (once). A forged,
expired or used link gets a page that says so, and records nothing."""

from __future__ import annotations

from urllib.parse import parse_qs

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

from bot.services.surveys import Outcome, Rated, Surveys
from bot.views.survey import MAX_COMMENT, already_page, expired_page, invalid_page, rate_page, thanks_page

MAX_BODY = 4 * MAX_COMMENT + 200  # the form's comment, percent-encoded at worst
# Links are never cached or passed on to other sites by the browser.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
STATUS = {Outcome.OPEN: 200, Outcome.RECORDED: 200, Outcome.ALREADY: 409, Outcome.EXPIRED: 410, Outcome.INVALID: 404}


def _answer(rated: Rated) -> HTMLResponse:
    if rated.outcome is Outcome.OPEN and rated.score:
        body = rate_page(rated.number, rated.score)
    elif rated.outcome is Outcome.RECORDED and rated.score:
        body = thanks_page(rated.number, rated.score)
    elif rated.outcome is Outcome.ALREADY:
        body = already_page(rated.number, rated.score)
    elif rated.outcome is Outcome.EXPIRED:
        body = expired_page()
    else:
        body = invalid_page()
    return HTMLResponse(body, status_code=STATUS.get(rated.outcome, 404), headers=HEADERS)


def rating_routes(surveys: Surveys) -> list[BaseRoute]:
    async def show(request: Request) -> HTMLResponse:
        token = str(request.path_params["token"])
        rated = await anyio.to_thread.run_sync(surveys.check_link, token)
        return _answer(rated)

    async def record(request: Request) -> HTMLResponse:
        token = str(request.path_params["token"])
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return HTMLResponse("comment too long", status_code=413, headers=HEADERS)
        comment = (parse_qs(body.decode("utf-8", "replace")).get("comment") or [""])[0]
        rated = await anyio.to_thread.run_sync(surveys.rate_by_link, token, comment)
        return _answer(rated)

    return [Route("/rate/{token}", show, methods=["GET"]), Route("/rate/{token}", record, methods=["POST"])]
