"""The sandbox's moving parts: the Slack double, the mail servers, the database and the
real bot in a process of its own; started, reset and stopped together."""

from __future__ import annotations

import email
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import policy
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from bot.jobs import JOBS
from db.migrate import downgrade, upgrade
from db.session import make_engine
from mail_double import ImapServer, Received, SmtpServer
from mail_double.servers import stop_with_parent
from sandbox import cast, demo
from slack_double import SlackDouble

log = logging.getLogger("casedesk.sandbox")

ROOT = Path(__file__).resolve().parent.parent
MARKER = "casedesk_sandbox"
BOT_START_SECONDS = 30.0
JOB_SECONDS = 60.0
# From the caller's environment the bot takes only what a process needs to run.
PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


class NotASandbox(Exception):
    """The database holds a desk's data that the sandbox did not make."""


class BotFailed(Exception):
    """The sandbox's bot stopped or did not connect; the message quotes its log."""


@dataclass
class CustomerMail:
    id: str
    sender: str
    to: str
    subject: str
    body: str
    date: str
    message_id: str


@dataclass
class Mailroom:
    """What customers wrote to the desk from the page, and what the desk sent out."""

    to_desk: list[CustomerMail] = field(default_factory=list)


class Sandbox:
    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.database_url = database_url or f"sqlite:///{self.data_dir / 'sandbox.db'}"
        self.double = SlackDouble("xoxb-sandbox-bot-token", "xapp-sandbox-app-token")
        self.imap = ImapServer()
        self.smtp = SmtpServer()
        self.mailroom = Mailroom()
        self._sent: list[CustomerMail] = []
        self._bot: subprocess.Popen[bytes] | None = None
        self._engine: Engine | None = None
        self._busy = threading.Lock()  # one reset (or job) at a time
        # The bot's process is started from this one thread, alive as long as the sandbox:
        # Linux's parent-death signal follows the thread that started a process, and the
        # server's worker threads (a Reset runs in one) come and go.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-spawn")
        self._started: list[Callable[[], None]] = []  # how to stop each part that did start

    # ---- life --------------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        return cast.bot_settings(self.double.api_url, self.database_url, self.imap.port, self.smtp.port)

    def start(self) -> Sandbox:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        engine = self._engine = make_engine(self.database_url)
        refuse_real_data(engine, self.database_url)
        self.imap.launch()  # pymap takes a moment to listen: it starts while the database is made
        self._started.append(self.imap.stop)
        self.double.start()
        self._started.append(self.double.stop)
        self._furnish()
        self.smtp.start()
        self._started.append(self.smtp.stop)
        self.smtp.on_receive(self._mail_changed)
        self._fresh_database()
        self.imap.wait_ready()
        self._seed()
        self._start_bot()
        return self

    def stop(self) -> None:
        self._stop_bot()
        while self._started:
            stop = self._started.pop()
            try:
                stop()
            except Exception:  # a half-started sandbox stops what it has
                log.debug("stopping a sandbox part failed", exc_info=True)
        if self._engine is not None:
            self._engine.dispose()
        self._spawner.shutdown(wait=False)

    def reset(self) -> None:
        """Back to the demo data: a new database, an empty workspace and mailbox, the bot restarted."""
        with self._busy:
            self._stop_bot(at_once=True)  # all it holds is thrown away: no need to let it drain
            self.double.workspace.clear()
            self.imap.clear()
            self.smtp.clear()
            self._sent.clear()
            self.mailroom.to_desk.clear()
            self._furnish()
            self._fresh_database()
            self._seed()
            self._start_bot()

    # ---- the workspace -----------------------------------------------------------

    def _furnish(self) -> None:
        ws = self.double.workspace
        for person in cast.OUR_PEOPLE:
            if person.id not in ws.users:
                ws.add_user(person.id, person.name, email=f"{person.name}@sandbox.example")
                ws.users[person.id]["real_name"] = ws.users[person.id]["profile"]["real_name"] = person.real_name
        team, name = cast.CUSTOMER_ORG
        if cast.CUSTOMER.id not in ws.users:
            self.double.organisation(team, name)
            self.double.external_person(cast.CUSTOMER.id, team, cast.CUSTOMER.name)
            ws.users[cast.CUSTOMER.id]["profile"]["real_name"] = cast.CUSTOMER.real_name
        members = [p.id for p in cast.OUR_PEOPLE]
        for room in cast.ROOMS:
            if room.id not in ws.channels:
                self.double.channel(room.id, room.name)
            ws.channels[room.id].members.update(members)
        # The customer is in the shared channel alone; the bot learns it is shared from the
        # first message there (its envelope says so), as it would from Slack.
        ws.channels[cast.SHARED.id].members.add(cast.CUSTOMER.id)
        if team not in ws.channels[cast.SHARED.id].connected:
            ws.share(cast.SHARED.id, team)
        for person in cast.PEOPLE:
            ws.dm_channel(person.id)

    # ---- the database ----------------------------------------------------------------

    def _fresh_database(self) -> None:
        """Every migration undone and done again: each removes what it made, search tables
        and triggers the models do not describe included, on either database."""
        assert self._engine is not None
        engine = self._engine
        downgrade(engine, "base")
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {MARKER} (note VARCHAR(100))"))
            if conn.execute(text(f"SELECT COUNT(*) FROM {MARKER}")).scalar_one() == 0:
                conn.execute(text(f"INSERT INTO {MARKER} (note) VALUES ('made by python -m bot sandbox')"))
        upgrade(engine)

    def _seed(self) -> None:
        assert self._engine is not None
        demo.seed(self._engine, self.env, self.double)
        self.send_mail(cast.CUSTOMER_NAME, cast.CUSTOMER_EMAIL, *demo.FIRST_MAIL)

    # ---- the bot -------------------------------------------------------------------

    def _bot_env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in PASSED_ON if name in os.environ}
        return env | self.env | {"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}

    @property
    def bot_log(self) -> Path:
        return self.data_dir / "bot.log"

    def _start_bot(self) -> None:
        with open(self.bot_log, "ab") as out:
            self._bot = self._spawner.submit(
                subprocess.Popen,
                [sys.executable, "-m", "bot", "run"], cwd=self.data_dir, env=self._bot_env(), stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=stop_with_parent,
            ).result()
        bot = self._bot
        try:
            self.double.wait_for(
                lambda: self.double.socket.connection_count() > 0 or bot.poll() is not None,
                BOT_START_SECONDS,
                what="the sandbox's bot to connect",
            )
        except TimeoutError:
            raise BotFailed(f"the bot did not connect in {BOT_START_SECONDS:g} s; {self._log_tail()}") from None
        if bot.poll() is not None:
            raise BotFailed(f"the bot stopped (exit {bot.returncode}); {self._log_tail()}")

    def _stop_bot(self, *, at_once: bool = False) -> None:
        bot, self._bot = self._bot, None
        if bot is None or bot.poll() is not None:
            return
        if at_once:
            bot.kill()
        else:
            bot.terminate()
        try:
            bot.wait(10)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()
        self.double.socket.disconnect_all()

    def bot_running(self) -> bool:
        return self._bot is not None and self._bot.poll() is None

    def _log_tail(self, lines: int = 5) -> str:
        try:
            tail = self.bot_log.read_text(errors="replace").strip().splitlines()[-lines:]
        except OSError:
            return "no log"
        return f"its log ({self.bot_log}) ends: " + " | ".join(tail)

    # ---- jobs and mail ---------------------------------------------------------------

    def run_job(self, name: str) -> str:
        """Run one scheduled job now, as `python -m bot jobs run NAME` does; its output."""
        if name not in JOBS:
            raise KeyError(name)
        with self._busy:
            done = subprocess.run(
                [sys.executable, "-m", "bot", "jobs", "run", name],
                cwd=self.data_dir, env=self._bot_env(), capture_output=True, text=True, timeout=JOB_SECONDS, check=False,
            )
        if done.returncode != 0:
            raise BotFailed((done.stderr or done.stdout).strip().splitlines()[-1] if (done.stderr or done.stdout) else "failed")
        return done.stdout.strip()

    def send_mail(self, sender_name: str, sender: str, subject: str, body: str, in_reply_to: str | None = None) -> CustomerMail:
        raw = demo.customer_mail(subject, body, sender_name=sender_name, sender=sender, in_reply_to=in_reply_to)
        self.imap.append(raw)
        kept = as_customer_mail(f"in-{len(self.mailroom.to_desk) + 1}", raw)
        self.mailroom.to_desk.append(kept)
        self._mail_changed(None)
        return kept

    def _mail_changed(self, _received: Received | None) -> None:
        with self.double.workspace.changed:
            self.double.workspace.changed.notify_all()

    def mail_from_desk(self) -> list[CustomerMail]:
        received = list(self.smtp.received)
        if len(received) < len(self._sent):  # the server was cleared (a reset)
            self._sent.clear()
        for n, kept in enumerate(received[len(self._sent):], len(self._sent) + 1):
            self._sent.append(as_customer_mail(f"out-{n}", bytes(kept.message)))  # parsed once, read at every refresh
        return list(self._sent)


def as_customer_mail(mail_id: str, raw: bytes) -> CustomerMail:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    part = parsed.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""  # type: ignore[attr-defined]
    return CustomerMail(
        mail_id, str(parsed.get("From", "")), str(parsed.get("To", "")), str(parsed.get("Subject", "")), body,
        str(parsed.get("Date", "")), str(parsed.get("Message-ID", "")),
    )


def refuse_real_data(engine: Engine, url: str) -> None:
    tables = set(inspect(engine).get_table_names())
    if tables and MARKER not in tables:
        shown = engine.url.render_as_string(hide_password=True)
        raise NotASandbox(
            f"the database {shown} holds data the sandbox did not make ({len(tables)} tables and no sandbox marker): "
            "it will not mix demo data into it; leave out --database (the sandbox then uses a file of its own)"
        )
