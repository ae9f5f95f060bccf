"""The health server under load it must shrug off: hundreds of idle connections, requests
that never finish, probes that must not cost a database connection each; and where it
listens (HEALTH_HOST)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.ops.health import HealthServer
from bot.settings import load_settings
from bot.settings.values import ConfigError
from tests.conftest import base_env
from tests.test_operations import get

IDLE_CONNECTIONS = 300


@contextmanager
def serving(engine: Engine, **options: Any) -> Iterator[HealthServer]:
    server = HealthServer(0, engine, lambda: True, host="127.0.0.1", **options).start()
    try:
        yield server
    finally:
        server.stop()


def connect(server: HealthServer, count: int, sends: bytes = b"") -> list[socket.socket]:
    conns = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(count)]
    for conn in conns:
        conn.sendall(sends)
    return conns


def still_open(conn: socket.socket) -> bool:
    """Nothing to read and no end of stream: the server holds the connection open."""
    conn.settimeout(0)
    try:
        return conn.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except ConnectionError:
        return False


def closed_by_server(conn: socket.socket, within: float) -> bool:
    """Reads (for up to ``within`` seconds) until the server ends the connection."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        conn.settimeout(left)
        try:
            if not conn.recv(4096):
                return True
        except ConnectionError:
            return True
        except TimeoutError:
            return False
    return False


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    status, _ = get(url)
    return status, time.monotonic() - started


def test_health_answers_with_300_idle_connections_open_on_no_extra_threads(engine: Engine) -> None:
    with serving(engine, request_timeout=60) as server:
        threads_before = threading.active_count()
        idle = connect(server, IDLE_CONNECTIONS)
        try:
            status, took = timed_get(f"http://127.0.0.1:{server.port}/health")
            assert status == 200 and took < 1.0, took
            assert get(f"http://127.0.0.1:{server.port}/ready")[0] == 200
            assert all(still_open(conn) for conn in idle), "the idle connections were dropped, not served alongside"
            # The old server gave each connection a thread (303 for 300 idle connections).
            assert threading.active_count() <= threads_before + 2
        finally:
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 2.0
            assert all(closed_by_server(conn, within=2) for conn in idle)
            for conn in idle:
                conn.close()


def test_connections_that_never_finish_a_request_are_closed_after_the_request_timeout(engine: Engine) -> None:
    with serving(engine, request_timeout=1) as server:
        silent = connect(server, 20)
        unfinished = connect(server, 20, sends=b"GET /health HTTP/1.1\r\nHost: desk\r\n")
        answered = connect(server, 1, sends=b"GET /health HTTP/1.1\r\nHost: desk\r\n\r\n")[0]
        assert answered.recv(4096).startswith(b"HTTP/1.1 200")  # then kept alive, idle
        started = time.monotonic()
        try:
            for conn in [*silent, *unfinished, answered]:
                assert closed_by_server(conn, within=5)
            assert time.monotonic() - started < 3.0
        finally:
            for conn in [*silent, *unfinished, answered]:
                conn.close()
        assert get(f"http://127.0.0.1:{server.port}/health") == (200, {"status": "ok"})


def test_readiness_asks_the_database_once_per_few_seconds_not_per_probe(engine: Engine) -> None:
    checkouts: list[object] = []

    def count(*_args: object) -> None:
        checkouts.append(None)

    event.listen(engine, "checkout", count)
    try:
        with serving(engine, ready_ttl=60) as server:
            url = f"http://127.0.0.1:{server.port}/ready"
            probes = [threading.Thread(target=get, args=(url,)) for _ in range(20)]
            for probe in probes:
                probe.start()
            for probe in probes:
                probe.join(10)
            for _ in range(30):
                assert get(url)[0] == 200
    finally:
        event.remove(engine, "checkout", count)
    # One check: SELECT 1 and the schema's revision, at most a connection each.
    assert 1 <= len(checkouts) <= 2, len(checkouts)


def test_unknown_paths_answer_404_in_json(engine: Engine) -> None:
    with serving(engine) as server:
        assert get(f"http://127.0.0.1:{server.port}/admin") == (404, {"error": "not found"})


def test_a_taken_port_fails_the_start(engine: Engine) -> None:
    with serving(engine) as server, pytest.raises(OSError):
        HealthServer(server.port, engine, lambda: True, host="127.0.0.1")


# ---- where it listens -------------------------------------------------------------------------------


def test_health_host_is_loopback_unless_a_routing_platform_or_the_setting_says_otherwise() -> None:
    assert load_settings(base_env()).health_host == "127.0.0.1"
    assert load_settings(base_env() | {"RAILWAY_ENVIRONMENT": "production"}).health_host == "0.0.0.0"
    assert load_settings(base_env() | {"RAILWAY_ENVIRONMENT_NAME": "staging"}).health_host == "0.0.0.0"
    assert load_settings(base_env() | {"RAILWAY_ENVIRONMENT": "production", "HEALTH_HOST": "10.1.2.3"}).health_host == "10.1.2.3"
    assert load_settings(base_env() | {"HEALTH_HOST": "::"}).health_host == "::"


def test_a_malformed_health_host_is_named() -> None:
    with pytest.raises(ConfigError, match="^HEALTH_HOST is malformed: expected an IP address"):
        load_settings(base_env() | {"HEALTH_HOST": "0.0.0.0; rm"})
