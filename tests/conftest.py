"""Shared fixtures: the database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the Slack
double, and the real bot connected to it over Socket Mode."""

from __future__ import annotations

import gc
import os
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_sdk.socket_mode.builtin import internals as socket_mode_internals
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

import slack_double.workspace
from bot.app import Casedesk, create_app
from bot.delivery import slack as sender_module
from bot.settings import Settings, load_settings
from bot.slack.socket_mode import CasedeskSocketModeHandler
from db.migrate import upgrade
from db.models import Base
from db.session import ensure_postgresql_database, make_engine, normalise_database_url
from mail_double.servers import MAILBOX_PASSWORD, MAILBOX_USER, ImapServer, SmtpServer
from slack_double import Person, SlackDouble

# The double's waits give up after 20 s at the least: tests wait for what they assert, and on
# a busy machine (other workers, other jobs) that can take longer than the usual 5 s.
slack_double.workspace.min_wait = 20.0

# slack_sdk's Socket Mode client builds a new default SSL context on every connect, even to the
# double's plain ws:// URL, where it is never used: reading the system's CA bundle cost 20 ms of
# CPU for each of the hundreds of bots the tests connect. One default context per worker.
_default_ssl_context = ssl.create_default_context()
socket_mode_internals._use_or_create_ssl_context = lambda ssl_context=None: ssl_context or _default_ssl_context

SUPPORT = "C0SUPPORT"
ADMIN = "C0ADMINS"
GENERAL = "C0GENERAL"
AGENT = "U0AGENTAL"
AGENT2 = "U0AGENTBO"
REPORTER = "U0REPORTR"
OUTSIDER = "U0OUTSIDR"


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """Workers for ``-n auto`` (pytest.ini). Most tests wait on sockets, subprocesses and
    backoffs rather than compute, so four even on two cores; none when the command line
    names single tests (``tests/test_x.py::test_y``), which then run in this process.
    PYTEST_XDIST_AUTO_NUM_WORKERS still wins, as it does without this hook."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return int(os.environ["PYTEST_XDIST_AUTO_NUM_WORKERS"])
    if config.args and all("::" in arg for arg in config.args):
        return 0
    return 4


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported lives as long as the run: frozen, the collector no longer
    walks it in each full collection (the bot does the same after its start)."""
    gc.freeze()


_module_text: dict[str, str] = {}


def module_text(config: pytest.Config, module: str) -> str:
    if module not in _module_text:
        path = Path(str(config.rootpath)) / module
        _module_text[module] = path.read_text() if path.is_file() else ""
    return _module_text[module]


def runs_whole(config: pytest.Config, module: str) -> bool:
    """True for a module with a module-scoped fixture (a sandbox, a browser): it runs whole
    on one worker, so the fixture is set up once."""
    return 'scope="module"' in module_text(config, module)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest work first, so it is not the run's tail while the other workers sit idle:
    modules that run whole (each one long piece of work for one worker), then tests of
    modules that start processes (seconds each), then the rest, each group in its order."""

    def weight(item: pytest.Item) -> int:
        module = item.nodeid.split("::")[0]
        if runs_whole(config, module):
            return 0
        return 1 if "subprocess" in module_text(config, module) else 2

    items.sort(key=weight)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Tests go to whichever worker is free, one by one, except modules that run whole
    (:func:`runs_whole`). (xdist's own --dist loadgroup does not group under this pytest.)"""
    from xdist.scheduler import LoadScopeScheduling

    class WholeModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::")[0]
            return module if runs_whole(config, module) else nodeid

    return WholeModulesTogether(config, log)  # type: ignore[arg-type]


def postgres_test_url() -> str | None:
    """TEST_DATABASE_URL, or under pytest-xdist this worker's own database beside it
    (``<name>_gw0``, ``<name>_gw1``, ..., created if missing): workers never share tables."""
    url = os.environ.get("TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = make_url(normalise_database_url(url))
    own = base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)
    ensure_postgresql_database(own)
    return own


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    # SQLite: tmp_path_factory's directory is already this worker's own.
    url = postgres_test_url() or f"sqlite:///{tmp_path_factory.mktemp('db') / 'casedesk.db'}"
    eng = make_engine(url)
    if eng.dialect.name == "postgresql":
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture(autouse=True)
def clean_db(request: pytest.FixtureRequest) -> None:
    if "engine" not in request.fixturenames:
        return
    eng: Engine = request.getfixturevalue("engine")
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))


def base_env(api_url: str = "https://slack.com/api/") -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-double-bot-token",
        "SLACK_APP_TOKEN": "xapp-double-app-token",
        "SLACK_API_URL": api_url,
        "SUPPORT_SLACK_CHANNEL": SUPPORT,
        "ADMIN_CHANNEL": ADMIN,
        "SYSTEM_USERS": f"{AGENT},{AGENT2}",
        "TIMEZONE": "America/New_York",
        # Scheduled jobs post on their own (a made-up run on start, say); tests run them directly.
        "SCHEDULER_ENABLED": "false",
        # Each top-level intake message is its own case unless a test groups bursts itself.
        "INTAKE_GROUP_MINUTES": "0",
    }


@dataclass
class People:
    agent: Person
    agent2: Person
    reporter: Person
    outsider: Person


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    d = SlackDouble().start()
    d.channel(GENERAL, "general")
    d.channel(SUPPORT, "support")
    d.channel(ADMIN, "support-admins")
    yield d
    d.stop()  # idempotent: the desk fixture may have stopped it already


@pytest.fixture
def people(double: SlackDouble) -> People:
    return People(
        agent=double.person(AGENT, "alice"),
        agent2=double.person(AGENT2, "bob"),
        reporter=double.person(REPORTER, "rita"),
        outsider=double.person(OUTSIDER, "oscar"),
    )


@pytest.fixture
def settings(double: SlackDouble) -> Settings:
    return load_settings(base_env(double.api_url))


@pytest.fixture
def desk(settings: Settings, engine: Engine, double: SlackDouble) -> Iterator[Casedesk]:
    """The real bot, connected to the double through the real Socket Mode client."""
    yield from connected(create_app(settings, engine=engine), double)


def connected(built: Casedesk, double: SlackDouble) -> Iterator[Casedesk]:
    handler = CasedeskSocketModeHandler(built.app, built.deps.settings.slack_app_token, metrics=built.deps.metrics)
    handler.connect()
    double.wait_for(lambda: double.socket.connection_count() > 0, what="the bot to connect")
    built.deps.sender.start()
    yield built
    # A store still waiting on the database (a test that held it busy) finishes here, not
    # in the next test's clean database.
    built.deps.store_first.shutdown(wait=True, cancel_futures=True)
    built.deps.sender.stop()
    # Closing the Socket Mode client waits up to a second or more for its worker
    # threads; the double stops first, so nothing new reaches this bot meanwhile.
    double.stop()
    threading.Thread(target=handler.close, daemon=True).start()


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outbox retries a fifth of a second apart instead of 2, 4, 8 s, and a burst per channel
    those retries cannot use up (each attempt takes a token): for tests of what a retry does
    (lands once, loses nothing), not of how long it waits."""
    monkeypatch.setattr(sender_module, "MAX_TRANSIENT_BACKOFF", 0.2)
    monkeypatch.setattr(sender_module, "MAX_BACKOFF", 0.2)
    monkeypatch.setattr(sender_module, "POST_BURST", 100)


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    server = ImapServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_servers(imap_server: ImapServer, smtp_server: SmtpServer) -> tuple[ImapServer, SmtpServer]:
    """Both servers, emptied for this test."""
    imap_server.clear()
    smtp_server.clear()
    return imap_server, smtp_server


def email_env(imap: ImapServer, smtp: SmtpServer) -> dict[str, str]:
    return {
        "IMAP_SERVER": "127.0.0.1",
        "IMAP_PORT": str(imap.port),
        "IMAP_SSL": "false",
        "IMAP_EMAIL": MAILBOX_USER,
        "IMAP_PASSWORD": MAILBOX_PASSWORD,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "SMTP_FROM": MAILBOX_USER,
        "ADMIN_EMAILS": "boss@example.com",
    }
