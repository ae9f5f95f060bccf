"""Engine and session factory, tuned per backend."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import IO, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

PLAIN = "casedesk_plain"  # in a connection's info: run db.prepared's statements as plain text


def normalise_database_url(raw: str) -> str:
    """Accept Heroku/Railway style ``postgres://`` URLs as PostgreSQL with psycopg2."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg2://" + raw[len(prefix):]
    return raw


def ensure_postgresql_database(url: str) -> None:
    """Create ``url``'s PostgreSQL database if it is missing (for tests and benchmarks,
    which each keep to a database of their own)."""
    target = make_url(normalise_database_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}).first():
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def make_engine(url: str, *, prepared: bool = True) -> Engine:
    """``prepared``: on PostgreSQL, prepare the hottest statements once per connection
    (``db.prepared``); False behind a pooler that shares server sessions between clients."""
    url = normalise_database_url(url)
    # Parameters are customer text: they stay out of errors' messages, and so out of logs.
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": 30, "check_same_thread": False})
        _tune_sqlite(engine)
        return engine
    # values_plus_batch: an UPDATE run for many rows (the outbox marking a pass's posts sent)
    # goes to the server in one round trip rather than one per row.
    engine = create_engine(url, hide_parameters=True, pool_size=10, max_overflow=20, pool_pre_ping=True, executemany_mode="values_plus_batch")
    _tune_postgresql(engine)
    if not prepared:
        event.listen(engine, "connect", _plain)
    return engine


def _plain(dbapi_connection: Any, record: Any) -> None:
    record.info[PLAIN] = True


def _tune_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # No JIT compilation: the desk's queries take milliseconds, and PostgreSQL compiles
        # any plan whose estimated cost passes jit_above_cost, branches it will not run
        # included: at a million tickets a search paid 40 ms of compiling for 4 ms of work.
        cur = dbapi_conn.cursor()
        cur.execute("SET jit = off")
        cur.close()
        dbapi_conn.commit()


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # With WAL, NORMAL never corrupts the file; a power cut may lose the last
        # commits, a crash of the process loses nothing.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        # A deferred transaction that reads and then writes fails at once with
        # "database is locked" when another writer committed in between; taking the
        # write lock up front makes concurrent writers queue instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


READ_ONLY = "casedesk_read_only"


class Database:
    """Sessions for reading and for writing.

    On SQLite, writers also queue on an in-process lock: SQLite's own busy handler
    sleeps in steps of up to 100 ms, which a waiting writer would add to its latency;
    the lock hands over the moment the previous commit is done. (SQLite means one
    bot process per file, so an in-process lock covers every writer.)
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writes = sessionmaker(engine, expire_on_commit=False)
        read_options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            # A read needs no transaction: without one it is one round trip, not BEGIN,
            # SELECT and ROLLBACK (three), which was a third of the sender's time per post.
            read_options["isolation_level"] = "AUTOCOMMIT"
        self._reads = sessionmaker(engine.execution_options(**read_options), expire_on_commit=False)
        self._gate: AbstractContextManager[Any] = threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a transaction, committed when the block ends."""
        with self._gate, self._writes.begin() as session:
            yield session

    def read(self) -> Session:
        """A session for reads only (on SQLite it never takes the write lock)."""
        return self._reads()

    def mark_writes(self, **info: Any) -> None:
        """Values every later write session carries in its ``info`` (for hooks on its events),
        beside those marked before."""
        self._writes.configure(info={**self._writes.kw.get("info", {}), **info})


class SecondProcess(Exception):
    """Another bot process already uses this SQLite file."""


def sqlite_single_process(url: str) -> IO[bytes] | None:
    """With SQLite, one bot process per file: hold an exclusive lock beside the file.

    Two processes would each run the scheduled jobs (only PostgreSQL can guard runs across
    processes) and fight over the write lock. Returns the open lock file (None on PostgreSQL
    or in-memory SQLite); raises SecondProcess when another process holds it.
    """
    parsed = make_url(normalise_database_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    handle = open(f"{parsed.database}.lock", "wb")  # noqa: SIM115 - held open for the process's life: it is the lock
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SecondProcess(
            f"another Casedesk process is already using {os.path.basename(parsed.database)}: with SQLite run one "
            "bot process only (use PostgreSQL to run more)"
        ) from None
    return handle
