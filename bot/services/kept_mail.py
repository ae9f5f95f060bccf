"""Mail kept as received for review (quarantined, or read with problems): the admins'
way to look at what the desk could not read cleanly.

What a sender wrote reaches a terminal here, so every field is printed without control
characters: an escape sequence in a From: line must not rewrite the admin's screen.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.mail.parse import printable
from db.models import InboundEmail
from db.session import Database

# What a terminal acts on: C0 controls but tab and line ends, DEL, and C1 controls as
# UTF-8 writes them (a lone 0x80-0x9F byte is part of another character there).
_TERMINAL_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")


@dataclass(frozen=True)
class KeptMail:
    id: int
    received_at: datetime
    outcome: str
    ticket_id: int | None
    sender: str | None
    note: str | None


def kept_mail(db: Database, limit: int = 50) -> list[KeptMail]:
    """The newest kept mails, newest first, safe to print."""
    with db.read() as session:
        rows = session.scalars(select(InboundEmail).where(InboundEmail.raw.is_not(None)).order_by(InboundEmail.id.desc()).limit(limit))
        return [
            KeptMail(
                r.id, r.received_at, printable(r.outcome), r.ticket_id,
                printable(r.sender) if r.sender else None, printable(r.note) if r.note else None,
            )
            for r in rows
        ]


def raw_mail(db: Database, record_id: int, *, for_terminal: bool | None = None) -> bytes | None:
    """The mail as received; for a terminal (standard output is one, unless told) its
    control bytes are written as ``\\xNN``, for a file it is byte for byte."""
    with db.read() as session:
        raw = session.scalar(select(InboundEmail.raw).where(InboundEmail.id == record_id))
    if raw is None:
        return None
    if for_terminal if for_terminal is not None else sys.stdout.isatty():
        return _TERMINAL_CONTROLS.sub(lambda m: b"".join(b"\\x%02x" % byte for byte in m.group(0)), raw)
    return raw
