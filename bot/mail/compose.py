"""Mail the desk writes: subjects carrying the case's token (its number and reply key),
the acknowledgement's and the notices' words, and the finished message with the headers
that thread replies and stop loops."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.services.mail_outbox import NOTICES, PendingMail

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
    if mail.cc_addrs:
        msg["Cc"] = mail.cc_addrs
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(sent_at)
    msg["Message-ID"] = mail.message_id
    if mail.in_reply_to:
        msg["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        msg["References"] = mail.references
    # Our own mail, if it ever comes back to the mailbox, is recognised and never answered.
    msg["X-Loop"] = from_addr
    if mail.kind in NOTICES:
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: a notice nobody asked for; not to be answered by machines
        msg["X-Auto-Response-Suppress"] = "All"
    elif mail.automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other desks must not answer it
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(mail.body)
    return msg


# ---- notices of a new or resolved ticket ----------------------------------------------------


def notice_subject(number: str, event: str, headline: str) -> str:
    """``New ticket TCK-000123: <headline>``; the token with its reply key is added when it is sent."""
    what = "New ticket" if event == "created" else "Resolved"
    return f"{what} {number}: {' '.join(headline.split())[:200]}"


def notice_body(number: str, event: str, lines: list[tuple[str, str]], text: str, note: str | None) -> str:
    """The team's notice: what happened, the ticket's fields, its text (and the resolution
    note); the card's link is added when it is sent."""
    head = f"{number} was filed." if event == "created" else f"{number} was resolved."
    fields = "\n".join(f"{label}: {value}" for label, value in lines if value)
    parts = [head, fields, _quoted(text)]
    if note:
        parts.append("Resolution note:\n" + _quoted(note))
    parts.append("This is an automatic message from the support desk.")
    return "\n\n".join(p for p in parts if p)


def requester_body(number: str, note: str | None) -> str:
    """The customer's notice that their case is resolved (no internal details)."""
    parts = [f"Hello,\n\nYour request, case {number}, has been resolved."]
    if note:
        parts.append("Our note:\n" + _quoted(note))
    parts.append("If it is not solved for you, reply to this mail and the case is opened again.")
    parts.append("This is an automatic message.")
    return "\n\n".join(parts)


def with_link(body: str, link: str | None) -> str:
    return f"{body}\n\nThe ticket in Slack: {link}" if link else body


def _quoted(text: str, limit: int = 4000) -> str:
    cut = text.strip()
    if len(cut) > limit:
        cut = cut[: limit - 1] + "…"
    return "\n".join(f"> {line}" for line in cut.splitlines())
