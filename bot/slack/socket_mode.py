"""The Socket Mode connection: every envelope acked, Nagle's algorithm off, prompt reconnects.

Bolt's adapter acks only what a listener took (status 200). An envelope no listener
takes (an edit in the bot's DM, another bot's DM, an event type nobody handles) comes
back as 404 and went unacked, so Slack retried it and counted the failures; it is acked
empty here. A 5xx is still not acked: a listener could not take the envelope now (its
database did not answer) and Slack's redelivery is the retry.

slack_sdk's built-in client writes each ack as one small frame. With Nagle on, an ack
written while the previous one is still unacknowledged by the server waits for the
server's delayed ACK (about 40 ms on Linux): one ack in twenty took 40–50 ms in our
benchmark. TCP_NODELAY sends it at once; it is set on every (re)connection.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.ops.metrics import Metrics

# Bolt's answer when no listener (or a global middleware) took a request.
UNHANDLED = 404
# A worker holds its envelope until the ack, and a channel message is acked only once
# stored (up to 2 s): with slack_sdk's 10, a slow database could queue a slash command
# behind stores until its trigger_id (3 s) expired.
WORKERS = 32
# How often close() tells a session runner that missed the first word to stop.
CLOSE_RECHECK_SECONDS = 0.1


class NoDelaySocketModeClient(SocketModeClient):
    def connect(self) -> None:
        self._wake_reader_on_close()
        super().connect()
        session = self.current_session
        sock = getattr(session, "sock", None)
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as err:  # not a TCP socket (a proxy tunnel); carry on without
                self.logger.debug("TCP_NODELAY not set: %s", err)

    def _wake_reader_on_close(self) -> None:
        """On a reconnect the client closes the old socket while its reader thread is
        blocked in recv() on it; close() does not wake a blocked recv() on Linux, so
        the reader (and with it the new connection, which it serves next) stayed
        deaf until the 3 s receive timeout: a slash command in that window lost its
        trigger_id. Shutting the socket down first wakes the reader at once."""
        old = self.current_session
        sock = getattr(old, "sock", None)
        if old is None or sock is None:
            return
        close = old.close

        def shutdown_then_close() -> None:
            shut_down(sock)
            close()

        old.close = shutdown_then_close  # type: ignore[method-assign]

    def close(self) -> None:
        """slack_sdk's close() joins the session runner, which stops once the session state
        says terminated. A runner that had just checked the new session when close() came
        (a SIGTERM while connecting) marks that state live again and then waits on the
        closed session for ever, and the join with it. Saying terminated again until the
        runner is gone ends it within its 0.2 s idle wait."""
        self.closed, self.auto_reconnect_enabled = True, False
        shut_down(getattr(self.current_session, "sock", None))  # wakes its reader now (see above)
        closing = threading.Thread(target=super().close, name="socket-mode-close", daemon=True)
        closing.start()
        while closing.is_alive():
            if self.current_session_state is not None:
                self.current_session_state.terminated = True
            closing.join(CLOSE_RECHECK_SECONDS)


class CasedeskSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler over :class:`NoDelaySocketModeClient`, acking every
    envelope nobody took, and counting envelopes and acks in ``metrics``."""

    def __init__(self, app: App, app_token: str, *, concurrency: int = WORKERS, metrics: Metrics | None = None) -> None:
        # Not calling super().__init__: it would build (and start threads for) a
        # client of its own that we would then throw away.
        self.app = app
        self.app_token = app_token
        self.metrics = metrics
        self.client = NoDelaySocketModeClient(
            app_token=app_token,
            logger=app.logger if app.logger else logging.getLogger(__name__),
            web_client=app.client,
            proxy=app.client.proxy,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time.time()
        taken = time.perf_counter()
        if self.metrics:
            self.metrics.envelopes.labels(req.type).inc()
        response = acked_when_unhandled(run_bolt_app(self.app, req))
        send_response(client, req, response, start)
        if self.metrics and response.status == 200:  # a 5xx is left unacked for Slack to redeliver
            self.metrics.acks.labels(req.type).inc()
            self.metrics.ack_seconds.labels(req.type).observe(time.perf_counter() - taken)


def shut_down(sock: socket.socket | None) -> None:
    """Shut a socket down both ways, which (unlike close) wakes a thread blocked reading it."""
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already gone


def acked_when_unhandled(response: BoltResponse) -> BoltResponse:
    """An empty ack for a request no listener took; any other response as it is."""
    return BoltResponse(status=200, body="") if response.status == UNHANDLED else response
