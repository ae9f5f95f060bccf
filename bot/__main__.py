"""Command line: `python -m bot` runs the bot; `check` is the setup doctor; `db upgrade` migrates;
`jobs list|run NAME` shows or runs the scheduled jobs; `mail` and `outbox` show what was kept or given up;
`export` writes the cases a list's words find as CSV or JSON lines;
`sandbox` starts the offline sandbox (a local Slack in the browser, no account).

Whatever fails, the operator sees one line naming the setting and the fix and a non-zero
exit; the traceback only with LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from bot.settings import ConfigError, Settings
    from db.session import Database

ENV_FILE = ".env"
NO_ENV_FILE = f"no {ENV_FILE} file here: create it with cp .env.example {ENV_FILE} and fill in the Slack settings"
# Read by Bolt from the environment as well: given a client too, it warns the token goes unused.
SLACK_TOKEN_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
NO_DATABASE = "there is no database yet at {path}: the bot creates it on its first start (or run python -m bot db upgrade)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Casedesk, the Slack ticket desk.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="connect to Slack and work (the default)")
    sub.add_parser("check", help="check the setup: tokens, scopes, channels, agents, database")
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("list", help="list the jobs, their schedules and next runs")
    job_run = jobs_sub.add_parser("run", help="run one job once")
    job_run.add_argument("name")
    mail = sub.add_parser("mail", help="mail kept for review (quarantined, or read with problems)")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True)
    mail_sub.add_parser("list", help="list the kept mails, newest first")
    mail_show = mail_sub.add_parser("show", help="write one kept mail, as received, to standard output")
    mail_show.add_argument("id", type=int)
    outbox = sub.add_parser("outbox", help="what the desk still owes Slack")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    outbox_sub.add_parser("status", help="count the posts not sent yet and the given-up ones")
    outbox_sub.add_parser("dead", help="list the posts given up after Slack kept refusing them")
    outbox_sub.add_parser("retry", help="give every given-up post another round")
    from bot.ops.export_cli import add_parser as add_export
    from bot.ops.integrations_cli import add_parsers

    add_parsers(sub)
    add_export(sub)
    sandbox = sub.add_parser("sandbox", help="try the desk in a browser: a local Slack, mail and demo data, no account")
    sandbox.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT") or 8000),
                         help="the page's port on 127.0.0.1 (default 8000, or SANDBOX_PORT)")
    sandbox.add_argument("--data-dir", default=os.environ.get("SANDBOX_DATA_DIR") or ".sandbox",
                         help="where its database and the bot's log go (default .sandbox, or SANDBOX_DATA_DIR)")
    sandbox.add_argument("--database", help="a database URL of its own (default: a SQLite file in the data folder)")
    return parser


def _needs_slack(args: argparse.Namespace) -> bool:
    """Running, checking and running a job talk to Slack; the other commands need only the database."""
    return args.command in (None, "run", "check") or (args.command == "jobs" and args.jobs_command == "run")


def _settings(slack: bool) -> Settings:
    from dotenv import load_dotenv

    from bot.settings import load_settings

    # The working directory's .env; real environment variables win over it.
    load_dotenv(Path.cwd() / ENV_FILE)
    settings = load_settings(os.environ, slack=slack)
    for name in SLACK_TOKEN_VARIABLES:
        os.environ.pop(name, None)  # from here on the tokens live in the settings only
    return settings


def _config_problems(err: ConfigError) -> list[str]:
    lines = [f"casedesk: configuration error: {line}" for line in str(err).splitlines()]
    # Without a .env, a missing bot token means no settings were given at all (on a platform
    # that sets its variables, the token is there and the hint would mislead).
    if not (Path.cwd() / ENV_FILE).exists() and "SLACK_BOT_TOKEN is not set" in str(err):
        lines.insert(0, f"casedesk: {NO_ENV_FILE}")
    return lines


def main(argv: list[str] | None = None) -> int:
    from bot.settings import ConfigError

    args = _parser().parse_args(argv)
    if args.command == "sandbox":  # needs no settings: it makes its own
        from sandbox.main import run_sandbox

        _collect_from_here()
        return run_sandbox(args.port, Path(args.data_dir), args.database)
    try:
        settings = _settings(_needs_slack(args))
    except ConfigError as err:
        print("\n".join(_config_problems(err)), file=sys.stderr)
        return 2

    from bot.settings.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format, settings.secrets())
    try:
        return _command(args)(settings, args)
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        if settings.log_level == "DEBUG":
            raise
        from bot.ops.failures import describe

        print(f"casedesk: {describe(err, settings)}", file=sys.stderr)
        return 1


Command: TypeAlias = "Callable[[Settings, argparse.Namespace], int]"


def _collect_from_here() -> None:
    """Turn the garbage collector back on (``python -m bot`` starts with it off) for a command
    that runs on after its imports: the bot, the sandbox, an export, a job."""
    gc.enable()


def _command(args: argparse.Namespace) -> Command:
    commands: dict[str | None, Command] = {
        "check": _check,
        "db": _db,
        "jobs": _jobs,
        "mail": _mail,
        "outbox": _outbox,
        "api-token": _integrations,
        "webhooks": _integrations,
        "export": _export,
    }
    return commands.get(args.command, _run)


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.ops.runner import run
    from db.session import SecondProcess

    _collect_from_here()
    try:
        return run(settings)
    except SecondProcess as err:  # a usage error, like a bad setting: exit 2
        print(f"casedesk: {err}", file=sys.stderr)
        return 2


def _check(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.app import build_web_client
    from bot.ops.doctor import run_checks

    checks = run_checks(settings, build_web_client(settings))
    for check in checks:
        print(check)
    failed = sum(not c.ok for c in checks)
    print(f"{failed} of {len(checks)} checks failed." if failed else f"All {len(checks)} checks passed.")
    return 1 if failed else 0


def _db(settings: Settings, _args: argparse.Namespace) -> int:
    from db.migrate import upgrade
    from db.session import make_engine

    upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def _jobs(settings: Settings, args: argparse.Namespace) -> int:
    from bot.jobs import JOBS

    if args.jobs_command == "list":
        _list_jobs(settings)
        return 0
    if args.name not in JOBS:
        print(f"casedesk: unknown job {args.name!r}; known: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    from bot.app import create_app
    from db.migrate import upgrade
    from db.session import make_engine

    engine = make_engine(settings.database_url, prepared=settings.database_prepared)
    upgrade(engine)
    deps = create_app(settings, engine=engine).deps
    _collect_from_here()
    print(JOBS[args.name].run(deps))
    deps.sender.flush(timeout=60)  # the posts the job decided on (alerts, thread notes)
    return 0


def _list_jobs(settings: Settings) -> None:
    from bot.jobs import EMAIL_POLL, JOBS
    from bot.jobs.slots import trigger_for

    now = datetime.now(settings.tz)
    if not settings.scheduler_enabled:
        print("SCHEDULER_ENABLED is false: this process runs no scheduled jobs")
    for name in JOBS:
        if name == EMAIL_POLL and settings.imap is None and settings.smtp is None:
            print(f"{name:<18}  off (IMAP_SERVER and SMTP_HOST are not set)")
            continue
        upcoming = trigger_for(settings, name).get_next_fire_time(None, now)
        when = f"next {upcoming:%Y-%m-%d %H:%M} {settings.timezone}" if upcoming else "no next run"
        print(f"{name:<18}  {_schedule(settings, name):<14}  {when}")


def _schedule(settings: Settings, job: str) -> str:
    """A job's schedule as configured: its crontab line, or the mail poll's interval."""
    if job in settings.schedules:
        return settings.schedules[job]
    return f"every {settings.imap.poll_seconds if settings.imap else 60:g} s"


def _database(settings: Settings) -> Database | None:
    """The desk's database, migrated; None (and a line saying so) when there is none yet."""
    from bot.ops.failures import missing_folder, sqlite_file
    from db.migrate import upgrade
    from db.session import Database, make_engine

    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        print(f"casedesk: {missing_folder(settings.database_url) or NO_DATABASE.format(path=path)}", file=sys.stderr)
        return None
    engine = make_engine(settings.database_url, prepared=settings.database_prepared)
    upgrade(engine)
    return Database(engine)


def _mail(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.kept_mail import kept_mail, raw_mail

    db = _database(settings)
    if db is None:
        return 1
    if args.mail_command == "list":
        rows = kept_mail(db)
        for row in rows:
            ticket = f"TCK-{row.ticket_id:06d}" if row.ticket_id else "no case"
            print(f"#{row.id}  {row.received_at:%Y-%m-%d %H:%M}  {row.outcome:<11}  {ticket:<10}  {row.sender or '-'}  {row.note or ''}")
        if not rows:
            print("no mail is kept")
        return 0
    raw = raw_mail(db, args.id)
    if raw is None:
        print(f"casedesk: no mail #{args.id} is kept", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(raw)
    return 0


def _outbox(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.outbox import Outbox
    from bot.services.tickets import utcnow

    db = _database(settings)
    if db is None:
        return 1
    outbox = Outbox(db)
    if args.outbox_command == "status":
        print(f"{outbox.unsent()} posts waiting to be sent, {len(outbox.dead(limit=1_000_000))} given up")
    elif args.outbox_command == "dead":
        dead = outbox.dead()
        for row_id, kind, channel, error, when in dead:
            print(f"#{row_id}  {when:%Y-%m-%d %H:%M}  {kind:<13}  {channel or '-':<12}  {error or ''}")
        if not dead:
            print("no post was given up")
    else:
        print(f"{outbox.retry_dead(utcnow())} posts will be tried again by the running bot")
    return 0


def _integrations(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import integrations_cli

    db = _database(settings)
    if db is None:
        return 1
    return integrations_cli.api_token(db, args) if args.command == "api-token" else integrations_cli.webhooks(db, args)


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.export_cli import export

    db = _database(settings)
    if db is None:
        return 1
    _collect_from_here()
    return export(db, settings, args)


if __name__ == "__main__":
    # A command's start imports SQLAlchemy, the models and (for the bot) Bolt, which live as
    # long as the process: the collections their creation set off found nothing to free and
    # were a fifth of a start's CPU. Off until the imports are done; a command that runs on
    # turns it back on (_collect_from_here), a short one ends first.
    gc.disable()
    code = main()
    # What is left is freed with the process: frozen, it escapes the full collection the
    # interpreter runs on exit (0.2–0.3 s of CPU for a command, up to 1 s for the bot).
    gc.freeze()
    sys.exit(code)
