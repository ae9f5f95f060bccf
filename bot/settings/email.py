"""Email settings: the IMAP mailbox polled for customers' mail (with the rules its mail
is taken in by: whose authentication results are trusted, how often a sender is
acknowledged, how large a mail is read) and the SMTP server that sends replies. Both are
optional: without IMAP settings the poll is off, without SMTP settings agents cannot
reply by email."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.settings.values import ConfigError, flag, is_email, listed, number, port, required

IMAP_NAMES = ("IMAP_SERVER", "IMAP_EMAIL", "IMAP_PASSWORD")
SMTP_SECURITY = ("starttls", "ssl", "none")
_AUTHSERV_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


@dataclass(frozen=True)
class IntakeRules:
    """How the mailbox's mail is taken in."""

    # authserv-ids of the receiving servers whose Authentication-Results headers are believed
    trusted_authserv: frozenset[str] = frozenset()
    ack_per_sender: int = 3  # acknowledgements to one address per hour
    # to one domain per hour: higher, as many customers share gmail.com and the like
    ack_per_domain: int = 20
    max_mail_bytes: int = 25 * 1024 * 1024  # larger mail is left on the server, recorded and reported


@dataclass(frozen=True)
class ImapSettings:
    server: str
    email: str
    password: str = field(repr=False)
    port: int = 993
    ssl: bool = True
    folder: str = "INBOX"
    poll_seconds: float = 60
    batch: int = 50  # messages fetched and recorded before they are flagged \Seen together
    rules: IntakeRules = field(default_factory=IntakeRules)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    from_addr: str
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    # starttls (the default), ssl (implicit TLS, usually port 465) or none (a local relay)
    security: str = "starttls"


def load_imap(env: Mapping[str, str]) -> ImapSettings | None:
    if not any((env.get(name) or "").strip() for name in IMAP_NAMES):
        return None
    server = required(env, "IMAP_SERVER", "the IMAP server's host name, such as imap.example.com")
    address = required(env, "IMAP_EMAIL", "the support mailbox's address, such as support@example.com")
    password = required(env, "IMAP_PASSWORD", "the support mailbox's password")
    if not is_email(address):
        raise ConfigError("IMAP_EMAIL is malformed: expected an email address such as support@example.com")
    return ImapSettings(
        server=server,
        email=address.lower(),
        password=password,
        port=port(env, "IMAP_PORT", 993) or 993,
        ssl=flag(env, "IMAP_SSL", True),
        folder=(env.get("IMAP_FOLDER") or "").strip() or "INBOX",
        poll_seconds=number(env, "IMAP_POLL_SECONDS", 60, "a number of seconds such as 60"),
        batch=int(number(env, "IMAP_BATCH", 50, "a whole number of messages such as 50", whole=True)),
        rules=load_rules(env),
    )


def load_rules(env: Mapping[str, str]) -> IntakeRules:
    trusted = [name.lower() for name in listed(env.get("EMAIL_TRUSTED_AUTHSERV"))]
    if any(not _AUTHSERV_ID.match(name) for name in trusted):
        raise ConfigError(
            "EMAIL_TRUSTED_AUTHSERV is malformed: expected comma-separated authserv-ids, the first word of your "
            "mail server's Authentication-Results header, such as mx.google.com"
        )
    return IntakeRules(
        trusted_authserv=frozenset(trusted),
        ack_per_sender=int(number(env, "EMAIL_ACK_PER_HOUR", 3, "a whole number of acknowledgements such as 3", whole=True)),
        ack_per_domain=int(
            number(env, "EMAIL_ACK_PER_DOMAIN_HOUR", 20, "a whole number of acknowledgements such as 20", whole=True)
        ),
        max_mail_bytes=int(number(env, "EMAIL_MAX_MB", 25, "a number of megabytes such as 25") * 1024 * 1024),
    )


def load_smtp(env: Mapping[str, str], imap: ImapSettings | None) -> SmtpSettings | None:
    host = (env.get("SMTP_HOST") or "").strip()
    if not host:
        return None
    from_addr = (env.get("SMTP_FROM") or "").strip() or (imap.email if imap else "")
    if not from_addr:
        raise ConfigError("SMTP_FROM is not set: expected the address replies come from, such as support@example.com")
    if not is_email(from_addr):
        raise ConfigError("SMTP_FROM is malformed: expected an email address such as support@example.com")
    security = (env.get("SMTP_SECURITY") or "").strip().lower() or "starttls"
    if security not in SMTP_SECURITY:
        raise ConfigError("SMTP_SECURITY is malformed: expected starttls, ssl or none")
    user = (env.get("SMTP_USER") or "").strip() or None
    password = env.get("SMTP_PASS") or None
    if user and not password:
        raise ConfigError("SMTP_PASS is not set: expected the password of SMTP_USER")
    return SmtpSettings(
        host=host,
        from_addr=from_addr.lower(),
        port=port(env, "SMTP_PORT", 465 if security == "ssl" else 587) or 587,
        user=user,
        password=password,
        security=security,
    )
