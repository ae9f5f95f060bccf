"""The Socket Mode connection, with Nagle's algorithm off and prompt reconnects.

slack_sdk's built-in client writes each ack as one small frame. With Nagle on, an ack
written while the previous one is still unacknowledged by the server waits for the
server's delayed ACK (about 40 ms on Linux): one ack in twenty took 40–50 ms in our
benchmark. TCP_NODELAY sends it at once; it is set on every (re)connection.
"""

from __future__ import annotations

import logging
import socket

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient


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
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone
            close()

        old.close = shutdown_then_close  # type: ignore[method-assign]


class CasedeskSocketModeHandler(SocketModeHandler):
    """Bolt's Socket Mode handler over :class:`NoDelaySocketModeClient`."""

    def __init__(self, app: App, app_token: str, *, concurrency: int = 10) -> None:
        # Not calling super().__init__: it would build (and start threads for) a
        # client of its own that we would then throw away.
        self.app = app
        self.app_token = app_token
        self.client = NoDelaySocketModeClient(
            app_token=app_token,
            logger=app.logger if app.logger else logging.getLogger(__name__),
            web_client=app.client,
            proxy=app.client.proxy,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
