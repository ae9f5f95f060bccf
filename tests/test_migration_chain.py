"""The whole migration chain runs both ways: up to the newest, down to nothing (leaving no
table behind), and up again, on SQLite and, with TEST_DATABASE_URL, in a fresh PostgreSQL
schema. The sandbox's reset walks this road."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from db.migrate import alembic_config, downgrade, head_on_disk, is_current, upgrade
from db.models import Base

# PostgreSQL's search vector: a generated column the migration makes, read by raw SQL.
SEARCH_COLUMNS = {"search_vector"}


@pytest.fixture
def fresh(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database of the kind the suite runs on."""
    if engine.dialect.name != "postgresql":
        fresh_engine = create_engine(f"sqlite:///{tmp_path / 'chain.db'}")
        yield fresh_engine
        fresh_engine.dispose()
        return
    schema = f"chain_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    fresh_engine = create_engine(engine.url.update_query_dict({"options": f"-csearch_path={schema}"}))
    try:
        yield fresh_engine
    finally:
        fresh_engine.dispose()
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_the_chain_goes_down_to_nothing_and_up_again(fresh: Engine) -> None:
    upgrade(fresh)
    assert is_current(fresh)
    assert set(Base.metadata.tables) <= tables(fresh)
    downgrade(fresh, "base")
    assert tables(fresh) == {"alembic_version"}
    upgrade(fresh)
    assert is_current(fresh)
    assert set(Base.metadata.tables) <= tables(fresh)


def test_the_models_describe_what_the_migrations_make(fresh: Engine) -> None:
    upgrade(fresh)
    model_tables = set(Base.metadata.tables)
    model_indexes = {index.name for table in Base.metadata.tables.values() for index in table.indexes}

    def ours(obj: object, name: str | None, type_: str, reflected: bool, _compare_to: object) -> bool:
        # What the models do not describe on purpose is left out: the search index's tables
        # (SQLite) or column (PostgreSQL), and the partial indexes behind the sweeps, whose WHERE differs per database.
        if type_ == "table" and reflected:
            return name in model_tables
        if type_ == "index" and reflected:
            return name in model_indexes
        return not (type_ == "column" and reflected and name in SEARCH_COLUMNS)

    with fresh.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_the_starts_shortcut_names_alembics_head_and_migrates_a_database_one_behind(fresh: Engine) -> None:
    """A start finds a current database without Alembic, from the migrations' headers: they
    name the head Alembic names, and a database one migration behind is still migrated."""
    script = ScriptDirectory.from_config(alembic_config(fresh))
    head = script.get_current_head()
    assert head is not None and head_on_disk() == head
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    upgrade(fresh, previous)
    assert not is_current(fresh)
    upgrade(fresh)
    assert is_current(fresh)
