"""Scheduled times ("slots") of a job's trigger: the key of its run-once record."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.settings import Settings

LOOKBACKS = (timedelta(minutes=2), timedelta(hours=2), timedelta(days=2), timedelta(days=9), timedelta(days=400))


def trigger_for(settings: Settings, job: str) -> BaseTrigger:
    if job == "email-poll":
        seconds = settings.imap.poll_seconds if settings.imap else 60
        return IntervalTrigger(seconds=seconds, timezone=settings.tz)
    return CronTrigger.from_crontab(settings.schedules[job], timezone=settings.tz)


def latest_slot(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The trigger's last fire time at or before ``now``."""
    for lookback in LOOKBACKS:
        fire = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
            if following is None or following > now:
                return fire
            fire = following
    return None
