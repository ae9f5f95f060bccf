"""The run ledger that makes a scheduled run happen once across bot processes, and the
small key/value state jobs keep between runs.

APScheduler 3 keeps its jobs in memory per process; two processes wake up for the same
slot. Claiming the slot is an INSERT on a unique (job, slot) key: one process wins, the
others see the row and skip. On PostgreSQL the claim also takes a transaction-level
advisory lock on the job, so claims for one job are made one at a time.
"""

from __future__ import annotations

import os
import socket
import zlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError

from bot.services.tickets import Clock, utcnow
from db.models import BotState, JobRun
from db.session import Database

KEEP_RUNS = timedelta(days=30)
RUNNER = f"{socket.gethostname()}:{os.getpid()}"


class JobRunLedger:
    def __init__(self, db: Database, clock: Clock = utcnow, runner: str = RUNNER) -> None:
        self._db = db
        self._clock = clock
        self._runner = runner

    def claim(self, job: str, slot: datetime) -> bool:
        """True for the one caller that gets to run ``job`` for ``slot``."""
        try:
            with self._db.write() as session:
                if session.get_bind().dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(job.encode())})
                if session.scalar(select(JobRun.id).where(JobRun.job == job, JobRun.slot == slot)) is not None:
                    return False
                session.add(JobRun(job=job, slot=slot, started_at=self._clock(), runner=self._runner))
            return True
        except IntegrityError:
            return False

    def finish(self, job: str, slot: datetime, result: str) -> None:
        with self._db.write() as session:
            session.execute(
                update(JobRun)
                .where(JobRun.job == job, JobRun.slot == slot)
                .values(finished_at=self._clock(), result=result[:2000])
            )
            # Older records decide nothing any more (every slot that old has passed).
            session.execute(delete(JobRun).where(JobRun.job == job, JobRun.slot < slot - KEEP_RUNS))

    def runs(self, job: str) -> int:
        with self._db.read() as session:
            return int(session.scalar(select(func.count()).select_from(JobRun).where(JobRun.job == job)) or 0)


class BotStateStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        with self._db.read() as session:
            row = session.get(BotState, key)
            return row.value if row else None

    def set(self, key: str, value: str) -> None:
        with self._db.write() as session:
            row = session.get(BotState, key)
            if row is None:
                session.add(BotState(key=key, value=value))
            else:
                row.value = value
