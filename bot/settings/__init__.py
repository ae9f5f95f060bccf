"""Settings read from the environment, checked once at start.

Every problem is reported as one line naming the variable and what is expected.
No value is ever echoed back: tokens and database URLs carry secrets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings.email import ImapSettings, SmtpSettings, load_imap, load_smtp
from bot.settings.public import public_url, survey_secret
from bot.settings.service_levels import ServiceLevels, service_level_settings, timezone_name
from bot.settings.values import ConfigError, Problems, flag, is_email, listed, number, required
from bot.settings.values import port as tcp_port
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
    "auto-close": "20 * * * *",
}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Set by platforms that route outside traffic (their health checks) into the container,
# which reaches the process on its container address, never on 127.0.0.1.
ROUTING_PLATFORM_VARIABLES = ("RAILWAY_ENVIRONMENT", "RAILWAY_ENVIRONMENT_NAME", "RENDER", "FLY_APP_NAME", "K_SERVICE", "DYNO")

# name → (prefix, what it is, where to get it); the values .env.example ships with.
TOKENS = {
    "SLACK_BOT_TOKEN": ("xoxb-", "a bot token", "paste the Bot User OAuth Token from OAuth & Permissions"),
    "SLACK_APP_TOKEN": (
        "xapp-",
        "an app-level token with connections:write",
        "paste an app-level token with connections:write from Basic Information, App-Level Tokens",
    ),
}
EXAMPLE_TOKENS = {"SLACK_BOT_TOKEN": "xoxb-your-bot-token", "SLACK_APP_TOKEN": "xapp-your-app-token"}

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_EMOJI_NAME = re.compile(r"^[a-z0-9_+'\-]{1,100}$")


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str = field(repr=False)
    slack_app_token: str = field(repr=False)
    support_channel: str
    admin_channel: str
    system_users: frozenset[str]
    slack_api_url: str = DEFAULT_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    # Off behind a pooler that shares server sessions between clients (pgbouncer's
    # transaction mode), where a statement prepared on one is missing on the next.
    database_prepared: bool = True
    alerting_channel: str = ""
    logging_channel: str | None = None
    intake_channels: tuple[str, ...] = ()
    # Top-level messages by one person in an intake channel this close together join one case.
    intake_group_minutes: float = 2
    # The reaction that makes a ticket of any message (an emoji name, without colons).
    ticket_reaction: str = "ticket"
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
    # Business hours, SLA targets per priority, auto-close and survey settings.
    service_levels: ServiceLevels = field(default_factory=ServiceLevels)
    # Where people reach the bot's HTTP server from outside (the rating page's links); None:
    # mailed surveys are off.
    public_url: str | None = None
    # Signs the rating links; derived from the app token when not set.
    survey_secret: str = field(default="", repr=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def named_channels(self) -> dict[str, str]:
        """The channels the settings name, by the setting (an intake channel by its place)."""
        named = {
            "SUPPORT_SLACK_CHANNEL": self.support_channel,
            "ADMIN_CHANNEL": self.admin_channel,
            "ALERTING_SLACK_CHANNEL": self.alerting_channel,
            "LOGGING_SLACK_CHANNEL": self.logging_channel or "",
        }
        named.update({f"INTAKE_SLACK_CHANNELS[{i}]": c for i, c in enumerate(self.intake_channels)})
        return {name: channel for name, channel in named.items() if channel}

    def is_agent(self, user_id: str) -> bool:
        return user_id in self.system_users

    def secrets(self) -> tuple[str, ...]:
        """Values that must never reach a log line."""
        password = make_url(self.database_url).password
        mail = (self.imap.password if self.imap else None, self.smtp.password if self.smtp else None)
        return tuple(
            s for s in (self.slack_bot_token, self.slack_app_token, password, *mail, self.survey_secret) if s
        )

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


def _token(env: Mapping[str, str], name: str, *, needed: bool) -> str:
    prefix, what, fix = TOKENS[name]
    value = required(env, name, f"{what} starting with {prefix}") if needed else (env.get(name) or "").strip()
    if not value:
        return ""
    if not value.startswith(prefix) or any(ch.isspace() for ch in value):
        raise ConfigError(f"{name} is malformed: expected {what} starting with {prefix}")
    if needed and value == EXAMPLE_TOKENS[name]:
        raise ConfigError(f"{name} is still the example from .env.example: {fix}")
    return value


def _intake_channels(env: Mapping[str, str]) -> tuple[str, ...]:
    intake = listed(env.get("INTAKE_SLACK_CHANNELS"))
    if any(not _CHANNEL_ID.match(c) for c in intake):
        raise ConfigError("INTAKE_SLACK_CHANNELS is malformed: expected comma-separated channel IDs such as C0123456789")
    return tuple(intake)


def _system_users(env: Mapping[str, str], *, needed: bool) -> frozenset[str]:
    expected = "comma-separated Slack user IDs such as U0123456789 (profile, ⋮, Copy member ID)"
    users = listed(required(env, "SYSTEM_USERS", expected) if needed else env.get("SYSTEM_USERS"))
    if any(not _USER_ID.match(u) for u in users):
        raise ConfigError(f"SYSTEM_USERS is malformed: expected {expected}")
    return frozenset(users)


def _admin_emails(env: Mapping[str, str]) -> tuple[str, ...]:
    emails = listed(env.get("ADMIN_EMAILS"))
    if any(not is_email(e) for e in emails):
        raise ConfigError("ADMIN_EMAILS is malformed: expected comma-separated email addresses")
    return tuple(e.lower() for e in emails)


def _log_level(env: Mapping[str, str]) -> str:
    log_level = ((env.get("LOG_LEVEL") or "").strip() or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL is malformed: expected one of {', '.join(LOG_LEVELS)}")
    return log_level


def _log_format(env: Mapping[str, str]) -> str:
    log_format = ((env.get("LOG_FORMAT") or "").strip() or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError("LOG_FORMAT is malformed: expected text or json")
    return log_format


def _group_minutes(env: Mapping[str, str]) -> float:
    """INTAKE_GROUP_MINUTES: 0 turns grouping off."""
    if (env.get("INTAKE_GROUP_MINUTES") or "").strip() in ("0", "0.0"):
        return 0.0
    return number(env, "INTAKE_GROUP_MINUTES", 2, "a number of minutes such as 2, or 0 for none")


def _ticket_reaction(env: Mapping[str, str]) -> str:
    name = (env.get("TICKET_REACTION") or "").strip().strip(":").lower()
    if not name:
        return "ticket"
    if not _EMOJI_NAME.match(name):
        raise ConfigError("TICKET_REACTION is malformed: expected an emoji name such as ticket (no spaces)")
    return name


def _keywords(env: Mapping[str, str]) -> tuple[str, ...]:
    keywords = tuple(dict.fromkeys(k.lower() for k in listed(env.get("ESCALATION_KEYWORDS")))) or DEFAULT_ESCALATION_KEYWORDS
    if any(len(k) > 100 for k in keywords):
        raise ConfigError("ESCALATION_KEYWORDS is malformed: expected comma-separated words of at most 100 characters")
    return keywords


def schedule_name(job: str) -> str:
    """The setting that holds a job's crontab line."""
    return "SCHEDULE_" + job.upper().replace("-", "_")


def _schedule(env: Mapping[str, str], job: str, timezone: str) -> str:
    name = schedule_name(job)
    raw = (env.get(name) or "").strip()
    if not raw:
        return DEFAULT_SCHEDULES[job]
    if not _is_crontab(raw, timezone):
        raise ConfigError(f"{name} is malformed: expected a crontab line such as '0 9 * * mon' (minute hour day month weekday)")
    return raw


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


def load_settings(env: Mapping[str, str], *, slack: bool = True) -> Settings:
    """Build Settings from an environment mapping, or raise ConfigErrors listing every problem.

    ``slack=False`` (commands that need only the database): the Slack settings may be left
    unset; what is set must still be well formed.
    """
    p = Problems()
    bot_token = p.read(lambda: _token(env, "SLACK_BOT_TOKEN", needed=slack), "")
    app_token = p.read(lambda: _token(env, "SLACK_APP_TOKEN", needed=slack), "")
    support = p.read(lambda: _channel(env, "SUPPORT_SLACK_CHANNEL", needed=slack), None)
    admin = p.read(lambda: _channel(env, "ADMIN_CHANNEL", needed=slack), None)
    timezone = p.read(lambda: timezone_name(env), "UTC")
    imap = p.read(lambda: load_imap(env), None)
    settings = Settings(
        slack_bot_token=bot_token,
        slack_app_token=app_token,
        slack_api_url=p.read(lambda: _api_url(env), DEFAULT_API_URL),
        database_url=p.read(lambda: _database_url(env), DEFAULT_DATABASE_URL),
        database_prepared=p.read(lambda: flag(env, "DATABASE_PREPARED_STATEMENTS", True), True),
        support_channel=support or "",
        admin_channel=admin or "",
        alerting_channel=p.read(lambda: _channel(env, "ALERTING_SLACK_CHANNEL", needed=False), None) or admin or "",
        logging_channel=p.read(lambda: _channel(env, "LOGGING_SLACK_CHANNEL", needed=False), None),
        intake_channels=p.read(lambda: _intake_channels(env), ()),
        intake_group_minutes=p.read(lambda: _group_minutes(env), 2.0),
        ticket_reaction=p.read(lambda: _ticket_reaction(env), "ticket"),
        system_users=p.read(lambda: _system_users(env, needed=slack), frozenset()),
        admin_emails=p.read(lambda: _admin_emails(env), ()),
        timezone=timezone,
        log_level=p.read(lambda: _log_level(env), "INFO"),
        log_format=p.read(lambda: _log_format(env), "text"),
        port=p.read(lambda: tcp_port(env, "PORT", None), None),
        health_host=p.read(lambda: _health_host(env), "127.0.0.1"),
        escalation_keywords=p.read(lambda: _keywords(env), DEFAULT_ESCALATION_KEYWORDS),
        escalation_hours=p.read(lambda: number(env, "ESCALATION_HOURS", 48, "a number of hours such as 48"), 48.0),
        escalation_followups=int(
            p.read(lambda: number(env, "ESCALATION_FOLLOWUPS", 3, "a whole number such as 3", whole=True), 3.0)
        ),
        stale_days=p.read(lambda: number(env, "STALE_DAYS", 3, "a number of days such as 3"), 3.0),
        overdue_days=p.read(lambda: number(env, "OVERDUE_DAYS", 7, "a number of days such as 7"), 7.0),
        schedules={job: p.read(partial(_schedule, env, job, timezone), line) for job, line in DEFAULT_SCHEDULES.items()},
        scheduler_enabled=p.read(lambda: flag(env, "SCHEDULER_ENABLED", True), True),
        outbox_claim_seconds=p.read(lambda: number(env, "OUTBOX_CLAIM_SECONDS", 60, "a number of seconds such as 60"), 60.0),
        slack_posts_per_second=p.read(
            lambda: number(env, "SLACK_POSTS_PER_SECOND", 1.0, "a number of posts such as 1"), 1.0
        ),
        campaigns=p.read(lambda: _choices(env, "CAMPAIGNS", DEFAULT_CAMPAIGNS), DEFAULT_CAMPAIGNS),
        issue_types=p.read(lambda: _choices(env, "ISSUE_TYPES", DEFAULT_ISSUE_TYPES), DEFAULT_ISSUE_TYPES),
        imap=imap,
        smtp=p.read(lambda: load_smtp(env, imap), None),
        email_ack=p.read(lambda: flag(env, "EMAIL_ACK", True), True),
        attachment_max_bytes=int(
            p.read(lambda: number(env, "EMAIL_ATTACHMENT_MAX_MB", 10, "a number of megabytes such as 10"), 10.0) * 1024 * 1024
        ),
        service_levels=service_level_settings(env, timezone=timezone, problems=p),
        public_url=p.read(lambda: public_url(env), None),
        survey_secret=p.read(lambda: survey_secret(env, app_token), ""),
    )
    p.raise_any()
    return settings
