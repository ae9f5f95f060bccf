"""`python -m bot check`: one line per check, ✓ or ✗ with the fix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.config import Settings
from bot.scopes import REQUIRED_SCOPES
from db.migrate import is_current
from db.session import make_engine


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
        yield Check(False, f"SLACK_BOT_TOKEN was rejected ({_error(err)}): copy the Bot User OAuth Token from OAuth & Permissions again")
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
        yield Check(False, f"SLACK_APP_TOKEN cannot open Socket Mode ({_error(err)}): turn Socket Mode on and use an app-level token with connections:write")

    channels = {
        "SUPPORT_SLACK_CHANNEL": settings.support_channel,
        "ADMIN_CHANNEL": settings.admin_channel,
        "ALERTING_SLACK_CHANNEL": settings.alerting_channel,
        "LOGGING_SLACK_CHANNEL": settings.logging_channel,
    }
    channels.update({f"INTAKE_SLACK_CHANNELS[{i}]": c for i, c in enumerate(settings.intake_channels)})
    for name, channel in channels.items():
        if channel:
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
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        yield Check(True, f"database reachable ({engine.dialect.name})")
        if is_current(engine):
            yield Check(True, "database schema is current")
        else:
            yield Check(False, "database schema is behind: run python -m bot db upgrade (the bot also does it on start)")
    except SQLAlchemyError as err:
        yield Check(False, f"database unreachable ({type(err.orig or err).__name__}): check DATABASE_URL and that the server runs")
    finally:
        engine.dispose()


def run_checks(settings: Settings, client: WebClient) -> list[Check]:
    return [*check_slack(settings, client), *check_database(settings)]
