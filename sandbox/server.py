"""The sandbox's web server: the page, its JSON API (API.md) and the live stream, on
Starlette (the same ASGI stack as the bot's health server)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox import acting
from sandbox.acting import Refused
from sandbox.desk import BotFailed, Sandbox
from sandbox.state import bootstrap, state_for

STATIC = Path(__file__).resolve().parent / "static"
KEEPALIVE_SECONDS = 15.0
COALESCE_SECONDS = 0.05
# Nothing the page shows runs as code: scripts and styles come from this server alone.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def build_app(sandbox: Sandbox) -> Starlette:
    double = sandbox.double

    async def index(_request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=SECURITY_HEADERS | {"Cache-Control": "no-store"})

    async def get_bootstrap(_request: Request) -> Response:
        return JSONResponse(bootstrap(sandbox))

    async def get_state(request: Request) -> Response:
        who = request.query_params.get("as", "")
        try:
            acting.person(double, who)
        except Refused as err:
            return _refused(err)
        return JSONResponse(await anyio.to_thread.run_sync(state_for, sandbox, who))

    async def events(request: Request) -> Response:
        changes = double.workspace.changed

        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not await request.is_disconnected():
                current = await anyio.to_thread.run_sync(changes.wait_past, seen, KEEPALIVE_SECONDS, abandon_on_cancel=True)
                if current == seen:
                    yield ": still here\n\n"
                    continue
                seen = current
                yield f"data: {json.dumps({'version': current})}\n\n"
                await anyio.sleep(COALESCE_SECONDS)  # a burst of changes becomes one refresh

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    def posting(work: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                body = await request.json()
            except ValueError:
                return _refused(Refused("the body must be JSON"))
            if not isinstance(body, dict):
                return _refused(Refused("the body must be a JSON object"))
            try:
                return JSONResponse(await anyio.to_thread.run_sync(work, body))
            except Refused as err:
                return _refused(err)
            except TimeoutError as err:
                return JSONResponse({"ok": False, "error": f"the bot did not answer: {err}"}, status_code=504)
            except BotFailed as err:
                return JSONResponse({"ok": False, "error": str(err)}, status_code=500)

        return endpoint

    def send_mail(body: dict[str, Any]) -> dict[str, Any]:
        sender = str(body.get("from_email") or "").strip()
        if "@" not in sender or any(c in sender for c in " <>\r\n,"):
            raise Refused("from_email must be an address such as dana@customer.example")
        subject, text = str(body.get("subject") or "").strip(), str(body.get("body") or "")
        if not subject and not text.strip():
            raise Refused("write a subject or a message")
        name = str(body.get("from_name") or "").replace("\r", " ").replace("\n", " ").strip()
        replying = body.get("in_reply_to")
        reference = None
        if replying:
            sent = next((m for m in sandbox.mail_from_desk() if m.id == replying), None)
            if sent is None:
                raise Refused("no such mail from the desk", 404)
            reference = sent.message_id
        kept = sandbox.send_mail(name, sender, subject.replace("\r", " ").replace("\n", " "), text, reference)
        return {"ok": True, "id": kept.id}

    async def run_job(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            output = await anyio.to_thread.run_sync(sandbox.run_job, name)
        except KeyError:
            return _refused(Refused(f"no job {name!r}", 404))
        except BotFailed as err:
            return JSONResponse({"ok": False, "error": str(err)}, status_code=500)
        return JSONResponse({"ok": True, "output": output})

    async def reset(_request: Request) -> Response:
        try:
            await anyio.to_thread.run_sync(sandbox.reset)
        except BotFailed as err:
            return JSONResponse({"ok": False, "error": str(err)}, status_code=500)
        return JSONResponse({"ok": True})

    routes = [
        Route("/", index),
        Route("/api/bootstrap", get_bootstrap),
        Route("/api/state", get_state),
        Route("/api/events", events),
        Route("/api/say", posting(lambda body: acting.say(double, body)), methods=["POST"]),
        Route("/api/action", posting(lambda body: acting.act(double, body)), methods=["POST"]),
        Route("/api/view/submit", posting(lambda body: acting.submit(double, body)), methods=["POST"]),
        Route("/api/view/close", posting(lambda body: acting.close_view(double, body)), methods=["POST"]),
        Route("/api/home", posting(lambda body: acting.open_home(double, body)), methods=["POST"]),
        Route("/api/mail", posting(send_mail), methods=["POST"]),
        Route("/api/jobs/{name}", run_job, methods=["POST"]),
        Route("/api/reset", reset, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # Only this machine's names: a page elsewhere cannot reach the sandbox by rebinding its DNS.
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"]),
        Middleware(SecurityHeaders),
    ]
    return Starlette(routes=routes, middleware=middleware)


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (an ASGI middleware: streams pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


def _refused(err: Refused) -> Response:
    return JSONResponse({"ok": False, "error": str(err)}, status_code=err.status)
