"""`python -m bot check`: one line per check, ✓ or ✗ with the fix.

Each group of checks is isolated: an unreachable Slack is one ✗ line and the database is
still checked. The doctor changes nothing: it creates no database and migrates none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util.exc import CommandError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select, text

from bot.ops.failures import app_token_rejected, bot_token_rejected, describe, missing_folder, schema_newer, sqlite_file
from bot.services.directory import Directory, RuleRecord, TeamRecord
from bot.settings import Settings
from bot.slack.scopes import REQUIRED_SCOPES
from db.migrate import alembic_config
from db.models import Account, CustomerChannel, DeskEvent
from db.session import Database, make_engine


@dataclass(frozen=True)
class Check:
    ok: bool
    line: str

    def __str__(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.line}"


def _error(err: SlackApiError) -> str:
    return str(err.response.get("error") or err)


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def check_slack(settings: Settings, client: WebClient) -> Iterator[Check]:
    try:
        auth = client.auth_test()
    except SlackApiError as err:
        yield Check(False, bot_token_rejected(_error(err)))
        return
    yield Check(True, f"bot token works: {auth.get('user')} in {auth.get('team')}")

    granted = {s.strip() for s in _header(dict(auth.headers), "x-oauth-scopes").split(",") if s.strip()}
    missing = sorted(REQUIRED_SCOPES - granted)
    if missing:
        yield Check(False, f"missing bot scopes: {', '.join(missing)}: add them under OAuth & Permissions (or re-create the app from manifest.yml) and reinstall the app")
    else:
        yield Check(True, "all bot scopes granted")

    try:
        client.apps_connections_open(app_token=settings.slack_app_token)
        yield Check(True, "app-level token opens a Socket Mode connection")
    except SlackApiError as err:
        yield Check(False, app_token_rejected(_error(err)))

    for name, channel in settings.named_channels().items():
        yield _check_channel(client, name, channel)

    for user in sorted(settings.system_users):
        yield _check_user(client, user)


def _check_channel(client: WebClient, name: str, channel: str) -> Check:
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as err:
        if _error(err) == "channel_not_found":
            return Check(False, f"{name} {channel} not found: check the ID; for a private channel, /invite @Casedesk first")
        return Check(False, f"{name} {channel} could not be checked ({_error(err)})")
    label = f"#{info.get('name', channel)}"
    if not info.get("is_member"):
        return Check(False, f"{name} {label}: the bot is not a member: in {label}, type /invite @Casedesk")
    return Check(True, f"{name} {label}: the bot is a member")


def _check_user(client: WebClient, user: str) -> Check:
    try:
        info = client.users_info(user=user)["user"]
    except SlackApiError as err:
        return Check(False, f"SYSTEM_USERS {user} is not a user of this workspace ({_error(err)}): copy the member ID from their profile")
    if info.get("deleted") or info.get("is_bot"):
        return Check(False, f"SYSTEM_USERS {user} ({info.get('name')}) is deactivated or a bot: remove it")
    return Check(True, f"SYSTEM_USERS {user} is {info.get('name')}")


def check_database(settings: Settings) -> Iterator[Check]:
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        folder = missing_folder(settings.database_url)
        yield Check(False, folder) if folder else Check(True, f"database {path} will be created and migrated on first start")
        return
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        yield Check(True, f"database reachable ({engine.dialect.name})")
        yield _check_schema(engine)
    finally:
        engine.dispose()


def _check_schema(engine: Engine) -> Check:
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == script.get_current_head():
        return Check(True, "database schema is current")
    if current is not None:
        try:
            script.get_revision(current)
        except (ResolutionError, CommandError):
            return Check(False, schema_newer(current))
    return Check(True, "database schema is not current yet: will be migrated on first start")


def check_desk(settings: Settings, client: WebClient) -> Iterator[Check]:
    """The teams and routing rules, one line each: ✗ where a channel they name is one the
    bot is not in (its cards or the messages it routes would go nowhere)."""
    path = sqlite_file(settings.database_url)
    if path is not None and not path.exists():
        return
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        if current != ScriptDirectory.from_config(alembic_config(engine)).get_current_head():
            return  # said above; the teams are read once the schema is current
        directory = Directory(Database(engine), frozenset())
        teams = directory.teams()
        names = {t.id: t.name for t in teams}
        if not teams:
            yield Check(True, "no teams yet: the default team is made on first start")
        own_levels = directory.service_levels()
        for team in teams:
            yield _check_team(client, team)
            if team.id in own_levels:
                yield Check(True, f"team {team.name}: its own service levels: {own_levels[team.id].summary()} (the desk's otherwise)")
        for rule in directory.rules():
            yield _check_rule(client, rule, names.get(rule.team_id, "(a removed team)"))
        yield from check_customer_channels(settings, client, Database(engine))
    finally:
        engine.dispose()


CUSTOMER_CHANNEL_CHECKS = 200


def check_customer_channels(settings: Settings, client: WebClient, db: Database) -> Iterator[Check]:
    """One line per customer channel (Slack Connect): ✗ where the bot cannot see it or its
    share is gone (its cases on hold), and for a setting that names a channel by the id
    Slack has since changed."""
    with db.read() as session:
        rows = session.execute(
            select(CustomerChannel.channel, Account.name, CustomerChannel.account_id, CustomerChannel.held_at,
                   CustomerChannel.held_reason)
            .outerjoin(Account, Account.id == CustomerChannel.account_id)
            .order_by(CustomerChannel.marked_at, CustomerChannel.channel)
        ).all()
        moved = dict(session.execute(select(DeskEvent.from_value, DeskEvent.to_value).where(DeskEvent.kind == "channel_id_changed")).all())
    for n, (channel, name, account, held_at, reason) in enumerate(rows):
        if n == CUSTOMER_CHANNEL_CHECKS:  # each is a conversations.info call, paced by Slack
            yield Check(True, f"customer channels: {len(rows) - n} more not checked (the first {n} were)")
            break
        who = f" ({name or account})" if (name or account) else ""
        if held_at is not None:
            yield Check(False, f"customer channel {channel}{who}: on hold since {held_at:%Y-%m-%d %H:%M} UTC ({reason}): "
                               "its cases resume when the channel is shared with the customer again")
            continue
        ok, where = _channel_line(client, channel)
        yield Check(ok, f"customer channel {where}{who}")
    for setting, channel in settings.named_channels().items():
        if moved.get(channel):
            yield Check(False, f"{setting} names {channel}, which Slack renamed {moved[channel]} when it was shared: "
                               f"set {setting} to {moved[channel]}")


def _channel_line(client: WebClient, channel: str) -> tuple[bool, str]:
    """(the bot is in it, how to name it and what to do)."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as err:
        if _error(err) == "channel_not_found":
            return False, f"{channel}, which the bot cannot see: check it, or /invite @Casedesk there"
        return False, f"{channel}, which could not be checked ({_error(err)})"
    label = f"#{info.get('name', channel)}"
    if not info.get("is_member"):
        return False, f"{label}, where the bot is not a member: in {label}, type /invite @Casedesk"
    return True, label


def _check_team(client: WebClient, team: TeamRecord) -> Check:
    about = (f"{len(team.members)} member{'s' if len(team.members) != 1 else ''}, lead {team.lead_id or 'none'}, "
             f"automatic assignment {team.auto_assign.replace('_', '-')}")
    default = " (default)" if team.is_default else ""
    if not team.triage_channel:
        return Check(True, f"team {team.name}{default}: cards in the support channel, {about}")
    ok, where = _channel_line(client, team.triage_channel)
    return Check(ok, f"team {team.name}{default}: cards in {where}" + (f", {about}" if ok else ""))


def _check_rule(client: WebClient, rule: RuleRecord, team: str) -> Check:
    field = rule.field.replace("_", " ")
    if rule.field != "intake_channel":
        return Check(True, f"routing rule {rule.position}: {field} {rule.value} → {team}")
    ok, where = _channel_line(client, rule.value)
    return Check(ok, f"routing rule {rule.position}: {field} {where} → {team}")


def _isolated(group: Callable[[], Iterator[Check]], settings: Settings) -> list[Check]:
    """The group's checks; one that cannot finish ends it with a ✗ line saying why."""
    checks: list[Check] = []
    try:
        for check in group():
            checks.append(check)
    except Exception as err:
        checks.append(Check(False, describe(err, settings)))
    return checks


def run_checks(settings: Settings, client: WebClient) -> list[Check]:
    return [
        *_isolated(lambda: check_slack(settings, client), settings),
        *_isolated(lambda: check_database(settings), settings),
        *_isolated(lambda: check_desk(settings, client), settings),
    ]
