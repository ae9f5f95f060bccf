"""Nothing lost, nothing twice: what real IMAP and SMTP servers do to a desk (dropped
connections, UIDVALIDITY changes, late-visible mail, mispaired fetches, unverified TLS,
refused logins), and the real-world corpus of broken mail."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from imap_tools.folder import MailBoxFolderManager
from sqlalchemy import Engine, select

import bot.mail.imap_poll as imap_poll
from bot.app import Casedesk, create_app
from bot.jobs.email_poll import email_poll
from bot.settings import load_settings
from db.models import InboundEmail, OutboundEmail, Ticket
from mail_double.servers import ImapServer, SmtpServer, TlsListener, self_signed
from slack_double import SlackDouble
from tests.conftest import ADMIN, SUPPORT, base_env, connected, email_env
from tests.mail_samples import mail
from tests.test_email_intake import count

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "email" / "corpus-flanker"


def bot_with(double: SlackDouble, engine: Engine, imap: ImapServer, smtp: SmtpServer, **extra: str) -> Iterator[Casedesk]:
    env = base_env(double.api_url) | email_env(imap, smtp) | extra
    yield from connected(create_app(load_settings(env), engine=engine), double)


@pytest.fixture
def desk(double: SlackDouble, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer]) -> Iterator[Casedesk]:
    yield from bot_with(double, engine, *mail_servers)


def mails(n: int) -> list[bytes]:
    return [mail(f"Problem {i}", f"Details {i}", message_id=f"<m{i}@customer.test>") for i in range(1, n + 1)]


def test_a_connection_dropped_mid_batch_re_reads_without_duplicates(
    desk: Casedesk, mail_servers: tuple[ImapServer, SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    imap, _ = mail_servers
    imap.append(*mails(3))
    real_fetch, fetched = imap_poll._fetch, list[int]()

    def dropping_fetch(mailbox: Any, uid: int) -> bytes | None:
        if len(fetched) == 2:  # the server goes away after two mails were recorded
            mailbox.client.sock.shutdown(2)
        fetched.append(uid)
        return real_fetch(mailbox, uid)

    monkeypatch.setattr(imap_poll, "_fetch", dropping_fetch)
    with pytest.raises(Exception):  # noqa: B017 - whatever the dropped connection raises, the poll must not swallow it
        desk.deps.mail.poller.poll()  # type: ignore[union-attr]
    assert count(desk.engine, Ticket) == 2
    assert len(imap.unseen()) == 3  # nothing was flagged: the connection died first
    monkeypatch.setattr(imap_poll, "_fetch", real_fetch)
    assert desk.deps.mail.poller.poll().summary() == "1 read (1 opened)"  # type: ignore[union-attr]
    assert count(desk.engine, Ticket) == 3 and imap.unseen() == []


def test_a_changed_uidvalidity_reads_everything_again_and_opens_nothing_twice(
    double: SlackDouble, engine: Engine, smtp_server: SmtpServer
) -> None:
    imap = ImapServer().start()
    try:
        for desk in bot_with(double, engine, imap, smtp_server, EMAIL_ACK="false"):
            imap.append(*mails(2))
            assert desk.deps.mail.poller.poll().summary() == "2 read (2 opened)"  # type: ignore[union-attr]
            imap.stop()  # the mailbox is rebuilt: new UIDVALIDITY, every mail unread again
            imap = ImapServer(imap.port).start()
            imap.append(*mails(3))
            assert desk.deps.mail.poller.poll().summary() == "3 read (2 duplicate, 1 opened)"  # type: ignore[union-attr]
            assert count(desk.engine, Ticket) == 3 and imap.unseen() == []
            with desk.engine.connect() as conn:
                assert len(set(conn.scalars(select(InboundEmail.uidvalidity)))) == 2
    finally:
        imap.stop()


def test_mail_appended_after_the_folder_was_selected_is_seen_in_the_same_poll(
    desk: Casedesk, mail_servers: tuple[ImapServer, SmtpServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    imap, _ = mail_servers
    real_select = MailBoxFolderManager.set

    delivered: list[bool] = []

    def select_then_new_mail(self: MailBoxFolderManager, *args: Any, **kwargs: Any) -> Any:
        result = real_select(self, *args, **kwargs)
        if not delivered:  # the poll's own SELECT: another session delivers right after it
            delivered.append(True)
            monkeypatch.setattr(MailBoxFolderManager, "set", real_select)
            imap.append(mail())
        return result

    monkeypatch.setattr(MailBoxFolderManager, "set", select_then_new_mail)
    assert desk.deps.mail.poller.poll().summary() == "1 read (1 opened)"  # type: ignore[union-attr]


class _Client:
    def __init__(self, data: list[Any]) -> None:
        self.data = data

    def uid(self, *args: str) -> tuple[str, list[Any]]:
        return "OK", self.data


class _Mailbox:
    def __init__(self, data: list[Any]) -> None:
        self.client = _Client(data)


def test_a_fetch_answer_is_paired_by_its_uid_never_by_position() -> None:
    # Servers interleave unsolicited FETCH (FLAGS) lines and answers for other messages.
    answer = [b"4 (FLAGS (\\Seen))", (b"5 (UID 12 BODY[] {5}", b"other"), b")", (b"6 (UID 13 BODY[] {4}", b"mine"), b")"]
    assert imap_poll._fetch(_Mailbox(answer), 13) == b"mine"  # type: ignore[arg-type]
    assert imap_poll._fetch(_Mailbox(answer[:3]), 13) is None  # type: ignore[arg-type]
    assert imap_poll._fetch(_Mailbox([(b"5 (BODY[] {5}", b"nouid")]), 13) is None  # type: ignore[arg-type]


def test_a_refused_login_is_reported_once_and_its_recovery_too(
    double: SlackDouble, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    for desk in bot_with(double, engine, *mail_servers, IMAP_PASSWORD="wrong"):
        assert email_poll(desk.deps) == "email-poll: login failed; 0 sent"
        assert email_poll(desk.deps) == "email-poll: login failed; 0 sent"
        double.wait_message(ADMIN, "cannot log in to the support mailbox")
        good = create_app(load_settings(base_env(double.api_url) | email_env(*mail_servers)), engine=engine)
        good.deps.mail.poller.poll()  # type: ignore[union-attr]
        desk.deps.sender.poke()
        double.wait_message(ADMIN, "can log in to the support mailbox again")
        assert [m.text for m in double.messages(ADMIN) if "log in" in m.text and "cannot" in m.text].__len__() == 1
        assert "wrong" not in " ".join(m.text for m in double.messages(ADMIN))


def test_imap_over_tls_refuses_a_certificate_nobody_vouches_for(
    double: SlackDouble, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer], tmp_path: Path
) -> None:
    listener = TlsListener(*self_signed(tmp_path))
    try:
        for desk in bot_with(double, engine, *mail_servers, IMAP_SSL="true", IMAP_PORT=str(listener.port)):
            with pytest.raises(ssl.SSLCertVerificationError):
                desk.deps.mail.poller.poll()  # type: ignore[union-attr]
    finally:
        listener.close()


def test_smtp_starttls_refuses_a_certificate_nobody_vouches_for(
    double: SlackDouble, engine: Engine, imap_server: ImapServer, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    smtp = SmtpServer(tls_context=context).start()
    imap_server.clear()
    try:
        for desk in bot_with(double, engine, imap_server, smtp, SMTP_SECURITY="starttls"):
            imap_server.append(mail())
            assert email_poll(desk.deps) == "email-poll: 1 read (1 opened); 0 sent"
            with desk.engine.connect() as conn:
                [(error, sent_at)] = conn.execute(select(OutboundEmail.error, OutboundEmail.sent_at)).all()
            assert str(error).startswith("SSLCertVerificationError") and sent_at is None  # kept, to be retried
            assert smtp.received == []
    finally:
        smtp.stop()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared mail corpus is not beside the project")
def test_the_real_world_corpus_is_taken_in_or_quarantined_and_never_stops_the_batch(
    double: SlackDouble, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    imap, _ = mail_servers
    files = sorted(CORPUS.glob("*.eml"))
    assert len(files) == 48
    for desk in bot_with(double, engine, *mail_servers, EMAIL_ACK="false", IMAP_BATCH="10"):
        imap.append(*(f.read_bytes() for f in files))
        result = desk.deps.mail.poller.poll()  # type: ignore[union-attr]
        assert result.read == 48 and imap.unseen() == []
        with desk.engine.connect() as conn:
            outcomes = list(conn.scalars(select(InboundEmail.outcome)))
        # Some of the corpus's mails share a Message-ID (one mail in several shapes): one record each.
        assert len(outcomes) == 48 - result.outcomes.get("duplicate", 0)
        assert set(outcomes) <= {"opened", "threaded", "note", "skipped", "quarantined"}
        # Bounces and reports never open cases.
        opened = count(desk.engine, Ticket)
        assert opened == result.outcomes.get("opened", 0) and opened < 48
        double.wait_message(SUPPORT, "TCK-000001", timeout=10)


def test_mail_waits_on_the_server_while_the_database_is_down(
    double: SlackDouble, engine: Engine, mail_servers: tuple[ImapServer, SmtpServer]
) -> None:
    from sqlalchemy.exc import OperationalError

    from db.session import make_engine

    imap, smtp = mail_servers
    imap.append(*mails(2))
    env = base_env(double.api_url) | email_env(imap, smtp)
    # Nothing listens on port 1: every database connection is refused at once.
    broken = create_app(load_settings(env), engine=make_engine("postgresql://postgres@127.0.0.1:1/casedesk"))
    with pytest.raises(OperationalError):
        broken.deps.mail.poller.poll()  # type: ignore[union-attr]
    assert len(imap.unseen()) == 2  # nothing flagged, nothing lost
    for desk in bot_with(double, engine, imap, smtp):
        assert desk.deps.mail.poller.poll().summary() == "2 read (2 opened)"  # type: ignore[union-attr]
