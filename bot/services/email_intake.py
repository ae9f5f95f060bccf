"""Mail into cases: a new mail opens a case, a reply joins its case, an admin's mail can
close it, and automatic mail is kept as a note or skipped, never answered.

Nothing lost, nothing twice: each mail is recorded by Message-ID (and by UID within
UIDVALIDITY) in the same transaction as what it does to a case, so a mail read again
after a crash meets its own record and changes nothing. A mail that cannot be read is
kept raw and reported; it never stops the rest of the mailbox.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, union_all
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.mail.compose import ack_body, new_message_id, reply_subject
from bot.mail.parse import MailFile, ParsedMail, parse_mail
from bot.services.conversations import open_intake_case, record_agent_response, record_customer_message
from bot.services.errors import ActionNotAllowed
from bot.services.mail_outbox import queue_mail
from bot.services.outbox import PostKind, enqueue
from bot.services.phrases import Keywords, is_closing_phrase
from bot.services.records import Change, TicketRecord, parse_number
from bot.services.status import Status
from bot.services.tickets import MAX_DETAILS, Clock, TicketService, audit_event, utcnow
from db.models import Attachment, BotState, CaseMessage, InboundEmail, OutboundEmail, Ticket
from db.session import Database

log = logging.getLogger(__name__)

TOKEN = re.compile(r"\[\s*(TCK-\d{1,9})\s*\]", re.IGNORECASE)
LOGIN_FAILED = "imap:login-failed"


@dataclass(frozen=True)
class Where:
    """Where a mail was read: the folder, its UIDVALIDITY and the mail's UID (None when not from IMAP)."""

    folder: str
    uidvalidity: int | None = None
    uid: int | None = None


@dataclass(frozen=True)
class Intake:
    """What taking in one mail did."""

    outcome: str  # opened | threaded | note | skipped | quarantined | duplicate
    ticket: TicketRecord | None = None
    change: Change | None = None
    reason: str | None = None


@dataclass(frozen=True)
class MailPolicy:
    support_channel: str
    admin_channel: str
    admin_emails: frozenset[str]
    own_addresses: frozenset[str]
    reply_from: str | None  # None: no SMTP, so no acknowledgements
    acknowledge: bool
    file_cap: int


class EmailIntake:
    def __init__(self, db: Database, tickets: TicketService, policy: MailPolicy, keywords: Keywords, clock: Clock = utcnow) -> None:
        self._db = db
        self._tickets = tickets
        self.policy = policy
        self._keywords = keywords
        self._clock = clock

    # ---- what the mailbox poll asks ------------------------------------------------

    def known_uids(self, where: Where, uids: list[int]) -> set[int]:
        """Which of these UIDs (in this UIDVALIDITY) are recorded already: read before a crash."""
        with self._db.read() as session:
            rows = session.scalars(
                select(InboundEmail.uid).where(
                    InboundEmail.folder == where.folder,
                    InboundEmail.uidvalidity == where.uidvalidity,
                    InboundEmail.uid.in_(uids),
                )
            )
            return {int(u) for u in rows if u is not None}

    def ingest(self, raw: bytes, where: Where) -> Intake:
        try:
            mail = parse_mail(raw, self.policy.own_addresses, self.policy.file_cap)
        except Exception as err:  # a mail that defeats the parser is kept, never dropped
            log.warning("an unreadable mail was quarantined: %s", type(err).__name__)
            return self._quarantine(raw, where, f"unreadable ({type(err).__name__})")
        try:
            with self._db.write() as session:
                return self._take(session, mail, raw, where)
        except IntegrityError:
            if self._recorded(mail.message_id, where):
                return Intake("duplicate")
            log.exception("mail %s could not be stored; quarantined", mail.message_id)
            return self._quarantine(raw, where, "could not be stored")
        except (OperationalError, InterfaceError):
            raise  # the database is down: the mail stays unread on the server and is read again
        except SQLAlchemyError as err:
            log.exception("mail %s could not be stored; quarantined", mail.message_id)
            return self._quarantine(raw, where, f"could not be stored ({type(err).__name__})")

    def login_failed(self, reason: str) -> bool:
        """Report a failed IMAP login to the admins once (not every poll); True when reported now."""
        now = self._clock()
        with self._db.write() as session:
            if session.get(BotState, LOGIN_FAILED, with_for_update=True) is not None:
                return False
            session.add(BotState(key=LOGIN_FAILED, value=now.isoformat()))
            enqueue(
                session, PostKind.POST, now, channel=self.policy.admin_channel,
                text=f"📭 Casedesk cannot log in to the support mailbox ({reason}). Mail waits on the server "
                "until the IMAP settings are fixed; this is reported once.",
            )
            return True

    def login_ok(self) -> None:
        now = self._clock()
        with self._db.write() as session:
            row = session.get(BotState, LOGIN_FAILED, with_for_update=True)
            if row is not None:
                session.delete(row)
                enqueue(session, PostKind.POST, now, channel=self.policy.admin_channel, text="📬 Casedesk can log in to the support mailbox again.")

    # ---- one mail ------------------------------------------------------------------

    def _take(self, session: Session, mail: ParsedMail, raw: bytes, where: Where) -> Intake:
        now = self._clock()
        record = InboundEmail(
            message_id=mail.message_id,
            folder=where.folder,
            uidvalidity=where.uidvalidity,
            uid=where.uid,
            outcome="",
            sender=mail.sender or None,
            subject=mail.subject[:300] or None,
            received_at=now,
        )
        session.add(record)
        session.flush()  # a mail recorded before stops here (unique Message-ID, unique UID)
        ticket = self._case_for(session, mail)
        if mail.automatic:
            record.note = mail.automatic[:300]
            if ticket is None:
                record.outcome = "skipped"
                log.info("automatic mail %s skipped: %s", mail.message_id, mail.automatic)
                return Intake("skipped", reason=mail.automatic)
            record.outcome, record.ticket_id = "note", ticket.id
            stored = self._store(session, ticket, mail, "note", now)
            enqueue(session, PostKind.FOLLOW_UP, now, ticket_id=ticket.id, channel=ticket.card_channel or self.policy.support_channel, message_id=stored.id)
            return Intake("note", TicketRecord.of(ticket), reason=mail.automatic)
        if mail.problems:
            record.raw, record.note = raw, "; ".join(mail.problems)[:300]
        if ticket is None:
            if not mail.sender:
                record.outcome, record.raw = "quarantined", raw
                self._report(session, record, "it has no sender address to answer", now)
                return Intake("quarantined", reason="no sender address")
            opened = self._open(session, mail, now)
            record.outcome, record.ticket_id = "opened", opened.id
            return Intake("opened", TicketRecord.of(opened))
        record.outcome, record.ticket_id = "threaded", ticket.id
        change = self._thread(session, ticket, mail, now)
        return Intake("threaded", change.ticket if change else TicketRecord.of(ticket), change)

    def _case_for(self, session: Session, mail: ParsedMail) -> Ticket | None:
        """By the Message-IDs it answers (ours or seen), then by the subject's token when the
        sender may use it; never by the subject's words."""
        if mail.answers:
            known = union_all(
                select(CaseMessage.email_message_id, CaseMessage.ticket_id).where(CaseMessage.email_message_id.in_(mail.answers)),
                select(OutboundEmail.message_id, OutboundEmail.ticket_id).where(OutboundEmail.message_id.in_(mail.answers)),
            )
            found = {mid: tid for mid, tid in session.execute(known)}
            for message_id in mail.answers:
                if message_id in found:
                    return session.get(Ticket, found[message_id], with_for_update=True)
        for number in TOKEN.findall(mail.subject):
            ticket_id = parse_number(number)
            row = session.get(Ticket, ticket_id, with_for_update=True) if ticket_id else None
            # A guessable number must not let a stranger write into someone else's case.
            if row is not None and (mail.sender == row.reporter_id.lower() or mail.sender in self.policy.admin_emails):
                return row
        return None

    def _open(self, session: Session, mail: ParsedMail, now: datetime) -> Ticket:
        text = mail.text.strip() or "(no text)"
        keyword = self._keywords.find(f"{mail.subject}\n{text}")
        row = open_intake_case(
            session, "email", now, reporter_id=mail.sender, reporter_name=(mail.sender_name or "")[:200] or None,
            details=text[:MAX_DETAILS], title=mail.subject or "(no subject)", keyword=keyword,
            source_key="email:" + hashlib.sha256(mail.message_id.encode()).hexdigest(),
        )
        self._store(session, row, mail, "customer", now)
        session.add(audit_event(row.id, mail.sender, "created", None, Status.OPEN.value, None, now))
        if keyword:
            session.add(audit_event(row.id, mail.sender, "flagged", None, keyword, "escalation keyword", now))
        enqueue(session, PostKind.CARD, now, ticket_id=row.id, channel=self.policy.support_channel)
        if mail.problems:
            self._flag_for_review(session, row, mail, now)
        if self.policy.acknowledge and self.policy.reply_from:
            number = TicketRecord.of(row).number
            queue_mail(
                session, now, ticket_id=row.id, message_id=new_message_id(self.policy.reply_from), to_addr=mail.sender,
                subject=reply_subject(number, mail.subject), body=ack_body(number),
                in_reply_to=mail.message_id, references=mail.message_id, automatic=True,
            )
        return row

    def _thread(self, session: Session, row: Ticket, mail: ParsedMail, now: datetime) -> Change | None:
        from_admin = mail.sender in self.policy.admin_emails
        stored = self._store(session, row, mail, "agent" if from_admin else "customer", now)
        if from_admin:
            record_agent_response(session, row, mail.sender, now)
        else:
            record_customer_message(session, row, mail.sender, mail.text, now, self._keywords)
        row.updated_at = now
        card_channel = row.card_channel or self.policy.support_channel
        enqueue(session, PostKind.FOLLOW_UP, now, ticket_id=row.id, channel=card_channel, message_id=stored.id)
        if mail.problems:
            self._flag_for_review(session, row, mail, now)
        status = Status(row.status)
        change: Change | None = None
        try:
            if from_admin and is_closing_phrase(mail.text) and status is not Status.CLOSED:
                change = self._tickets.close_in(
                    session, row.id, mail.sender, note="Closed by email.",
                    line="🔒 Closed by an admin's email (“I'm closing this case.”).",
                )
            elif not from_admin and mail.sender == row.reporter_id.lower() and status is Status.RESOLVED:
                change = self._tickets.reopen_in(session, row.id, mail.sender, line="🔁 Reopened: the customer replied by email.")
        except ActionNotAllowed:
            return None
        return change  # its card redraw and thread line were queued with the change

    def _store(self, session: Session, row: Ticket, mail: ParsedMail, role: str, now: datetime) -> CaseMessage:
        stored = CaseMessage(
            ticket_id=row.id,
            via="email",
            role=role,
            author_id=mail.sender or "unknown",
            author_name=(mail.sender_name or "")[:200] or None,
            body=(mail.text.strip() or "(no text)")[:MAX_DETAILS * 5],
            created_at=now,
            email_message_id=mail.message_id,
        )
        session.add(stored)
        session.flush()
        for f in mail.files:
            session.add(_attachment(row.id, stored.id, f, self.policy.file_cap))
        too_large = [f for f in mail.files if f.content is None]
        if too_large:
            sizes = ", ".join(f"{f.size / 1_048_576:.1f} MB" for f in too_large[:5])
            enqueue(
                session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=row.card_channel or self.policy.support_channel,
                text=f"📎 {len(too_large)} attachment(s) of this mail ({sizes}) are over the "
                f"{self.policy.file_cap / 1_048_576:.0f} MB limit and were not kept; ask the customer for a link.",
            )
        return stored

    def _flag_for_review(self, session: Session, row: Ticket, mail: ParsedMail, now: datetime) -> None:
        problems = "; ".join(mail.problems)[:300]
        session.add(audit_event(row.id, mail.sender or "unknown", "review", None, None, problems, now))
        enqueue(
            session, PostKind.CARD_THREAD, now, ticket_id=row.id, channel=row.card_channel or self.policy.support_channel,
            text=f"⚠️ A mail on this case could not be read cleanly ({problems}); the original is kept for review.",
        )

    def _quarantine(self, raw: bytes, where: Where, reason: str) -> Intake:
        digest = hashlib.sha256(raw).hexdigest()
        try:
            with self._db.write() as session:
                record = InboundEmail(
                    message_id=f"<{digest[:40]}@quarantine.casedesk>", folder=where.folder, uidvalidity=where.uidvalidity,
                    uid=where.uid, outcome="quarantined", raw=raw, note=reason[:300], received_at=self._clock(),
                )
                session.add(record)
                session.flush()
                self._report(session, record, reason, self._clock())
        except IntegrityError:
            return Intake("duplicate")
        return Intake("quarantined", reason=reason)

    def _report(self, session: Session, record: InboundEmail, reason: str, now: datetime) -> None:
        session.flush()
        enqueue(
            session, PostKind.POST, now, channel=self.policy.admin_channel,
            text=f"📥 A mail could not be taken into a case because {reason}. It is kept as received for review "
            f"(inbound mail #{record.id}).",
        )

    def _recorded(self, message_id: str, where: Where) -> bool:
        with self._db.read() as session:
            by_id = session.scalar(select(InboundEmail.id).where(InboundEmail.message_id == message_id))
            if by_id is not None or where.uid is None:
                return by_id is not None
            return where.uid in self.known_uids(where, [where.uid])


def _attachment(ticket_id: int, message_id: int, f: MailFile, cap: int) -> Attachment:
    too_large = f.content is None
    return Attachment(
        ticket_id=ticket_id,
        message_id=message_id,
        name=f.name,
        content_type=f.content_type,
        size=f.size,
        content=f.content,
        note=f"not kept: {f.size:,} bytes is over the {cap:,}-byte limit (EMAIL_ATTACHMENT_MAX_MB)" if too_large else None,
    )
