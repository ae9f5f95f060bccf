"""Readers of single settings, shared by every settings group: each raises ConfigError with
one line naming the variable and what is expected, never echoing the value."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one printable line."""


class ConfigErrors(ConfigError):
    """Every problem found in one pass over the settings, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Problems:
    """Reads settings one by one, keeping every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def read(self, reader: Callable[[], T], fallback: T) -> T:
        """``reader()``, or ``fallback`` with its problem noted."""
        try:
            return reader()
        except ConfigError as err:
            self.lines.append(str(err))
            return fallback

    def raise_any(self) -> None:
        if self.lines:
            raise ConfigErrors(self.lines)


def listed(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def required(env: Mapping[str, str], name: str, expected: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: expected {expected}")
    return value


def number(env: Mapping[str, str], name: str, default: float, expected: str, *, whole: bool = False) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ConfigError(f"{name} is malformed: expected {expected}") from None
    if value <= 0:
        raise ConfigError(f"{name} is malformed: expected {expected} (more than 0)")
    return value


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} is malformed: expected true or false")


def port(env: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} is malformed: expected a TCP port number from 1 to 65535")
    return int(raw)


def is_email(value: str) -> bool:
    return bool(EMAIL.match(value))
