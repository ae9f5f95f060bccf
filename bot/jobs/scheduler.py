"""The in-process APScheduler, in the desk's TIMEZONE."""

from __future__ import annotations

from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from bot.jobs import JOBS


def start_scheduler(deps: Deps) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=deps.settings.tz)
    for name, (job, seconds) in JOBS.items():
        run = deps.errors.guard(name, partial(job, deps))
        scheduler.add_job(run, "interval", seconds=seconds, id=name, coalesce=True, max_instances=1)
    scheduler.start()
    return scheduler
