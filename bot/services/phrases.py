"""What a message says that the desk acts on: escalation keywords and the closing phrase."""

from __future__ import annotations

import re
from collections.abc import Iterable

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
# "I'm closing this case." forgivingly: any case, curly or missing apostrophe, "I am",
# no full stop, text around it. Word boundaries keep "I'm closing this casebook" out.
_CLOSING = re.compile(r"\bi(?:'m|m|\s+am)\s+closing\s+this\s+case\b", re.IGNORECASE)


def is_closing_phrase(text: str) -> bool:
    return bool(_CLOSING.search(" ".join(text.translate(_APOSTROPHES).split())))


class Keywords:
    """Escalation keywords matched as whole words in any case ("urgent", not "urgently")."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(w.strip().lower() for w in words if w.strip())
        pattern = "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True))
        self._pattern = re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE) if pattern else None

    def find(self, text: str) -> str | None:
        """The first keyword in ``text``, lower-cased; None when there is none."""
        if self._pattern is None:
            return None
        found = self._pattern.search(text)
        return found.group(0).lower() if found else None
