"""The in-process APScheduler, in the desk's TIMEZONE, with each run guarded to happen once.

Every process runs its own scheduler with an in-memory job store. When a job fires, the
process claims the run's slot (the scheduled time) in the run ledger; only the process
that claims it runs the job. On start, a slot missed while no bot was up is run once if
it is within the job's grace period.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.deps import Deps
from bot.jobs import EMAIL_POLL, JOBS, JobSpec
from bot.jobs.slots import latest_slot, trigger_for

log = logging.getLogger(__name__)


class GuardedJob:
    def __init__(self, deps: Deps, name: str, spec: JobSpec, trigger: BaseTrigger) -> None:
        self.deps, self.name, self.spec, self.trigger = deps, name, spec, trigger
        self._run = deps.errors.guard(name, lambda: deps.metrics.job(name, lambda: spec.run(deps)))

    def __call__(self) -> str | None:
        """Run for the latest slot unless another process has; returns what it did."""
        if not self.spec.once_per_slot:
            return self._run()
        slot = latest_slot(self.trigger, self.deps.clock())
        return self.run_slot(slot) if slot else None

    def run_slot(self, slot: datetime) -> str | None:
        if not self.deps.ledger.claim(self.name, slot):
            return None
        result = self._run()
        self.deps.ledger.finish(self.name, slot, str(result or "failed (reported)"))
        if result:
            log.info("%s", result)
        return result

    def catch_up(self) -> str | None:
        """Run a slot missed while no bot was up, if it is recent enough."""
        if not self.spec.grace:
            return None
        now = self.deps.clock()
        slot = latest_slot(self.trigger, now)
        if slot is None or now - slot > self.spec.grace:
            return None
        return self.run_slot(slot)


def guarded_jobs(deps: Deps) -> list[GuardedJob]:
    mail_set_up = deps.settings.imap is not None or deps.settings.smtp is not None
    return [
        GuardedJob(deps, name, spec, trigger_for(deps.settings, name))
        for name, spec in JOBS.items()
        if name != EMAIL_POLL or mail_set_up
    ]


def start_scheduler(deps: Deps, jobs: list[GuardedJob] | None = None) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=deps.settings.tz)
    jobs = jobs if jobs is not None else guarded_jobs(deps)
    for job in jobs:
        scheduler.add_job(job, job.trigger, id=job.name, coalesce=True, max_instances=1, misfire_grace_time=300)
    for job in jobs:
        scheduler.add_job(job.catch_up, id=f"{job.name}:catch-up")  # once, now, off the start path
    scheduler.start()
    return scheduler
