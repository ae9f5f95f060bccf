"""Apply Alembic migrations programmatically (on start and by `python -m bot db upgrade`).

Several processes may start at once (replicas, a deploy overlap): on PostgreSQL each
upgrade holds an advisory lock, so one migrates while the others wait and then find the
schema current. Without it two would create ``alembic_version`` or apply one revision
together, and all but one exit with a duplicate key.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# One key for every Casedesk process on the database (the jobs' locks are keyed by job name).
MIGRATION_LOCK_KEY = zlib.crc32(b"casedesk:migrations")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Hold the migrations' advisory lock (PostgreSQL) on a connection of its own."""
    if engine.dialect.name != "postgresql":
        yield  # SQLite: one process per database file (see db.session.sqlite_single_process)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        conn.commit()  # a session lock: no transaction left open while Alembic works
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
