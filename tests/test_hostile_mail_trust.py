"""An attacker with only an email address: forged admin and reporter mail changes nothing
unless the receiving server authenticated it (Authentication-Results from a trusted
authserv-id, topmost only), and the reply key, not From:, threads replies."""

from __future__ import annotations

from email import message_from_bytes

import pytest
from sqlalchemy import Engine, select

from bot.app import Casedesk
from bot.jobs.email_poll import email_poll
from bot.mail.auth import authenticate
from bot.mail.reply_key import ReplyKeys
from bot.services.status import Status
from bot.services.tickets import NewTicket
from bot.settings import Settings, load_settings
from bot.settings.email import load_rules
from bot.settings.values import ConfigError
from db.models import CaseMessage, InboundEmail
from db.session import Database
from mail_double.servers import ImapServer, SmtpServer
from slack_double import SlackDouble
from tests.conftest import AGENT, REPORTER, SUPPORT, base_env, email_env
from tests.mail_samples import TRUSTED_AUTHSERV, mail
from tests.test_email_intake import count

ADMIN_MAIL = "Boss <boss@example.com>"
CLOSING = "Done on site.\nI'm closing this case."
PASS = f"{TRUSTED_AUTHSERV}; dkim=pass header.d=example.com; dmarc=pass (p=reject) header.from=example.com"
FORGERIES = {
    "no results": {},
    "a failing result": {"Authentication-Results": f"{TRUSTED_AUTHSERV}; dmarc=fail (p=none) header.from=example.com"},
    "an untrusted server": {"Authentication-Results": "mx.attacker.test; dmarc=pass header.from=example.com"},
    "a trusted name written by the sender": {"Authentication-Results": PASS},
}


def received(raw: bytes, results: str) -> bytes:
    """The mail as the receiving server stores it: its own header on top of what arrived."""
    return f"Authentication-Results: {results}\r\n".encode() + raw


@pytest.fixture
def settings(double: SlackDouble, mail_servers: tuple[ImapServer, SmtpServer]) -> Settings:
    env = base_env(double.api_url) | email_env(*mail_servers) | {"EMAIL_TRUSTED_AUTHSERV": TRUSTED_AUTHSERV, "EMAIL_ACK": "false"}
    return load_settings(env)


@pytest.fixture
def imap(mail_servers: tuple[ImapServer, SmtpServer]) -> ImapServer:
    return mail_servers[0]


def messages_on(engine: Engine, ticket_id: int) -> int:
    return count(engine, CaseMessage, CaseMessage.ticket_id == ticket_id)


@pytest.mark.parametrize("forged", FORGERIES, ids=list(FORGERIES))
def test_a_forged_admin_mail_cannot_close_a_case_and_the_same_mail_authenticated_does(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, forged: str
) -> None:
    slack_ticket, _ = desk.deps.tickets.create(NewTicket(REPORTER, "Billing", "Bug", "low", "The printer is broken"))
    card = double.wait_message(SUPPORT, "TCK-000001")
    attack = mail("Re: [TCK-000001]", CLOSING, sender=ADMIN_MAIL, message_id="<forged@attacker.test>", headers=FORGERIES[forged])
    # Whatever the sender wrote, the receiving server said it did not pass (or said nothing).
    delivered = attack if forged != "a trusted name written by the sender" else received(
        attack, f"{TRUSTED_AUTHSERV}; spf=fail smtp.mailfrom=attacker.test; dmarc=fail header.from=example.com"
    )
    imap.append(delivered)
    assert "1 opened" in email_poll(desk.deps)  # a customer's mail with no powers: a case of its own
    ticket = desk.deps.tickets.get(slack_ticket.id)
    assert ticket.status is Status.OPEN and ticket.first_response_at is None
    assert messages_on(desk.engine, slack_ticket.id) == 0
    [why] = [e.note for e in desk.deps.tickets.events(2) if e.kind == "unverified"]
    assert why is not None and "TCK-000001" in why and "opened as a new case" in why

    imap.append(received(mail("Re: [TCK-000001]", CLOSING, sender=ADMIN_MAIL, message_id="<real@example.com>"), PASS))
    assert "1 threaded" in email_poll(desk.deps)
    ticket = desk.deps.tickets.get(slack_ticket.id)
    assert ticket.status is Status.CLOSED and ticket.first_response_at is not None
    double.wait_thread_reply(card, "Closed by an admin's email")


def test_a_forged_admin_mail_that_knows_a_message_id_is_a_customer_message_and_the_audit_says_why(
    desk: Casedesk, double: SlackDouble, imap: ImapServer
) -> None:
    imap.append(mail())
    email_poll(desk.deps)
    imap.append(mail("Re: Printer", CLOSING, sender=ADMIN_MAIL, message_id="<cc@attacker.test>", in_reply_to="<first@customer.test>"))
    assert "1 threaded" in email_poll(desk.deps)
    ticket = desk.deps.tickets.get(1)
    assert ticket.status is Status.OPEN and ticket.first_response_at is None and ticket.followups == 1
    with desk.engine.connect() as conn:
        roles = list(conn.scalars(select(CaseMessage.role).order_by(CaseMessage.id)))
    assert roles == ["customer", "customer"]
    [why] = [e.note for e in desk.deps.tickets.events(1) if e.kind == "unverified"]
    assert why is not None and "ADMIN_EMAILS address" in why and "no admin powers" in why
    assert "no Authentication-Results from a trusted server (mx.example.com)" in why


@pytest.mark.parametrize("forged", [f for f in FORGERIES if f != "a trusted name written by the sender"])
def test_forged_reporter_mail_neither_reopens_nor_adds_to_the_case_and_authenticated_mail_does(
    desk: Casedesk, double: SlackDouble, imap: ImapServer, forged: str
) -> None:
    imap.append(mail())
    email_poll(desk.deps)
    desk.deps.tickets.resolve(1, AGENT, "Replaced the roller.")
    claimed = {name: value.replace("example.com", "customer.test") for name, value in FORGERIES[forged].items()}
    imap.append(mail("Re: Printer [TCK-000001]", "It is broken again, reopen it", message_id="<forged@x.test>", headers=claimed))
    assert "1 opened" in email_poll(desk.deps)
    ticket = desk.deps.tickets.get(1)
    assert ticket.status is Status.RESOLVED and ticket.followups == 0
    assert messages_on(desk.engine, 1) == 1

    authenticated = received(
        mail("Re: Printer [TCK-000001]", "It is broken again", message_id="<again@customer.test>"),
        f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=customer.test",
    )
    imap.append(authenticated)
    assert "1 threaded" in email_poll(desk.deps)
    assert desk.deps.tickets.get(1).status is Status.OPEN
    assert messages_on(desk.engine, 1) == 2


def test_a_reply_key_threads_only_into_its_own_case(desk: Casedesk, double: SlackDouble, imap: ImapServer) -> None:
    imap.append(mail(), mail("Other problem", "Other", sender="dan@other.test", message_id="<dan@other.test>"))
    email_poll(desk.deps)
    keys = ReplyKeys(Database(desk.engine))
    key_of_1 = keys.key("TCK-000001")
    assert key_of_1 != keys.key("TCK-000002") and keys.matches("tck-000001", key_of_1.upper())
    imap.append(
        mail(f"Re: [TCK-000002-{key_of_1}]", "Case 1's key on case 2's number", sender="mallory@x.test", message_id="<swap@x.test>"),
        mail(f"Re: [TCK-000001-{key_of_1}]", "Forwarded to a colleague who answers", sender="erin@customer.test", message_id="<fw@customer.test>"),
    )
    email_poll(desk.deps)
    with desk.engine.connect() as conn:
        outcomes = dict(conn.execute(select(InboundEmail.message_id, InboundEmail.ticket_id)).all())
    assert outcomes["<swap@x.test>"] == 3 and outcomes["<fw@customer.test>"] == 1


def results(*headers: str, sender: str = "Carol <carol@customer.test>") -> bytes:
    return "".join(f"Authentication-Results: {h}\r\n" for h in headers).encode() + mail(sender=sender)


TRUSTED = frozenset({TRUSTED_AUTHSERV})


@pytest.mark.parametrize(
    ("raw", "passed"),
    [
        (results(f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=customer.test"), True),
        (results("MX.Example.COM 1; DMARC = Pass (p=quarantine; \"x;y\") Header.From=Customer.Test"), True),
        (results(f"{TRUSTED_AUTHSERV}; dkim=pass (good) header.d=customer.test header.s=s1"), True),
        (results(f"{TRUSTED_AUTHSERV}; dkim=pass header.i=@mail.customer.test"), False),  # a subdomain signing the parent
        (results(f"{TRUSTED_AUTHSERV}; dkim=pass header.d=customer.test"), True),
        (results(f"{TRUSTED_AUTHSERV}; dkim=pass header.d=customer.test", sender="a@eu.customer.test"), True),  # a parent signing
        (results(f"{TRUSTED_AUTHSERV}; dkim=pass header.d=test"), False),  # a bare top-level name aligns nothing
        (results(f"{TRUSTED_AUTHSERV}; dkim=pass header.d=attacker.test; dmarc=none header.from=customer.test"), False),
        (results(f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=attacker.test"), False),  # another domain's pass
        (results(f"{TRUSTED_AUTHSERV}; dmarc=pass"), False),  # for which domain?
        (results(f"{TRUSTED_AUTHSERV}; none"), False),
        # Topmost trusted header only: a pass below it was added upstream or by the sender.
        (results(f"{TRUSTED_AUTHSERV}; dmarc=fail header.from=customer.test", f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=customer.test"), False),
        # An untrusted server's header above the trusted one is skipped, not believed.
        (results("mx.other.test; dmarc=fail header.from=customer.test", f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=customer.test"), True),
        (results(f"(comment) {TRUSTED_AUTHSERV}.evil; dmarc=pass header.from=customer.test"), False),
        (results(f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=customer.test").replace(b"To:", b"From: x@customer.test\r\nTo:"), False),
    ],
)
def test_authentication_results_are_read_as_rfc_8601_says(raw: bytes, passed: bool) -> None:
    msg = message_from_bytes(raw)
    sender = "a@eu.customer.test" if b"eu.customer.test" in raw else "carol@customer.test"
    assert authenticate(msg, sender.rpartition("@")[2], TRUSTED).passed is passed


def test_dmarc_failure_is_noticed_whoever_reports_it_and_nothing_is_trusted_without_a_setting() -> None:
    msg = message_from_bytes(results("mx.other.test; dmarc=fail header.from=customer.test"))
    auth = authenticate(msg, "customer.test", frozenset())
    assert auth.dmarc_failed and not auth.passed
    assert "none is set in EMAIL_TRUSTED_AUTHSERV" in auth.why
    passing = message_from_bytes(results(f"{TRUSTED_AUTHSERV}; dmarc=pass header.from=customer.test"))
    assert not authenticate(passing, "customer.test", frozenset()).passed


def test_the_trust_settings_are_read_and_checked() -> None:
    rules = load_rules({"EMAIL_TRUSTED_AUTHSERV": "MX.Google.com, tenant.mail.protection.outlook.com", "EMAIL_ACK_PER_HOUR": "5"})
    assert rules.trusted_authserv == {"mx.google.com", "tenant.mail.protection.outlook.com"}
    assert (rules.ack_per_sender, rules.ack_per_domain, rules.max_mail_bytes) == (5, 20, 25 << 20)
    with pytest.raises(ConfigError, match="EMAIL_TRUSTED_AUTHSERV is malformed"):
        load_rules({"EMAIL_TRUSTED_AUTHSERV": "mx.google.com; dmarc=pass"})
    with pytest.raises(ConfigError, match="EMAIL_MAX_MB is malformed"):
        load_rules({"EMAIL_MAX_MB": "lots"})
