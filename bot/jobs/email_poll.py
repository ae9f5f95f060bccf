"""Polling the support mailbox, and sending the mail still owed (replies, acknowledgements)."""

from __future__ import annotations

from bot.deps import Deps


def email_poll(deps: Deps) -> str:
    mail = deps.mail
    if mail.poller is None and mail.mailer is None:
        return "email-poll: off (IMAP_SERVER and SMTP_HOST are not set)"
    parts = []
    if mail.poller is not None:
        polled = mail.poller.poll()
        deps.metrics.mail_polled(polled.outcomes)
        parts.append(polled.summary())
    if mail.mailer is not None:
        parts.append(f"{mail.mailer.send_due(report_to=deps.settings.admin_channel)} sent")
    return "email-poll: " + "; ".join(parts)
