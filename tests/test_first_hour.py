"""The first hour of an operator: every failure at a start is one line naming the setting
and the fix, with a non-zero exit and no traceback; the doctor never crashes and changes
nothing; commands that need only the database run without Slack settings; the logs are
quiet; the repository has what adopters look for."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.settings import load_settings
from slack_double import SlackDouble
from tests.conftest import SUPPORT, People, base_env
from tests.test_cli import run_bot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def slack() -> Iterator[SlackDouble]:
    double = SlackDouble().start()
    double.channel(SUPPORT, "support")
    yield double
    double.stop()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failed command printed to stderr, checked to be the only one."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def unreachable_slack() -> dict[str, str]:
    return base_env(f"http://127.0.0.1:{closed_port()}/api/")


# ---- configuration -----------------------------------------------------------------------


def test_without_a_dotenv_the_first_line_says_how_to_make_one(tmp_path: Path) -> None:
    result = run_bot([], {}, tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert "cp .env.example .env" in lines[0]
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SUPPORT_SLACK_CHANNEL", "ADMIN_CHANNEL", "SYSTEM_USERS"):
        assert any(line.startswith(f"casedesk: configuration error: {name} is not set: expected ") for line in lines)
    assert "Traceback" not in result.stderr


def test_every_configuration_problem_is_listed_in_one_pass(tmp_path: Path) -> None:
    env = base_env() | {"LOG_LEVEL": "loud", "TIMEZONE": "Mars/Olympus", "STALE_DAYS": "-1", "SYSTEM_USERS": "alice"}
    result = run_bot(["check"], env, tmp_path)
    assert result.returncode == 2
    named = [line.split(": ")[2].split(" ")[0] for line in result.stderr.strip().splitlines()]
    assert sorted(named) == ["LOG_LEVEL", "STALE_DAYS", "SYSTEM_USERS", "TIMEZONE"]


def test_the_example_tokens_are_named_as_left_over(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    result = run_bot([], {}, tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert "casedesk: configuration error: SLACK_BOT_TOKEN is still the example from .env.example: paste the Bot User OAuth Token from OAuth & Permissions" in lines
    assert any(line.startswith("casedesk: configuration error: SLACK_APP_TOKEN is still the example") for line in lines)


# ---- Slack -------------------------------------------------------------------------------


def test_an_unreachable_slack_is_one_line(tmp_path: Path) -> None:
    env = unreachable_slack()
    line = one_line(run_bot([], env, tmp_path))
    assert line.startswith(f"casedesk: cannot reach Slack at {env['SLACK_API_URL']} (")
    assert line.endswith("check the network connection, or SLACK_API_URL")


def test_debug_logging_shows_the_traceback(tmp_path: Path) -> None:
    result = run_bot(["db", "upgrade"], {"DATABASE_URL": "sqlite:///nonexistent/casedesk.db", "LOG_LEVEL": "DEBUG"}, tmp_path)
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_a_rejected_bot_token_is_named(slack: SlackDouble, tmp_path: Path) -> None:
    line = one_line(run_bot([], base_env(slack.api_url) | {"SLACK_BOT_TOKEN": "xoxb-WRONGWRONG"}, tmp_path))
    assert line == "casedesk: SLACK_BOT_TOKEN was rejected (invalid_auth): copy the Bot User OAuth Token from OAuth & Permissions again"


def test_a_rejected_app_token_is_named(slack: SlackDouble, tmp_path: Path) -> None:
    line = one_line(run_bot([], base_env(slack.api_url) | {"SLACK_APP_TOKEN": "xapp-WRONGWRONG"}, tmp_path))
    assert line == (
        "casedesk: SLACK_APP_TOKEN cannot open Socket Mode (invalid_auth): "
        "turn Socket Mode on and use an app-level token with connections:write"
    )


# ---- the database ------------------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["db", "upgrade"], ["outbox", "status"]])
def test_a_missing_sqlite_folder_is_one_line(tmp_path: Path, args: list[str]) -> None:
    env = base_env(f"http://127.0.0.1:{closed_port()}/api/") | {"DATABASE_URL": "sqlite:///nonexistent/dir/casedesk.db"}
    line = one_line(run_bot(args, env, tmp_path))
    assert line.startswith("casedesk: DATABASE_URL names a SQLite file in nonexistent/dir, which does not exist: create it")


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"postgresql://casedesk:SECRETSECRET@127.0.0.1:{closed_port()}/casedesk"}
    result = run_bot(["db", "upgrade"], env, tmp_path)
    line = one_line(result)
    assert line.startswith("casedesk: cannot reach the database at 127.0.0.1:")
    assert line.endswith("check DATABASE_URL and that the server runs")
    assert "SECRETSECRET" not in result.stderr


def future_schema(tmp_path: Path) -> None:
    """A database last migrated by a newer Casedesk than this one."""
    assert run_bot(["db", "upgrade"], {}, tmp_path).returncode == 0
    with sqlite3.connect(tmp_path / "casedesk.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'f00dcafe9999'")


def test_a_schema_newer_than_the_code_is_one_line(tmp_path: Path) -> None:
    future_schema(tmp_path)
    line = one_line(run_bot(["db", "upgrade"], {}, tmp_path))
    assert line.startswith("casedesk: the database's schema is newer than this code (revision f00dcafe9999 is unknown here)")


def test_a_port_in_use_is_one_line(slack: SlackDouble, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(run_bot([], base_env(slack.api_url) | {"PORT": str(port)}, tmp_path))
    assert line == f"casedesk: PORT {port} is already in use on 127.0.0.1: stop what listens there or set another PORT"


# ---- the doctor --------------------------------------------------------------------------


def test_the_doctor_goes_on_when_slack_is_unreachable_and_creates_nothing(tmp_path: Path) -> None:
    result = run_bot(["check"], unreachable_slack(), tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    assert lines[0].startswith("✗ cannot reach Slack at http://127.0.0.1:")
    assert "✓ database casedesk.db will be created and migrated on first start" in lines
    assert list(tmp_path.iterdir()) == []


def test_the_doctor_passes_an_unmigrated_database_with_a_note(double: SlackDouble, people: People, tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "casedesk.db").close()  # there, but never migrated
    result = run_bot(["check"], base_env(double.api_url), tmp_path)
    assert "✓ database schema is not current yet: will be migrated on first start" in result.stdout
    assert result.returncode == 0, result.stdout


def test_the_doctor_names_a_schema_newer_than_the_code(slack: SlackDouble, tmp_path: Path) -> None:
    future_schema(tmp_path)
    result = run_bot(["check"], base_env(slack.api_url), tmp_path)
    assert "✗ the database's schema is newer than this code (revision f00dcafe9999 is unknown here)" in result.stdout


# ---- commands that need only the database ------------------------------------------------


def test_database_commands_run_without_slack_settings(tmp_path: Path) -> None:
    assert run_bot(["mail", "list"], {}, tmp_path).stderr.startswith("casedesk: there is no database yet at casedesk.db")
    assert not (tmp_path / "casedesk.db").exists()
    assert run_bot(["db", "upgrade"], {}, tmp_path).stdout == "database is up to date\n"
    assert run_bot(["mail", "list"], {}, tmp_path).stdout == "no mail is kept\n"
    assert run_bot(["outbox", "status"], {}, tmp_path).stdout == "0 posts waiting to be sent, 0 given up\n"
    assert run_bot(["outbox", "dead"], {}, tmp_path).stdout == "no post was given up\n"


def test_jobs_list_shows_each_schedule_and_next_run_in_the_timezone(tmp_path: Path) -> None:
    result = run_bot(["jobs", "list"], {"TIMEZONE": "Asia/Tokyo", "SCHEDULE_STALE": "30 8 * * *"}, tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert rows["stale"].split()[1:6] == ["30", "8", "*", "*", "*"]
    assert rows["stale"].endswith(" 08:30 Asia/Tokyo") and " next " in rows["stale"]
    assert rows["email-poll"].endswith("off (IMAP_SERVER and SMTP_HOST are not set)")
    assert result.stderr == ""


# ---- quiet logs --------------------------------------------------------------------------


def test_a_start_logs_one_ready_line_and_no_library_chatter(slack: SlackDouble, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **base_env(slack.api_url)},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        slack.wait_for(lambda: slack.socket.connection_count() > 0, timeout=30, what="the bot to connect")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=40)  # a busy machine: the stop itself is tested in test_operations
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = output.strip().splitlines()
    assert [line for line in lines if "Casedesk is running" in line] != []
    assert not [line for line in lines if " WARNING " in line or " ERROR " in line or "alembic" in line], output
    assert len(lines) <= 3, output


# ---- what adopters look for --------------------------------------------------------------


class RecordingEnv(dict[str, str]):
    """An environment that remembers every name the settings asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_env_example_lists_every_setting_the_code_reads() -> None:
    from bot.settings import ROUTING_PLATFORM_VARIABLES

    mail = {"IMAP_SERVER": "imap.example.com", "IMAP_EMAIL": "desk@example.com", "IMAP_PASSWORD": "pw"}
    env = RecordingEnv(base_env() | mail | {"SMTP_HOST": "smtp.example.com", "SMTP_USER": "desk", "SMTP_PASS": "pw"})
    load_settings(env)
    read = env.asked - set(ROUTING_PLATFORM_VARIABLES)  # set by the platform, not by the operator
    example = ROOT.joinpath(".env.example").read_text().splitlines()
    listed = {line.lstrip("# ").split("=", 1)[0] for line in example if "=" in line and line.lstrip("# ")[:1].isupper()}
    assert sorted(read - listed) == [], "settings the code reads that .env.example does not list"
    assert sorted(listed - read) == [], ".env.example lists settings the code does not read"


def test_the_license_is_mit() -> None:
    text = ROOT.joinpath("LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 The Casedesk authors" in text


@pytest.mark.parametrize(
    "path", [".env", ".venv/bin/python", "casedesk.db", "casedesk.db.lock", "casedesk.db-wal", "casedesk.db-shm", "x/__pycache__/a.pyc", ".sandbox/sandbox.db"]
)
def test_gitignore_keeps_local_files_out(path: str) -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
    assert ignored.returncode == 0, f"{path} is not ignored"


def test_the_readme_troubleshooting_table_shows_what_the_bot_prints() -> None:
    readme = ROOT.joinpath("README.md").read_text()
    table = readme[readme.index("### Troubleshooting") : readme.index("## Configuration")]
    for printed in (
        "cp .env.example .env",
        "is still the example from .env.example",
        "cannot reach Slack at",
        "SLACK_BOT_TOKEN was rejected (invalid_auth)",
        "SLACK_APP_TOKEN cannot open Socket Mode",
        "DATABASE_URL names a SQLite file in",
        "cannot reach the database at",
        "the database's schema is newer than this code",
        "is already in use on",
    ):
        assert printed in table, printed
    assert "✓ database casedesk.db will be created and migrated on first start" in readme  # step 6, before the first start
