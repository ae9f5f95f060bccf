"""Scheduled jobs: each is a plain function over the service layer, runnable once from the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.deps import Deps
from bot.jobs.auto_close import auto_close
from bot.jobs.email_poll import email_poll
from bot.jobs.escalate import escalate
from bot.jobs.pin import pin_high_priority
from bot.jobs.reminders import overdue, stale
from bot.jobs.weekly import weekly_summary_job

Job = Callable[[Deps], str]


@dataclass(frozen=True)
class JobSpec:
    run: Job
    # A run missed while no bot was up (a deploy at Monday 09:00) is made up on start
    # when its slot is no older than this; zero: the next slot will do.
    grace: timedelta = timedelta(0)
    # False: every fire runs (the mail poll: frequent, and safe to run twice), without a run record.
    once_per_slot: bool = True


# name → spec; schedules (crontab, in TIMEZONE) come from the settings.
JOBS: dict[str, JobSpec] = {
    "escalate": JobSpec(escalate),
    "pin-high-priority": JobSpec(pin_high_priority, timedelta(minutes=50)),
    "stale": JobSpec(stale, timedelta(hours=6)),
    "overdue": JobSpec(overdue, timedelta(hours=6)),
    "weekly-summary": JobSpec(weekly_summary_job, timedelta(hours=12)),
    "auto-close": JobSpec(auto_close, timedelta(minutes=50)),
    # Every IMAP_POLL_SECONDS; scheduled only when IMAP or SMTP is set.
    "email-poll": JobSpec(email_poll, once_per_slot=False),
}
EMAIL_POLL = "email-poll"
