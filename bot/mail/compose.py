"""Mail the desk writes: subjects carrying the case's token (its number and reply key),
the acknowledgement's words, and the finished message with the headers that thread
replies and stop loops."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.services.mail_outbox import PendingMail

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|fw|fwd|wg)\s*:\s*)+", re.IGNORECASE)
# ``[TCK-000123]`` or ``[TCK-000123-k3y…]``: the number, and the reply key when there is one.
TOKEN = re.compile(r"\[\s*(TCK-\d{1,9})(?:-([a-z0-9]{1,40}))?\s*\]", re.IGNORECASE)


def new_message_id(from_addr: str) -> str:
    return make_msgid(domain=from_addr.rsplit("@", 1)[-1])


def token(number: str, key: str | None = None) -> str:
    return f"[{number}-{key}]" if key else f"[{number}]"


def reply_subject(number: str, subject: str | None, key: str | None = None) -> str:
    """``Re: <subject> [TCK-000123-k3y…]``: one Re:, and the token that threads the answer
    back (without its key where the subject is only shown, never sent)."""
    without = TOKEN.sub(lambda m: "" if m.group(1).upper() == number else m.group(0), subject or "")
    base = " ".join(_REPLY_PREFIX.sub("", without).split()) or "Your request"
    return f"Re: {base} {token(number, key)}"


def ack_body(number: str, key: str) -> str:
    return (
        f"Hello,\n\nThank you for writing to us. Your request is now case {number}, and our support "
        "team will answer you at this address.\n\n"
        f"To add to it, reply to this mail and keep {token(number, key)} in the subject.\n\n"
        "This is an automatic message."
    )


def build_message(mail: PendingMail, from_addr: str, sent_at: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = mail.to_addr
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        msg["References"] = mail.references
    # Our own mail, if it ever comes back to the mailbox, is recognised and never answered.
    msg["X-Loop"] = from_addr
    if mail.automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other desks must not answer it
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(mail.body)
    return msg
