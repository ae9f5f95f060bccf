"""``python -m bot export --format csv|jsonl [words]``: every case the words of
``/system-tickets`` find, streamed to standard output (no cap: the database reads in
batches). Needs only the database; a word that does not fit is one line and exit 2."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services.queries import TicketFilter
    from db.session import Database

# Every command's parser is built on start: what the export needs is imported when it runs.
FORMATS = ("csv", "jsonl")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="write the cases a list's words find to standard output")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("words", nargs="*", help="the words /system-tickets takes, e.g. open high team:Billing")


def export_filter(db: Database, settings: Settings, text: str) -> TicketFilter:
    """The words as /system-tickets reads them; BadWord for one that does not fit."""
    from slack_sdk import WebClient

    from bot.handlers.ticket_lists import BadWord, parse_words, to_filter
    from bot.services.customer_channels import CustomerChannels
    from bot.services.directory import Directory
    from bot.services.forms import Forms
    from bot.services.tickets import utcnow

    state = parse_words(text, "all")
    if state is None or state.assignee == "":
        raise BadWord("`assignee:me` has no one to mean here: give a member ID such as `U0123456789`")
    directory = Directory(db, settings.system_users)
    team_id = None
    if state.team:
        team = directory.team_named(state.team)
        if team is None:
            known = ", ".join(t.name.replace(" ", "_") for t in directory.teams()) or "none yet"
            raise BadWord(f"there is no team called {state.team!r} (teams: {known})")
        team_id = team.id
    if state.fields:
        keys = Forms(db, directory.is_admin).field_keys()
        unknown = [key for key, _ in state.fields if key not in keys]
        if unknown:
            raise BadWord(f"no issue type has a field {unknown[0]!r} (fields: {', '.join(keys) or 'none yet'})")
    # Looking up an organisation by name reads the database only: the client stays unused.
    accounts = tuple(CustomerChannels(db, WebClient(), is_admin=directory.is_admin).named(state.account)) if state.account else ()
    return to_filter(state, "", team_id, now=utcnow(), tz=settings.tz, account_ids=accounts)


def export(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    from bot.handlers.ticket_lists import BadWord
    from bot.services.export import WRITERS, export_rows

    try:
        flt = export_filter(db, settings, " ".join(args.words))
    except BadWord as err:
        print(f"casedesk: {str(err).replace('`', '')}", file=sys.stderr)
        return 2
    WRITERS[args.format](export_rows(db, flt), sys.stdout)
    sys.stdout.flush()
    return 0
