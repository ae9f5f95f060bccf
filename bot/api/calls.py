"""What every API call goes through: the bearer token, its scope, its rate limit, the
body read within a size limit, errors turned into problem documents, and a log line
naming the token (the audit of reads; changes are in the cases' own audit trail, made
as ``api:NAME``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.api.problems import Problem, problem_response
from bot.api.rate_limit import RateLimiter
from bot.mail.smtp_send import Mailer
from bot.services.api_tokens import ACTOR_PREFIX, ApiTokens, TokenRecord
from bot.services.errors import ActionNotAllowed, PermissionDenied, ServiceError, TicketNotFound
from bot.services.public_replies import PublicReplies
from bot.services.tickets import InvalidTicket, NotAnAgent, TicketService
from bot.settings import Settings
from db.session import Database

log = logging.getLogger("casedesk.api")
MAX_BODY = 256 * 1024
T = TypeVar("T")


class ApiActors(Collection[str]):
    """The desk's agents, and the API's tokens acting as ``api:NAME`` (a token's scope is
    checked before any change reaches the services)."""

    def __init__(self, is_agent: Callable[[str], bool]) -> None:
        self._is_agent = is_agent

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, str) and (user_id.startswith(ACTOR_PREFIX) or self._is_agent(user_id))

    def __iter__(self) -> Iterator[str]:
        return iter(())  # only ever asked about one actor

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class ApiContext:
    db: Database
    settings: Settings
    tokens: ApiTokens
    tickets: TicketService  # acting for the tokens
    is_agent: Callable[[str], bool]  # people who may be assigned
    replies: PublicReplies
    mailer: Mailer | None  # None: the desk sends no mail (no SMTP_HOST)
    limiter: RateLimiter


@dataclass(frozen=True)
class Call:
    ctx: ApiContext
    token: TokenRecord
    path: dict[str, Any]
    query: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        if not self.body:
            raise Problem(400, "invalid-json", "Send a JSON object as the request body.")
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise Problem(400, "invalid-json", "The request body is not valid JSON.") from None
        if not isinstance(value, dict):
            raise Problem(400, "invalid-json", "The request body must be a JSON object.")
        return value


Handler = Callable[[Call], Response]


def endpoint(
    ctx: ApiContext, scope: str, handler: Handler, max_body: int = MAX_BODY
) -> Callable[[Request], Awaitable[Response]]:
    """An ASGI endpoint running ``handler`` (blocking: in a worker thread) for a token with
    ``scope``, its body at most ``max_body`` bytes."""

    async def run(request: Request) -> Response:
        name = "-"
        try:
            token = await run_in_threadpool(_authenticate, ctx, request)
            name = token.name
            if scope == "write" and token.scope != "write":
                raise Problem(403, "insufficient-scope", f"The token {token.name} may only read; this call needs a write token.")
            wait = ctx.limiter.retry_after(token.name)
            if wait:
                raise Problem(
                    429, "rate-limited", f"Too many calls with this token: try again in {wait} s.", headers={"Retry-After": str(wait)}
                )
            body = await _body(request, max_body)
            call = Call(ctx, token, dict(request.path_params), dict(request.query_params), body)
            response = await run_in_threadpool(_answer, handler, call)
        except Problem as problem:
            response = problem_response(problem, request.url.path)
        except Exception:  # a fault of ours (the database down, say): said as a problem too, and logged
            log.exception("api %s %s failed", request.method, request.url.path)
            response = problem_response(Problem(500, "internal", "The desk could not answer this call; try again shortly."))
        log.info("api %s %s %d token=%s", request.method, request.url.path, response.status_code, name)
        return response

    return run


def _authenticate(ctx: ApiContext, request: Request) -> TokenRecord:
    header = request.headers.get("authorization", "")
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        raise Problem(401, "unauthorized", "Send an API token as Authorization: Bearer <token>.", headers={"WWW-Authenticate": "Bearer"})
    token = ctx.tokens.verify(secret.strip())
    if token is None:
        raise Problem(
            401, "unauthorized", "The token is unknown or revoked.", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    return token


async def _body(request: Request, max_body: int) -> bytes:
    if request.method not in ("POST", "PATCH", "PUT"):
        return b""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem(415, "unsupported-media-type", "Send the body as application/json.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise Problem(413, "too-large", f"The body is larger than {max_body // 1024} KiB.")
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(handler: Handler, call: Call) -> Response:
    """The handler's response; a service's refusal as the problem it is."""
    return as_problem(lambda: handler(call))


def as_problem(work: Callable[[], T]) -> T:
    """``work()``'s result; a service's refusal raised as the problem it is."""
    try:
        return work()
    except TicketNotFound:
        raise Problem(404, "not-found", "There is no such case.") from None
    except InvalidTicket as err:
        raise Problem(422, "invalid-fields", "Some fields are not valid: see errors.", errors=err.errors) from None
    except ActionNotAllowed as err:
        raise Problem(409, "not-allowed", _plain(str(err))) from None
    except (PermissionDenied, NotAnAgent) as err:
        raise Problem(422 if isinstance(err, NotAnAgent) else 403, "refused", _plain(str(err))) from None
    except ServiceError as err:
        raise Problem(409, "refused", _plain(str(err))) from None


def _plain(text: str) -> str:
    """A service's sentence, written for Slack, without its mention markup."""
    return text.replace("<@", "").replace(">", "")
