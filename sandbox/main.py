"""``python -m bot sandbox``: start the sandbox, print its address, serve until stopped."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import time
from pathlib import Path

import uvicorn

from sandbox.desk import NotASandbox, Sandbox
from sandbox.server import build_app

HOST = "127.0.0.1"
CONNECT_REAL = "To connect a real Slack workspace instead: cp .env.example .env, fill in the Slack settings (README, From zero to a working bot), then scripts/run."


def listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {HOST} is in use: stop what uses it, or choose another with --port N") from None
        raise PortInUse(f"cannot listen on {HOST} port {port}: {err.strerror}") from None
    sock.listen(128)
    return sock


class PortInUse(Exception):
    pass


def run_sandbox(port: int, data_dir: Path, database_url: str | None = None) -> int:
    started = time.perf_counter()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        sock = listen(port)
    except PortInUse as err:
        print(f"casedesk: sandbox: {err}", file=sys.stderr)
        return 2
    print("casedesk: starting the sandbox (the real bot, a local Slack and mail servers, demo data)…", file=sys.stderr)
    sandbox = Sandbox(data_dir, database_url)
    try:
        sandbox.start()
        server = uvicorn.Server(uvicorn.Config(build_app(sandbox), log_level="warning", lifespan="off", timeout_graceful_shutdown=2))
        print(f"Casedesk sandbox: http://{HOST}:{sock.getsockname()[1]}/", flush=True)
        print(f"  ready in {time.perf_counter() - started:.1f} s; only this machine can open it ({HOST}). Ctrl-C stops it.", flush=True)
        print(f"  {CONNECT_REAL}", flush=True)
        server.run(sockets=[sock])
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        if os.environ.get("LOG_LEVEL", "").upper() == "DEBUG":
            raise
        print(f"casedesk: sandbox: {err}", file=sys.stderr)
        return 2 if isinstance(err, NotASandbox) else 1
    finally:
        sock.close()
        sandbox.stop()
