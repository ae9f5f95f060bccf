"""A webhook receiver on 127.0.0.1 for the tests: records every POST (headers, body) and
answers with the statuses it is told to (then 200); it can be taken down and brought back
up on the same port."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def event(self) -> str:
        return self.headers["casedesk-event"]

    def signed_with(self, secret: str) -> bool:
        """The signature as a receiver checks it: HMAC-SHA256 of "timestamp.body"."""
        stamp = self.headers["casedesk-timestamp"]
        expected = "v1=" + hmac.new(secret.encode(), f"{stamp}.".encode() + self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers["casedesk-signature"])


class Receiver:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []  # statuses to answer next, in order; then 200
        self.answered: list[int] = []
        self.delay = 0.0  # seconds each answer waits (a receiver that times out)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)  # a slow receiver, not a test waiting
                with receiver._lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.answered.append(status)
                    if status < 300:
                        receiver.received.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def of(self, event: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.event == event]
