"""Mail as customers, their mail programs and mail servers really write it."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

CUSTOMER = "carol@customer.test"
TRUSTED_AUTHSERV = "mx.example.com"  # the receiving server the tests' desk trusts (EMAIL_TRUSTED_AUTHSERV)
KEYED_TOKEN = r"\[TCK-\d{6}-[a-z2-7]{12}\]"  # a case's number and its reply key


def passed(domain: str, server: str = TRUSTED_AUTHSERV) -> dict[str, str]:
    """The header the receiving server adds when a mail passes DMARC for ``domain``."""
    return {"Authentication-Results": f"{server}; spf=pass smtp.mailfrom={domain}; dmarc=pass (p=reject) header.from={domain}"}


def mail(
    subject: str = "Printer on floor 3 is broken",
    body: str = "It jams on every page.\nPlease help.",
    *,
    sender: str = f"Carol Díaz <{CUSTOMER}>",
    message_id: str | None = "<first@customer.test>",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for name, ctype, content in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def raw(text: str) -> bytes:
    """A hand-written mail (for shapes EmailMessage will not produce), with CRLF line ends."""
    return text.strip("\n").replace("\n", "\r\n").encode("latin-1") + b"\r\n"


HTML_ONLY = raw("""
From: Dana <dana@customer.test>
To: support@example.com
Subject: Invoice layout
Message-ID: <html-only@customer.test>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><head><style>p {color: red}</style></head><body><p>Hello,</p><p>The invoice &amp; the <b>receipt</b> differ.</p><ul><li>one</li><li>two</li></ul><p>See <a href="https://example.com/inv/7">invoice 7</a></p></body></html>
""")

LATIN1 = raw("""
From: =?iso-8859-1?q?Ren=E9_M=FCller?= <rene@customer.test>
To: support@example.com
Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=
Message-ID: <latin1@customer.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Sch=F6ne Gr=FC=DFe, das Men=FC ist kaputt.
""")

SHIFT_JIS_BODY = "請求書が表示されません。".encode("shift_jis")

UNKNOWN_CHARSET = raw("""
From: eve@customer.test
To: support@example.com
Subject: Strange letters
Message-ID: <charset@customer.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=x-no-such-charset

Plain words in an unknown charset.
""")

NO_MESSAGE_ID = raw("""
From: frank@customer.test
To: support@example.com
Subject: No id here

My mail program forgets Message-IDs.
""")

OUT_OF_OFFICE = """
From: Carol Díaz <carol@customer.test>
To: support@example.com
Subject: Automatic reply: {subject}
Message-ID: <ooo@customer.test>
In-Reply-To: {in_reply_to}
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
"""

BOUNCE = raw("""
From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>
To: support@example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce@mx.customer.test>
Return-Path: <>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

The mail to nobody@customer.test could not be delivered.
--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.test
Final-Recipient: rfc822; nobody@customer.test
Action: failed
Status: 5.1.1
--b1--
""")

FORWARDED = raw("""
From: Gina <gina@customer.test>
To: support@example.com
Subject: Fwd: Your order
Message-ID: <fwd@customer.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain; charset=utf-8

See the mail below, the order never arrived.
--outer
Content-Type: message/rfc822

From: shop@shop.test
Subject: Your order
Message-ID: <order@shop.test>

Your order has shipped.
--outer--
""")

INLINE_IMAGE = raw("""
From: Hal <hal@customer.test>
To: support@example.com
Subject: Screenshot inside
Message-ID: <inline@customer.test>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>Look at this: <img src="cid:shot1" alt="error dialog"></p>
--rel
Content-Type: image/png
Content-ID: <shot1>
Content-Disposition: inline; filename="shot.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
""")
