"""The double's Socket Mode server: a WebSocket on 127.0.0.1 that pushes envelopes
and records each ack, its payload and its latency."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from slack_double import workspace
from slack_double.workspace import APP_ID, Workspace


@dataclass
class Envelope:
    id: str
    type: str
    payload: dict[str, Any]
    sent_at: float
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None
    acks: int = 0
    acked: threading.Event = field(default_factory=threading.Event)

    @property
    def ack_latency(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


class SocketModeServer:
    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.envelopes: dict[str, Envelope] = {}
        self._connections: list[ServerConnection] = []
        # Told to reconnect: Slack sends them nothing more.
        self._draining: set[ServerConnection] = set()
        self._round_robin = itertools.count()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}"

    def start(self) -> None:
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None, ping_interval=None)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="double-socket-mode", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()

    def connection_count(self) -> int:
        """Connections that receive envelopes."""
        with self.ws.lock:
            return len(self._live())

    def _live(self) -> list[ServerConnection]:
        return [c for c in self._connections if c not in self._draining]

    def disconnect_all(self, reason: str = "refresh_requested") -> None:
        """Ask clients to reconnect, as Slack does every few hours."""
        with self.ws.lock:
            conns = list(self._connections)
            self._draining.update(conns)
        for conn in conns:
            try:
                conn.send(json.dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "double"}}))
            except ConnectionClosed:
                pass

    def _handle(self, conn: ServerConnection) -> None:
        # websockets writes a frame's header and payload separately; without NODELAY,
        # Nagle holds the payload until the client's delayed ACK (about 40 ms).
        conn.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.ws.changed:
            self._connections.append(conn)
            count = len(self._connections)
            self.ws.changed.notify_all()
        try:
            conn.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": count,
                        "debug_info": {"host": "double", "approximate_connection_time": 18060},
                        "connection_info": {"app_id": APP_ID},
                    }
                )
            )
            for raw in conn:
                self._on_ack(raw)
        except ConnectionClosed:
            pass
        finally:
            with self.ws.changed:
                if conn in self._connections:
                    self._connections.remove(conn)
                self._draining.discard(conn)
                self.ws.changed.notify_all()

    def _on_ack(self, raw: str | bytes) -> None:
        now = time.perf_counter()
        try:
            data = json.loads(raw)
        except ValueError:
            return
        with self.ws.changed:
            env = self.envelopes.get(str(data.get("envelope_id")))
            if env is not None:
                env.acks += 1
                if env.acked_at is None:
                    env.acked_at = now
                    env.ack_payload = data.get("payload")
                    env.acked.set()
            self.ws.changed.notify_all()

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool | None = None,
    ) -> Envelope:
        """Push one envelope to one connection (as Slack does, any of them)."""
        if accepts_response_payload is None:
            accepts_response_payload = kind != "events_api"
        env = Envelope(str(uuid.uuid4()), kind, payload, 0.0)
        body: dict[str, Any] = {
            "envelope_id": env.id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            body["retry_attempt"] = retry_attempt
            body["retry_reason"] = retry_reason
        conn = self._pick()
        with self.ws.changed:
            env.sent_at = time.perf_counter()
            self.envelopes[env.id] = env
        conn.send(json.dumps(body))
        return env

    def _pick(self) -> ServerConnection:
        conns = self.ws.wait_for(self._live, timeout=10, what="a Socket Mode connection")
        return conns[next(self._round_robin) % len(conns)]

    def unacked(self) -> list[Envelope]:
        """Envelopes sent and never acked (Slack would retry each)."""
        with self.ws.lock:
            return [env for env in self.envelopes.values() if env.acked_at is None]

    def wait_ack(self, env: Envelope, timeout: float = 5.0) -> Envelope:
        timeout = max(timeout, workspace.min_wait)
        if not env.acked.wait(timeout):
            raise TimeoutError(f"timed out after {timeout}s waiting for the ack of a {env.type} envelope")
        return env
