"""Settings read from the environment, checked once at start.

Every problem is reported as one line naming the variable and what is expected.
No value is ever echoed back: tokens and database URLs carry secrets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config_email import ImapSettings, SmtpSettings, load_imap, load_smtp
from bot.config_values import ConfigError, flag, is_email, listed, number, required
from bot.config_values import port as tcp_port
from db.session import normalise_database_url

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///casedesk.db"
DEFAULT_CAMPAIGNS = ("General", "Billing", "Onboarding", "Website")
DEFAULT_ISSUE_TYPES = ("Bug", "Question", "Access request", "Data problem", "Feature request", "Other")
DEFAULT_ESCALATION_KEYWORDS = ("urgent", "immediately")
DEFAULT_SCHEDULES = {
    "escalate": "*/5 * * * *",
    "pin-high-priority": "0 * * * *",
    "stale": "0 9 * * *",
    "overdue": "0 9 * * *",
    "weekly-summary": "0 9 * * mon",
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Set by platforms that route outside traffic (their health checks) into the container,
# which reaches the process on its container address, never on 127.0.0.1.
ROUTING_PLATFORM_VARIABLES = ("RAILWAY_ENVIRONMENT", "RAILWAY_ENVIRONMENT_NAME", "RENDER", "FLY_APP_NAME", "K_SERVICE", "DYNO")

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    slack_app_token: str = field(repr=False)
    support_channel: str
    admin_channel: str
    system_users: frozenset[str]
    slack_api_url: str = DEFAULT_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    alerting_channel: str = ""
    logging_channel: str | None = None
    intake_channels: tuple[str, ...] = ()
    admin_emails: tuple[str, ...] = ()
    timezone: str = "UTC"
    log_level: str = "INFO"
    log_format: str = "text"
    port: int | None = None
    health_host: str = "127.0.0.1"
    escalation_keywords: tuple[str, ...] = DEFAULT_ESCALATION_KEYWORDS
    escalation_hours: float = 48
    escalation_followups: int = 3
    stale_days: float = 3
    overdue_days: float = 7
    scheduler_enabled: bool = True
    # How long a sender holds an outbox row before another process may take it over.
    outbox_claim_seconds: float = 60
    # Posts a second per channel (Slack allows about one, with short bursts).
    slack_posts_per_second: float = 1.0
    # job name → crontab (minute hour day month weekday) in TIMEZONE
    schedules: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SCHEDULES))
    campaigns: tuple[str, ...] = DEFAULT_CAMPAIGNS
    issue_types: tuple[str, ...] = DEFAULT_ISSUE_TYPES
    imap: ImapSettings | None = None
    smtp: SmtpSettings | None = None
    # A new email case is answered with its number (Auto-Submitted: auto-replied).
    email_ack: bool = True
    # Attachments larger than this are noted on the case, not stored.
    attachment_max_bytes: int = 10 * 1024 * 1024

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_agent(self, user_id: str) -> bool:
        return user_id in self.system_users

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line."""
        password = make_url(self.database_url).password
        mail = (self.imap.password if self.imap else None, self.smtp.password if self.smtp else None)
        return tuple(s for s in (self.slack_bot_token, self.slack_app_token, password, *mail) if s)

    @property
    def own_addresses(self) -> frozenset[str]:
        """The desk's own addresses: mail from them is never a customer's."""
        return frozenset(a for a in (self.imap and self.imap.email, self.smtp and self.smtp.from_addr) if a)


def _channel(env: Mapping[str, str], name: str, *, needed: bool) -> str | None:
    expected = "a Slack channel ID such as C0123456789 (channel details, at the bottom)"
    value = required(env, name, expected) if needed else (env.get(name) or "").strip()
    if not value:
        return None
    if not _CHANNEL_ID.match(value):
        raise ConfigError(f"{name} is malformed: expected {expected}")
    return value


def _token(env: Mapping[str, str], name: str, prefix: str, what: str) -> str:
    value = required(env, name, f"{what} starting with {prefix}")
    if not value.startswith(prefix) or any(ch.isspace() for ch in value):
        raise ConfigError(f"{name} is malformed: expected {what} starting with {prefix}")
    return value


def _database_url(env: Mapping[str, str]) -> str:
    raw = (env.get("DATABASE_URL") or "").strip() or DEFAULT_DATABASE_URL
    url = normalise_database_url(raw)
    expected = "a database URL such as sqlite:///casedesk.db or postgresql://user:pass@host/db"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is malformed: expected {expected}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL is malformed: expected {expected}")
    return url


def _api_url(env: Mapping[str, str]) -> str:
    value = (env.get("SLACK_API_URL") or "").strip() or DEFAULT_API_URL
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
        raise ConfigError("SLACK_API_URL is malformed: expected a URL such as https://slack.com/api/")
    return value if value.endswith("/") else value + "/"


def _health_host(env: Mapping[str, str]) -> str:
    raw = (env.get("HEALTH_HOST") or "").strip()
    if not raw:
        return "0.0.0.0" if any(env.get(name) for name in ROUTING_PLATFORM_VARIABLES) else "127.0.0.1"
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if raw != "localhost":
            raise ConfigError("HEALTH_HOST is malformed: expected an IP address such as 127.0.0.1 or 0.0.0.0") from None
    return raw


def _choices(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(listed(env.get(name)))) or default
    # Slack's static_select takes 100 options, 75 characters of text each.
    if len(values) > 100 or any(len(v) > 75 for v in values):
        raise ConfigError(f"{name} is malformed: expected at most 100 comma-separated names of at most 75 characters")
    return values


def _is_crontab(line: str, timezone: str) -> bool:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(line, timezone=ZoneInfo(timezone))
    except (ValueError, TypeError):
        return False
    return True


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build Settings from an environment mapping or raise ConfigError."""
    bot_token = _token(env, "SLACK_BOT_TOKEN", "xoxb-", "a bot token")
    app_token = _token(env, "SLACK_APP_TOKEN", "xapp-", "an app-level token with connections:write")
    support = _channel(env, "SUPPORT_SLACK_CHANNEL", needed=True)
    admin = _channel(env, "ADMIN_CHANNEL", needed=True)
    alerting = _channel(env, "ALERTING_SLACK_CHANNEL", needed=False) or admin
    logging_channel = _channel(env, "LOGGING_SLACK_CHANNEL", needed=False)

    intake = listed(env.get("INTAKE_SLACK_CHANNELS"))
    if any(not _CHANNEL_ID.match(c) for c in intake):
        raise ConfigError("INTAKE_SLACK_CHANNELS is malformed: expected comma-separated channel IDs such as C0123456789")

    users_expected = "comma-separated Slack user IDs such as U0123456789 (profile, ⋮, Copy member ID)"
    system_users = listed(required(env, "SYSTEM_USERS", users_expected))
    if any(not _USER_ID.match(u) for u in system_users):
        raise ConfigError(f"SYSTEM_USERS is malformed: expected {users_expected}")

    admin_emails = listed(env.get("ADMIN_EMAILS"))
    if any(not is_email(e) for e in admin_emails):
        raise ConfigError("ADMIN_EMAILS is malformed: expected comma-separated email addresses")

    timezone = (env.get("TIMEZONE") or "").strip() or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TIMEZONE is malformed: expected an IANA time zone such as Europe/London") from None

    log_level = ((env.get("LOG_LEVEL") or "").strip() or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL is malformed: expected one of {', '.join(LOG_LEVELS)}")

    log_format = ((env.get("LOG_FORMAT") or "").strip() or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError("LOG_FORMAT is malformed: expected text or json")


    keywords = tuple(dict.fromkeys(k.lower() for k in listed(env.get("ESCALATION_KEYWORDS")))) or DEFAULT_ESCALATION_KEYWORDS
    if any(len(k) > 100 for k in keywords):
        raise ConfigError("ESCALATION_KEYWORDS is malformed: expected comma-separated words of at most 100 characters")

    schedules = dict(DEFAULT_SCHEDULES)
    for job in DEFAULT_SCHEDULES:
        name = "SCHEDULE_" + job.upper().replace("-", "_")
        raw = (env.get(name) or "").strip()
        if raw:
            if not _is_crontab(raw, timezone):
                raise ConfigError(f"{name} is malformed: expected a crontab line such as '0 9 * * mon' (minute hour day month weekday)")
            schedules[job] = raw

    imap = load_imap(env)
    return Settings(
        slack_bot_token=bot_token,
        slack_app_token=app_token,
        slack_api_url=_api_url(env),
        database_url=_database_url(env),
        support_channel=support or "",
        admin_channel=admin or "",
        alerting_channel=alerting or "",
        logging_channel=logging_channel,
        intake_channels=tuple(intake),
        system_users=frozenset(system_users),
        admin_emails=tuple(e.lower() for e in admin_emails),
        timezone=timezone,
        log_level=log_level,
        log_format=log_format,
        port=tcp_port(env, "PORT", None),
        health_host=_health_host(env),
        escalation_keywords=keywords,
        escalation_hours=number(env, "ESCALATION_HOURS", 48, "a number of hours such as 48"),
        escalation_followups=int(number(env, "ESCALATION_FOLLOWUPS", 3, "a whole number such as 3", whole=True)),
        stale_days=number(env, "STALE_DAYS", 3, "a number of days such as 3"),
        overdue_days=number(env, "OVERDUE_DAYS", 7, "a number of days such as 7"),
        schedules=schedules,
        scheduler_enabled=flag(env, "SCHEDULER_ENABLED", True),
        outbox_claim_seconds=number(env, "OUTBOX_CLAIM_SECONDS", 60, "a number of seconds such as 60"),
        slack_posts_per_second=number(env, "SLACK_POSTS_PER_SECOND", 1.0, "a number of posts such as 1"),
        campaigns=_choices(env, "CAMPAIGNS", DEFAULT_CAMPAIGNS),
        issue_types=_choices(env, "ISSUE_TYPES", DEFAULT_ISSUE_TYPES),
        imap=imap,
        smtp=load_smtp(env, imap),
        email_ack=flag(env, "EMAIL_ACK", True),
        attachment_max_bytes=int(number(env, "EMAIL_ATTACHMENT_MAX_MB", 10, "a number of megabytes such as 10") * 1024 * 1024),
    )
