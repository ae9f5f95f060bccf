"""Mail into cases: a new mail opens a case, a reply joins its case, an admin's mail can
close it, and automatic mail is kept as a note or skipped, never answered.

Trust: From: is not authentication. A mail joins a case only by something its sender
could not have guessed (the Message-ID of a mail of that case, or the case's reply key
in the subject); the bare number ``[TCK-000123]`` threads only the reporter's or an
admin's mail, and only when the receiving server authenticated it (bot/mail/auth.py).
An ADMIN_EMAILS address has an admin's powers (closing, any case's number, an agent's
response) only with that authentication; otherwise its mail is a customer's, and the
audit trail says why.

Nothing lost, nothing twice: each mail is recorded by Message-ID (and by UID within
UIDVALIDITY) in the same transaction as what it does to a case, so a mail read again
after a crash meets its own record and changes nothing. A mail that cannot be read is
kept raw and reported; it never stops the rest of the mailbox.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.mail.compose import TOKEN, ack_body, new_message_id, reply_subject
from bot.mail.parse import MailFile, ParsedMail, parse_mail
from bot.mail.reply_key import ReplyKeys
from bot.services.case_links import follow_merges
from bot.services.conversations import open_intake_case, record_agent_response, record_customer_message
from bot.services.errors import ActionNotAllowed
from bot.services.mail_outbox import queue_mail
from bot.services.outbox import PostKind, enqueue
from bot.services.phrases import Keywords, is_closing_phrase
from bot.services.records import Change, TicketRecord, parse_number
from bot.services.routing import Criteria
from bot.services.status import Status
from bot.services.tickets import MAX_DETAILS, Clock, TicketService, audit_event, utcnow
from bot.settings.email import IntakeRules
from db.models import Attachment, BotState, CaseMessage, InboundEmail, OutboundEmail, Ticket
from db.session import Database

log = logging.getLogger(__name__)

LOGIN_FAILED = "imap:login-failed"
DEFAULT_RULES = IntakeRules()


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
class Standing:
    """What a mail may do: an admin's powers need an admin's address and authentication."""

    admin: bool
    why: str | None = None  # why an ADMIN_EMAILS address was given no admin powers


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
        self._keys = ReplyKeys(db)

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

    def ingest(self, raw: bytes, where: Where, rules: IntakeRules = DEFAULT_RULES) -> Intake:
        try:
            mail = parse_mail(raw, self.policy.own_addresses, self.policy.file_cap, rules.trusted_authserv)
        except Exception as err:  # a mail that defeats the parser is kept, never dropped
            log.warning("an unreadable mail was quarantined: %s", type(err).__name__)
            return self._quarantine(raw, where, f"unreadable ({type(err).__name__})")
        self._keys.secret()  # read (or made) before the transaction below: it may need one of its own
        try:
            with self._db.write() as session:
                return self._take(session, mail, raw, where, rules)
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
        except Exception as err:  # whatever one mail does, the rest of the mailbox is read
            log.exception("mail %s could not be taken in; quarantined", mail.message_id)
            return self._quarantine(raw, where, f"could not be taken in ({type(err).__name__})")

    def oversized(self, header: bytes, where: Where, size: int, cap: int) -> Intake:
        """A mail too large to read: its header is kept, the mail stays on the server."""
        log.warning("a mail of %s bytes was left on the server (over %s)", size, cap)
        reason = (
            f"it is {size:,} bytes, over the {cap:,}-byte limit (EMAIL_MAX_MB). It was left on the server "
            "unread, and only its header is kept"
        )
        return self._quarantine(header, where, reason)

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

    def _take(self, session: Session, mail: ParsedMail, raw: bytes, where: Where, rules: IntakeRules) -> Intake:
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
        standing = self._standing(mail)
        ticket, unthreaded = self._case_for(session, mail, standing)
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
        if not mail.sender:
            record.outcome, record.raw = "quarantined", raw
            reason = mail.sender_problem or "no sender address"
            self._report(session, record, f"its sender cannot be answered ({reason})", now)
            return Intake("quarantined", reason=reason)
        if ticket is None:
            opened = self._open(session, mail, now, unthreaded, recipients(raw))
            record.outcome, record.ticket_id = "opened", opened.id
            held = self._acknowledge(session, opened, mail, rules, now)
            if held and not record.note:
                record.note = held
            return Intake("opened", TicketRecord.of(opened))
        record.outcome, record.ticket_id = "threaded", ticket.id
        change = self._thread(session, ticket, mail, standing, now)
        return Intake("threaded", change.ticket if change else TicketRecord.of(ticket), change)

    def _standing(self, mail: ParsedMail) -> Standing:
        if mail.sender not in self.policy.admin_emails:
            return Standing(admin=False)
        if mail.auth.passed:
            return Standing(admin=True)
        return Standing(
            admin=False,
            why=f"{mail.sender} is an ADMIN_EMAILS address, but this mail is not authenticated "
            f"({mail.auth.why}), so it was taken as a customer's, with no admin powers",
        )

    def _case_for(self, session: Session, mail: ParsedMail, standing: Standing) -> tuple[Ticket | None, str | None]:
        """(the case, or None with why the subject's case number did not thread it).

        By the Message-IDs it answers (ours or seen: only those who got the mail know
        them), then by the subject's token with the case's reply key, then by the bare
        number for its authenticated reporter or admin; never by the subject's words."""
        row, why = self._keyed_case(session, mail, standing)
        # A merged duplicate's mail goes on in its primary.
        return follow_merges(session, row, lock=True), why

    def _keyed_case(self, session: Session, mail: ParsedMail, standing: Standing) -> tuple[Ticket | None, str | None]:
        by_reply = self._answered(session, mail)
        if by_reply is not None:
            return by_reply, None
        why: str | None = None
        for number, key in TOKEN.findall(mail.subject):
            ticket_id = parse_number(number)
            row = session.get(Ticket, ticket_id, with_for_update=True) if ticket_id else None
            if row is None:
                continue
            if key and self._keys.matches(number, key):
                return row, None
            if standing.admin or (mail.sender == row.reporter_id.lower() and mail.auth.passed):
                return row, None
            why = why or _unthreaded(number.upper(), bool(key), row, mail)
        return None, why

    def _answered(self, session: Session, mail: ParsedMail) -> Ticket | None:
        if not mail.answers:
            return None
        known: Any = union_all(
            select(CaseMessage.email_message_id, CaseMessage.ticket_id).where(CaseMessage.email_message_id.in_(mail.answers)),
            select(OutboundEmail.message_id, OutboundEmail.ticket_id).where(OutboundEmail.message_id.in_(mail.answers)),
        )
        found = dict(session.execute(known).all())
        for message_id in mail.answers:
            if message_id in found:
                return session.get(Ticket, found[message_id], with_for_update=True)
        return None

    def _open(self, session: Session, mail: ParsedMail, now: datetime, unthreaded: str | None, to: tuple[str, ...] = ()) -> Ticket:
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
        card_channel = self._tickets.file_in(session, row, Criteria(mailboxes=to), now)  # routed by the address it came to
        enqueue(session, PostKind.CARD, now, ticket_id=row.id, channel=card_channel)
        if mail.problems:
            self._flag_for_review(session, row, mail, now)
        if unthreaded:
            session.add(audit_event(row.id, mail.sender, "unverified", None, None, f"{unthreaded}; it was opened as a new case", now))
        return row

    def _acknowledge(self, session: Session, row: Ticket, mail: ParsedMail, rules: IntakeRules, now: datetime) -> str | None:
        """Queue the acknowledgement; or say why none is sent (a reflector must stay quiet)."""
        if not (self.policy.acknowledge and self.policy.reply_from):
            return None
        held = self._ack_held(session, mail, rules, now)
        if held:
            log.info("no acknowledgement for %s: %s", mail.message_id, held)
            return f"not acknowledged: {held}"
        number = TicketRecord.of(row).number
        key = self._keys.key(number)
        queue_mail(
            session, now, ticket_id=row.id, message_id=new_message_id(self.policy.reply_from), to_addr=mail.sender,
            subject=reply_subject(number, mail.subject, key), body=ack_body(number, key),
            in_reply_to=mail.message_id, references=mail.message_id, automatic=True,
        )
        return None

    def _ack_held(self, session: Session, mail: ParsedMail, rules: IntakeRules, now: datetime) -> str | None:
        if mail.auth.dmarc_failed:
            return "the mail fails DMARC, so its sender may not have written it"
        recent = (
            select(func.count())
            .select_from(OutboundEmail)
            .where(OutboundEmail.automatic.is_(True), OutboundEmail.created_at > now - timedelta(hours=1))
        )
        if (session.scalar(recent.where(OutboundEmail.to_addr == mail.sender)) or 0) >= rules.ack_per_sender:
            return f"{rules.ack_per_sender} acknowledgements went to this address in the last hour (EMAIL_ACK_PER_HOUR)"
        if (session.scalar(recent.where(OutboundEmail.to_addr.like(f"%@{mail.domain}"))) or 0) >= rules.ack_per_domain:
            return f"{rules.ack_per_domain} acknowledgements went to {mail.domain} in the last hour (EMAIL_ACK_PER_DOMAIN_HOUR)"
        return None

    def _thread(self, session: Session, row: Ticket, mail: ParsedMail, standing: Standing, now: datetime) -> Change | None:
        from_admin = standing.admin
        if standing.why:
            session.add(audit_event(row.id, mail.sender, "unverified", None, None, standing.why, now))
        stored = self._store(session, row, mail, "agent" if from_admin else "customer", now)
        if from_admin:
            record_agent_response(session, row, mail.sender, now, self._tickets.levels)
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
            elif not from_admin and status is Status.WAITING:  # the customer answered: the clock runs again
                change = self._tickets.resume_in(session, row.id, mail.sender, line="▶️ Resumed: the customer replied by email.")
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


RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
MAX_RECIPIENTS = 50


def recipients(raw: bytes) -> tuple[str, ...]:
    """The addresses a mail was delivered or written to (lower-cased, the delivery headers
    first): a mailbox routing rule matches any of them, so mail to an alias the desk reads
    (billing@…) finds its team. Bounded: each header's first 2,000 characters, 50 addresses."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]  # the header alone
    header = BytesHeaderParser().parsebytes(head)
    found: list[str] = []
    for name in RECIPIENT_HEADERS:
        values = [str(v)[:2000] for v in header.get_all(name) or []]
        try:
            pairs = getaddresses(values)
        except (RecursionError, ValueError):
            continue
        found.extend(a.strip().lower() for _, a in pairs if "@" in a)
    return tuple(dict.fromkeys(found))[:MAX_RECIPIENTS]


def _unthreaded(number: str, keyed: bool, row: Ticket, mail: ParsedMail) -> str:
    """Why a subject's case number did not thread this mail, for the new case's audit trail."""
    if keyed:
        return f"the subject names {number} with a reply key that is not that case's"
    if mail.sender == row.reporter_id.lower():
        return (
            f"the subject names {number} and the mail claims to be from its reporter, but it carries no reply key "
            f"and is not authenticated ({mail.auth.why})"
        )
    return f"the subject names {number}, but the sender is neither its reporter nor an authenticated admin, and the mail carries no reply key"


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
