"""Logging: text or one JSON object per line, with secrets masked in every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

# Slack tokens of every kind, and passwords inside URLs (scheme://user:password@host).
_TOKEN = re.compile(r"\bx(?:ox[abposr]|app)-[A-Za-z0-9-]+")
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]+):([^@/\s]+)@")


class RedactSecrets(logging.Filter):
    """Masks known secret values and anything shaped like a token or URL password."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = _TOKEN.sub("[redacted-token]", text)
        return _URL_PASSWORD.sub(r"\1:[redacted]@", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = self.scrub(message), None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


# The filter on the log handler; what else leaves the process (error reports) goes through it too.
_redact = RedactSecrets()


def scrub(text: str) -> str:
    """``text`` masked as a log line is: the configured secrets, and anything shaped like one."""
    return _redact.scrub(text)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message; ticket and slack_user when the call gave them."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("ticket", "slack_user"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{k}={getattr(record, k)}" for k in ("ticket", "slack_user") if getattr(record, k, None)]
        return f"{line} [{' '.join(extras)}]" if extras else line


# Below DEBUG, these loggers show only from this level on. Alembic names each plugin it
# sets up and its migration context at INFO on every start; slack_sdk's web client logs
# each failed request (and each retry) before raising it to its caller, which reports it;
# the Socket Mode client (on Bolt's logger) names every session it opens and closes.
QUIETER: dict[str, int] = {
    "casedesk.bolt": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
    "alembic.runtime.migration": logging.WARNING,
    "slack_sdk.web.base_client": logging.CRITICAL,
}


def configure_logging(level: str, fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    global _redact
    _redact = RedactSecrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    # On the handler, so records from every logger (slack_sdk, Bolt, SQLAlchemy) are scrubbed.
    handler.addFilter(_redact)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quieter in QUIETER.items():
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else quieter)
