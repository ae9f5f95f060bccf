"""Reads new mail from the support mailbox with imap-tools, in batches of bounded memory.

What real servers do, and what this does about it:
- a session does not see mail another session appended until NOOP: NOOP before searching;
- a bulk FETCH can pair bodies with the wrong UIDs: each mail is fetched by its own UID
  FETCH, and a response without that UID is skipped (read again next time);
- UIDVALIDITY can change: UIDs are recorded with it, and mail is de-duplicated by Message-ID;
- a mail is flagged \\Seen only after the commit that recorded it;
- a mail can be of any size: each one's RFC822.SIZE is asked first, and one over
  EMAIL_MAX_MB is never downloaded (only its header, for the record and the report).
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass, field

from imap_tools import AND, BaseMailBox, MailBox, MailboxLoginError, MailBoxUnencrypted

from bot.services.email_intake import EmailIntake, Intake, Where
from bot.settings.email import ImapSettings

log = logging.getLogger(__name__)

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
HEADER_KEPT = 65_536  # bytes of an oversized mail's header fetched and kept


@dataclass
class PollResult:
    read: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    login_failed: bool = False

    def summary(self) -> str:
        if self.login_failed:
            return "login failed"
        done = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        return f"{self.read} read" + (f" ({done})" if done else "")


class MailPoller:
    def __init__(self, imap: ImapSettings, intake: EmailIntake, timeout: float = 30) -> None:
        self.imap = imap
        self._intake = intake
        self._timeout = timeout

    def poll(self) -> PollResult:
        result = PollResult()
        try:
            mailbox = self._login()
        except MailboxLoginError:
            result.login_failed = True
            if self._intake.login_failed("the server refused IMAP_EMAIL and IMAP_PASSWORD"):
                log.error("IMAP login to %s failed; reported to the admin channel", self.imap.server)
            return result
        self._intake.login_ok()
        with mailbox:
            mailbox.folder.set(self.imap.folder)
            uidvalidity = _uidvalidity(mailbox, self.imap.folder)
            mailbox.client.noop()
            uids = sorted(int(u) for u in mailbox.uids(AND(seen=False)))
            for start in range(0, len(uids), self.imap.batch):
                self._batch(mailbox, Where(self.imap.folder, uidvalidity), uids[start : start + self.imap.batch], result)
        return result

    def _login(self) -> BaseMailBox:
        if self.imap.ssl:
            mailbox: BaseMailBox = MailBox(self.imap.server, self.imap.port, timeout=self._timeout, ssl_context=ssl.create_default_context())
        else:
            mailbox = MailBoxUnencrypted(self.imap.server, self.imap.port, timeout=self._timeout)
        return mailbox.login(self.imap.email, self.imap.password, initial_folder=None)

    def _batch(self, mailbox: BaseMailBox, where: Where, uids: list[int], result: PollResult) -> None:
        done = sorted(self._intake.known_uids(where, uids))  # recorded before a crash: only the flag is missing
        try:
            sizes = _sizes(mailbox, [uid for uid in uids if uid not in done])
            for uid in uids:
                if uid in done:
                    continue
                intake = self._take(mailbox, Where(where.folder, where.uidvalidity, uid), uid, sizes.get(uid, 0))
                if intake is None:
                    log.warning("UID %s came back without its body; it will be read again", uid)
                    continue
                result.read += 1
                result.outcomes[intake.outcome] = result.outcomes.get(intake.outcome, 0) + 1
                done.append(uid)
        finally:
            # Only what is committed is flagged: a crash before this re-reads the batch, and
            # the records make the re-read change nothing.
            if done:
                mailbox.client.uid("STORE", ",".join(str(u) for u in done), "+FLAGS", "(\\Seen)")

    def _take(self, mailbox: BaseMailBox, where: Where, uid: int, size: int) -> Intake | None:
        """One mail into the desk; None when the server did not send it (it is read again)."""
        cap = self.imap.rules.max_mail_bytes
        if size > cap:
            header = _fetch(mailbox, uid, f"BODY.PEEK[HEADER]<0.{HEADER_KEPT}>")
            return None if header is None else self._intake.oversized(header, where, size, cap)
        raw = _fetch(mailbox, uid)
        if raw is None:
            return None
        if len(raw) > cap:  # the server said it was smaller
            return self._intake.oversized(raw.split(b"\r\n\r\n", 1)[0][:HEADER_KEPT], where, len(raw), cap)
        return self._intake.ingest(raw, where, self.imap.rules)


def _sizes(mailbox: BaseMailBox, uids: list[int]) -> dict[int, int]:
    """Each mail's RFC822.SIZE, in one UID FETCH; a mail missing from the answer counts as 0
    (its size is checked again once fetched)."""
    if not uids:
        return {}
    status, data = mailbox.client.uid("FETCH", ",".join(str(u) for u in uids), "(RFC822.SIZE)")
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH RFC822.SIZE failed: {status}")
    sizes: dict[int, int] = {}
    for item in data or []:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _uidvalidity(mailbox: BaseMailBox, folder: str) -> int:
    """From the SELECT's answer; STATUS on the selected folder is the fallback (RFC 3501 discourages it)."""
    _, data = mailbox.client.response("UIDVALIDITY")
    if data and data[0]:
        return int(data[0])
    return int(mailbox.folder.status(folder, ["UIDVALIDITY"])["UIDVALIDITY"])


def _fetch(mailbox: BaseMailBox, uid: int, part: str = "BODY.PEEK[]") -> bytes | None:
    status, data = mailbox.client.uid("FETCH", str(uid), f"(UID {part})")
    if status != "OK":
        raise imaplib.IMAP4.error(f"UID FETCH {uid} failed: {status}")
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            found = _UID.search(item[0])
            if found and int(found.group(1)) == uid:
                return bytes(item[1])
    return None
