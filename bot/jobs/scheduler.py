"""The in-process APScheduler, in the desk's TIMEZONE."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from bot.jobs import JOBS

log = logging.getLogger(__name__)


def start_scheduler(deps: Deps) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=deps.settings.tz)
    for name, (job, seconds) in JOBS.items():

        def run(job=job, name=name) -> None:  # type: ignore[no-untyped-def]
            log.info(job(deps))

        scheduler.add_job(run, "interval", seconds=seconds, id=name, coalesce=True, max_instances=1)
    scheduler.start()
    return scheduler
