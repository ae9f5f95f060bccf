"""Sends the mail owed (to customers, and the notices of new and resolved tickets) over SMTP: STARTTLS by default, certificates verified
(an explicit default SSL context: without one, smtplib does not check the server), and
retried with backoff while the server refuses or is down.

Each mail is its own attempt: one that cannot be composed or that the server refuses is
counted and retried later while the rest of the batch goes on, and after
``DEAD_AFTER`` failed attempts it is given up (dead-lettered) and reported once. The
server being unreachable is nobody's mail's fault: it delays every mail and gives up none.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable
from datetime import timedelta

from bot.mail.compose import build_message
from bot.mail.notice_send import NotReady
from bot.services.mail_outbox import MailOutbox, PendingMail
from bot.services.tickets import Clock, utcnow
from bot.settings.email import SmtpSettings

log = logging.getLogger(__name__)

BATCH = 50
MAX_BACKOFF = timedelta(hours=1)
DEAD_AFTER = 8  # failed attempts of one mail (about an hour of retrying) before it is given up


# Makes a mail ready as it is sent (a notice's Slack users' addresses, its card's link);
# None: no one is left to mail; NotReady: wait.
Finish = Callable[[PendingMail], PendingMail | None]


class Mailer:
    def __init__(
        self, smtp: SmtpSettings, outbox: MailOutbox, clock: Clock = utcnow, timeout: float = 30, finish: Finish | None = None
    ) -> None:
        self.smtp = smtp
        self._outbox = outbox
        self._clock = clock
        self._timeout = timeout
        self._finish = finish

    def send_due(self, report_to: str | None = None) -> int:
        """Send every mail due now; returns how many the server took. ``report_to``: the
        channel told of each mail given up (without it, none is given up this time)."""
        sent = 0
        while True:
            claimed = self._outbox.claim(self._clock(), BATCH)
            if not claimed:
                return sent
            due = self._ready(claimed, report_to)  # before connecting: no SMTP session is held while Slack is asked
            if due:
                try:
                    connection = self._connect()
                except (OSError, smtplib.SMTPException) as err:
                    for mail in due:
                        self._later(mail, err, counted=False)
                    return sent
                try:
                    sent += self._send_batch(connection, due, report_to)
                finally:
                    _close(connection)
            if len(claimed) < BATCH:
                return sent

    def _ready(self, claimed: list[PendingMail], report_to: str | None) -> list[PendingMail]:
        if self._finish is None:
            return claimed
        ready = []
        for mail in claimed:
            try:
                finished = self._finish(mail)
            except NotReady as err:
                self._later(mail, err, counted=False)
                continue
            except Exception as err:  # this mail alone cannot be made ready: counted, like a refusal
                log.exception("mail %s could not be made ready", mail.id)
                self._failed(mail, err, report_to)
                continue
            if finished is None:
                log.info("mail %s: no recipient has an address; not sent", mail.id)
                self._outbox.nobody(mail.id, self._clock(), "no recipient has an address")
                continue
            ready.append(finished)
        return ready

    def _send_batch(self, connection: smtplib.SMTP, due: list[PendingMail], report_to: str | None) -> int:
        sent = 0
        for index, mail in enumerate(due):
            try:
                connection.send_message(build_message(mail, self.smtp.from_addr, self._clock()))
            except (smtplib.SMTPServerDisconnected, OSError) as err:
                # The connection is gone: this mail may be why; the rest wait their turn.
                self._failed(mail, err, report_to)
                for rest in due[index + 1 :]:
                    self._later(rest, err, counted=False)
                return sent
            except Exception as err:  # this mail alone: a refused address, one that cannot be written
                self._failed(mail, err, report_to)
                continue
            self._outbox.sent(mail, self._clock(), actor=self.smtp.from_addr)
            sent += 1
        return sent

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if self.smtp.security == "ssl":
            connection = smtplib.SMTP_SSL(self.smtp.host, self.smtp.port, timeout=self._timeout, context=context)
        else:
            connection = smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self._timeout)
            if self.smtp.security == "starttls":
                connection.starttls(context=context)
        if self.smtp.user:
            connection.login(self.smtp.user, self.smtp.password or "")
        return connection

    def _failed(self, mail: PendingMail, err: BaseException, report_to: str | None) -> None:
        # Only a run that can report gives a mail up (the email-poll job): none is dropped silently.
        if report_to is not None and mail.attempts + 1 >= DEAD_AFTER:
            log.error("mail %s given up after %s attempts (%s)", mail.id, mail.attempts + 1, type(err).__name__)
            self._outbox.give_up(mail, self._clock(), _error(err), type(err).__name__, report_to)
            return
        self._later(mail, err, counted=True)

    def _later(self, mail: PendingMail, err: BaseException, *, counted: bool) -> None:
        delay = min(MAX_BACKOFF, timedelta(seconds=30 * 2**mail.attempts))
        log.warning("mail %s not sent (%s); retrying in %.0f s", mail.id, type(err).__name__, delay.total_seconds())
        self._outbox.later(mail.id, self._clock() + delay, _error(err), counted=counted)


def _error(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()  # the server went away first: nothing to say goodbye to
