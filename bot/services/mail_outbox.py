"""Mail owed (agents' replies, acknowledgements, notices of new and resolved tickets),
stored in the transaction that decided it and sent after it commits. The SMTP server being down delays a mail; none
is lost, and a claim left by a crashed process runs out and is taken again. A mail that
keeps failing on its own is given up (``dead_at``) and reported once, in the same
transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.services.claims import claim_due
from bot.services.outbox import PostKind, enqueue
from bot.services.records import format_number
from db.models import OutboundEmail, TicketEvent
from db.session import Database

CLAIM = timedelta(minutes=2)
# What each kind of mail is called where a given-up one is reported.
WHAT = {
    "reply": "agent's reply",
    "ack": "acknowledgement",
    "notice": "notification mail",
    "requester": "notification mail",
    "closing": "auto-close warning",
    "survey": "satisfaction survey",
}
# Mails nobody asked for (RFC 3834 auto-generated), sent with the case's token, listed in its timeline.
NOTICES = frozenset({"notice", "requester", "closing", "survey"})


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
    kind: str = "reply"
    cc_addrs: str | None = None
    to_users: str | None = None
    created_at: datetime | None = None


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
    kind: str | None = None,
    cc_addrs: str | None = None,
    to_users: str | None = None,
) -> None:
    session.add(
        OutboundEmail(
            ticket_id=ticket_id,
            message_id=message_id,
            kind=kind or ("ack" if automatic else "reply"),
            to_addr=to_addr,
            cc_addrs=cc_addrs or None,
            to_users=to_users or None,
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
        return claim_due(self._db, OutboundEmail, now, CLAIM, limit, _pending)

    def sent(self, mail: PendingMail, now: datetime, *, actor: str = "") -> None:
        """The server took ``mail`` (as finally addressed): a notice is listed in its ticket's
        timeline, in the transaction that records it sent."""
        with self._db.write() as session:
            session.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == mail.id)
                .values(sent_at=now, error=None, to_addr=mail.to_addr, cc_addrs=mail.cc_addrs)
            )
            if mail.kind in NOTICES:
                session.add(TicketEvent(
                    ticket_id=mail.ticket_id, actor_id=actor[:320] or "casedesk", kind="mailed", from_value=mail.kind,
                    to_value=mail.to_addr, note=f"Cc: {mail.cc_addrs}" if mail.cc_addrs else None, created_at=now,
                ))

    def nobody(self, mail_id: int, now: datetime, why: str) -> None:
        """A notice with no one left to mail (no address could be found): done, never sent."""
        with self._db.write() as session:
            session.execute(update(OutboundEmail).where(OutboundEmail.id == mail_id).values(sent_at=now, error=why[:500]))

    def later(self, mail_id: int, due: datetime, error: str, *, counted: bool = True) -> None:
        """Try again at ``due``; ``counted``: the failure was this mail's, not the server's."""
        with self._db.write() as session:
            session.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == mail_id)
                .values(
                    due_at=due, claimed_until=None, error=error[:500],
                    attempts=OutboundEmail.attempts + (1 if counted else 0),
                )
            )

    def give_up(self, mail: PendingMail, now: datetime, error: str, kind: str, report_to: str | None) -> None:
        """``error`` is kept on the row; the report names only its ``kind`` (no customer data)."""
        with self._db.write() as session:
            session.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == mail.id)
                .values(dead_at=now, claimed_until=None, error=error[:500], attempts=OutboundEmail.attempts + 1)
            )
            if report_to:
                what = WHAT.get(mail.kind, "mail")
                who = "Its recipients have" if mail.kind == "notice" else "The customer has"
                enqueue(
                    session, PostKind.POST, now, channel=report_to,
                    text=f"✉️ An {what} on {format_number(mail.ticket_id)} was given up after {mail.attempts + 1} failed "
                    f"attempts ({kind}). {who} not received it; it is kept as outbound mail #{mail.id}.",
                )


def _pending(r: OutboundEmail) -> PendingMail:
    return PendingMail(
        r.id, r.ticket_id, r.message_id, r.to_addr, r.subject, r.body, r.in_reply_to, r.references, r.automatic, r.attempts,
        r.kind, r.cc_addrs, r.to_users, r.created_at,
    )
