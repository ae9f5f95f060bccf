"""Settings: one clear line per problem, never a secret in it."""

from __future__ import annotations

import pytest

from bot.settings import DEFAULT_API_URL, ConfigError, load_settings
from tests.conftest import base_env

SECRET = "xoxb-1234-SECRETSECRET"


def env(**changes: str | None) -> dict[str, str]:
    values = {**base_env(), "SLACK_BOT_TOKEN": SECRET}
    for key, value in changes.items():
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value
    return values


def test_defaults() -> None:
    s = load_settings(env(SLACK_API_URL=None, TIMEZONE=None))
    assert s.slack_api_url == DEFAULT_API_URL
    assert s.database_url == "sqlite:///casedesk.db"
    assert s.timezone == "UTC" and s.log_level == "INFO" and s.port is None
    assert s.alerting_channel == s.admin_channel
    assert "Billing" in s.campaigns and "Bug" in s.issue_types
    assert SECRET not in repr(s)


@pytest.mark.parametrize(
    "name",
    ["SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SUPPORT_SLACK_CHANNEL", "ADMIN_CHANNEL", "SYSTEM_USERS"],
)
def test_a_missing_required_setting_is_named(name: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env(**{name: None}))
    message = str(err.value)
    assert message.startswith(f"{name} is not set: expected ")
    assert "\n" not in message


@pytest.mark.parametrize(
    "name,value",
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token-SECRETSECRET"),
        ("SLACK_APP_TOKEN", "xoxb-SECRETSECRET"),
        ("SLACK_API_URL", "slack.com/api"),
        ("DATABASE_URL", "mysql://root:SECRETSECRET@db/x"),
        ("DATABASE_URL", "not a url SECRETSECRET"),
        ("SUPPORT_SLACK_CHANNEL", "#support"),
        ("ADMIN_CHANNEL", "admins"),
        ("ALERTING_SLACK_CHANNEL", "alerts"),
        ("LOGGING_SLACK_CHANNEL", "c123"),
        ("INTAKE_SLACK_CHANNELS", "C0INTAKE1,#help"),
        ("SYSTEM_USERS", "U0AGENT1,alice"),
        ("ADMIN_EMAILS", "boss@example.com,not-an-email"),
        ("TIMEZONE", "Mars/Olympus"),
        ("LOG_LEVEL", "loud"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("CAMPAIGNS", "x" * 80),
        ("ESCALATION_HOURS", "two days"),
        ("ESCALATION_FOLLOWUPS", "2.5"),
        ("STALE_DAYS", "-1"),
        ("SCHEDULE_WEEKLY_SUMMARY", "mondays at nine"),
        ("SCHEDULE_ESCALATE", "*/5 * * *"),
        ("SCHEDULER_ENABLED", "maybe"),
    ],
)
def test_a_malformed_setting_is_named_without_its_value(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env(**{name: value}))
    message = str(err.value)
    assert message.startswith(f"{name} is malformed: expected ")
    assert "SECRETSECRET" not in message and SECRET not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("postgres://u:p@db:5432/desk", "postgresql+psycopg2://u:p@db:5432/desk"),
        ("postgresql://u:p@db/desk", "postgresql+psycopg2://u:p@db/desk"),
        ("sqlite:////var/lib/casedesk.db", "sqlite:////var/lib/casedesk.db"),
    ],
)
def test_database_urls_are_normalised(raw: str, expected: str) -> None:
    assert load_settings(env(DATABASE_URL=raw)).database_url == expected


def test_lists_and_choices() -> None:
    s = load_settings(
        env(
            INTAKE_SLACK_CHANNELS=" C0HELP1 , C0HELP2,",
            ADMIN_EMAILS="Boss@Example.com",
            CAMPAIGNS="Alpha, Beta, Alpha",
            ISSUE_TYPES="Crash",
            PORT="8080",
            LOG_LEVEL="debug",
            SLACK_API_URL="http://127.0.0.1:9/api",
        )
    )
    assert s.intake_channels == ("C0HELP1", "C0HELP2")
    assert s.admin_emails == ("boss@example.com",)
    assert s.campaigns == ("Alpha", "Beta") and s.issue_types == ("Crash",)
    assert s.port == 8080 and s.log_level == "DEBUG"
    assert s.slack_api_url == "http://127.0.0.1:9/api/"


MAIL = {"IMAP_SERVER": "imap.example.com", "IMAP_EMAIL": "Support@Example.com", "IMAP_PASSWORD": "IMAPSECRET"}


def test_email_is_off_without_imap_and_smtp_settings() -> None:
    s = load_settings(env())
    assert s.imap is None and s.smtp is None and s.email_ack is True


def test_email_defaults() -> None:
    s = load_settings(env(**MAIL, SMTP_HOST="smtp.example.com", SMTP_USER="desk", SMTP_PASS="SMTPSECRET"))
    assert s.imap is not None and s.smtp is not None
    assert (s.imap.port, s.imap.ssl, s.imap.folder, s.imap.poll_seconds, s.imap.email) == (993, True, "INBOX", 60, "support@example.com")
    assert (s.smtp.port, s.smtp.security, s.smtp.from_addr) == (587, "starttls", "support@example.com")
    assert s.own_addresses == {"support@example.com"}
    assert "IMAPSECRET" in s.secrets() and "SMTPSECRET" in s.secrets()
    assert "SECRET" not in repr(s.imap) + repr(s.smtp)


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"IMAP_PASSWORD": None}, "IMAP_PASSWORD is not set: expected the support mailbox's password"),
        ({"IMAP_EMAIL": "support"}, "IMAP_EMAIL is malformed: expected an email address such as support@example.com"),
        ({"IMAP_PORT": "99999"}, "IMAP_PORT is malformed: expected a TCP port number from 1 to 65535"),
        ({"IMAP_SSL": "maybe"}, "IMAP_SSL is malformed: expected true or false"),
        ({"IMAP_POLL_SECONDS": "0"}, "IMAP_POLL_SECONDS is malformed: expected a number of seconds such as 60 (more than 0)"),
        ({"SMTP_HOST": "smtp.example.com", "SMTP_SECURITY": "tls"}, "SMTP_SECURITY is malformed: expected starttls, ssl or none"),
        ({"SMTP_HOST": "smtp.example.com", "SMTP_USER": "desk"}, "SMTP_PASS is not set: expected the password of SMTP_USER"),
        ({"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "desk"}, "SMTP_FROM is malformed: expected an email address such as support@example.com"),
        ({"EMAIL_ACK": "sometimes"}, "EMAIL_ACK is malformed: expected true or false"),
        ({"EMAIL_ATTACHMENT_MAX_MB": "-1"}, "EMAIL_ATTACHMENT_MAX_MB is malformed: expected a number of megabytes such as 10 (more than 0)"),
    ],
)
def test_a_bad_email_setting_is_named_in_one_line(changes: dict[str, str | None], line: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env(**{**MAIL, **changes}))  # type: ignore[arg-type]
    assert str(err.value) == line
    assert "IMAPSECRET" not in str(err.value)


def test_smtp_without_a_from_address_or_mailbox_is_named() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env(SMTP_HOST="smtp.example.com"))
    assert str(err.value).startswith("SMTP_FROM is not set")
