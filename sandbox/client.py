"""A client of a running sandbox, for its tests and benchmark: start it as a person does
(``python -m bot sandbox`` in a process of its own) and use its JSON API, waiting on the
live stream, never on a timer."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from mail_double import free_port

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60.0
T = TypeVar("T")


class SandboxProcess:
    def __init__(self, process: subprocess.Popen[str], url: str, lines: list[str]) -> None:
        self.process = process
        self.url = url
        self.lines = lines  # what it printed, for failure messages

    # ---- the API ---------------------------------------------------------------------

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as answer:
            return json.load(answer)

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        request = urllib.request.Request(
            self.url + path.lstrip("/"), json.dumps(body or {}).encode(), {"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def ok(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        status, answer = self.post(path, body)
        assert status == 200 and answer.get("ok"), f"{path} answered {status}: {answer}"
        return answer

    def state(self, person: str) -> dict[str, Any]:
        return self.get(f"/api/state?as={person}")

    def wait(self, person: str, probe: Callable[[dict[str, Any]], T | None], what: str, timeout: float = 15.0) -> T:
        """Read the state again at every change the live stream reports until ``probe`` finds it."""
        deadline = time.monotonic() + timeout
        with urllib.request.urlopen(self.url + "api/events", timeout=timeout) as stream:
            while True:
                found = probe(self.state(person))
                if found:
                    return found
                if time.monotonic() > deadline:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
                line = stream.readline()  # blocks until the next change (or a keep-alive)
                if not line:
                    raise AssertionError(f"the live stream ended while waiting for {what}")

    def file_ticket(self, reporter: str, channel: str, details: str) -> dict[str, Any]:
        """/new-ticket as ``reporter``, its modal filled (each menu's first option, the
        details) and filed; the answer to the submission."""
        self.ok("/api/say", {"as": reporter, "channel": channel, "text": "/new-ticket"})
        modal = self.wait(reporter, lambda s: s["views"][-1] if s["views"] else None, "the New ticket modal")
        values: dict[str, Any] = {}
        for block in modal["view"]["blocks"]:
            element = block.get("element", {})
            if element.get("type") == "static_select":
                values[block["block_id"]] = {element["action_id"]: {"type": "static_select", "selected_option": element["options"][0]}}
            elif block["block_id"] == "details":
                values[block["block_id"]] = {element["action_id"]: {"type": "plain_text_input", "value": details}}
        return self.ok("/api/view/submit", {"as": reporter, "view_id": modal["id"], "values": values})

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def sandbox_command(port: int, data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bot", "sandbox", "--port", str(port), "--data-dir", str(data_dir), *extra]


def sandbox_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "SANDBOX_"))}
    return env | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}


def launch(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> SandboxProcess:
    """Start the sandbox and wait until it prints its address; fail with what it printed."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env or sandbox_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: list[str] = []
    printed: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            printed.put(line)
        printed.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            line = printed.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError(f"the sandbox printed no address in {START_SECONDS:g} s: {lines}") from None
        if line is None:
            raise AssertionError(f"the sandbox stopped (exit {process.wait()}): {lines}")
        if line.startswith("Casedesk sandbox: "):
            return SandboxProcess(process, line.split(": ", 1)[1].strip(), lines)


@contextmanager
def running_sandbox(data_dir: Path, *extra: str) -> Iterator[SandboxProcess]:
    sandbox = launch(sandbox_command(free_port(), data_dir, *extra))
    try:
        yield sandbox
    finally:
        sandbox.stop()
