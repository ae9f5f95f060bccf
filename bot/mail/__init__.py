"""Email: reading customers' mail (parsing, loop detection, HTML to text), the IMAP poll,
and composing and sending mail over SMTP."""
