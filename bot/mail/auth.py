"""Is a mail really from its From: domain? Read from the receiving server's
``Authentication-Results`` header (RFC 8601), never from the mail's own claims.

Only a header whose authserv-id the desk trusts (EMAIL_TRUSTED_AUTHSERV) counts, and of
those only the topmost: a server adds its header on top, and a compliant border server
removes headers that claim its own authserv-id from arriving mail, so anything below the
topmost trusted header came from upstream or from the sender and proves nothing.

The mail is authenticated when that header shows ``dmarc=pass`` for the From: domain, or
``dkim=pass`` with a signing domain (``header.d``) that is the From: domain or a parent
of it (DMARC's relaxed alignment without a public-suffix list: a parent is accepted only
when it is not a bare top-level name).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

MAX_HEADERS = 20  # Authentication-Results headers looked at, topmost first
MAX_LENGTH = 4000  # characters of each header read


@dataclass(frozen=True)
class MailAuth:
    passed: bool  # the From: domain is proven by a trusted server
    why: str  # what the trusted header said (or that there was none), for the audit trail
    dmarc_failed: bool = False  # some Authentication-Results header says dmarc=fail for the From: domain


@dataclass(frozen=True)
class _Result:
    method: str
    result: str
    props: dict[str, str]


def authenticate(msg: Message, from_domain: str, trusted: frozenset[str]) -> MailAuth:
    """How far ``msg`` is proven to come from ``from_domain`` (lower-case)."""
    headers = [_parse(str(h)) for h in (msg.get_all("Authentication-Results") or [])[:MAX_HEADERS]]
    failed = any(_dmarc_failed(results, from_domain) for _, results in headers)
    if not from_domain:
        return MailAuth(False, "the mail has no sender address", failed)
    if len(msg.get_all("From") or []) != 1:
        return MailAuth(False, "the mail has more than one From: header", failed)
    found = next(((server, results) for server, results in headers if server in trusted), None)
    if found is None:
        named = ", ".join(sorted(trusted)) or "none is set in EMAIL_TRUSTED_AUTHSERV"
        return MailAuth(False, f"no Authentication-Results from a trusted server ({named})", failed)
    server, results = found
    for r in results:
        if r.method == "dmarc" and r.result == "pass" and r.props.get("header.from") == from_domain:
            return MailAuth(True, f"{server}: dmarc=pass for {from_domain}", failed)
    for r in results:
        signer = _dkim_domain(r.props)
        if r.method == "dkim" and r.result == "pass" and _aligned(signer, from_domain):
            return MailAuth(True, f"{server}: dkim=pass, signed by {signer}", failed)
    said = ", ".join(f"{r.method}={r.result}" for r in results[:6]) or "no results"
    return MailAuth(False, f"{server} did not authenticate {from_domain} ({said})", failed)


def _dmarc_failed(results: list[_Result], from_domain: str) -> bool:
    return any(
        r.method == "dmarc" and r.result == "fail" and r.props.get("header.from", from_domain) == from_domain
        for r in results
    )


def _dkim_domain(props: dict[str, str]) -> str:
    return props.get("header.d") or props.get("header.i", "").rpartition("@")[2]


def _aligned(signer: str, from_domain: str) -> bool:
    if not signer or "." not in signer:
        return False
    return from_domain == signer or from_domain.endswith("." + signer)


def _parse(header: str) -> tuple[str, list[_Result]]:
    """(authserv-id, results) of one header; malformed parts are skipped, never guessed."""
    pieces = _split(_without_comments(header[:MAX_LENGTH]))
    first = pieces[0].split() if pieces else []
    server = first[0].strip('"').lower() if first else ""
    results = [r for r in (_resinfo(p) for p in pieces[1:]) if r is not None]
    return server, results


def _resinfo(piece: str) -> _Result | None:
    """``method[/version]=result [reason=…] ptype.property=value …``"""
    words = " ".join(piece.split()).replace(" =", "=").replace("= ", "=").split(" ")
    pairs = [w.partition("=") for w in words if "=" in w]
    if not pairs or "." in pairs[0][0]:
        return None
    method, _, result = pairs[0]
    props = {k.lower(): v.strip('"').lower() for k, _, v in pairs[1:] if "." in k}
    return _Result(method.split("/")[0].lower(), result.lower(), props)


def _without_comments(text: str) -> str:
    """``text`` without RFC 5322 comments (nested parentheses), quoted strings kept."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in text:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
        elif quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = ch == '"'
            out.append(ch)
    return "".join(out)


def _split(text: str) -> list[str]:
    """``text`` split at the semicolons outside quoted strings."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current))
    return [p.strip() for p in pieces]
