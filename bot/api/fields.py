"""Reading a request's fields: unknown names refused, each value's type and length checked,
every problem listed at once (422, ``errors``: field → sentence)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.api.problems import Problem


class Fields:
    def __init__(self, values: dict[str, Any], known: tuple[str, ...], where: str = "body") -> None:
        self._values = values
        self.errors: dict[str, str] = {name: f"Unknown field: the {where} may have {', '.join(known)}." for name in values if name not in known}

    def has(self, name: str) -> bool:
        return name in self._values

    def text(self, name: str, *, limit: int, required: bool = False) -> str | None:
        value = self._values.get(name)
        if value is None:
            if required:
                self.errors[name] = "Required."
            return None
        if not isinstance(value, str):
            self.errors[name] = "Must be a string."
            return None
        value = value.strip()
        if required and not value:
            self.errors[name] = "Must not be empty."
        elif len(value) > limit:
            self.errors[name] = f"At most {limit:,} characters."
            return None
        return value or None

    def choice(self, name: str, choices: tuple[str, ...], *, default: str | None = None) -> str | None:
        value = self._values.get(name, default)
        if value is None:
            return None
        if value not in choices:
            self.errors[name] = f"One of: {', '.join(choices)}."
            return None
        return str(value)

    def moment(self, name: str) -> datetime | None:
        raw = self._values.get(name)
        if raw is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            self.errors[name] = "An ISO 8601 date or time, e.g. 2026-11-30 or 2026-11-30T14:00:00Z."
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def integer(self, name: str, *, low: int, high: int, default: int) -> int:
        raw = self._values.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except (TypeError, ValueError):
            value = low - 1
        if not low <= value <= high:
            self.errors[name] = f"A whole number from {low} to {high}."
            return default
        return value

    def check(self) -> None:
        if self.errors:
            raise Problem(422, "invalid-fields", "Some fields are not valid: see errors.", errors=self.errors)
