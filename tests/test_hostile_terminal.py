"""What a sender wrote never reaches an admin's terminal as control characters:
``python -m bot mail list`` prints them as spaces, ``mail show`` as ``\\xNN`` on a
terminal and byte for byte into a file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.services.kept_mail import raw_mail
from db.models import InboundEmail
from db.session import Database, make_engine
from tests.conftest import base_env
from tests.test_cli import run_bot

ESCAPES = "\x1b[2J\x1b]0;owned\x07\x9b31m\u202e"
RAW = f"From: evil@x.test\r\nSubject: {ESCAPES}\r\n\r\nbody \x1b[31mred".encode()


def kept(tmp_path: Path) -> Database:
    """A database beside the CLI's, holding a mail kept before senders were checked strictly."""
    assert run_bot(["db", "upgrade"], base_env(), tmp_path).returncode == 0
    db = Database(make_engine(f"sqlite:///{tmp_path / 'casedesk.db'}"))
    with db.write() as session:
        session.add(
            InboundEmail(
                message_id="<old@x.test>", folder="INBOX", outcome="quarantined", sender=f"evil{ESCAPES}@x.test",
                note=f"unreadable {ESCAPES}", raw=RAW, received_at=datetime(2026, 11, 20, tzinfo=UTC),
            )
        )
    return db


def test_mail_list_prints_no_control_characters(tmp_path: Path) -> None:
    kept(tmp_path)
    listed = run_bot(["mail", "list"], base_env(), tmp_path)
    assert listed.returncode == 0 and "#1" in listed.stdout and "evil" in listed.stdout
    assert not any(ch in listed.stdout for ch in "\x1b\x07\x9b\u202e")


def test_mail_show_escapes_control_bytes_for_a_terminal_and_keeps_them_for_a_file(tmp_path: Path) -> None:
    db = kept(tmp_path)
    shown = raw_mail(db, 1, for_terminal=True)
    assert shown is not None and b"\x1b" not in shown and b"\x07" not in shown and b"\\x1b[2J" in shown
    assert b"\\xc2\\x9b31m" in shown and "\u202e".encode() in shown  # C1 controls as UTF-8 writes them
    assert raw_mail(db, 1, for_terminal=False) == RAW
    redirected = run_bot(["mail", "show", "1"], base_env(), tmp_path)  # standard output is a pipe here
    assert redirected.returncode == 0 and "\x1b[31mred" in redirected.stdout
