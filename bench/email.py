"""Benchmark of email intake: 1,000 new mails read from a real IMAP server (pymap on
loopback) into cases, on SQLite and PostgreSQL.

The mails are a realistic mix: plain text with an HTML alternative (about 2 KB), one in
ten with a 40 KB PDF attached, one in twenty an automatic reply. Each poll reads every
unseen mail by UID, parses it, records it and its case (with the card and thread posts
queued for Slack, and the acknowledgement queued for SMTP) in one transaction, and flags
each batch \\Seen. Slack is not involved: posting is paced separately (1 post/s per
channel), so this measures what the desk itself can take in.

Reported per batch size (IMAP_BATCH): mails per second (the median of ``--runs`` polls,
after one warm-up poll), and the Python heap's peak (tracemalloc, in a separate poll) to
show memory does not grow with the batch. pymap runs on the same machine and takes part
of its CPU.

Usage: python -m bench.email [--db sqlite|postgresql|both] [--mails 1000] [--batches 10,50,200] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from email.message import EmailMessage

from sqlalchemy import func, select

from bench.foundation import database_urls, seed
from bot.mail.imap_poll import MailPoller
from bot.services.effects import Channels
from bot.services.email_intake import EmailIntake, MailPolicy
from bot.services.phrases import Keywords
from bot.services.tickets import TicketService
from bot.settings.email import ImapSettings
from db.models import Base, InboundEmail, Ticket
from db.session import Database, make_engine
from mail_double.servers import MAILBOX_PASSWORD, MAILBOX_USER, ImapServer

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 160


def sample(i: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {i} <customer{i}@example.net>"
    msg["To"] = MAILBOX_USER
    msg["Subject"] = f"Order {i} arrived damaged"
    msg["Message-ID"] = f"<bench-{i}@example.net>"
    if i % 20 == 0:
        msg["Auto-Submitted"] = "auto-replied"
    body = f"Hello,\n\nmy order {i} arrived with a broken lid. " + "Here is what happened. " * 60 + "\n\nThanks"
    msg.set_content(body)
    msg.add_alternative(f"<html><body><p>{body}</p></body></html>", subtype="html")
    if i % 10 == 0:
        msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"photo-{i}.pdf")
    return msg.as_bytes()


def reset(db: Database, imap: ImapServer) -> None:
    """Empty tables and every mail unread again, for the next run."""
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    with imap.client() as box:
        box.client.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")


def poller(db: Database, imap: ImapServer, batch: int) -> MailPoller:
    settings = ImapSettings(server="127.0.0.1", email=MAILBOX_USER, password=MAILBOX_PASSWORD, port=imap.port, ssl=False, batch=batch)
    policy = MailPolicy(
        support_channel="C0SUPPORT", admin_channel="C0ADMINS", admin_emails=frozenset(), own_addresses=frozenset({MAILBOX_USER}),
        reply_from=MAILBOX_USER, acknowledge=True, file_cap=10 << 20,
    )
    tickets = TicketService(db, frozenset({"U0AGENT"}), campaigns=("General",), issue_types=("Bug",), channels=Channels("C0SUPPORT"))
    return MailPoller(settings, EmailIntake(db, tickets, policy, Keywords(("urgent",))))


def run(db_name: str, url: str, imap: ImapServer, mails: int, batches: list[int], runs: int) -> list[str]:
    seed(url, 0)
    db = Database(make_engine(url))
    lines = []
    reset(db, imap)
    poller(db, imap, batches[0]).poll()  # warm-up, not counted: connections, caches, planner statistics
    for batch in batches:
        times = []
        for _ in range(runs):
            reset(db, imap)
            started = time.perf_counter()
            result = poller(db, imap, batch).poll()
            times.append(time.perf_counter() - started)
            with db.read() as session:
                cases = session.scalar(select(func.count()).select_from(Ticket))
                recorded = session.scalar(select(func.count()).select_from(InboundEmail))
            assert result.read == mails and recorded == mails, (result, recorded)
        elapsed = statistics.median(times)
        reset(db, imap)
        tracemalloc.start()
        poller(db, imap, batch).poll()
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
        lines.append(
            f"| {db_name} | {batch} | {mails} | {cases} | {elapsed:.1f} | {mails / elapsed:.0f} | {peak:.1f} |"
        )
        print(lines[-1], flush=True)
    db.engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--batches", default="10,50,200")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    imap = ImapServer().start()
    try:
        started = time.perf_counter()
        with imap.client() as box:
            for i in range(1, args.mails + 1):
                box.append(sample(i), "INBOX")
        print(f"appended {args.mails} mails over IMAP in {time.perf_counter() - started:.1f} s")
        print("| database | batch | mails | cases opened | s | mails/s | peak Python heap MiB |\n|---|---|---|---|---|---|---|")
        for name, url in database_urls(args.db):
            run(name, url, imap, args.mails, [int(b) for b in args.batches.split(",")], args.runs)
    finally:
        imap.stop()


if __name__ == "__main__":
    main()
