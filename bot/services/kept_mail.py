"""Mail kept as received for review (quarantined, or read with problems): the admins'
way to look at what the desk could not read cleanly."""

from __future__ import annotations

from sqlalchemy import select

from db.models import InboundEmail
from db.session import Database


def kept_mail(db: Database, limit: int = 50) -> list[InboundEmail]:
    """The newest kept mails, newest first."""
    with db.read() as session:
        return list(
            session.scalars(select(InboundEmail).where(InboundEmail.raw.is_not(None)).order_by(InboundEmail.id.desc()).limit(limit))
        )


def raw_mail(db: Database, record_id: int) -> bytes | None:
    with db.read() as session:
        return session.scalar(select(InboundEmail.raw).where(InboundEmail.id == record_id))
