"""What went wrong, in one line an operator can act on: names the setting and the fix.

Starting the bot meets the outside world (Slack, the database, a port); when it fails,
the operator needs the setting to change, not a traceback.
"""

from __future__ import annotations

import errno
import re
import urllib.error
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.settings import Settings
from db.session import normalise_database_url

if TYPE_CHECKING:
    from slack_sdk.errors import SlackApiError

BOT_TOKEN_FIX = "copy the Bot User OAuth Token from OAuth & Permissions again"
APP_TOKEN_FIX = "turn Socket Mode on and use an app-level token with connections:write"
# Slack's answers to a token it does not take.
REJECTED = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "not_allowed_token_type"})
# Alembic's words for a revision in the database that this code's migrations do not have.
_UNKNOWN_REVISION = re.compile(r"Can't locate revision identified by '([^']+)'")
DEBUG_HINT = "run with LOG_LEVEL=DEBUG for the traceback"


def bot_token_rejected(error: str) -> str:
    return f"SLACK_BOT_TOKEN was rejected ({error}): {BOT_TOKEN_FIX}"


def app_token_rejected(error: str) -> str:
    return f"SLACK_APP_TOKEN cannot open Socket Mode ({error}): {APP_TOKEN_FIX}"


def schema_newer(revision: str) -> str:
    return (
        f"the database's schema is newer than this code (revision {revision} is unknown here): run the Casedesk "
        "version that migrated it, or set DATABASE_URL to another database"
    )


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite file a URL names (None for PostgreSQL or an in-memory database)."""
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def missing_folder(database_url: str) -> str | None:
    """The line for a SQLite file whose folder does not exist, if that is the case."""
    path = sqlite_file(database_url)
    if path is None or path.parent.is_dir():
        return None
    return f"DATABASE_URL names a SQLite file in {path.parent}, which does not exist: create it (mkdir -p {path.parent}) or change DATABASE_URL"


def _causes(err: BaseException) -> list[BaseException]:
    """The error and what it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _slack_refused(err: SlackApiError) -> str:
    error = str(err.response.get("error") or "an error")
    method = str(getattr(err.response, "api_url", "")).rstrip("/").rsplit("/", 1)[-1]
    if error in REJECTED:
        return app_token_rejected(error) if method == "apps.connections.open" else bot_token_rejected(error)
    return f"Slack refused {method or 'a call'} ({error})"


def _database(err: DBAPIError, settings: Settings) -> str:
    folder = missing_folder(settings.database_url)
    if folder:
        return folder
    path = sqlite_file(settings.database_url)
    if path is not None:
        return f"cannot open the SQLite file {path} ({type(err.orig).__name__}): check DATABASE_URL and the file's permissions"
    url = make_url(normalise_database_url(settings.database_url))
    return f"cannot reach the database at {url.host or 'localhost'}:{url.port or 5432} ({type(err.orig).__name__}): check DATABASE_URL and that the server runs"


def _one(err: BaseException, settings: Settings) -> str | None:
    # Imported here: a command that reads the database uses sqlite_file above, and needs
    # neither Slack's client nor Alembic for it.
    from alembic.util.exc import CommandError
    from slack_sdk.errors import SlackApiError

    if isinstance(err, SlackApiError):
        return _slack_refused(err)
    if isinstance(err, urllib.error.URLError | ConnectionError | TimeoutError) and not isinstance(err, urllib.error.HTTPError):
        reason = getattr(err, "reason", None) or err
        return f"cannot reach Slack at {settings.slack_api_url} ({reason}): check the network connection, or SLACK_API_URL"
    if isinstance(err, DBAPIError):
        return _database(err, settings)
    unknown = _UNKNOWN_REVISION.search(str(err)) if isinstance(err, CommandError) else None
    if unknown:
        return schema_newer(unknown.group(1))
    if isinstance(err, FileNotFoundError) and missing_folder(settings.database_url):
        return missing_folder(settings.database_url)
    if isinstance(err, OSError) and err.errno == errno.EADDRINUSE:
        return f"PORT {settings.port} is already in use on {settings.health_host}: stop what listens there or set another PORT"
    return None


def describe(err: BaseException, settings: Settings) -> str:
    """One line for ``err``: the setting to look at and the fix, or how to see more."""
    for cause in _causes(err):
        line = _one(cause, settings)
        if line:
            return line
    return f"unexpected {type(err).__name__}: {DEBUG_HINT}"
