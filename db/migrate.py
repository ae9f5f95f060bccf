"""Apply Alembic migrations programmatically (on start and by `python -m bot db upgrade`).

A database already at the newest migration is found so without Alembic: importing it was a
third of the start of a command that only reads the database.

Several processes may start at once (replicas, a deploy overlap): on PostgreSQL each
upgrade holds an advisory lock, so one migrates while the others wait and then find the
schema current. Without it two would create ``alembic_version`` or apply one revision
together, and all but one exit with a duplicate key.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# A migration's header as Alembic writes it: revision = "0007" and down_revision = "0006" (or None).
_HEADER = re.compile(r'^(revision|down_revision) = (?:"([^"]+)"|None)$', re.MULTILINE)
# One key for every Casedesk process on the database (the jobs' locks are keyed by job name).
MIGRATION_LOCK_KEY = zlib.crc32(b"casedesk:migrations")


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    if revision == "head" and _at_head(engine):
        return
    from alembic import command

    with migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with migration_lock(engine):
        command.downgrade(alembic_config(engine), revision)


@cache
def head_on_disk() -> str | None:
    """The newest migration, read from the files' headers; None unless they make one chain
    with one head (then Alembic decides, as it always may)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        header = dict(_HEADER.findall(path.read_text()))
        if "revision" not in header or "down_revision" not in header:
            return None
        revisions.add(header["revision"])
        if header["down_revision"]:
            parents.add(header["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and len(revisions) == len(parents) + 1 else None


def _at_head(engine: Engine) -> bool:
    """True when the database says it is at the newest migration. Anything unexpected
    (no database yet, no version table, an error) is False: Alembic then runs as before."""
    head = head_on_disk()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return False
            return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))] == [head]
    except DBAPIError:
        return False


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
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
