"""Per-case reply keys: the desk's mail carries ``[TCK-000123-k3y…]`` in its subject, and
a mail whose subject carries a case's valid key joins that case whoever it claims to be
from. The number alone is guessable; the key is not.

A key is an HMAC-SHA256 of the case number under a secret made at random the first time
it is needed and kept in the database (``bot_state``), so every bot process on that
database derives the same keys and no setting has to be shared. Deleting that row
revokes every key at once (a new secret is made; older subjects then thread only by
their In-Reply-To or References).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

from sqlalchemy.exc import IntegrityError

from db.models import BotState
from db.session import Database

SECRET_KEY = "mail:reply-secret"
KEY_LENGTH = 12  # base32 characters: 60 bits, far beyond what mail can guess at


def case_key(secret: bytes, number: str) -> str:
    digest = hmac.new(secret, number.upper().encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:KEY_LENGTH]


class ReplyKeys:
    """The secret, read (or made) once per process; then keys cost no database trip."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._secret: bytes | None = None
        self._lock = threading.Lock()

    def key(self, number: str) -> str:
        return case_key(self.secret(), number)

    def matches(self, number: str, key: str) -> bool:
        return hmac.compare_digest(self.key(number), key.lower())

    def secret(self) -> bytes:
        """Call it outside any write transaction: making the secret takes one of its own."""
        with self._lock:
            if self._secret is None:
                self._secret = self._load()
            return self._secret

    def _load(self) -> bytes:
        for _ in range(3):
            with self._db.read() as session:
                row = session.get(BotState, SECRET_KEY)
                if row is not None:
                    return bytes.fromhex(row.value)
            try:
                with self._db.write() as session:
                    session.add(BotState(key=SECRET_KEY, value=secrets.token_hex(32)))
            except IntegrityError:
                continue  # another process made it first: read theirs
        raise RuntimeError("the reply-key secret could not be stored")
