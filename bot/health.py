"""The health server (only when PORT is set): /health for liveness, /ready for readiness."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import Engine, text

from db.migrate import is_current

log = logging.getLogger(__name__)


def readiness(engine: Engine, socket_connected: Callable[[], bool]) -> dict[str, bool]:
    """Each check by name: True when it passes."""
    checks = {"database": False, "migrations": False, "socket_mode": socket_connected()}
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
        checks["migrations"] = is_current(engine)
    except Exception as err:  # noqa: BLE001 - any failure means not ready; the reason is logged
        log.warning("readiness: database check failed: %s", type(err).__name__)
    return checks


class HealthServer:
    def __init__(self, port: int, engine: Engine, socket_connected: Callable[[], bool], host: str = "0.0.0.0") -> None:
        probe = lambda: readiness(engine, socket_connected)  # noqa: E731

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - no access log
                pass

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/health":
                    self._send(200, {"status": "ok"})
                elif path == "/ready":
                    checks = probe()
                    failing = [name for name, ok in checks.items() if not ok]
                    if failing:
                        self._send(503, {"status": "not ready", "failing": failing, "checks": checks})
                    else:
                        self._send(200, {"status": "ready", "checks": checks})
                else:
                    self._send(404, {"error": "not found"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="health", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> HealthServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
