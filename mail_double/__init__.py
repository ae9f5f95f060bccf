"""Real mail servers on loopback, for the tests, the benchmarks and the offline sandbox:
pymap (IMAP, in-memory) as the support mailbox and aiosmtpd (SMTP) as the sink that keeps
what the desk sends."""

from mail_double.servers import MAILBOX_PASSWORD, MAILBOX_USER, ImapServer, Received, SmtpServer, free_port

__all__ = ["MAILBOX_PASSWORD", "MAILBOX_USER", "ImapServer", "Received", "SmtpServer", "free_port"]
