"""Operating the bot: the setup doctor, health and readiness, logs, errors, shutdown."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import Casedesk
from bot.ops.health import HealthServer
from bot.settings.logs import RedactSecrets
from db.migrate import upgrade
from db.session import make_engine, normalise_database_url
from slack_double import SlackDouble
from tests.conftest import ADMIN, GENERAL, SUPPORT, People, base_env, postgres_test_url
from tests.test_ticket_flow import file_ticket

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def bot_env(double: SlackDouble, **extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **base_env(double.api_url), **extra}


def check(double: SlackDouble, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check"], env=bot_env(double, **extra), cwd=cwd, capture_output=True, text=True, timeout=60
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def answer(url: str, status: int) -> dict[str, Any] | None:
    """The body of ``url``'s answer, when it has this status."""
    got, body = get(url)
    return body if got == status else None


def wait_until(condition: Callable[[], T | None], timeout: float) -> T:
    """Polls ``condition`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return result


@pytest.fixture
def workspace(double: SlackDouble, people: People) -> SlackDouble:
    return double


# ---- the setup doctor ----------------------------------------------------------------------


def test_doctor_passes_on_a_good_setup(workspace: SlackDouble, tmp_path: Path) -> None:
    assert subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=bot_env(workspace), cwd=tmp_path).returncode == 0
    result = check(workspace, tmp_path)
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert all(line.startswith("✓") for line in lines[:-1])
    assert lines[-1].startswith("All ") and lines[-1].endswith(" checks passed.")


def test_doctor_names_a_missing_scope(workspace: SlackDouble, tmp_path: Path) -> None:
    workspace.web_api.scopes = "commands,chat:write,files:read,files:write,users:read,users:read.email,channels:read,groups:read,channels:history,groups:history,pins:read,pins:write,reactions:read,team:read"
    result = check(workspace, tmp_path)
    assert result.returncode == 1
    assert "✗ missing bot scopes: im:history, im:write: add them under OAuth & Permissions" in result.stdout


def test_doctor_says_how_to_invite_the_bot(workspace: SlackDouble, tmp_path: Path) -> None:
    workspace.channel("C0NOTIN", "helpdesk-admins", bot_member=False)
    result = check(workspace, tmp_path, ADMIN_CHANNEL="C0NOTIN")
    assert "✗ ADMIN_CHANNEL #helpdesk-admins: the bot is not a member: in #helpdesk-admins, type /invite @Casedesk" in result.stdout
    assert "✓ SUPPORT_SLACK_CHANNEL #support: the bot is a member" in result.stdout
    assert result.returncode == 1


def test_doctor_rejects_a_bad_token_without_printing_it(workspace: SlackDouble, tmp_path: Path) -> None:
    result = check(workspace, tmp_path, SLACK_BOT_TOKEN="xoxb-not-the-right-one")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("✗ SLACK_BOT_TOKEN was rejected (invalid_auth)")
    assert "xoxb-not-the-right-one" not in result.stdout + result.stderr


def test_doctor_checks_agents_and_the_database(workspace: SlackDouble, tmp_path: Path) -> None:
    result = check(workspace, tmp_path, SYSTEM_USERS="U0AGENTAL,U0GHOST01")
    assert "✗ SYSTEM_USERS U0GHOST01 is not a user of this workspace (user_not_found)" in result.stdout
    assert "✓ SYSTEM_USERS U0AGENTAL is alice" in result.stdout
    assert "✓ database casedesk.db will be created and migrated on first start" in result.stdout
    assert "✓ app-level token opens a Socket Mode connection" in result.stdout


# ---- health and readiness --------------------------------------------------------------------


def test_health_and_ready_while_the_bot_runs(workspace: SlackDouble, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"], env=bot_env(workspace, PORT=str(port)), cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        workspace.wait_for(lambda: workspace.socket.connection_count() > 0, timeout=30)
        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/health") == (200, {"status": "ok"})
        with pytest.raises(ConnectionRefusedError):  # HEALTH_HOST: loopback only, unless a platform says otherwise
            socket.create_connection(("127.0.0.2", port), timeout=5)
        body = workspace.wait_for(lambda: answer(f"{base}/ready", 200), timeout=10)
        assert body["checks"] == {"database": True, "migrations": True, "socket_mode": True}
        workspace.stop()  # Slack goes away: the Socket Mode connection drops
        body = workspace.wait_for(lambda: answer(f"{base}/ready", 503), timeout=15)
        assert body["failing"] == ["socket_mode"]
        assert get(f"{base}/health")[0] == 200
        with socket.create_connection(("127.0.0.1", port), timeout=10) as idle:  # open while the bot stops
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
            assert idle.recv(1) == b""  # closed by the health server's stop, not left hanging
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(15)


def test_ready_fails_when_the_database_goes_away(tmp_path: Path) -> None:
    pg = postgres_test_url()
    if pg:
        # A database of its own, named after this run's (and this worker's) test database.
        doomed = f"{make_url(normalise_database_url(pg)).database}_ready"
        admin = create_engine(normalise_database_url(pg), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{doomed}"'))
            conn.execute(text(f'CREATE DATABASE "{doomed}"'))
        engine = make_engine(pg.rsplit("/", 1)[0] + "/" + doomed)
    else:
        (tmp_path / "volume").mkdir()
        engine = make_engine(f"sqlite:///{tmp_path / 'volume' / 'casedesk.db'}")
    upgrade(engine)
    server = HealthServer(free_port(), engine, lambda: True, host="127.0.0.1").start()
    try:
        url = f"http://127.0.0.1:{server.port}/ready"
        assert get(url)[0] == 200
        if pg:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{doomed}" WITH (FORCE)'))
        else:
            engine.dispose()
            shutil.rmtree(tmp_path / "volume")  # the volume is gone
        # Readiness is cached for a few seconds: the loss shows once the cache runs out.
        assert "database" in wait_until(lambda: answer(url, 503), timeout=15)["failing"]
    finally:
        server.stop()
        engine.dispose()


# ---- logs ------------------------------------------------------------------------------------------


def test_redaction_masks_tokens_and_url_passwords() -> None:
    scrub = RedactSecrets(["hunter2-long-secret"]).scrub
    line = "token xoxb-123-456-abc app xapp-1-A-2-x url postgresql://desk:hunter2-long-secret@db/x and mysql://u:pw@h/d"
    out = scrub(line)
    assert "xoxb-123" not in out and "xapp-1" not in out and "hunter2" not in out and ":pw@" not in out
    assert "postgresql://desk:[redacted]@db/x" in out


def test_json_logs_carry_no_secret(workspace: SlackDouble, people: People, tmp_path: Path) -> None:
    # To a file, not a pipe: DEBUG output outgrows a pipe's buffer and would block the bot.
    with open(tmp_path / "bot.log", "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=bot_env(workspace, LOG_LEVEL="DEBUG", LOG_FORMAT="json"), cwd=tmp_path,
            stdout=log_file, stderr=subprocess.STDOUT, text=True,
        )
        try:
            workspace.wait_for(lambda: workspace.socket.connection_count() > 0, timeout=30)
            card = file_ticket(workspace, people)
            people.agent.click(card, "Assign to Me")
            workspace.wait_thread_reply(card, "assigned")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    output = (tmp_path / "bot.log").read_text()
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) > 20
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry)
    for secret in (workspace.bot_token, workspace.app_token, "xoxb-", "xapp-"):
        assert secret not in output
    assert any(json.loads(line).get("ticket") == "TCK-000001" for line in lines)


# ---- errors reach people ---------------------------------------------------------------------------


def test_an_unexpected_error_is_reported_once_and_the_person_gets_an_apology(
    desk: Casedesk, double: SlackDouble, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = file_ticket(double, people)

    def broken(ticket_id: int, actor: str, note: str | None = None) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(desk.deps.tickets, "close", broken)
    people.agent.click(card, "Close")
    assert "Sorry, something went wrong" in people.agent.wait_ephemeral("Sorry")
    report = double.wait_message(ADMIN, "Unexpected error")
    assert "`RuntimeError` at `bot." in report.text and "block_actions" in report.text
    assert "disk on fire" not in report.text
    people.agent2.click(card, "Close")
    # The error handler reports before it apologises: with the apology here, any second report would be too.
    double.wait_for(lambda: len(double.workspace.ephemerals_for(people.agent2.id)) == 1)
    assert len([m for m in double.messages(ADMIN) if "Unexpected error" in m.text]) == 1


# ---- capacity and shutdown ---------------------------------------------------------------------------


def test_listeners_waiting_out_a_429_do_not_hold_back_acks(desk: Casedesk, double: SlackDouble, people: People) -> None:
    card = file_ticket(double, people)
    double.web_api.rate_limit("chat.postEphemeral", times=8, retry_after=2)
    for _ in range(8):
        people.outsider.click(card, "Close")  # refused: each refusal waits out a 429
    double.wait_for(lambda: len([c for c in double.workspace.calls_to("chat.postEphemeral") if c.error]) == 8)
    env = people.reporter.run("/new-ticket")
    assert env.ack_latency is not None and env.ack_latency < 1.0
    people.reporter.modal_from(env.payload["trigger_id"], timeout=1.0)


def test_sigterm_lets_a_handler_in_flight_finish(workspace: SlackDouble, people: People, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"], env=bot_env(workspace), cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )
    try:
        workspace.wait_for(lambda: workspace.socket.connection_count() > 0, timeout=30)
        modal = people.reporter.open_modal("/new-ticket", channel=GENERAL)
        modal.choose("Campaign", "Billing").choose("Issue type", "Bug").choose("Priority", "🔴 High").type("Details", "x")
        workspace.web_api.delay("chat.postMessage", 2.0)  # Slack is slow to take the card
        modal.submit()
        # The bot's chat.postMessage is now being held by the slow Slack: stop the bot.
        workspace.wait_for(lambda: workspace.web_api.pending_delays("chat.postMessage") == 0, timeout=5)
        assert not workspace.messages(SUPPORT)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0, output
        assert workspace.messages(SUPPORT), "the card in flight was not posted before exit"
    finally:
        if proc.poll() is None:
            proc.kill()
