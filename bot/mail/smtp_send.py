"""Sends the mail owed to customers over SMTP: STARTTLS by default, certificates verified
(an explicit default SSL context: without one, smtplib does not check the server), and
retried with backoff while the server refuses or is down."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import timedelta

from bot.config_email import SmtpSettings
from bot.mail.compose import build_message
from bot.services.mail_outbox import MailOutbox
from bot.services.tickets import Clock, utcnow

log = logging.getLogger(__name__)

BATCH = 50
MAX_BACKOFF = timedelta(hours=1)


class Mailer:
    def __init__(self, smtp: SmtpSettings, outbox: MailOutbox, clock: Clock = utcnow, timeout: float = 30) -> None:
        self.smtp = smtp
        self._outbox = outbox
        self._clock = clock
        self._timeout = timeout

    def send_due(self) -> int:
        """Send every mail due now; returns how many the server took."""
        sent = 0
        while True:
            due = self._outbox.claim(self._clock(), BATCH)
            if not due:
                return sent
            try:
                connection = self._connect()
            except (OSError, smtplib.SMTPException) as err:
                for mail in due:
                    self._later(mail.id, mail.attempts, err)
                return sent
            with connection:
                for mail in due:
                    try:
                        connection.send_message(build_message(mail, self.smtp.from_addr, self._clock()))
                    except (OSError, smtplib.SMTPException) as err:
                        self._later(mail.id, mail.attempts, err)
                        continue
                    self._outbox.sent(mail.id, self._clock())
                    sent += 1
            if len(due) < BATCH:
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

    def _later(self, mail_id: int, attempts: int, err: BaseException) -> None:
        delay = min(MAX_BACKOFF, timedelta(seconds=30 * 2**attempts))
        log.warning("mail %s not sent (%s); retrying in %.0f s", mail_id, type(err).__name__, delay.total_seconds())
        self._outbox.later(mail_id, self._clock() + delay, f"{type(err).__name__}: {err}")
