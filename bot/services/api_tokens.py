"""The REST API's bearer tokens: created and revoked by admins (the CLI, the Admin Home
section), each with a scope, read or write.

A token is 32 random bytes (``secrets.token_urlsafe``), shown once when it is created; only
its SHA-256 is stored. A slow password hash (bcrypt, scrypt) guards low-entropy secrets a
person chose; against 256 random bits a fast hash already makes guessing hopeless, and it
lets each request find its token with one indexed lookup instead of a costly check per call.
Creating and revoking are written to the desk's audit trail (desk_events); a token acts on
cases as ``api:NAME``, which is what the cases' audit trail records for its changes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.services.errors import ServiceError
from bot.services.tickets import Clock, utcnow
from db.models import ApiToken, DeskEvent
from db.session import Database

SCOPES = ("read", "write")
TOKEN_PREFIX = "cd_"
ACTOR_PREFIX = "api:"
# Names become the actor "api:NAME" in audit columns 32 characters wide.
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,27}")
# last_used_at is written at most this often per token (reads would otherwise each write).
USED_EVERY = timedelta(minutes=1)
# A live token, once found, is believed this long without asking the database again: the
# look-up was a transaction of its own on every call. Revoking in this process forgets it at
# once; a revocation by another process (the CLI, another replica) holds within this time.
CHECKED_SECONDS = 5.0
# (database URL, token hash) -> (monotonic time checked, the token as it was then).
_checked: dict[tuple[str, str], tuple[float, TokenRecord]] = {}
_checked_lock = threading.Lock()


class TokenError(ServiceError):
    """A name or scope that cannot be used; ``str`` says why."""


@dataclass(frozen=True)
class TokenRecord:
    id: int
    name: str
    scope: str
    prefix: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        return actor_of(self.name)

    @classmethod
    def of(cls, row: ApiToken) -> TokenRecord:
        return cls(row.id, row.name, row.scope, row.prefix, row.created_by, row.created_at, row.last_used_at, row.revoked_at)


def actor_of(name: str) -> str:
    return f"{ACTOR_PREFIX}{name}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    def create(self, actor: str, name: str, scope: str) -> tuple[TokenRecord, str]:
        """A new token: its record and the token itself, which is never shown again."""
        name = name.strip().lower()
        if not NAME_RE.fullmatch(name):
            raise TokenError("A token's name is 1 to 28 characters: lowercase letters, digits, '.', '_' or '-'.")
        if scope not in SCOPES:
            raise TokenError("A token's scope is read or write.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self._clock()
        try:
            with self._db.write() as session:
                row = ApiToken(
                    name=name, scope=scope, token_hash=digest(token), prefix=token[:10], created_by=actor[:32], created_at=now
                )
                session.add(row)
                session.add(DeskEvent(actor_id=actor[:32], kind="api_token_created", subject=name, to_value=scope, created_at=now))
                session.flush()
                return TokenRecord.of(row), token
        except IntegrityError:
            raise TokenError(f"A token named {name} exists already (revoked ones keep their name): choose another.") from None

    def revoke(self, actor: str, name: str) -> TokenRecord:
        now = self._clock()
        with self._db.write() as session:
            row = session.scalars(select(ApiToken).where(ApiToken.name == name.strip().lower())).one_or_none()
            if row is None:
                raise TokenError(f"There is no token named {name}.")
            if row.revoked_at is None:
                row.revoked_at = now
                session.add(DeskEvent(actor_id=actor[:32], kind="api_token_revoked", subject=row.name, created_at=now))
            record, key = TokenRecord.of(row), (str(self._db.engine.url), row.token_hash)
        with _checked_lock:  # once committed: a check made before then found it live
            _checked.pop(key, None)
        return record

    def all(self) -> list[TokenRecord]:
        with self._db.read() as session:
            return [TokenRecord.of(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.name))]

    def verify(self, token: str) -> TokenRecord | None:
        """The live token this is, or None (unknown, forged or revoked)."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
            return None
        key = (str(self._db.engine.url), digest(token))
        with _checked_lock:
            checked, record = _checked.get(key, (0.0, None))
        if record is None or time.monotonic() - checked > CHECKED_SECONDS:
            with self._db.read() as session:
                row = session.scalars(select(ApiToken).where(ApiToken.token_hash == key[1])).one_or_none()
                record = TokenRecord.of(row) if row is not None and row.revoked_at is None else None
            checked = time.monotonic()
        if record is None:
            with _checked_lock:
                _checked.pop(key, None)
            return None
        record = self._used(record)
        with _checked_lock:
            _checked[key] = (checked, record)
        return record

    def _used(self, record: TokenRecord) -> TokenRecord:
        """The token, its last use written when the one stored is older than USED_EVERY."""
        now = self._clock()
        if record.last_used_at is not None and now - record.last_used_at < USED_EVERY:
            return record
        with self._db.write() as session:
            session.execute(update(ApiToken).where(ApiToken.id == record.id).values(last_used_at=now))
        return replace(record, last_used_at=now)
