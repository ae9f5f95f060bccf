"""HTML-only mail as readable plain text: paragraphs and line breaks kept, lists bulleted,
link targets shown, scripts and styles dropped.

The cost is linear in the input, whatever its shape. CPython's HTMLParser rescans the
rest of the document for every construct it cannot finish (an unclosed ``<a<a<a…``, a
comment or marked section without its end: CVE-2025-6069 and relatives), so the HTML is
first cut to ``MAX_HTML`` characters and ``MAX_TAGS`` tags and then made safe for it in
one pass: markup the text view does not show (comments, ``<!…>``, ``<?…>``) is removed,
and a ``<`` that no ``>`` closes before the next ``<`` is written as text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.mail.bounds import nth_mark

MAX_HTML = 300_000  # characters converted; the text kept of a mail is smaller still
MAX_TAGS = 30_000  # tags converted: HTMLParser spends about 10 µs on each (a newsletter has thousands)

BLOCKS = {
    "p", "div", "br", "tr", "table", "ul", "ol", "li", "blockquote", "pre", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer",
}
HIDDEN = {"script", "style", "head", "title", "noscript", "template"}

# Each attempt stops at the next bracket, so every character is looked at a bounded
# number of times (``<[^>]*>`` would rescan to the end from every ``<``).
_TAG = re.compile(r"<[^<>]*>")
_UNCLOSED = re.compile(r"<(?=[^<>]*(?:<|\Z))")
# Constructs removed whole, each with the text that ends it.
_SKIPPED = (("<!--", "-->"), ("<!", ">"), ("<?", ">"))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0
        self._href: str | None = None
        self._link_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in HIDDEN:
            self._hidden += 1
        elif tag in BLOCKS:
            self.out.append("\n")
            if tag == "li":
                self.out.append("• ")
        elif tag == "a":
            self._href = dict(attrs).get("href")
            self._link_text = []
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(f"[{alt}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in BLOCKS and tag != "li":  # the next item's start breaks the line
            self.out.append("\n")
        elif tag == "a":
            text = "".join(self._link_text).strip()
            if self._href and self._href.startswith(("http://", "https://")) and self._href != text:
                self.out.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.out.append(data)
        if self._href is not None:
            self._link_text.append(data)


def html_to_text(html: str) -> str:
    html = html[:MAX_HTML]
    html = html[: nth_mark(html, "<", MAX_TAGS)]
    safe = _UNCLOSED.sub("&lt;", _without_declarations(html))
    parser = _Text()
    try:
        parser.feed(safe)
        parser.close()
        text = "".join(parser.out)
    except Exception:  # HTMLParser is lenient; this is only a last resort
        text = _TAG.sub(" ", safe)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _without_declarations(html: str) -> str:
    """``html`` without comments, ``<!…>`` (marked sections too) and ``<?…>``, in one
    pass: each search starts where the previous one ended. As in a browser, anything but
    a comment ends at the first ``>``, and an unfinished one runs to the end."""
    out: list[str] = []
    start = 0
    while True:
        found = html.find("<", start)
        while found >= 0 and html[found + 1 : found + 2] not in ("!", "?"):
            found = html.find("<", found + 1)
        if found < 0:
            out.append(html[start:])
            return "".join(out)
        out.append(html[start:found])
        opener, closer = next((o, c) for o, c in _SKIPPED if html.startswith(o, found))
        end = html.find(closer, found + len(opener))
        if end < 0:
            return "".join(out)
        start = end + len(closer)
