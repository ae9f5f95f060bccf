"""A received mail, read into what a case needs: who wrote, about what, the text, the
attachments, the Message-IDs it answers, and whether it is automatic.

Real mail is often broken (missing boundaries, unknown charsets, 8-bit headers, no
Message-ID). Reading never gives up on such a mail: what could not be read cleanly is
listed in ``problems`` so the case can be flagged for review, and the raw mail is kept.

Hostile mail is bounded: header values are cut before they are decoded, text parts before
they are converted, and the sender's address must be one plain address (anything else
leaves ``sender`` empty, and the mail is quarantined), so the cost of reading a mail grows
with its size, never with the square of it.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses

from bot.mail.auth import MailAuth, authenticate
from bot.mail.bounds import nth_mark
from bot.mail.html_text import MAX_HTML, html_to_text
from bot.mail.loops import automatic_reason

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
MAX_TEXT = 100_000
MAX_PARTS = 500  # a torture mail of thousands of parts is read up to here
MAX_DEPTH = 30  # multiparts nested deeper than this are not read
MAX_HEADER = 2_000  # characters of a header value decoded (RFC 5322 lines are 998 at most)
MAX_REFERENCES = 8_000  # the newest end of References: about the last 100 Message-IDs
MAX_FIELDS = 1_000  # header lines read at the top of a mail (real mail has tens)
MAX_BOUNDARIES = 2 * MAX_PARTS + 2  # lines starting "--" read: parts past MAX_PARTS are never read anyway
MAX_MULTIPARTS = 4 * MAX_DEPTH  # multipart containers read: the parser checks each line against every open boundary
_MULTIPART = re.compile(rb"^content-type:[ \t]*multipart/", re.IGNORECASE | re.MULTILINE)
MISSING_ID_DOMAIN = "missing-id.casedesk"
NOT_CHECKED = MailAuth(False, "not checked")

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# One plain address: dot-atom local part, a host name with a top-level name that starts
# with a letter. Quoted local parts and address literals are refused (they are not mail a
# person writes to a help desk, and they are how header injection is smuggled).
ADDRESS = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?")
_SURROGATE = re.compile("[\udc80-\udcff]")
# C0 and C1 controls, and the bidirectional overrides that make text read as something else.
_INVISIBLE = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)], " ")


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    size: int
    content: bytes | None  # None: larger than the cap, noted instead
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str  # lower-cased address; "" when the From line has none
    sender_name: str | None
    subject: str
    text: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    automatic: str | None
    files: tuple[MailFile, ...] = ()
    problems: tuple[str, ...] = field(default=())
    auth: MailAuth = NOT_CHECKED
    sender_problem: str | None = None  # why ``sender`` is empty

    @property
    def domain(self) -> str:
        return self.sender.rpartition("@")[2]

    @property
    def answers(self) -> tuple[str, ...]:
        """The Message-IDs this mail replies to, most likely first: In-Reply-To, then References newest first."""
        return tuple(dict.fromkeys((*self.in_reply_to, *reversed(self.references))))


def parse_mail(raw: bytes, own: frozenset[str], file_cap: int, trusted: frozenset[str] = frozenset()) -> ParsedMail:
    """``trusted``: the authserv-ids whose Authentication-Results are believed."""
    problems: list[str] = []
    msg = message_from_bytes(_bounded(raw, problems))
    message_id = _first_id(header_text(msg, "Message-ID"))
    if message_id is None:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@{MISSING_ID_DOMAIN}>"
        problems.append("no Message-ID")
    name, sender, sender_problem = _sender(msg)
    if sender_problem:
        problems.append(sender_problem)
    reader = _BodyReader(file_cap)
    reader.read(msg)
    problems.extend(reader.problems)
    if msg.defects or reader.defects:
        kinds = sorted({type(d).__name__ for d in [*msg.defects, *reader.defects]})
        problems.append("broken MIME: " + ", ".join(kinds)[:150])
    return ParsedMail(
        message_id=message_id[:998],
        sender=sender,
        sender_name=" ".join(printable(clean(_decode_words(name))).split()) or None,
        subject=" ".join(printable(header_text(msg, "Subject")).split())[:300],
        text=reader.text()[:MAX_TEXT],
        in_reply_to=tuple(MESSAGE_ID.findall(header_text(msg, "In-Reply-To")))[:20],
        references=tuple(MESSAGE_ID.findall(header_text(msg, "References", MAX_REFERENCES, tail=True)))[-50:],
        automatic=automatic_reason(msg, sender, own),
        files=tuple(reader.files),
        problems=tuple(dict.fromkeys(problems)),
        auth=authenticate(msg, sender.rpartition("@")[2], trusted),
        sender_problem=sender_problem,
    )


def is_address(text: str) -> bool:
    """One plain address (letters of any script allowed, no spaces, controls or quoting)."""
    if len(text) > 254 or len(text.partition("@")[0]) > 64:
        return False
    # Letters and digits beyond ASCII (internationalised addresses) count as letters.
    ascii_shape = "".join("a" if ord(ch) > 127 and ch.isalnum() else ch for ch in text)
    return ADDRESS.fullmatch(ascii_shape) is not None


def clean(text: str) -> str:
    """Text safe to store anywhere: raw 8-bit bytes read as UTF-8 where they are, no NULs."""
    if _SURROGATE.search(text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes, bidirectional overrides) made spaces."""
    return text.translate(_INVISIBLE)


def _bounded(raw: bytes, problems: list[str]) -> bytes:
    """``raw`` cut where reading it further would only cost time: the standard library's
    parser builds every header and every MIME part before a single one is read, so a mail
    of 100,000 header lines or 20,000 parts would cost seconds for nothing the desk keeps."""
    head_end = _end_of_head(raw)
    # The head's last line ends at head_end, outside the count: n line ends before it make n + 1 lines.
    cut = nth_mark(raw, b"\n", MAX_FIELDS - 1, head_end, folded=b" \t")
    if cut is not None:
        problems.append(f"more than {MAX_FIELDS} header lines; the rest were not read")
        raw = raw[: cut + 1] + raw[head_end + 1 :]
    cut = nth_mark(raw, b"\n--", MAX_BOUNDARIES)
    if cut is not None:
        problems.append(f"more than {MAX_PARTS} MIME parts; the rest was not read")
        raw = raw[: cut + 1]
    multiparts = _MULTIPART.finditer(raw)
    for seen, found in enumerate(multiparts, start=1):
        if seen > MAX_MULTIPARTS:
            problems.append(f"more than {MAX_MULTIPARTS} multipart containers; the rest was not read")
            return raw[: found.start()]
    return raw


def _end_of_head(raw: bytes) -> int:
    """Where the top-level header block ends (its blank line), or the mail's end."""
    ends = [at for at in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if at >= 0]
    return min(ends) if ends else len(raw)


def header_text(msg: Message, name: str, limit: int = MAX_HEADER, *, tail: bool = False) -> str:
    """The first ``name`` header, decoded; only its first (or last) ``limit`` characters."""
    raw = _raw_header(msg, name)
    if raw is None:
        return ""
    cut = raw[-limit:] if tail else raw[:limit]
    return clean(_decode_words(msg.policy.header_fetch_parse(name, cut)))


def _raw_header(msg: Message, name: str) -> str | None:
    """The header as written (8-bit bytes kept as surrogates), before any decoding: an
    address is split from its name first, so a decoded comma cannot split it in two."""
    return next((str(v) for k, v in msg.raw_items() if k.lower() == name.lower()), None)


def _sender(msg: Message) -> tuple[str, str, str | None]:
    """(name, address, problem): the address lower-cased, or empty with the reason."""
    froms = msg.get_all("From") or []
    raw = _raw_header(msg, "From") or ""
    if not raw.strip():
        return "", "", "no sender address"
    if len(froms) > 1:
        return "", "", "more than one From: line"
    if len(raw) > MAX_HEADER:
        return "", "", "the From: line is too long to be one address"
    try:
        found = [(n, a) for n, a in getaddresses([raw]) if "@" in a]
    except RecursionError:  # the standard library's parser recurses into nested comments
        return "", "", "the sender address is malformed"
    if len(found) > 1:
        return "", "", "more than one sender address"
    name, address = found[0] if found else ("", "")
    address = clean(address).strip().lower()
    if not is_address(address):
        return name, "", "the sender address is malformed" if address else "no sender address"
    return name, address, None


def _decode_words(value: object) -> str:
    """RFC 2047 encoded words (=?utf-8?q?…?=) decoded; undecodable pieces kept as best read."""
    try:
        pieces = decode_header(value)  # type: ignore[arg-type]
    except Exception:
        return str(value)
    out: list[str] = []
    for chunk, charset in pieces:
        out.append(chunk if isinstance(chunk, str) else decode_bytes(chunk, charset)[0])
    return "".join(out)


def decode_bytes(data: bytes, charset: str | None, *, complete: bool = True) -> tuple[str, str | None]:
    """(text, problem): an unknown or wrong charset is read as UTF-8, then Latin-1, and said so.
    ``complete=False``: ``data`` was cut, so a character split at its end is left out."""
    # Charset names come from the mail: keep only what a charset name can hold.
    name = re.sub(r"[^\w.:+-]", "?", (charset or "us-ascii").strip().strip('"').lower())[:40]
    if name in ("unknown-8bit", "x-unknown", "us-ascii", "ascii"):
        name = "utf-8"  # 8-bit text in a mail that claims ASCII is nearly always UTF-8
    try:
        codecs.lookup(name)
    except LookupError:
        return _fallback(data), f"unknown charset {name}"
    try:
        return codecs.getincrementaldecoder(name)().decode(data, final=complete), None
    except UnicodeDecodeError:
        return _fallback(data) if name == "utf-8" else data.decode(name, "replace"), f"text not valid {name}"


def _fallback(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _first_id(value: str) -> str | None:
    found = MESSAGE_ID.search(value)
    if found:
        return found.group(0)
    value = "".join(value.split())
    return f"<{value.strip('<>')}>" if value.strip("<>") else None


class _BodyReader:
    """Walks the MIME tree once: the first plain text (or HTML, converted) is the text; the
    rest are files. A forwarded mail (message/rfc822) is kept whole as a file."""

    def __init__(self, file_cap: int) -> None:
        self.cap = file_cap
        self.plain: list[str] = []
        self.html: list[str] = []
        self.files: list[MailFile] = []
        self.problems: list[str] = []
        self.defects: list[object] = []
        self._parts = 0

    def text(self) -> str:
        if self.plain:
            return "\n\n".join(p.strip() for p in self.plain if p.strip()).replace("\r\n", "\n")
        converted, budget = [], MAX_HTML  # many HTML parts together cost what one may
        for html in self.html:
            if budget <= 0:
                break
            converted.append(html_to_text(html[:budget]))
            budget -= len(html)
        return "\n\n".join(converted)

    def read(self, part: Message, depth: int = 0) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            if self._parts == MAX_PARTS + 1:
                self.problems.append(f"more than {MAX_PARTS} MIME parts; the rest was not read")
            return
        self.defects.extend(part.defects)
        ctype = part.get_content_type()
        if part.is_multipart() and ctype != "message/rfc822":
            payload = part.get_payload()
            if not isinstance(payload, list):
                return
            children = [c for c in payload if isinstance(c, Message)]
            if depth >= MAX_DEPTH:
                self.problems.append(f"MIME parts nested more than {MAX_DEPTH} deep were not read")
            elif ctype == "multipart/alternative":
                self._alternative(children, depth + 1)
            else:
                for child in children:
                    self.read(child, depth + 1)
            return
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            text = self._text(part)
            (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        self._file(part, ctype, filename, disposition == "inline" or bool(part.get("Content-ID")))

    def _alternative(self, children: list[Message], depth: int) -> None:
        """Of alternatives, the plain text when there is one, otherwise the richest readable one."""
        plain = [c for c in children if c.get_content_type() == "text/plain"]
        if plain:
            self.read(plain[0], depth)
            return
        for child in reversed(children):  # the last alternative is the preferred one (RFC 2046)
            if child.get_content_type() in ("text/html", "multipart/related", "multipart/mixed"):
                self.read(child, depth)
                return
        if children:
            self.read(children[-1], depth)

    def _text(self, part: Message) -> str:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return ""
        # Only what can be kept is decoded: 4 bytes at most per character, in any charset.
        limit = 4 * (MAX_HTML if part.get_content_type() == "text/html" else MAX_TEXT)
        text, problem = decode_bytes(payload[:limit], part.get_content_charset(), complete=len(payload) <= limit)
        if problem:
            self.problems.append(problem)
        return clean(text)

    def _file(self, part: Message, ctype: str, filename: str | None, inline: bool) -> None:
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload and isinstance(payload[0], Message) else None
            content = inner.as_bytes() if inner is not None else b""
            subject = header_text(inner, "Subject") if inner is not None else ""
            name = filename or f"{subject[:80] or 'forwarded message'}.eml"
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
            name = filename or f"{ctype.replace('/', '.')}"
        name = printable(clean(_decode_words(name))).strip() or "attachment"
        size = len(content)
        self.files.append(
            MailFile(name=name[:300], content_type=ctype[:200], size=size, content=content if size <= self.cap else None, inline=inline)
        )
