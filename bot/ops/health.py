"""The health server (only when PORT is set): /health for liveness, /ready for readiness,
/metrics for Prometheus.

A Starlette app served by uvicorn in a thread of its own. ``health_app`` builds the app,
so that later routes (an API, metrics) can be mounted on the same one.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import h11
import uvicorn
from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.ops.metrics import Metrics
from db.migrate import is_current

log = logging.getLogger(__name__)

# Seconds a connection may sit without a complete request head, before its first
# request and between requests (keep-alive).
REQUEST_TIMEOUT = 5
# Open connections beyond this are answered 503 at once instead of queueing.
MAX_CONNECTIONS = 512
# Seconds one database check answers /ready: probes must not cost a connection each.
READY_CACHE_SECONDS = 3.0
START_SECONDS = 10.0
STOP_SECONDS = 3


def database_checks(engine: Engine) -> dict[str, bool]:
    """The database answers, and its schema is current."""
    checks = {"database": False, "migrations": False}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
        checks["migrations"] = is_current(engine)
    except Exception as err:  # noqa: BLE001 - any failure means not ready; the reason is logged
        log.warning("readiness: database check failed: %s", type(err).__name__)
    return checks


class CachedChecks:
    """A blocking check, run in a worker thread at most once per ``ttl`` seconds however
    many ask; callers arriving while it runs wait for its answer instead of starting another."""

    def __init__(self, check: Callable[[], dict[str, bool]], ttl: float) -> None:
        self._check = check
        self._ttl = ttl
        self._lock = anyio.Lock()
        self._result: dict[str, bool] = {}
        self._taken_at: float | None = None

    async def get(self) -> dict[str, bool]:
        async with self._lock:
            if self._taken_at is None or time.monotonic() - self._taken_at >= self._ttl:
                self._result = await anyio.to_thread.run_sync(self._check)
                self._taken_at = time.monotonic()
            return dict(self._result)


def health_app(
    engine: Engine,
    socket_connected: Callable[[], bool],
    *,
    ready_ttl: float = READY_CACHE_SECONDS,
    metrics: Metrics | None = None,
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The app: GET /health, GET /ready, GET /metrics (given the desk's metrics) and
    ``routes`` (the rating page); unknown paths answer 404 in JSON."""
    database = CachedChecks(lambda: database_checks(engine), ready_ttl)

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def ready(_request: Request) -> JSONResponse:
        checks = {**await database.get(), "socket_mode": socket_connected()}
        failing = [name for name, ok in checks.items() if not ok]
        if failing:
            return JSONResponse({"status": "not ready", "failing": failing, "checks": checks}, status_code=503)
        return JSONResponse({"status": "ready", "checks": checks})

    async def not_found(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "not found"}, status_code=404)

    own: list[BaseRoute] = [Route("/health", health), Route("/ready", ready)]
    if metrics is not None:
        own.append(metrics.route())
    return Starlette(routes=[*own, *routes], exception_handlers={404: not_found})


class _TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request head.

    uvicorn arms its keep-alive timer only after a response, and any byte received
    disarms it, so a client that connects and never finishes a request would hold its
    connection for good. Here every connection waiting for a request head (new, or idle
    after a response) is closed once ``timeout_keep_alive`` passes, whatever trickles in.
    """

    _head_deadline: Any = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        # A response's head and body are written apart: with Nagle's algorithm the body waits
        # for the client's delayed ACK, 40 ms on every keep-alive request after the first.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        if not self.transport.is_closing():
            self._head_deadline = self.loop.call_later(self.timeout_keep_alive, self._close_if_no_request)

    def _close_if_no_request(self) -> None:
        if self.conn.their_state is h11.IDLE and self.conn.our_state is h11.IDLE:
            self.timeout_keep_alive_handler()


def _listen(host: str, port: int) -> socket.socket:
    """Bound here, not by uvicorn, so a taken port fails the start and port 0 is known at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=MAX_CONNECTIONS)


class HealthServer:
    """``health_app`` served by uvicorn on its own thread: start(), stop(), port."""

    def __init__(
        self,
        port: int,
        engine: Engine,
        socket_connected: Callable[[], bool],
        host: str = "127.0.0.1",
        *,
        request_timeout: int = REQUEST_TIMEOUT,
        ready_ttl: float = READY_CACHE_SECONDS,
        metrics: Metrics | None = None,
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self._socket = _listen(host, port)
        self._port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            health_app(engine, socket_connected, ready_ttl=ready_ttl, metrics=metrics, routes=routes),
            http=_TimedH11Protocol,
            loop="asyncio",
            ws="none",
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=request_timeout,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_graceful_shutdown=STOP_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, name="health", daemon=True)

    @property
    def port(self) -> int:
        return self._port

    def start(self) -> HealthServer:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            self._thread.join(0.01)
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._socket.close()
                raise RuntimeError("the health server did not start; see the log")
        return self

    def stop(self) -> None:
        """Stop listening, close idle connections, let requests in flight finish (briefly)."""
        if not self._thread.is_alive():
            self._socket.close()
            return
        self._server.should_exit = True
        self._thread.join(STOP_SECONDS + 2)
