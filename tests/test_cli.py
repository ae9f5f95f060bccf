"""`python -m bot` as an operator runs it: config errors, migration, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import SUPPORT, base_env, email_env
from tests.mail_samples import NO_MESSAGE_ID, mail


def run_bot(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(__file__).resolve().parent.parent), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_a_config_error_stops_the_start_with_one_line(tmp_path: Path) -> None:
    env = base_env()
    env["SLACK_BOT_TOKEN"] = "xoxp-SECRETSECRET"
    result = run_bot([], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["casedesk: configuration error: SLACK_BOT_TOKEN is malformed: expected a bot token starting with xoxb-"]
    assert "SECRETSECRET" not in result.stdout + result.stderr


def test_settings_come_from_dotenv(tmp_path: Path) -> None:
    env = base_env()
    del env["SYSTEM_USERS"]
    (tmp_path / ".env").write_text("SYSTEM_USERS=not-a-user\n")
    result = run_bot(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 2 and "SYSTEM_USERS is malformed" in result.stderr


def test_db_upgrade_creates_the_default_sqlite_file(tmp_path: Path) -> None:
    result = run_bot(["db", "upgrade"], base_env(), tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "casedesk.db").exists()
    assert "database is up to date" in result.stdout


def test_the_bot_runs_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    double = SlackDouble().start()
    double.channel(SUPPORT, "support")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            env={
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
                **base_env(double.api_url),
            },
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        double.wait_for(lambda: double.socket.connection_count() > 0, timeout=30, what="the bot to connect")
        assert (tmp_path / "casedesk.db").exists()
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=40)  # a busy machine: the stop itself is tested in test_operations
        assert proc.returncode == 0, output
        assert time.monotonic() - started < 10
        assert "xoxb-double-bot-token" not in output and "xapp-double-app-token" not in output
    finally:
        if proc.poll() is None:
            proc.kill()
        double.stop()


def test_jobs_run_once_from_the_cli(tmp_path: Path) -> None:
    double = SlackDouble().start()
    double.channel(SUPPORT, "support")
    try:
        listed = run_bot(["jobs", "list"], base_env(double.api_url), tmp_path)
        assert "repair-cards" not in listed.stdout.split()  # the outbox posts every card; nothing to repair
        assert set(listed.stdout.split()) >= {"escalate", "pin-high-priority", "stale", "overdue", "weekly-summary"}
        pin = run_bot(["jobs", "run", "pin-high-priority"], base_env(double.api_url), tmp_path)
        assert "pin-high-priority: posted and pinned the list (0 tickets)" in pin.stdout, pin.stderr
        assert double.workspace.pins[SUPPORT] == [double.messages(SUPPORT)[0].ts]
        escalated = run_bot(["jobs", "run", "escalate"], base_env(double.api_url), tmp_path)
        assert "escalate: 0 escalated" in escalated.stdout
        unknown = run_bot(["jobs", "run", "nope"], base_env(double.api_url), tmp_path)
        assert unknown.returncode == 2 and "unknown job 'nope'" in unknown.stderr
    finally:
        double.stop()


def test_the_email_poll_job_runs_from_the_cli(tmp_path: Path, imap_server: ImapServer, smtp_server: SmtpServer) -> None:
    double = SlackDouble().start()
    double.channel(SUPPORT, "support")
    try:
        off = run_bot(["jobs", "run", "email-poll"], base_env(double.api_url), tmp_path)
        assert off.returncode == 0, off.stderr
        assert "email-poll: off (IMAP_SERVER and SMTP_HOST are not set)" in off.stdout
        imap_server.clear()
        smtp_server.clear()
        imap_server.append(mail())
        env = base_env(double.api_url) | email_env(imap_server, smtp_server)
        ran = run_bot(["jobs", "run", "email-poll"], env, tmp_path, timeout=120)
        assert ran.returncode == 0, ran.stderr
        assert "email-poll: 1 read (1 opened); 1 sent" in ran.stdout
        assert smtp_server.wait(1)[0].message["Subject"].startswith("Re: Printer on floor 3 is broken [TCK-000001-")
        double.wait_message(SUPPORT, "TCK-000001")  # the card, sent before the command returned
        assert "email-poll" in run_bot(["jobs", "list"], base_env(double.api_url), tmp_path).stdout.split()
        # Mail that could not be read cleanly is kept, and admins can look at it.
        imap_server.append(NO_MESSAGE_ID)
        assert "1 opened" in run_bot(["jobs", "run", "email-poll"], env, tmp_path, timeout=120).stdout
        listed = run_bot(["mail", "list"], env, tmp_path)
        assert listed.returncode == 0 and "#2" in listed.stdout and "no Message-ID" in listed.stdout
        shown = run_bot(["mail", "show", "2"], env, tmp_path)
        assert shown.stdout == NO_MESSAGE_ID.decode().replace("\r\n", "\n")  # (read back as text here)
        missing = run_bot(["mail", "show", "9"], env, tmp_path)
        assert missing.returncode == 1 and "no mail #9 is kept" in missing.stderr
    finally:
        double.stop()
