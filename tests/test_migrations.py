"""Migrations are serialised across processes: replicas starting together on an empty
PostgreSQL database all come up (PostgreSQL only: SQLite runs one process per file)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from db.migrate import is_current
from db.session import make_engine
from tests.conftest import base_env

ROOT = Path(__file__).resolve().parents[1]
REPLICAS = 3


@pytest.fixture
def empty_schema_url(engine: Engine) -> Iterator[str]:
    """A URL whose tables land in a new, empty schema of the test database (dropped after)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks serialise migrations on PostgreSQL only")
    schema = f"migrations_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_replicas_migrating_an_empty_database_together_all_succeed(empty_schema_url: str, tmp_path: Path) -> None:
    env = {"PATH": "", "PYTHONPATH": str(ROOT), **base_env(), "DATABASE_URL": empty_schema_url}
    replicas = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for _ in range(REPLICAS)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in replicas]
    assert [p.returncode for p in replicas] == [0] * REPLICAS, "\n".join(outputs)
    migrated = make_engine(empty_schema_url)
    try:
        assert is_current(migrated)
    finally:
        migrated.dispose()
