"""Command line: `python -m bot` runs the bot; `db upgrade` migrates; `jobs run NAME` runs a job once;
`mail` and `outbox` show what was kept or given up."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

from bot.config import ConfigError, Settings, load_settings


def _settings() -> Settings:
    # The working directory's .env; real environment variables win over it.
    load_dotenv(Path.cwd() / ".env")
    return load_settings(os.environ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Casedesk, the Slack ticket desk.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="connect to Slack and work (the default)")
    sub.add_parser("check", help="check the setup: tokens, scopes, channels, agents, database")
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    jobs = sub.add_parser("jobs", help="scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("list", help="list the jobs")
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
    args = parser.parse_args(argv)

    try:
        settings = _settings()
    except ConfigError as err:
        print(f"casedesk: configuration error: {err}", file=sys.stderr)
        return 2

    from bot.logs import configure_logging

    configure_logging(settings.log_level, settings.log_format, settings.secrets())

    if args.command == "check":
        from bot.app import build_web_client
        from bot.doctor import run_checks

        checks = run_checks(settings, build_web_client(settings))
        for check in checks:
            print(check)
        failed = sum(not c.ok for c in checks)
        print(f"{failed} of {len(checks)} checks failed." if failed else f"All {len(checks)} checks passed.")
        return 1 if failed else 0
    if args.command == "db":
        from db.migrate import upgrade
        from db.session import make_engine

        upgrade(make_engine(settings.database_url))
        print("database is up to date")
        return 0
    if args.command == "jobs":
        from bot.jobs import JOBS

        if args.jobs_command == "list":
            print("\n".join(JOBS))
            return 0
        if args.name not in JOBS:
            print(f"casedesk: unknown job {args.name!r}; known: {', '.join(JOBS)}", file=sys.stderr)
            return 2
        from bot.app import create_app
        from db.migrate import upgrade
        from db.session import make_engine

        engine = make_engine(settings.database_url)
        upgrade(engine)
        deps = create_app(settings, engine=engine).deps
        print(JOBS[args.name].run(deps))
        deps.sender.flush(timeout=60)  # the posts the job decided on (alerts, thread notes)
        return 0

    if args.command == "mail":
        return _mail(settings, args)
    if args.command == "outbox":
        return _outbox(settings, args)

    from bot.runner import run
    from db.session import SecondProcess

    try:
        return run(settings)
    except SecondProcess as err:
        print(f"casedesk: {err}", file=sys.stderr)
        return 2


def _mail(settings: Settings, args: argparse.Namespace) -> int:
    from bot.services.kept_mail import kept_mail, raw_mail
    from db.migrate import upgrade
    from db.session import Database, make_engine

    engine = make_engine(settings.database_url)
    upgrade(engine)
    db = Database(engine)
    if args.mail_command == "list":
        for row in kept_mail(db):
            ticket = f"TCK-{row.ticket_id:06d}" if row.ticket_id else "no case"
            print(f"#{row.id}  {row.received_at:%Y-%m-%d %H:%M}  {row.outcome:<11}  {ticket:<10}  {row.sender or '-'}  {row.note or ''}")
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
    from db.migrate import upgrade
    from db.session import Database, make_engine

    engine = make_engine(settings.database_url)
    upgrade(engine)
    outbox = Outbox(Database(engine))
    if args.outbox_command == "status":
        print(f"{outbox.unsent()} posts waiting to be sent, {len(outbox.dead(limit=1_000_000))} given up")
    elif args.outbox_command == "dead":
        for row_id, kind, channel, error, when in outbox.dead():
            print(f"#{row_id}  {when:%Y-%m-%d %H:%M}  {kind:<13}  {channel or '-':<12}  {error or ''}")
    else:
        print(f"{outbox.retry_dead(utcnow())} posts will be tried again by the running bot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
