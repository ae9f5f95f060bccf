"""Mail owed to customers (agents' replies, acknowledgements), stored in the transaction
that decided it and sent after it commits. The SMTP server being down delays a mail; none
is lost, and a claim left by a crashed process runs out and is taken again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from db.models import OutboundEmail
from db.session import Database

CLAIM = timedelta(minutes=2)


@dataclass(frozen=True)
class PendingMail:
    id: int
    ticket_id: int
    message_id: str
    to_addr: str
    subject: str
    body: str
    in_reply_to: str | None
    references: str | None
    automatic: bool
    attempts: int


def queue_mail(
    session: Session,
    now: datetime,
    *,
    ticket_id: int,
    message_id: str,
    to_addr: str,
    subject: str,
    body: str,
    in_reply_to: str | None,
    references: str | None,
    automatic: bool,
) -> None:
    session.add(
        OutboundEmail(
            ticket_id=ticket_id,
            message_id=message_id,
            to_addr=to_addr,
            subject=subject[:300],
            body=body,
            in_reply_to=in_reply_to,
            references=references,
            automatic=automatic,
            created_at=now,
            due_at=now,
            attempts=0,
        )
    )


class MailOutbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def claim(self, now: datetime, limit: int) -> list[PendingMail]:
        with self._db.read() as session:
            rows = session.scalars(select(OutboundEmail).where(_due(now)).order_by(OutboundEmail.id).limit(limit)).all()
            candidates = [
                PendingMail(
                    r.id, r.ticket_id, r.message_id, r.to_addr, r.subject, r.body,
                    r.in_reply_to, r.references, r.automatic, r.attempts,
                )
                for r in rows
            ]
        claimed: list[PendingMail] = []
        with self._db.write() as session:
            for mail in candidates:
                # Of two processes claiming one mail, the conditional update lets one win.
                result = session.execute(
                    update(OutboundEmail).where(OutboundEmail.id == mail.id, _due(now)).values(claimed_until=now + CLAIM)
                )
                if result.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(mail)
        return claimed

    def sent(self, mail_id: int, now: datetime) -> None:
        with self._db.write() as session:
            session.execute(update(OutboundEmail).where(OutboundEmail.id == mail_id).values(sent_at=now, error=None))

    def later(self, mail_id: int, due: datetime, error: str) -> None:
        with self._db.write() as session:
            session.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == mail_id)
                .values(due_at=due, claimed_until=None, error=error[:200], attempts=OutboundEmail.attempts + 1)
            )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboundEmail.sent_at.is_(None),
        OutboundEmail.due_at <= now,
        or_(OutboundEmail.claimed_until.is_(None), OutboundEmail.claimed_until < now),
    )
