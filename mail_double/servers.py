"""Real mail servers on loopback: pymap (IMAP) in its own process and aiosmtpd (SMTP) in a
thread, each on a free port, a seeding IMAP client, and TLS listeners for the tests."""

from __future__ import annotations

import email
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from imap_tools import MailBoxUnencrypted

MAILBOX_USER = "support@example.com"
MAILBOX_PASSWORD = "mailbox-password"
# pymap's command line with a cheap password hash (see there).
IMAP_PROCESS = Path(__file__).with_name("imap_process.py")
# How long the seeding client waits for pymap's greeting, and then for any answer.
GREETING_WAIT = 10.0
ANSWER_WAIT = 60.0


def stop_with_parent() -> None:
    """Run in a child process before it starts: on Linux, SIGTERM it when the process that
    started it dies, so a test run or sandbox killed outright leaves no server behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ImapServer:
    """pymap's in-memory backend: one user, an empty INBOX, a new UIDVALIDITY on every start."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> ImapServer:
        return self.launch().wait_ready()

    def launch(self) -> ImapServer:
        """Start pymap's process and return at once (it takes a moment to listen). Call it
        from a thread that lives as long as the server: Linux's parent-death signal follows
        the thread that started the process."""
        self._process = subprocess.Popen(
            [sys.executable, str(IMAP_PROCESS), "--host", "127.0.0.1", "--port", str(self.port), "--no-tls", "dict",
             "--demo-user", MAILBOX_USER, "--demo-password", MAILBOX_PASSWORD],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=stop_with_parent,
        )
        return self

    def wait_ready(self) -> ImapServer:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pymap did not start")

    def stop(self) -> None:
        if self._process:
            self._process.terminate()
            self._process.wait(10)

    def client(self) -> MailBoxUnencrypted:
        box = self._greeted()
        box.client.sock.settimeout(ANSWER_WAIT)
        # Without TCP_NODELAY each APPEND waits on Nagle's algorithm (about 40 ms).
        box.client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return box.login(MAILBOX_USER, MAILBOX_PASSWORD)

    def _greeted(self, attempts: int = 3) -> MailBoxUnencrypted:
        """A connection pymap has greeted. Once, on a machine at load 15, pymap accepted the
        seeding client's connection and never greeted it; with no timeout that hung the
        whole test run. A connection not greeted in time is dropped and another opened."""
        for _ in range(attempts - 1):
            try:
                return MailBoxUnencrypted("127.0.0.1", self.port, timeout=GREETING_WAIT)
            except TimeoutError:
                continue
        return MailBoxUnencrypted("127.0.0.1", self.port, timeout=GREETING_WAIT)

    def append(self, *messages: bytes) -> None:
        with self.client() as box:
            for raw in messages:
                box.append(raw, "INBOX")

    def clear(self) -> None:
        with self.client() as box:
            uids = box.uids("ALL")
            if uids:
                box.delete(uids)

    def unseen(self) -> list[str]:
        with self.client() as box:
            return box.uids("UNSEEN")


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message


@dataclass
class _Collector:
    received: list[Received] = field(default_factory=list)
    refuse: bool = False
    # Called after each mail is kept (from the server's thread): the sandbox page's live stream.
    listeners: list[Callable[[Received], None]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "451 4.3.0 try again later"
        raw = envelope.original_content or b""
        kept = Received(str(envelope.mail_from), list(envelope.rcpt_tos), email.message_from_bytes(raw))
        self.received.append(kept)
        for listener in self.listeners:
            listener(kept)
        return "250 OK"


class SmtpServer:
    def __init__(self, tls_context: ssl.SSLContext | None = None) -> None:
        self.port = free_port()
        self._collector = _Collector()
        self._controller = Controller(self._collector, hostname="127.0.0.1", port=self.port, tls_context=tls_context)

    @property
    def received(self) -> list[Received]:
        return self._collector.received

    def on_receive(self, listener: Callable[[Received], None]) -> None:
        self._collector.listeners.append(listener)

    def refuse(self, refuse: bool = True) -> None:
        self._collector.refuse = refuse

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        self._collector.received.clear()
        self._collector.refuse = False

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} mails, the SMTP server has {len(self.received)}")
            time.sleep(0.02)
        return self.received


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no trust store knows (openssl, as a server admin would make one)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


class TlsListener:
    """A TLS server on loopback presenting a self-signed certificate (implicit TLS, as on port 993)."""

    def __init__(self, cert: Path, key: Path) -> None:
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.handshakes_refused = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            try:
                with self._context.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"* OK ready\r\n")
            except (ssl.SSLError, OSError):
                self.handshakes_refused += 1

    def close(self) -> None:
        self._sock.close()
