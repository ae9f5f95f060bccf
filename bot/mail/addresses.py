"""Addresses people type (a form's "Notify (emails)", a team's recipients, the CC list):
split, checked one by one, and compared without regard to case."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A plain address: no display name, quoting, comments or address literals; a dotted domain.
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})+")
MAX_ADDRESSES = 20
_SHOWN = 40  # characters of a bad entry quoted back


def split_addresses(text: str | None) -> list[str]:
    """The entries of a comma- (or semicolon-, or line-) separated list, trimmed, empty ones dropped."""
    return [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]


def address_errors(text: str | None, *, limit: int = MAX_ADDRESSES) -> str | None:
    """One sentence naming every entry that is not a plain address, or None when all are."""
    entries = split_addresses(text)
    bad = [e for e in entries if not is_address(e)]
    if bad:
        shown = ", ".join(f"“{_shown(e)}”" for e in bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        verb = "is not an email address" if len(bad) == 1 else "are not email addresses"
        return f"{shown} {verb}: write each as name@example.com, separated by commas."
    if len(entries) > limit:
        return f"At most {limit} addresses, please (there are {len(entries)})."
    return None


def is_address(entry: str) -> bool:
    return len(entry) <= 254 and _ADDRESS.fullmatch(entry) is not None


def normalised(text: str | None) -> str:
    """The list as stored: valid entries, once each, joined by ", "."""
    return ", ".join(unique(e for e in split_addresses(text) if is_address(e)))


def unique(addresses: Iterable[str], *, without: Iterable[str] = ()) -> list[str]:
    """Each address once (the first spelling kept), none of ``without``; case is ignored."""
    seen = {a.strip().lower() for a in without}
    kept = []
    for address in addresses:
        key = address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            kept.append(address.strip())
    return kept


def _shown(entry: str) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in entry)
    return clean if len(clean) <= _SHOWN else clean[: _SHOWN - 1] + "…"
